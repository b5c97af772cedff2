package org.gpulrp.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.Target;
import org.gpulrp.composite.Composite;
import org.gpulrp.model.Network;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layer 3 of the tests (docs/DESIGN.md section 3): the explanation is the same bit for bit on every path. The Vector
 * API CPU backend (2 threads) against scalar {@code Math.fma} loops on one thread, and the CPU against OpenCL (the
 * kernels chosen for the device, and the SIMPLE and TILED kernel variants forced), for every rule and preset, over
 * widths at the vector-lane tails (lanes are 16 floats with AVX-512: 1, 7..9, 15..17, 31..33), an input layer of
 * K = 4096, batches 1, 3, 4, 5, 1000 and 10000 (the row split over threads), and chunked batches (chunkRows 7
 * against 4096).
 */
class BitIdentityTest {
    private static final Devices.Shared SHARED = new Devices.Shared();

    @AfterAll
    static void closeBackends() {
        SHARED.close();
    }

    /** A network, a batch and how it is explained. */
    record Shape(String name, Network network, int batch, Target target, InitialRelevance init) {
        float[][] inputs() {
            return RandomNets.inputs(1000 + batch + network.inputSize(), batch, network.inputSize());
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Which two paths are compared; the first is the expected side. */
    enum Pair {
        VECTOR_VS_SCALAR(Devices.CPU_SCALAR, Devices.CPU),
        CPU_VS_OPENCL(Devices.CPU, Devices.OPENCL),
        CPU_VS_OPENCL_SIMPLE(Devices.CPU, Devices.OPENCL_SIMPLE),
        CPU_VS_OPENCL_TILED(Devices.CPU, Devices.OPENCL_TILED);

        final Devices expected;
        final Devices actual;

        Pair(Devices expected, Devices actual) {
            this.expected = expected;
            this.actual = actual;
        }
    }

    static List<Shape> shapes() {
        List<Shape> l = new ArrayList<>();
        for (int w : new int[] {1, 7, 8, 9, 15, 16, 17, 31, 32, 33}) {
            l.add(new Shape("width " + w + " (" + w + "-" + w + "-" + w + "), batch 5",
                    RandomNets.net(300 + w, w).dense(w).relu().dense(w).build(), 5, Target.argmax(),
                    InitialRelevance.OUTPUT));
        }
        l.add(new Shape("33-1-17-9-16 with identity, batch 4, logit", RandomNets.net(401, 33).dense(1).relu()
                .dense(17).identity().dense(9).relu().dense(16).sigmoid().build(), 4, Target.argmax(),
                InitialRelevance.LOGIT));
        l.add(new Shape("K=4096 (4096-33-5 softmax), batch 3, onehot", RandomNets.net(402, 4096).dense(33).relu()
                .dense(5).softmax().build(), 3, Target.perSample(4, 0, 2), InitialRelevance.ONEHOT));
        Network mid = RandomNets.net(403, 17).dense(31).relu().dense(16).relu().dense(5).softmax().build();
        for (int b : new int[] {1, 3, 4, 5, 1000}) {
            l.add(new Shape("17-31-16-5 softmax, batch " + b, mid, b, Target.argmax(), InitialRelevance.OUTPUT));
        }
        l.add(new Shape("10-32-16-1 sigmoid, batch 10000", RandomNets.net(404, 10).dense(32).relu().dense(16)
                .relu().dense(1).sigmoid().build(), 10000, Target.classIndex(0), InitialRelevance.OUTPUT));
        return l;
    }

    static Stream<Arguments> cases() {
        List<Arguments> l = new ArrayList<>();
        for (Pair p : Pair.values()) {
            for (Shape s : shapes()) {
                for (Cases.Rules r : Cases.all()) {
                    l.add(Arguments.of(p, s, r));
                }
            }
        }
        return l.stream();
    }

    private static Explanation run(Devices d, Shape s, Composite c, float[][] x, int chunkRows) {
        try (Explainer e = d.apply(GpuLrp.explainer(s.network()).composite(c).initialRelevance(s.init())
                .keepLayerRelevances(true).chunkRows(chunkRows), SHARED).build()) {
            if (d == Devices.CPU) {
                // Otherwise this would compare the scalar loops with themselves.
                assertTrue(e.backend().device().contains("Vector API"), "the CPU path should run the Vector API "
                        + "kernels under surefire, got " + e.backend());
            }
            return e.explain(x, s.target());
        }
    }

    @ParameterizedTest(name = "{0}: {2} on {1}")
    @MethodSource("cases")
    void bitIdentical(Pair pair, Shape shape, Cases.Rules rules) {
        if (pair.actual.isOpenCl()) {
            SHARED.openClOrSkip(pair.actual.variant);
        }
        Composite c = rules.on(shape.network());
        float[][] x = shape.inputs();
        Explanation want = run(pair.expected, shape, c, x, 4096);
        Explanation got = run(pair.actual, shape, c, x, 4096);
        assertEquals(shape.batch(), got.batchSize());
        Compare.sameBits(pair + ", " + rules + " on " + shape, want, got);
    }

    static Stream<Arguments> chunkCases() {
        List<Arguments> l = new ArrayList<>();
        for (Devices d : new Devices[] {Devices.CPU, Devices.OPENCL, Devices.OPENCL_TILED}) {
            for (Cases.Rules r : Cases.all()) {
                l.add(Arguments.of(d, r));
            }
        }
        return l.stream();
    }

    /** Splitting a batch into chunks of 7 rows changes nothing, per-sample targets included. */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("chunkCases")
    void chunkingChangesNoBits(Devices device, Cases.Rules rules) {
        if (device.isOpenCl()) {
            SHARED.openClOrSkip(device.variant);
        }
        int rows = 100;
        Network n = RandomNets.net(405, 17).dense(31).relu().dense(16).relu().dense(5).softmax().build();
        Shape s = new Shape("17-31-16-5 softmax, batch 100, per-sample targets", n, rows,
                Target.perSample(Cases.perSample(rows, 5)), InitialRelevance.OUTPUT);
        Composite c = rules.on(n);
        float[][] x = s.inputs();
        Explanation whole = run(device, s, c, x, 4096);
        Explanation chunked = run(device, s, c, x, 7);
        Compare.sameBits(device + ", " + rules + ", chunkRows(7) vs chunkRows(4096)", whole, chunked);
    }

    /** The check can fail: one ulp in one value of one backprojection is reported. */
    @org.junit.jupiter.api.Test
    void oneUlpIsCaught() {
        Network n = RandomNets.net(406, 9).dense(8).relu().dense(3).build();
        float[][] x = RandomNets.inputs(407, 4, 9);
        Explanation want;
        try (Explainer e = GpuLrp.explainer(n).backend(org.gpulrp.BackendChoice.CPU).keepLayerRelevances(true)
                .build()) {
            want = e.explain(x, Target.argmax());
        }
        Explanation got;
        try (PerturbedBackend be = new PerturbedBackend(new org.gpulrp.backend.cpu.CpuBackend(),
                PerturbedBackend.Fault.ONE_ULP_IN_BACKPROJECT);
             Explainer e = GpuLrp.explainer(n).backend(be).keepLayerRelevances(true).build()) {
            got = e.explain(x, Target.argmax());
        }
        org.opentest4j.AssertionFailedError err = org.junit.jupiter.api.Assertions.assertThrows(
                org.opentest4j.AssertionFailedError.class, () -> Compare.sameBits("one ulp", want, got));
        assertTrue(err.getMessage().contains("sample 0, index 0"), err.getMessage());
    }
}
