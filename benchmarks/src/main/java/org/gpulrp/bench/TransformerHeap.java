package org.gpulrp.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Locale;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.model.Network;

/**
 * Explains one BERT-base batch (32 x 128 tokens) on the CPU path under whatever heap the JVM was given (run with
 * {@code -Xmx4g} to check issue 15's "fits a 4 GiB heap"), and prints the time and the heap's peak use: the sum over
 * the heap pools of their peak usage.
 * Usage: {@code java -Xmx4g --add-modules jdk.incubator.vector -cp benchmarks.jar org.gpulrp.bench.TransformerHeap
 * [model] [composite]}.
 */
public final class TransformerHeap {
    private TransformerHeap() {
    }

    public static void main(String[] args) {
        String model = args.length > 0 ? args[0] : "bert-base";
        String composite = args.length > 1 ? args[1] : "attnlrp";
        Network net = Models.network(model);
        int batch = Models.batch(model);
        Tensor x = new Tensor(Models.inputs(model, batch), batch, net.inputSize());
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            p.resetPeakUsage();
        }
        try (Explainer ex = GpuLrp.explainer(net).composite(Models.composite(composite)).backend(BackendChoice.CPU)
                .build()) {
            for (int round = 0; round < 2; round++) {
                long t0 = System.nanoTime();
                float[] r = ex.explain(x, Target.argmax()).relevance().toArray();
                System.out.printf(Locale.ROOT, "%s %s batch %d: %.1f s (%d relevance values)%n", model, composite,
                        batch, (System.nanoTime() - t0) / 1e9, r.length);
            }
        }
        long peak = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                peak += p.getPeakUsage().getUsed();
            }
        }
        System.out.printf(Locale.ROOT, "max heap %.2f GiB, peak heap use %.2f GiB%n",
                Runtime.getRuntime().maxMemory() / (double) (1L << 30), peak / (double) (1L << 30));
    }
}
