package org.gpulrp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.gpulrp.composite.Composites;
import org.gpulrp.io.Npy;
import org.gpulrp.io.NpyStreams;
import org.gpulrp.model.Network;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Threads, async calls and streams" snippet, as written there, with checks around it. */
class ReadmeSnippetTest {
    @TempDir
    Path dir;

    /** What the snippet's consume() kept: a copy of each relevance tensor, read before the next call. */
    private final List<float[]> consumed = new ArrayList<>();

    private void consume(Tensor relevance) {
        consumed.add(relevance.toArray());
    }

    @Test
    void theAsyncAndStreamingSnippetRuns() {
        Network net = RandomNets.mlp(2, 10, 16, 3);
        Tensor batch = Tensor.ofRows(RandomNets.inputs(1, 20, 10));
        List<Tensor> source = List.of(batch, Tensor.ofRows(RandomNets.inputs(2, 5, 10)));
        Iterator<Tensor> batches = source.iterator();
        Npy.write(dir.resolve("inputs.npy"), batch.toArray(), 20, 10);
        List<Explanation> seen = new ArrayList<>();
        Explanation reference = GpuLrp.explain(net, batch, Target.argmax(), Composites.epsilon());
        Path inputs = dir.resolve("inputs.npy");
        Path relevance = dir.resolve("relevance.npy");
        List<Tensor> sameSizeBatches = List.of(Tensor.ofRows(RandomNets.inputs(3, 20, 10)),
                Tensor.ofRows(RandomNets.inputs(4, 20, 10)), Tensor.ofRows(RandomNets.inputs(5, 20, 10)));
        // --- README snippet (paths resolved in the temporary folder) ---
        try (Explainer ex = GpuLrp.explainer(net).backend(BackendChoice.AUTO)
                .extraCpuLanes(2)                               // CPU lanes beside the device share every batch
                .build()) {
            CompletableFuture<Explanation> pending = ex.explainAsync(batch, Target.argmax());
            Explanation first = pending.join();

            Iterator<Explanation> results = ex.explainStream(batches, Target.argmax(), 4);
            while (results.hasNext()) {
                Explanation next = results.next();
                seen.add(next);
            }

            NpyStreams.explain(ex, inputs, relevance, Target.argmax(),
                    (done, total) -> System.err.println(done + "/" + total));

            Explanation last = null;
            for (Tensor b : sameSizeBatches) {
                last = ex.explain(b, Target.argmax(), last);
                consume(last.relevance());
            }
            // --- end of snippet ---
            ExplainerSchedulerTest.assertSameBits(reference, first, "async");
        }
        assertEquals(3, consumed.size());
        for (int k = 0; k < 3; k++) {
            ExplainerSchedulerTest.assertBits(GpuLrp.explain(net, sameSizeBatches.get(k), Target.argmax(),
                    Composites.epsilon()).relevance().toArray(), consumed.get(k), "reused arrays, batch " + k);
        }
        assertEquals(2, seen.size());
        ExplainerSchedulerTest.assertSameBits(reference, seen.get(0), "stream");
        ExplainerSchedulerTest.assertBits(reference.relevance().toArray(), Npy.read(relevance).data(), "file");
    }
}
