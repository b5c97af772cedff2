package org.gpulrp.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Explanations written into an earlier call's arrays carry the CPU path's fresh bits, on every backend. */
class ReuseBitsTest {
    private static final Devices.Shared SHARED = new Devices.Shared();
    private static final Network NET = RandomNets.net(41, 14).dense(30).relu().dense(17).relu().dense(5).build();

    @AfterAll
    static void close() {
        SHARED.close();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Devices.class, names = {"CPU", "OPENCL"})
    void reusedArraysCarryTheFreshBits(Devices d) {
        try (Explainer fresh = GpuLrp.explainer(NET).composite(Composites.epsilonPlusFlat())
                .backend(BackendChoice.CPU).build();
             Explainer e = d.apply(GpuLrp.explainer(NET).composite(Composites.epsilonPlusFlat()).chunkRows(16),
                     SHARED).build()) {
            Explanation last = null;
            for (long seed = 1; seed <= 4; seed++) {
                Tensor x = Tensor.ofRows(RandomNets.inputs(seed, 50, NET.inputSize()));
                Explanation want = fresh.explain(x, Target.argmax());
                last = e.explain(x, Target.argmax(), last);
                assertArrayEquals(bits(want.relevance().toArray()), bits(last.relevance().toArray()), d + " " + seed);
                assertArrayEquals(bits(want.outputs().toArray()), bits(last.outputs().toArray()));
                assertArrayEquals(want.targets(), last.targets());
                assertArrayEquals(bits(want.scores()), bits(last.scores()));
            }
        }
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int k = 0; k < v.length; k++) {
            b[k] = Float.floatToRawIntBits(v[k]);
        }
        return b;
    }
}
