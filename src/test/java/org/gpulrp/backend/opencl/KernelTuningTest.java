package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.LrpException;
import org.gpulrp.backend.opencl.OpenClBackend.Variant;
import org.junit.jupiter.api.Test;

/** The tuning table's resolution order and checks (no device needed). */
class KernelTuningTest {

    private static final Properties NONE = new Properties();

    @Test
    void shippedTablePicksVectorOnCpusAndTiledOnGpus() {
        Properties table = KernelTuning.table();
        KernelTuning cpu = KernelTuning.resolve("CPU", "Portable Computing Language pthread-skylake", Map.of(),
                table, NONE);
        assertEquals(Variant.VECTOR, cpu.variant());
        KernelTuning nvidia = KernelTuning.resolve("GPU", "NVIDIA CUDA NVIDIA H100 80GB HBM3", Map.of(), table, NONE);
        assertEquals(Variant.TILED, nvidia.variant());
        assertTrue(nvidia.source().contains("gpu.nvidia"), nvidia.source());
        KernelTuning intel = KernelTuning.resolve("GPU", "Intel(R) OpenCL HD Graphics", Map.of(), table, NONE);
        assertEquals(2, intel.tileW());
        assertEquals(Variant.SIMPLE, KernelTuning.resolve("ACCELERATOR", "x", Map.of(), table, NONE).variant());
        assertEquals(Variant.SIMPLE, KernelTuning.resolve("CUSTOM", "x", Map.of(), table, NONE).variant());
    }

    /** A CPU device with 8-float vectors (AVX2) gets tiles that fit its 16 registers; one with 16 keeps the default. */
    @Test
    void vectorWidthScopeSitsBetweenTypeAndVendor() {
        Properties table = new Properties();
        table.putAll(KernelTuning.table());
        KernelTuning avx2 = KernelTuning.resolve("CPU", "Portable Computing Language pthread-haswell", 8, Map.of(),
                table, NONE);
        KernelTuning avx512 = KernelTuning.resolve("CPU", "Portable Computing Language pthread-skylake-avx512", 16,
                Map.of(), table, NONE);
        assertEquals(6, avx2.vecRows());
        assertEquals(1, avx2.vecColv());
        assertTrue(avx2.source().contains("cpu.simd8"), avx2.source());
        assertEquals(8, avx512.vecRows());
        assertEquals(2, avx512.vecColv());
        table.put("cpu.acme.vec.rows", "3");
        assertEquals(3, KernelTuning.resolve("CPU", "ACME cpu", 8, Map.of(), table, NONE).vecRows());
        assertEquals(7, KernelTuning.resolve("CPU", "ACME cpu", 8, Map.of("vec.rows", "7"), table, NONE).vecRows());
    }

    @Test
    void laterScopesWin() {
        Properties table = new Properties();
        table.putAll(KernelTuning.table());
        table.put("gpu.tile.k", "8");
        table.put("gpu.acme.tile.k", "4");
        table.put("gpu.acme.vec.rows", "5");
        assertEquals(8, KernelTuning.resolve("GPU", "Other Corp", Map.of(), table, NONE).tileK());
        KernelTuning acme = KernelTuning.resolve("GPU", "ACME Graphics", Map.of(), table, NONE);
        assertEquals(4, acme.tileK());
        assertEquals(5, acme.vecRows());
        Properties system = new Properties();
        system.put(KernelTuning.PROPERTY_PREFIX + "tile.k", "3");
        system.put(OpenClBackend.VARIANT_PROPERTY, "simple");
        KernelTuning sys = KernelTuning.resolve("GPU", "ACME Graphics", Map.of(), table, system);
        assertEquals(3, sys.tileK());
        assertEquals(Variant.SIMPLE, sys.variant());
        KernelTuning over = KernelTuning.resolve("GPU", "ACME Graphics", Map.of("tile.k", "2", "variant", "vector"),
                table, system);
        assertEquals(2, over.tileK());
        assertEquals(Variant.VECTOR, over.variant());
        assertTrue(over.source().endsWith("overrides"), over.source());
    }

    @Test
    void badValuesAreNamed() {
        Properties t = KernelTuning.table();
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> KernelTuning.resolve("GPU", "x", Map.of("tile.w", "0"), t, NONE));
        assertTrue(e.getMessage().contains("tile.w"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> KernelTuning.resolve("GPU", "x", Map.of("tile.w", "four"), t, NONE));
        assertTrue(e.getMessage().contains("four"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> KernelTuning.resolve("GPU", "x", Map.of("tile.size", "4"), t, NONE));
        assertTrue(e.getMessage().contains("tile.size") && e.getMessage().contains("known"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> KernelTuning.resolve("GPU", "x", Map.of("variant", "auto"), t, NONE));
        assertTrue(e.getMessage().contains("auto"), e.getMessage());
        Properties system = new Properties();
        system.put(KernelTuning.PROPERTY_PREFIX + "vec.width", "4");
        e = assertThrows(InvalidArgumentException.class, () -> KernelTuning.resolve("CPU", "x", Map.of(), t, system));
        assertTrue(e.getMessage().contains("gpulrp.opencl.tuning.vec.width"), e.getMessage());
    }

    @Test
    void incompleteTableIsReported() {
        Properties t = new Properties();
        t.put("default.variant", "simple");
        LrpException e = assertThrows(LrpException.class, () -> KernelTuning.resolve("CPU", "x", Map.of(), t, NONE));
        assertTrue(e.getMessage().contains("vec.rows"), e.getMessage());
    }

    @Test
    void definesAndTiledMemoryFollowTheValues() {
        KernelTuning k = KernelTuning.resolve("GPU", "x", Map.of("tile.t", "8", "tile.w", "2", "tile.k", "4"),
                KernelTuning.table(), NONE);
        assertEquals(16, k.tileB());
        assertEquals(4L * (2L * 16 * 5 + 2L * 4 * 16), k.tiledLocalBytes());
        assertEquals(8, k.defines().get("TILE_T"));
        assertEquals(4, k.defines().get("TILE_K"));
        assertTrue(k.summary().startsWith("tiled 16x16 per 8x8"), k.summary());
    }

    @Test
    void convVariantIsItsOwnKeyPerDeviceType() {
        Properties table = KernelTuning.table();
        assertEquals(Variant.VECTOR, KernelTuning.resolve("CPU", "pocl", Map.of(), table, NONE).convVariant());
        assertEquals(Variant.TILED, KernelTuning.resolve("GPU", "NVIDIA", Map.of(), table, NONE).convVariant());
        assertEquals(Variant.SIMPLE, KernelTuning.resolve("ACCELERATOR", "x", Map.of(), table, NONE).convVariant());
        assertEquals(Variant.SIMPLE, KernelTuning.resolve("CUSTOM", "x", Map.of(), table, NONE).convVariant());
        // Forcing the dense variant leaves the conv variant to its own key, and the reverse.
        KernelTuning dense = KernelTuning.resolve("CPU", "pocl", Map.of("variant", "simple"), table, NONE);
        assertEquals(Variant.SIMPLE, dense.variant());
        assertEquals(Variant.VECTOR, dense.convVariant());
        Properties system = new Properties();
        system.put(KernelTuning.PROPERTY_PREFIX + "conv.variant", "tiled");
        system.put(KernelTuning.PROPERTY_PREFIX + "conv.tile.c", "5");
        KernelTuning sys = KernelTuning.resolve("CPU", "pocl", Map.of("conv.tile.k", "7"), table, system);
        assertEquals(Variant.TILED, sys.convVariant());
        assertEquals(Variant.VECTOR, sys.variant());
        assertEquals(5, sys.defines().get("CONV_TILE_C"));
        assertEquals(7, sys.defines().get("CONV_TILE_K"));
        assertEquals(4L * 3 * 5 * 7, sys.convTiledLocalBytes());
        assertTrue(sys.summary().contains("conv tiled 5 channels"), sys.summary());
        Properties vendor = new Properties();
        vendor.putAll(table);
        vendor.put("gpu.acme.conv.vec.pix", "3");
        vendor.put("gpu.acme.conv.variant", "vector");
        KernelTuning acme = KernelTuning.resolve("GPU", "ACME Graphics", Map.of(), vendor, NONE);
        assertEquals(Variant.VECTOR, acme.convVariant());
        assertEquals(3, acme.defines().get("CONV_VEC_PIX"));
        assertTrue(acme.source().contains("gpu.acme"), acme.source());
    }

    @Test
    void badConvValuesAreNamed() {
        Properties t = KernelTuning.table();
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> KernelTuning.resolve("CPU", "x", Map.of("conv.variant", "winograd"), t, NONE));
        assertTrue(e.getMessage().contains("conv.variant") && e.getMessage().contains("winograd"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> KernelTuning.resolve("CPU", "x", Map.of("conv.vec.pix", "17"), t, NONE));
        assertTrue(e.getMessage().contains("conv.vec.pix") && e.getMessage().contains("17"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> KernelTuning.resolve("GPU", "x", Map.of("conv.tile.c", "0"), t, NONE));
        assertTrue(e.getMessage().contains("conv.tile.c"), e.getMessage());
        Properties incomplete = new Properties();
        incomplete.putAll(t);
        incomplete.remove("default.conv.variant");
        LrpException missing = assertThrows(LrpException.class,
                () -> KernelTuning.resolve("CUSTOM", "x", Map.of(), incomplete, NONE));
        assertTrue(missing.getMessage().contains("conv.variant"), missing.getMessage());
    }
}
