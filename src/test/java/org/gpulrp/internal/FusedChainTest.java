package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.gpulrp.InitialRelevance;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Network;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.ZPlus;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's fused route for a leading chain of dense layers ({@link FusedChain}): taken on OpenCL exactly where
 * the graph and the rules allow it, and giving every backend's unfused bits (relevance, outputs, scores), also with
 * layer reports on (which run the per-layer steps).
 */
class FusedChainTest {
    private static OpenClBackend cl;

    @BeforeAll
    static void open() {
        cl = OpenClTestSupport.openOrSkip();
    }

    @AfterAll
    static void close() {
        if (cl != null) {
            cl.close();
        }
    }

    private static Network.Builder dense(Network.Builder b, SplittableRandom r, String name, int in, int out) {
        return b.dense(name, out, PlusShortcutTest.randn(r, in * out, 1 / Math.sqrt(in)),
                PlusShortcutTest.randn(r, out, 0.1));
    }

    /** The article's sample model: 10-32-16-1, ReLUs between, a sigmoid on top. */
    static Network sample() {
        SplittableRandom r = new SplittableRandom(11);
        Network.Builder b = Network.builder("sample", 10);
        dense(b, r, "fc1", 10, 32).relu("relu1");
        dense(b, r, "fc2", 32, 16).relu("relu2");
        dense(b, r, "fc3", 16, 1).sigmoid("sigmoid");
        return b.build();
    }

    /** A chain cut by a tanh: the fused part is the first dense layer only. */
    static Network cut() {
        SplittableRandom r = new SplittableRandom(12);
        Network.Builder b = Network.builder("cut", 6);
        dense(b, r, "fc1", 6, 8).add("tanh", new Activation(Activation.Function.TANH));
        dense(b, r, "fc2", 8, 3).softmax("softmax");
        return b.build();
    }

    /** fc1's output read by two nodes: no chain. */
    static Network fanOut() {
        SplittableRandom r = new SplittableRandom(13);
        Network.Builder b = Network.builder("fan", 6);
        dense(b, r, "fc1", 6, 8);
        dense(b, r, "fc2", 8, 8);
        b.sum("sum", "fc1", "fc2");
        dense(b, r, "fc3", 8, 2);
        return b.build();
    }

    /** Relevance, outputs and scores of {@code rows} rows; {@code setup} may unfuse the engine. */
    private static float[][] explain(Backend be, Network n, Composite c, float[] x, int rows, boolean layers,
                                     Consumer<Engine> setup) {
        try (Engine e = new Engine(be, n, c, InitialRelevance.OUTPUT, rows, 1L << 24)) {
            setup.accept(e);
            Engine.Batch out = new Engine.Batch(e, rows, layers);
            e.run(x, 0, rows, (o, rr, classes) -> new int[rr], out);
            float[] scores = new float[rows];
            e.score(x, 0, rows, new int[rows], scores);
            return new float[][] {out.relevance, out.outputs, out.scores, scores};
        }
    }

    private static boolean fused(Backend be, Network n, Composite c) {
        try (Engine e = new Engine(be, n, c, InitialRelevance.OUTPUT, 4, 1L << 24)) {
            return e.fused();
        }
    }

    @Test
    void takenWhereTheGraphAndRulesAllow() {
        Composite eps = Composite.uniform(new Epsilon());
        assertTrue(fused(cl, sample(), eps));
        assertTrue(fused(cl, cut(), eps), "the chain before the tanh");
        assertFalse(fused(cl, fanOut(), eps), "an output inside the chain read twice");
        assertFalse(fused(cl, sample(), eps.withName("fc1", new ZPlus())), "the first layer with another rule");
        assertTrue(fused(cl, sample(), eps.withName("fc2", new ZPlus())), "the chain before the other rule");
        try (CpuBackend cpu = new CpuBackend(CpuBackend.Kernels.AUTO, 2)) {
            assertFalse(fused(cpu, sample(), eps), "the CPU path runs its primitives");
        }
    }

    @Test
    void sameBitsAsThePerLayerSteps() {
        Composite plain = Composite.uniform(new Epsilon(1e-3f));
        Composite mixed = plain.withName("fc2", new ZPlus());
        for (Object[] nc : new Object[][] {{sample(), plain}, {cut(), plain}, {sample(), mixed}}) {
            Network n = (Network) nc[0];
            Composite c = (Composite) nc[1];
            int rows = 38;
            float[] x = PlusShortcutTest.randn(new SplittableRandom(21), rows * n.inputSize(), 1.0);
            float[][] want;
            try (CpuBackend cpu = new CpuBackend(CpuBackend.Kernels.AUTO, 2)) {
                want = explain(cpu, n, c, x, rows, false, e -> { });
            }
            float[][] fusedRun = explain(cl, n, c, x, rows, false, e -> assertTrue(e.fused()));
            float[][] steps = explain(cl, n, c, x, rows, false, Engine::unfuse);
            float[][] reported = explain(cl, n, c, x, rows, true, e -> { });
            int nonZero = 0;
            for (float v : want[0]) {
                nonZero += v != 0 ? 1 : 0;
            }
            assertTrue(nonZero > want[0].length / 2, n.name() + ": relevance reaches the input");
            for (int k = 0; k < want.length; k++) {
                assertBits(want[k], fusedRun[k], n.name() + " fused, array " + k);
                assertBits(want[k], steps[k], n.name() + " unfused, array " + k);
                assertBits(want[k], reported[k], n.name() + " with layer reports, array " + k);
            }
        }
    }

    private static void assertBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        int[] a = new int[want.length];
        int[] b = new int[got.length];
        for (int k = 0; k < a.length; k++) {
            a[k] = Float.floatToIntBits(want[k]);
            b[k] = Float.floatToIntBits(got[k]);
        }
        assertArrayEquals(a, b, what);
    }
}
