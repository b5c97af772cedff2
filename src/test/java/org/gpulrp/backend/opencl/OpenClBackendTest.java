package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.gpulrp.ClosedException;
import org.gpulrp.DeviceException;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.KernelBuildException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.backend.opencl.OpenClBackend.Variant;
import org.gpulrp.testing.OpenClTestSupport;
import org.jocl.CL;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Device choice, facts, buffers, errors and the release of everything a backend holds. */
class OpenClBackendTest {

    @BeforeAll
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
    }

    @Test
    void infoNamesTheDeviceAndItsExactness() {
        try (OpenClBackend be = OpenClTestSupport.openOrSkip()) {
            BackendInfo info = be.info();
            DeviceDescription d = be.device();
            assertEquals("opencl", info.kind());
            assertTrue(info.device().contains(d.name()), info.device());
            assertEquals(d.exact(), info.exact());
            assertEquals(d.exact(), d.note().isEmpty(), "a note exactly when not exact: " + d.note());
            assertNotEquals(Variant.AUTO, be.variant());
            if (d.type().equals("CPU")) {
                assertEquals(Variant.VECTOR, be.variant(), "AUTO picks the vector kernels on CPU devices");
            }
            if (d.platform().contains("Portable Computing Language")) {
                assertTrue(info.exact(), "PoCL on x86 has fma, denormals and correctly rounded division: " + info);
            }
        }
    }

    @Test
    void listDevicesIncludesTheOpenedOne() {
        List<DeviceDescription> all = OpenClBackend.listDevices();
        assertFalse(all.isEmpty());
        assertTrue(OpenClBackend.isAvailable());
        try (OpenClBackend be = OpenClTestSupport.openOrSkip()) {
            assertTrue(all.contains(be.device()), all + " lacks " + be.device());
        }
        for (DeviceDescription d : all) {
            assertTrue(d.globalMemBytes() > 0 && d.maxAllocBytes() > 0 && d.computeUnits() > 0, d.toString());
        }
    }

    @Test
    void deviceSubstringSelectsOrFailsClearly() {
        DeviceDescription first = OpenClBackend.listDevices().get(0);
        String part = first.name().substring(0, Math.min(6, first.name().length())).toUpperCase();
        try (OpenClBackend be = OpenClBackend.open(part)) {
            assertTrue(be.device().name().toUpperCase().contains(part));
        }
        DeviceException e = assertThrows(DeviceException.class, () -> OpenClBackend.open("no-such-device-xyz"));
        assertTrue(e.getMessage().contains("no-such-device-xyz") && e.getMessage().contains(first.name()),
                e.getMessage());
    }

    @Test
    void variantPropertyForcesTheKernels() {
        String old = System.getProperty(OpenClBackend.VARIANT_PROPERTY);
        try {
            System.setProperty(OpenClBackend.VARIANT_PROPERTY, "simple");
            try (OpenClBackend be = OpenClBackend.open(null)) {
                assertEquals(Variant.SIMPLE, be.variant());
                assertTrue(be.info().device().contains("simple"), be.info().device());
            }
            try (OpenClBackend be = OpenClBackend.open(null, Variant.TILED)) {
                assertEquals(Variant.TILED, be.variant(), "an explicit variant wins over the property");
            }
            System.setProperty(OpenClBackend.VARIANT_PROPERTY, "fastest");
            assertThrows(InvalidArgumentException.class, () -> OpenClBackend.open(null));
        } finally {
            if (old == null) {
                System.clearProperty(OpenClBackend.VARIANT_PROPERTY);
            } else {
                System.setProperty(OpenClBackend.VARIANT_PROPERTY, old);
            }
        }
    }

    @Test
    void buffersRoundTripWithOffsets() {
        try (OpenClBackend be = OpenClTestSupport.openOrSkip()) {
            float[] data = {1f, -0f, Float.NaN, Float.MIN_VALUE, -2.5f, 7f};
            try (Buffer b = be.upload(data)) {
                assertEquals(6, b.length());
                float[] back = new float[8];
                be.read(b, back, 2, 6);
                for (int k = 0; k < 6; k++) {
                    assertEquals(Float.floatToRawIntBits(data[k]), Float.floatToRawIntBits(back[k + 2]));
                }
                be.write(b, new float[] {9f, 8f, 7f, 6f}, 1, 3);
                float[] now = new float[6];
                be.read(b, now, 0, 6);
                assertArrayEquals(new float[] {8f, 7f, 6f, Float.MIN_VALUE, -2.5f, 7f}, now);
            }
            try (Buffer empty = be.upload(new float[0]); Buffer zero = be.allocate(0)) {
                assertEquals(0, empty.length());
                assertEquals(0, zero.length());
                be.read(empty, new float[0], 0, 0);
                be.write(zero, new float[0], 0, 0);
            }
            assertEquals(0, be.liveBuffers());
        }
    }

    @Test
    void badArgumentsAreRejectedBeforeTheDeviceSeesThem() {
        try (OpenClBackend be = OpenClTestSupport.openOrSkip(); CpuBackend cpu = new CpuBackend()) {
            Buffer x = be.allocate(6);
            Buffer wt = be.allocate(6);
            Buffer z = be.allocate(4);
            assertThrows(ShapeMismatchException.class, () -> be.linear(x, wt, null, z, 2, 3, 3));
            assertThrows(InvalidArgumentException.class, () -> be.linear(x, wt, null, z, -1, 3, 2));
            assertThrows(InvalidArgumentException.class, () -> be.linear(x, null, null, z, 2, 3, 2));
            Buffer foreign = cpu.allocate(6);
            assertThrows(InvalidArgumentException.class, () -> be.linear(foreign, wt, null, z, 2, 3, 2));
            assertThrows(InvalidArgumentException.class, () -> be.read(x, new float[3], 0, 6));
            assertThrows(InvalidArgumentException.class, () -> be.write(x, new float[6], -1, 2));
            assertThrows(ShapeMismatchException.class, () -> be.write(z, new float[6], 0, 6));
            assertThrows(InvalidArgumentException.class, () -> be.allocate(-1));
            if (4L * Integer.MAX_VALUE > be.device().maxAllocBytes()) {
                DeviceException huge = assertThrows(DeviceException.class, () -> be.allocate(Integer.MAX_VALUE));
                assertTrue(huge.getMessage().contains("smaller batch"), huge.getMessage());
            }
            x.close();
            assertThrows(ClosedException.class, () -> be.relu(x, z, 4));
            be.linear(wt, be.allocate(6), null, z, 2, 3, 2); // still usable after the rejected calls
            assertEquals(3, be.liveBuffers(), "wt, z and the new buffer");
        }
    }

    @Test
    void closeReleasesEverythingAndLaterCallsThrow() {
        int before = OpenClBackend.liveMemObjects();
        OpenClBackend be = OpenClTestSupport.openOrSkip();
        Buffer a = be.upload(new float[] {1f, 2f, 3f, 4f});
        Buffer b = be.allocate(4);
        Buffer c = be.allocate(4);
        assertEquals(3, be.liveBuffers());
        assertTrue(OpenClBackend.liveMemObjects() > before);
        c.close();
        c.close(); // idempotent
        assertEquals(2, be.liveBuffers());
        be.relu(a, b, 4);
        be.close();
        assertEquals(0, be.liveBuffers());
        assertEquals(before, OpenClBackend.liveMemObjects(), "every cl_mem released");
        be.close(); // idempotent
        a.close(); // after the backend: nothing left to release, no exception
        List<Executable> calls = new ArrayList<>();
        calls.add(() -> be.allocate(1));
        calls.add(() -> be.upload(new float[1]));
        calls.add(() -> be.write(a, new float[1], 0, 1));
        calls.add(() -> be.read(a, new float[1], 0, 1));
        calls.add(() -> be.linear(a, a, null, b, 1, 1, 1));
        calls.add(() -> be.linearSigned(a, a, a, a, null, b, null, 1, 1, 1));
        calls.add(() -> be.linearZBox(a, a, a, a, b, 1, 1, 1));
        calls.add(() -> be.relu(a, b, 1));
        calls.add(() -> be.splitSign(a, b, b, 1));
        calls.add(() -> be.gammaWeights(a, 0.25f, b, b, 1));
        calls.add(() -> be.normalize(a, a, 1, 1e-6f, b, 1, 1));
        calls.add(() -> be.normalizeSigned(a, a, a, null, 1e-6f, 1f, 0f, false, b, null, 1, 1));
        calls.add(() -> be.backproject(a, a, null, b, 1, 1, 1));
        calls.add(() -> be.backprojectSigned(a, null, a, a, a, b, 1, 1, 1));
        calls.add(() -> be.backprojectZBox(a, a, a, a, a, a, a, b, 1, 1, 1));
        calls.add(be::finish);
        for (Executable call : calls) {
            assertThrows(ClosedException.class, call);
        }
    }

    @Test
    void brokenSourceGivesTheBuildLog() {
        ClDevices.Found dev = ClDevices.select(System.getProperty(OpenClBackend.DEVICE_PROPERTY));
        int[] err = new int[1];
        cl_context ctx = CL.clCreateContext(null, 1, new cl_device_id[] {dev.device()}, null, null, err);
        assertEquals(CL.CL_SUCCESS, err[0]);
        try {
            String broken = "#pragma OPENCL FP_CONTRACT OFF\n__kernel void oops(__global float* a) {\n"
                    + "    a[get_global_id(0)] = undeclared_thing + 1.0f;\n}\n";
            System.err.println("[gpulrp tests] the OpenCL compiler error below is expected (broken.cl)");
            KernelBuildException e = assertThrows(KernelBuildException.class,
                    () -> ClPrograms.build(ctx, dev.device(), dev.description().name(), "broken.cl", broken));
            assertFalse(e.buildLog().isBlank(), "a build log");
            assertTrue(e.buildLog().contains("undeclared_thing"), e.buildLog());
            assertEquals(CL.CL_BUILD_PROGRAM_FAILURE, e.status());
            assertEquals(dev.description().name(), e.device());
            assertTrue(e.getMessage().contains("broken.cl"), e.getMessage());
        } finally {
            CL.clReleaseContext(ctx);
        }
    }
}
