package org.gpulrp.backend.opencl;

import static org.gpulrp.backend.opencl.ClTestData.assertSameBits;
import static org.gpulrp.backend.opencl.ClTestData.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.PoolGeometry;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every convolution and pooling op of the table ({@link PrimitiveTable}) gives the same bits on OpenCL as on the CPU
 * backends (scalar and Vector API), over {@link org.gpulrp.backend.ConvCases} with zeros, -0.0 and subnormal chains,
 * null optional buffers, and outputs padded with sentinels that no kernel may overwrite; the convolutions on every conv
 * kernel variant (simple, vector, tiled), each forced through the tuning keys, with the table's and with odd tuning
 * values, each asserted to run the kernel of its own op.
 */
class OpenClConvBitIdentityTest {

    /**
     * Conv kernel variants under test, each forced by the tuning keys, with the table's values and with odd ones
     * (pixel tiles, channel tiles and slice depths that divide nothing; odd work-groups); {@code conv.vec.min=1}
     * makes the vector kernels take every case, depthwise and single-channel ones included.
     */
    enum ConvConfig {
        SIMPLE(Map.of("conv.variant", "simple", "sample.local", "24"), (op, g) -> op.general().kernel()),
        VECTOR(Map.of("conv.variant", "vector", "conv.vec.min", "1", "conv.mm.rows.min", "100000"),
                (op, g) -> op.kernel() + "_vec"),
        VECTOR_ODD(Map.of("conv.variant", "vector", "conv.vec.min", "1", "conv.vec.pix", "3", "conv.vec.local", "3",
                "conv.vec.ocv", "3", "element.local", "7", "conv.mm.rows.min", "100000"),
                (op, g) -> op.kernel() + "_vec"),
        VECTOR_NARROW(Map.of("conv.variant", "vector", "conv.vec.min", "1", "conv.vec.pix", "1", "conv.vec.ocv", "1",
                "conv.mm.rows.min", "100000"), (op, g) -> op.kernel() + "_vec"),
        /** The products take every case they can (kernels/conv_products.cl); the others run the channel lanes. */
        PRODUCTS(Map.of("conv.variant", "vector", "conv.vec.min", "1", "conv.mm.rows.min", "1",
                "conv.mm.taps.min", "1"), ConvConfig::products),
        /** Odd tiles: 3 rows x 1 vector (more tiles inside the plane), 7 rows x 2, odd work-groups. */
        PRODUCTS_ODD(Map.of("conv.variant", "vector", "conv.vec.min", "1", "conv.mm.rows.min", "1",
                "conv.mm.taps.min", "1", "conv.mm.rows", "3", "conv.mm.vecs", "1", "conv.vec.local", "3",
                "element.local", "7"), ConvConfig::products),
        PRODUCTS_WIDE(Map.of("conv.variant", "vector", "conv.vec.min", "1", "conv.mm.rows.min", "1",
                "conv.mm.taps.min", "1", "conv.mm.rows", "7", "conv.mm.vecs", "2"), ConvConfig::products),
        /** No case has enough channels for lanes: backprojections with unit column stride take pixel lanes. */
        PIXELS(Map.of("conv.variant", "vector", "conv.vec.min", "100000", "conv.mm.rows.min", "100000"),
                ConvConfig::pixelLanes),
        PIXELS_ODD(Map.of("conv.variant", "vector", "conv.vec.min", "100000", "conv.vec.pix", "3",
                "conv.vec.local", "5", "conv.mm.rows.min", "100000"), ConvConfig::pixelLanes),
        TILED(Map.of("conv.variant", "tiled"), (op, g) -> op.general().kernel() + "_tiled"),
        TILED_ODD(Map.of("conv.variant", "tiled", "conv.tile.p", "7", "conv.tile.c", "3", "conv.tile.k", "5"),
                (op, g) -> op.general().kernel() + "_tiled");

        final Map<String, String> tuning;
        /** The kernel an op must run for a geometry with this config. */
        final BiFunction<Op, ConvGeometry, String> kernel;

        ConvConfig(Map<String, String> tuning, BiFunction<Op, ConvGeometry, String> kernel) {
            this.tuning = tuning;
            this.kernel = kernel;
        }

        /** The products for the plain maps of stride-1 layers whose planes keep their size, else channel lanes. */
        private static String products(Op op, ConvGeometry g) {
            boolean fits = g.strideH() == 1 && g.strideW() == 1 && g.outH() == g.inH() && g.outW() == g.inW()
                    && g.kernelH() * g.kernelW() <= 32;
            if (fits && op == Op.CONV) {
                return "conv_fwd_mm";
            }
            return fits && op == Op.CONV_BACKPROJECT ? "conv_back_mm" : op.kernel() + "_vec";
        }

        /** Every backprojection in pixel lanes (columns of one stride phase, or of a patch), forward maps simple. */
        private static String pixelLanes(Op op, ConvGeometry g) {
            return op.direction() == Op.Direction.BACKPROJECTION ? op.kernel() + "_px" : op.general().kernel();
        }
    }

    /** The backend the device's table gives (AUTO) and one per {@link ConvConfig}. */
    private static OpenClBackend cl;
    private static final Map<ConvConfig, OpenClBackend> CONFIGS = new EnumMap<>(ConvConfig.class);
    private static CpuBackend scalar;
    private static CpuBackend vector;

    @BeforeAll
    static void open() {
        cl = OpenClTestSupport.openOrSkip();
        for (ConvConfig c : ConvConfig.values()) {
            CONFIGS.put(c, OpenClBackend.open(null, c.tuning));
        }
        scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1);
        vector = new CpuBackend();
    }

    @AfterAll
    static void close() {
        if (cl != null) {
            cl.close();
        }
        CONFIGS.values().forEach(OpenClBackend::close);
        CONFIGS.clear();
        if (scalar != null) {
            scalar.close();
            vector.close();
        }
    }

    private static float[][] check(String what, float[][] in, int[] outLengths, ClTestData.Call call) {
        float[][] ref = run(scalar, in, outLengths, call);
        assertSameBits(what + ": CPU vector vs CPU scalar", ref, run(vector, in, outLengths, call));
        assertSameBits(what + ": OpenCL vs CPU scalar", ref, run(cl, in, outLengths, call));
        assertEquals(0, cl.liveBuffers(), "buffers left open");
        return ref;
    }

    /**
     * As {@link #check}, and then on every {@link ConvConfig}, each asserted to run its own kernel for {@code op}
     * (so that a fallback to the simple kernel cannot pass unnoticed), with no buffer or scratch object left.
     */
    private static void checkConv(String what, Op op, ConvGeometry g, float[][] in, int[] outLengths,
                                  ClTestData.Call call) {
        int memBefore = OpenClBackend.liveMemObjects();
        float[][] ref = check(what, in, outLengths, call);
        for (ConvConfig c : ConvConfig.values()) {
            OpenClBackend be = CONFIGS.get(c);
            assertEquals(c.kernel.apply(op, g), be.convKernel(op, g), what + " on " + c);
            assertSameBits(what + ": OpenCL " + c + " vs CPU scalar", ref, run(be, in, outLengths, call));
            assertEquals(0, be.liveBuffers(), "buffers left open");
        }
        assertEquals(memBefore, OpenClBackend.liveMemObjects(), what + ": OpenCL memory objects left");
    }

    @Test
    void tableChoosesTheConvVariantForTheDevice() {
        ConvGeometry wide = new ConvGeometry(16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        ConvGeometry strided = new ConvGeometry(16, 8, 8, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1);
        ConvGeometry narrow = new ConvGeometry(1, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        OpenClBackend.Variant v = cl.tuning().convVariant();
        if (cl.device().type().equals("CPU")) {
            assertEquals(OpenClBackend.Variant.VECTOR, v, cl.tuning().summary());
            // Stride 1, planes that keep their size, 16 rows and 288 taps a chain: the products.
            assertEquals("conv_back_mm", cl.convKernel(Op.CONV_BACKPROJECT, wide));
            assertEquals("conv_fwd_mm", cl.convKernel(Op.CONV, wide));
            assertEquals("conv_zbox_vec", cl.convKernel(Op.CONV_ZBOX, wide));
            assertEquals("conv_back_vec", cl.convKernel(Op.CONV_BACKPROJECT, strided));
            // One input channel fills 1 of 16 channel lanes: that backprojection takes pixel lanes instead; the
            // forward map has 32 rows, products even with 9 taps a chain.
            assertEquals("conv_back_px", cl.convKernel(Op.CONV_BACKPROJECT, narrow));
            assertEquals("conv_fwd_mm", cl.convKernel(Op.CONV, narrow));
            // A ResNet's 7x7 stride-2 first layer onto RGB: pixel lanes, the columns of one stride phase.
            assertEquals("conv_back_zbox_px", cl.convKernel(Op.CONV_BACKPROJECT_ZBOX, new ConvGeometry(3, 224, 224, 64,
                    7, 7, 2, 2, 3, 3, 1, 1, 1)));
            // A ViT's patch embedding onto its 3 colour channels: pixel lanes, one tap per output channel.
            assertEquals("conv_back_px", cl.convKernel(Op.CONV_BACKPROJECT, new ConvGeometry(3, 32, 32, 16, 16, 16, 16,
                    16, 0, 0, 1, 1, 1)));
            // Fewer rows than a products tile is worth (8 output channels): channel lanes.
            assertEquals("conv_fwd_vec", cl.convKernel(Op.CONV, new ConvGeometry(16, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1,
                    1, 1)));
        }
        // 2x2 windows at stride 2 that tile the input: lanes where the convolutions take the vector variant.
        PoolGeometry tiled = new PoolGeometry(4, 8, 40, 2, 2, 2, 2, 0, 0);
        PoolGeometry odd = new PoolGeometry(4, 7, 40, 2, 2, 2, 2, 0, 0);
        assertEquals("max_pool_2x2 max_pool_route_2x2", CONFIGS.get(ConvConfig.VECTOR).poolKernels(tiled));
        assertEquals("max_pool max_pool_route_windows", CONFIGS.get(ConvConfig.VECTOR).poolKernels(odd));
        assertEquals("max_pool max_pool_route_windows", CONFIGS.get(ConvConfig.SIMPLE).poolKernels(tiled));
        assertTrue(cl.tuning().summary().contains("conv " + v.name().toLowerCase(java.util.Locale.ROOT)),
                cl.tuning().summary());
        assertThrows(InvalidArgumentException.class, () -> cl.convKernel(Op.RELU, wide));
        assertThrows(InvalidArgumentException.class, () -> cl.convKernel(null, wide));
    }

    /**
     * Weights that are infinite or NaN at taps that fall in the padding: the products skip those taps lane by lane
     * (a product with them would make the chain NaN), so their chains are the contract's.
     */
    @Test
    void productsSkipNonFiniteWeightsOutsideThePlane() {
        ConvGeometry g = new ConvGeometry(16, 5, 21, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        java.util.Random rnd = new java.util.Random(31);
        float[] x = ClTestData.data(rnd, 2 * g.inSize());
        float[] w = ClTestData.data(rnd, g.weightSize());
        float[] gr = ClTestData.data(rnd, 2 * g.outSize());
        // Every kernel's top row of taps: outside the plane for the first output row (forward) and, flipped, for the
        // last input row (backward), so only those rows' chains stay finite.
        for (int k = 0; k < w.length; k += 9) {
            for (int j = 0; j < 3; j++) {
                w[k + j] = k % 27 == 0 ? Float.POSITIVE_INFINITY : k % 27 == 9 ? Float.NEGATIVE_INFINITY : Float.NaN;
            }
        }
        OpenClBackend products = CONFIGS.get(ConvConfig.PRODUCTS);
        assertEquals("conv_fwd_mm", products.convKernel(Op.CONV, g));
        assertEquals("conv_back_mm", products.convKernel(Op.CONV_BACKPROJECT, g));
        ClTestData.Call fwd = (be, i, o) -> be.conv(i[0], i[1], null, o[0], 2, g);
        ClTestData.Call back = (be, i, o) -> be.convBackproject(i[0], i[1], null, o[0], 2, g);
        float[][] f = run(scalar, new float[][] {x, w}, new int[] {2 * g.outSize()}, fwd);
        float[][] b = run(scalar, new float[][] {gr, w}, new int[] {2 * g.inSize()}, back);
        for (float[] out : new float[][] {f[0], b[0]}) {
            int finite = 0;
            for (float v : out) {
                finite += Float.isFinite(v) ? 1 : 0;
            }
            assertTrue(finite > 0, "some chains meet only finite weights inside the plane");
        }
        assertSameBits("forward", f, run(products, new float[][] {x, w}, new int[] {2 * g.outSize()}, fwd));
        assertSameBits("backprojection", b, run(products, new float[][] {gr, w}, new int[] {2 * g.inSize()}, back));
    }

    /**
     * ZBox chains that underflow to -0 (every product about -1e-50), some with weights of exactly +0 (products -0):
     * the device's kernels and the CPU path's keep the scalar chain's -0 on every case, borders included.
     */
    @Test
    void zboxChainsAtNegativeZeroKeepTheirSign() {
        for (org.gpulrp.backend.ConvCases.Conv c : org.gpulrp.backend.ConvCases.conv()) {
            ConvGeometry g = c.g();
            int rows = c.rows();
            for (float sign : new float[] {1f, -1f, 0f}) {
                float[][] xw = org.gpulrp.backend.ConvCases.underflowZBox(g, rows, sign);
                float[] bounds = new float[g.inSize()];
                ClTestData.Call call = (be, i, o) -> be.convZBox(i[0], i[1], i[2], i[2], o[0], rows, g);
                check("ZBox at -0, sign " + sign + ", " + c, new float[][] {xw[0], xw[1], bounds},
                        new int[] {rows * g.outSize()}, call);
            }
        }
    }

    /**
     * Infinite weights in every kernel's first row, on every case and every conv primitive: a tap in the padding (or
     * between strides) is skipped, never multiplied, on the device as on the CPU path.
     */
    @Test
    void infiniteWeightsAtSkippedTapsStaySkipped() {
        java.util.Random rnd = new java.util.Random(17);
        for (org.gpulrp.backend.ConvCases.Conv c : org.gpulrp.backend.ConvCases.conv()) {
            ConvGeometry g = c.g();
            int rows = c.rows();
            float[] w = ClTestData.data(rnd, g.weightSize());
            org.gpulrp.backend.ConvCases.infiniteFirstRows(w, g);
            float[][] in = {ClTestData.data(rnd, rows * g.inSize()), ClTestData.data(rnd, rows * g.outSize()), w,
                ClTestData.data(rnd, g.inSize()), ClTestData.data(rnd, g.inSize())};
            int n = rows * g.outSize();
            int m = rows * g.inSize();
            String s = "infinite weights, " + c + ", ";
            check(s + "conv", in, new int[] {n}, (be, i, o) -> be.conv(i[0], i[2], null, o[0], rows, g));
            check(s + "convSigned", in, new int[] {n, -1},
                    (be, i, o) -> be.convSigned(i[0], i[2], i[2], null, null, o[0], null, rows, g));
            check(s + "convZBox", in, new int[] {n}, (be, i, o) -> be.convZBox(i[0], i[2], i[3], i[4], o[0], rows, g));
            check(s + "convBackproject", in, new int[] {m},
                    (be, i, o) -> be.convBackproject(i[1], i[2], i[0], o[0], rows, g));
            check(s + "convBackprojectSigned", in, new int[] {m},
                    (be, i, o) -> be.convBackprojectSigned(i[1], null, i[2], i[2], i[0], o[0], rows, g));
            check(s + "convBackprojectZBox", in, new int[] {m},
                    (be, i, o) -> be.convBackprojectZBox(i[1], i[2], i[2], i[2], i[0], i[3], i[4], o[0], rows, g));
        }
    }

    @ParameterizedTest
    @MethodSource("convOps")
    void convolution(Op op) {
        for (PrimitiveTable.Case c : PrimitiveTable.cases(op)) {
            checkConv(c.what(), op, c.g(), c.in(), c.out(), c.call());
        }
    }

    static Stream<Op> convOps() {
        return Op.of(Op.Family.CONV).stream();
    }

    @ParameterizedTest
    @MethodSource("poolOps")
    void pooling(Op op) {
        for (PrimitiveTable.Case c : PrimitiveTable.cases(op)) {
            float[][] ref = check(c.what(), c.in(), c.out(), c.call());
            // The 2x2 lane kernels run where the convolutions take the vector variant; the others elsewhere.
            for (ConvConfig k : new ConvConfig[] {ConvConfig.VECTOR, ConvConfig.SIMPLE, ConvConfig.TILED}) {
                assertSameBits(c.what() + ": OpenCL " + k + " vs CPU scalar", ref,
                        run(CONFIGS.get(k), c.in(), c.out(), c.call()));
            }
        }
    }

    static Stream<Op> poolOps() {
        return Op.of(Op.Family.POOL).stream();
    }
}
