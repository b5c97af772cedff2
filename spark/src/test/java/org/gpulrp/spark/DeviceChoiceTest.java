package org.gpulrp.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.LrpException;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Which device an executor asks for: configured name, Spark's GPU address, or the library's default. */
class DeviceChoiceTest {

    @Test
    void aConfiguredNameWinsAndTheCpuBackendAsksForNone() {
        LrpConfig c = LrpConfig.forModel("m.onnx").withDevice("Tesla");
        assertEquals("Tesla", DeviceChoice.pick(c));
        assertNull(DeviceChoice.pick(c.withBackend("cpu")));
        // Outside a Spark task there is no assigned GPU: the library's default.
        assertNull(DeviceChoice.pick(LrpConfig.forModel("m.onnx")));
        assertNull(DeviceChoice.assignedGpu("gpu"));
    }

    @Test
    void anAddressThatIsNotAnIndexIsRefused() {
        LrpException e = assertThrows(LrpException.class, () -> DeviceChoice.gpuNameAt("GPU-5f3c"));
        assertTrue(e.getMessage().contains("'GPU-5f3c', which is not an index"), e.getMessage());
    }

    @Test
    void anAssignedGpuThatOpenClCannotSeeIsRefusedClearly() {
        boolean anyGpu = OpenClBackend.listDevices().stream().anyMatch(d -> d.type().equals("GPU"));
        Assumptions.assumeFalse(anyGpu, "this machine has an OpenCL GPU");
        LrpException e = assertThrows(LrpException.class, () -> DeviceChoice.gpuNameAt("0"));
        assertTrue(e.getMessage().contains("Spark assigned GPU 0 to this executor, but OpenCL sees no GPU here"),
                e.getMessage());
    }
}
