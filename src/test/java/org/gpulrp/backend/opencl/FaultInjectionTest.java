package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.BackendChoice;
import org.gpulrp.DeviceException;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.testing.OpenClTestSupport;
import org.gpulrp.testing.RandomNets;
import org.jocl.CL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Device faults injected into the OpenCL layer: every failure ends in a typed exception, leaks no OpenCL memory
 * object, and leaves the explainer usable (a transient fault) or failing fast (a lost device) until it is closed.
 */
class FaultInjectionTest {
    private static Network net;
    private static Tensor batch;
    private static int[] reference;

    @BeforeAll
    static void setUp() {
        OpenClTestSupport.assumeOpenCl();
        // 80 features: wider than a fused dense chain takes, so every layer runs its own kernels.
        net = RandomNets.mlp(5, 24, 80, 33, 7);
        batch = Tensor.ofRows(RandomNets.inputs(6, 300, 24));
        try (Explainer cpu = explainer(BackendChoice.CPU)) {
            reference = bits(cpu.explain(batch, Target.argmax()).relevance().toArray());
        }
    }

    private static Explainer explainer(BackendChoice choice) {
        return explainer(net, choice);
    }

    private static Explainer explainer(Network n, BackendChoice choice) {
        // Small passes: one batch makes many launches, uploads and downloads.
        return GpuLrp.explainer(n).composite(Composites.epsilonPlus()).backend(choice).chunkRows(64).build();
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int k = 0; k < a.length; k++) {
            b[k] = Float.floatToRawIntBits(a[k]);
        }
        return b;
    }

    @ParameterizedTest
    @EnumSource(value = FaultInjection.Point.class, names = {"CONTEXT", "BUILD", "ALLOCATE"})
    void failuresWhileOpeningLeakNothing(FaultInjection.Point point) {
        int before = OpenClBackend.liveMemObjects();
        for (int skip : new int[] {0, 1, 3, 8}) {
            try (FaultInjection.Armed a = FaultInjection.failAt(point, skip, CL.CL_OUT_OF_RESOURCES)) {
                try {
                    explainer(BackendChoice.OPENCL).close(); // opens fine when there are <= skip such calls
                    assertEquals(0, a.failures(), "an injected failure was swallowed");
                } catch (DeviceException e) { // KernelBuildException is one too
                    assertEquals(1, a.failures(), e.toString());
                    if (point != FaultInjection.Point.BUILD) {
                        assertTrue(e.getMessage().contains("[injected]")
                                && e.getMessage().contains("CL_OUT_OF_RESOURCES"), e.getMessage());
                    }
                }
                if (skip == 0) {
                    assertEquals(1, a.failures(), point + ": the first call was not failed");
                }
            }
            assertEquals(before, OpenClBackend.liveMemObjects(), point + " skip " + skip + ": leaked memory objects");
        }
    }

    @ParameterizedTest
    @EnumSource(value = FaultInjection.Point.class, names = {"ALLOCATE", "WRITE", "READ", "LAUNCH"})
    void transientFaultMidBatchFailsTypedAndTheExplainerRecovers(FaultInjection.Point point) {
        int before = OpenClBackend.liveMemObjects();
        try (Explainer cl = explainer(BackendChoice.OPENCL)) {
            int fired = 0;
            for (int skip : new int[] {0, 2, 7, 31, 90}) {
                try (FaultInjection.Armed a = FaultInjection.failAt(point, skip, CL.CL_OUT_OF_RESOURCES)) {
                    try {
                        cl.explain(batch, Target.argmax());
                    } catch (DeviceException e) {
                        assertTrue(e.getMessage().contains("[injected]"), e.getMessage());
                        assertEquals(CL.CL_OUT_OF_RESOURCES, e.status());
                    }
                    fired += a.failures();
                }
                // The same explainer, after the fault: same bits as the CPU path.
                assertArrayEquals(reference, bits(cl.explain(batch, Target.argmax()).relevance().toArray()),
                        point + " skip " + skip);
            }
            if (point != FaultInjection.Point.ALLOCATE) {
                assertTrue(fired >= 3, point + ": the plan fired only " + fired + " times");
            }
        }
        assertEquals(before, OpenClBackend.liveMemObjects(), "leaked memory objects");
    }

    @Test
    void lostDeviceFailsEveryCallFastAndClosesCleanly() {
        int before = OpenClBackend.liveMemObjects();
        Explainer cl = explainer(BackendChoice.OPENCL);
        try (FaultInjection.Armed a = FaultInjection.loseDeviceAt(FaultInjection.Point.LAUNCH, 12)) {
            for (int k = 0; k < 3; k++) {
                DeviceException e = assertThrows(DeviceException.class, () -> cl.explain(batch, Target.argmax()));
                assertEquals(FaultInjection.DEVICE_LOST, e.status());
            }
            assertTrue(a.failures() >= 3);
            cl.close(); // releasing is never injected and never throws
        }
        assertEquals(before, OpenClBackend.liveMemObjects(), "leaked memory objects");
    }

    @Test
    void lostDeviceInAFusedChainFailsFastAndClosesCleanly() {
        // Narrow enough to run as one fused dense chain: two launches a pass, five passes.
        Network narrow = RandomNets.mlp(5, 24, 40, 33, 7);
        int before = OpenClBackend.liveMemObjects();
        int[] want;
        try (Explainer cpu = explainer(narrow, BackendChoice.CPU)) {
            want = bits(cpu.explain(batch, Target.argmax()).relevance().toArray());
        }
        Explainer cl = explainer(narrow, BackendChoice.OPENCL);
        assertArrayEquals(want, bits(cl.explain(batch, Target.argmax()).relevance().toArray()));
        try (FaultInjection.Armed a = FaultInjection.loseDeviceAt(FaultInjection.Point.LAUNCH, 5)) {
            for (int k = 0; k < 3; k++) {
                DeviceException e = assertThrows(DeviceException.class, () -> cl.explain(batch, Target.argmax()));
                assertEquals(FaultInjection.DEVICE_LOST, e.status());
            }
            assertTrue(a.failures() >= 3);
            cl.close();
        }
        assertEquals(before, OpenClBackend.liveMemObjects(), "leaked memory objects");
    }

    @Test
    void onlyOnePlanAtATime() {
        try (FaultInjection.Armed a = FaultInjection.failAt(FaultInjection.Point.READ, 0, -5)) {
            assertThrows(org.gpulrp.InvalidArgumentException.class,
                    () -> FaultInjection.failAt(FaultInjection.Point.READ, 0, -5));
            assertEquals(0, a.failures());
        }
        assertThrows(org.gpulrp.InvalidArgumentException.class,
                () -> FaultInjection.failAt(FaultInjection.Point.READ, 0, 3));
    }
}
