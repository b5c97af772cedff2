package org.gpulrp.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.BackendChoice;
import org.gpulrp.DeviceException;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.FaultInjection;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.testing.OpenClTestSupport;
import org.gpulrp.testing.RandomNets;
import org.jocl.CL;
import org.junit.jupiter.api.Test;

/** With fallbackToCpu, a device failure mid-call completes the call on the CPU path with the same bits. */
class CpuFallbackTest {
    private static final Network NET = RandomNets.mlp(8, 20, 64, 32, 5);

    private static Explainer.Builder builder(BackendChoice be) {
        return GpuLrp.explainer(NET).composite(Composites.epsilonPlus()).backend(be).chunkRows(32);
    }

    @Test
    void transientAndLostDevicesFallBackWithIdenticalBits() {
        OpenClTestSupport.assumeOpenCl();
        Tensor x = Tensor.ofRows(RandomNets.inputs(2, 300, 20));
        float[] reference;
        try (Explainer cpu = builder(BackendChoice.CPU).build()) {
            reference = cpu.explain(x, Target.argmax()).relevance().toArray();
        }
        int before = OpenClBackend.liveMemObjects();
        try (Explainer cl = builder(BackendChoice.OPENCL).fallbackToCpu(true).build()) {
            // The network runs as a fused dense chain on OpenCL: two launches a pass of 32 rows, so launch 9 is the
            // fifth pass of ten.
            try (FaultInjection.Armed a = FaultInjection.failAt(FaultInjection.Point.LAUNCH, 9,
                    CL.CL_OUT_OF_RESOURCES)) {
                Explanation e = cl.explain(x, Target.argmax());
                assertEquals(1, a.failures());
                assertArrayEquals(reference, e.relevance().toArray());
                assertTrue(e.backend().note().contains("CPU path after a device error"), e.backend().note());
            }
            try (FaultInjection.Armed a = FaultInjection.loseDeviceAt(FaultInjection.Point.READ, 3)) {
                for (int k = 0; k < 2; k++) {
                    Explanation e = cl.explain(x, Target.argmax());
                    assertArrayEquals(reference, e.relevance().toArray());
                }
                assertTrue(a.failures() >= 2);
            }
            Explanation healthy = cl.explain(x, Target.argmax());
            assertArrayEquals(reference, healthy.relevance().toArray());
            assertTrue(!healthy.backend().note().contains("device error"), healthy.backend().note());
        }
        assertEquals(before, OpenClBackend.liveMemObjects(), "leaked memory objects");
        try (Explainer cl = builder(BackendChoice.OPENCL).build();
             FaultInjection.Armed a = FaultInjection.failAt(FaultInjection.Point.LAUNCH, 10, CL.CL_OUT_OF_RESOURCES)) {
            assertThrows(DeviceException.class, () -> cl.explain(x, Target.argmax()));
        }
    }
}
