package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.gpulrp.InitialRelevance;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.model.Network;
import org.gpulrp.rules.Epsilon;
import org.junit.jupiter.api.Test;

/**
 * The host arrays a flow lends its steps (docs/DESIGN.md, `internal`): distinct while lent, exactly as long as asked,
 * reused only after the step ends, zeroed by {@code host}, and dropped at the end of a pass.
 */
class FlowHostArraysTest {

    private static Network net() {
        SplittableRandom r = new SplittableRandom(3);
        // The sigmoid runs on the host, through the flow's lent arrays.
        return Network.builder("flow", 6).dense("fc1", 8, PlusShortcutTest.randn(r, 48, 0.5),
                PlusShortcutTest.randn(r, 8, 0.1)).sigmoid("act").dense("fc2", 4, PlusShortcutTest.randn(r, 32, 0.5),
                PlusShortcutTest.randn(r, 4, 0.1)).build();
    }

    @Test
    void lentArraysAreDistinctZeroedAndReusedOnlyAfterTheStep() {
        try (CpuBackend be = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
             Engine e = new Engine(be, net(), Composite.uniform(new Epsilon()), InitialRelevance.OUTPUT, 4,
                     1L << 24)) {
            Flow f = e.flow();
            float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
            be.write(f.values(0), x, 0, x.length);
            float[] read = f.read(f.values(0), 12);
            float[] zeros = f.host(12);
            assertNotSame(read, zeros);
            assertArrayEquals(x, read);
            assertEquals(12, zeros.length);
            assertEquals(7, f.host(7).length);
            Arrays.fill(zeros, 9f);
            f.endStep();
            float[] again = f.host(12);
            float[] second = f.host(12);
            assertNotSame(again, second);
            assertSame(zeros, again, "the last array returned is lent first");
            assertArrayEquals(new float[12], again, "host() zeroes a reused array");
            assertArrayEquals(new float[12], second);
            f.dropHost();
            float[] fresh = f.host(12);
            assertNotSame(again, fresh);
            assertNotSame(second, fresh);
            assertNotSame(read, fresh);
        }
    }

    @Test
    void repeatedCallsGiveTheSameBitsWithArraysReused() {
        // Call 1 explains fewer rows (other lengths); calls 2 and 3 reuse nothing stale: the same bits as call 0.
        float[] x = PlusShortcutTest.randn(new SplittableRandom(8), 4 * 6, 1.0);
        try (CpuBackend be = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
             Engine e = new Engine(be, net(), Composite.uniform(new Epsilon()), InitialRelevance.OUTPUT, 4,
                     1L << 24)) {
            float[][] results = new float[3][];
            for (int call = 0; call < 3; call++) {
                Engine.Batch out = new Engine.Batch(e, 4, false);
                e.run(x, 0, call == 1 ? 3 : 4, (outputs, rows, width) -> new int[rows], out);
                results[call] = Arrays.copyOf(out.relevance, 3 * 6);
            }
            assertArrayEquals(results[0], results[1]);
            assertArrayEquals(results[0], results[2]);
        }
    }
}
