package org.gpulrp.backend.opencl;

import static org.gpulrp.backend.opencl.ClTestData.assertSameBits;
import static org.gpulrp.backend.opencl.ClTestData.matrix;
import static org.gpulrp.backend.opencl.ClTestData.run;
import static org.gpulrp.backend.opencl.ClTestData.vector;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.backend.ConvCases;
import org.gpulrp.backend.ConvGeometry;
import org.gpulrp.backend.PoolGeometry;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every convolution, pooling and tensor primitive gives the same bits on OpenCL as on the CPU backends (scalar and
 * Vector API), over {@link ConvCases} with zeros, -0.0 and subnormal chains, null optional buffers, and outputs
 * padded with sentinels that no kernel may overwrite; the convolutions on every conv kernel variant (simple, vector,
 * tiled), each forced through the tuning keys, with the table's and with odd tuning values.
 */
class OpenClConvBitIdentityTest {

    /**
     * Conv kernel variants under test, each forced by the tuning keys, with the table's values and with odd ones
     * (pixel tiles, channel tiles and slice depths that divide nothing; odd work-groups); {@code conv.vec.min=1}
     * makes the vector kernels take every case, depthwise and single-channel ones included.
     */
    enum ConvConfig {
        SIMPLE(Map.of("conv.variant", "simple", "sample.local", "24"), (op, g) -> op),
        VECTOR(Map.of("conv.variant", "vector", "conv.vec.min", "1"), (op, g) -> op + "_vec"),
        VECTOR_ODD(Map.of("conv.variant", "vector", "conv.vec.min", "1", "conv.vec.pix", "3", "conv.vec.local", "3",
                "conv.vec.ocv", "3", "element.local", "7"), (op, g) -> op + "_vec"),
        VECTOR_NARROW(Map.of("conv.variant", "vector", "conv.vec.min", "1", "conv.vec.pix", "1", "conv.vec.ocv", "1"),
                (op, g) -> op + "_vec"),
        /** No case has enough channels for lanes: backprojections with unit column stride take pixel lanes. */
        PIXELS(Map.of("conv.variant", "vector", "conv.vec.min", "100000"), ConvConfig::pixelLanes),
        PIXELS_ODD(Map.of("conv.variant", "vector", "conv.vec.min", "100000", "conv.vec.pix", "3",
                "conv.vec.local", "5"), ConvConfig::pixelLanes),
        TILED(Map.of("conv.variant", "tiled"), (op, g) -> op + "_tiled"),
        TILED_ODD(Map.of("conv.variant", "tiled", "conv.tile.p", "7", "conv.tile.c", "3", "conv.tile.k", "5"),
                (op, g) -> op + "_tiled");

        final Map<String, String> tuning;
        /** The kernel primitive op must run for a geometry with this config. */
        final BiFunction<String, ConvGeometry, String> kernel;

        ConvConfig(Map<String, String> tuning, BiFunction<String, ConvGeometry, String> kernel) {
            this.tuning = tuning;
            this.kernel = kernel;
        }

        private static String pixelLanes(String op, ConvGeometry g) {
            return op.startsWith("conv_back") && g.strideW() == 1 ? op + "_px" : op;
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
    private static void checkConv(String what, String op, ConvGeometry g, float[][] in, int[] outLengths,
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
        ConvGeometry narrow = new ConvGeometry(1, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        OpenClBackend.Variant v = cl.tuning().convVariant();
        if (cl.device().type().equals("CPU")) {
            assertEquals(OpenClBackend.Variant.VECTOR, v, cl.tuning().summary());
            assertEquals("conv_back_vec", cl.convKernel("conv_back", wide));
            // One input channel fills 1 of 16 channel lanes: that backprojection takes pixel lanes instead.
            assertEquals("conv_back_px", cl.convKernel("conv_back", narrow));
            assertEquals("conv_fwd_vec", cl.convKernel("conv_fwd", narrow));
        }
        assertTrue(cl.tuning().summary().contains("conv " + v.name().toLowerCase(java.util.Locale.ROOT)),
                cl.tuning().summary());
        assertThrows(InvalidArgumentException.class, () -> cl.convKernel("conv_sideways", wide));
    }

    @Test
    void convForward() {
        Random r = new Random(21);
        for (ConvCases.Conv c : ConvCases.conv()) {
            ConvGeometry g = c.g();
            int rows = c.rows();
            int n = rows * g.outSize();
            float[][] ins = {matrix(r, rows, g.inSize()), matrix(r, g.outChannels(), g.weightSize() / g.outChannels()),
                matrix(r, g.outChannels(), g.weightSize() / g.outChannels()), vector(r, g.outChannels()),
                vector(r, g.outChannels()), vector(r, g.inSize()), vector(r, g.inSize())};
            for (boolean bias : new boolean[] {true, false}) {
                checkConv("conv " + c + " bias=" + bias, "conv_fwd", g, ins, new int[] {n},
                        (be, i, o) -> be.conv(i[0], i[1], bias ? i[3] : null, o[0], rows, g));
            }
            checkConv("convSigned " + c, "conv_signed", g, ins, new int[] {n, n},
                    (be, i, o) -> be.convSigned(i[0], i[1], i[2], i[3], i[4], o[0], o[1], rows, g));
            checkConv("convSigned " + c + " outN=null, no biases", "conv_signed", g, ins, new int[] {n, -1},
                    (be, i, o) -> be.convSigned(i[0], i[1], i[2], null, null, o[0], null, rows, g));
            checkConv("convSigned " + c + " biasP only", "conv_signed", g, ins, new int[] {n, n},
                    (be, i, o) -> be.convSigned(i[0], i[1], i[2], i[3], null, o[0], o[1], rows, g));
            checkConv("convZBox " + c, "conv_zbox", g, ins, new int[] {n},
                    (be, i, o) -> be.convZBox(i[0], i[1], i[5], i[6], o[0], rows, g));
        }
    }

    @Test
    void convBackward() {
        Random r = new Random(22);
        for (ConvCases.Conv c : ConvCases.conv()) {
            ConvGeometry g = c.g();
            int rows = c.rows();
            int n = rows * g.inSize();
            int wr = g.outChannels();
            int wc = g.weightSize() / wr;
            float[][] ins = {matrix(r, rows, g.outSize()), matrix(r, rows, g.outSize()), matrix(r, wr, wc),
                matrix(r, wr, wc), matrix(r, wr, wc), matrix(r, rows, g.inSize()), vector(r, g.inSize()),
                vector(r, g.inSize())};
            for (boolean mulX : new boolean[] {true, false}) {
                checkConv("convBackproject " + c + " x=" + mulX, "conv_back", g, ins, new int[] {n},
                        (be, i, o) -> be.convBackproject(i[0], i[2], mulX ? i[5] : null, o[0], rows, g));
            }
            for (boolean both : new boolean[] {true, false}) {
                checkConv("convBackprojectSigned " + c + " hn=" + both, "conv_back_signed", g, ins, new int[] {n},
                        (be, i, o) -> be.convBackprojectSigned(i[0], both ? i[1] : null, i[3], i[4], i[5], o[0], rows,
                                g));
            }
            checkConv("convBackprojectZBox " + c, "conv_back_zbox", g, ins, new int[] {n},
                    (be, i, o) -> be.convBackprojectZBox(i[0], i[2], i[3], i[4], i[5], i[6], i[7], o[0], rows, g));
        }
    }

    @Test
    void maxPoolAndRoute() {
        Random r = new Random(23);
        for (ConvCases.Pool c : ConvCases.pool()) {
            PoolGeometry p = c.p();
            int rows = c.rows();
            int out = rows * p.outSize();
            float[] x = matrix(r, rows, p.inSize());
            // Quantized values make ties common, so the first-maximum rule is exercised.
            for (int k = 0; k < x.length; k += 2) {
                x[k] = Math.round(x[k]);
            }
            float[][] pooled = check("maxPool " + c, new float[][] {x}, new int[] {out, out},
                    (be, i, o) -> be.maxPool(i[0], o[0], o[1], rows, p));
            float[] arg = java.util.Arrays.copyOf(pooled[1], out);
            float[][] ins = {matrix(r, rows, p.outSize()), arg};
            check("maxPoolRoute " + c, ins, new int[] {rows * p.inSize()},
                    (be, i, o) -> be.maxPoolRoute(i[0], i[1], o[0], rows, p));
        }
    }

    @Test
    void tensorHelpers() {
        Random r = new Random(24);
        for (int n : new int[] {0, 1, 15, 16, 17, 257, 1000}) {
            float[][] ins = {vector(r, n), vector(r, n)};
            check("add n=" + n, ins, new int[] {n}, (be, i, o) -> be.add(i[0], i[1], o[0], n));
            check("mul n=" + n, ins, new int[] {n}, (be, i, o) -> be.mul(i[0], i[1], o[0], n));
        }
        // {rows, srcWidth, srcOffset, dstWidth, dstOffset, width}
        int[][] copies = {{1, 5, 0, 5, 0, 5}, {3, 7, 2, 10, 3, 4}, {5, 16, 15, 33, 0, 1}, {4, 20, 3, 17, 17, 0},
            {2, 300, 1, 600, 299, 299}};
        for (int[] s : copies) {
            int rows = s[0];
            float[][] ins = {matrix(r, rows, s[1])};
            check("copyRows " + java.util.Arrays.toString(s), ins, new int[] {rows * s[3]},
                    (be, i, o) -> be.copyRows(i[0], s[1], s[2], o[0], s[3], s[4], s[5], rows));
        }
    }
}
