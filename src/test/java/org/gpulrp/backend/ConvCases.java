package org.gpulrp.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.PoolGeometry;

/**
 * The convolution and pooling shapes every conv test runs: strides 1-3, padding 0-3, dilation 1-3, groups 1, 2,
 * depthwise and channel multipliers, kernels 1x1 to 7x7 and non-square, odd sizes, channels around a vector width
 * (1, 3, 15, 16, 17), rows that leave vector interiors of several widths and none, patch convolutions (kernel =
 * stride), batches 1-5.
 */
public final class ConvCases {

    /** {C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, rows}. */
    private static final int[][] CONV = {
        {1, 5, 7, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1},
        {3, 9, 35, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
        {16, 7, 19, 17, 3, 3, 1, 1, 0, 0, 1, 1, 1, 3},
        {17, 11, 37, 15, 5, 5, 1, 1, 2, 2, 1, 1, 1, 2},
        {15, 8, 33, 15, 3, 3, 2, 2, 1, 1, 1, 1, 1, 4},
        {16, 13, 40, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1, 2},
        {16, 9, 34, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, 5},
        {3, 8, 20, 6, 3, 3, 1, 1, 1, 1, 1, 1, 3, 2},
        {4, 10, 36, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 3},
        {3, 12, 21, 8, 2, 3, 1, 1, 0, 1, 1, 1, 1, 2},
        {6, 9, 45, 4, 1, 5, 1, 2, 0, 2, 1, 1, 2, 1},
        {5, 17, 18, 7, 3, 1, 2, 1, 1, 0, 2, 1, 1, 3},
        {3, 14, 23, 16, 7, 7, 2, 2, 3, 3, 1, 1, 1, 2},
        {17, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 5},
        {8, 6, 20, 8, 1, 1, 2, 2, 0, 0, 1, 1, 1, 2},
        {2, 4, 33, 2, 4, 4, 3, 1, 2, 2, 1, 3, 2, 2},
        {1, 3, 3, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1, 1},
        {1, 6, 50, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        // Rows of one and two column vectors (the padded backprojection runs four and two samples side by side),
        // batches that leave a partial group: the 1x28x28 CNN's first layer among them.
        {1, 6, 16, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 6},
        {1, 7, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3},
        // Whole vectors of channels per group (the channel-lane kernels), strided, grouped and dilated.
        {16, 9, 11, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 2},
        {32, 6, 9, 32, 3, 3, 1, 2, 1, 1, 1, 1, 2, 2},
        {16, 7, 8, 16, 3, 2, 3, 2, 2, 1, 2, 1, 1, 3},
        // Two channel vectors per tile (plain maps), one vector left over, grouped and dilated.
        {32, 7, 12, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
        {48, 5, 9, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        {64, 6, 11, 64, 3, 3, 1, 1, 2, 2, 2, 2, 2, 1},
        {64, 5, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        // Few input channels, stride 1, wide rows (the column-lane backprojection), dilated and grouped.
        {3, 9, 40, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1, 2},
        {2, 5, 37, 4, 3, 5, 1, 1, 1, 2, 1, 1, 2, 3},
        // Kernel larger than the input (padding makes room); several 16-channel blocks with tails, interior pixel
        // tiles and borders; grouped 17 -> 20 channels per group, strided and dilated (the OpenCL lane kernels).
        {4, 3, 4, 20, 5, 5, 1, 1, 2, 2, 1, 1, 1, 2},
        {36, 10, 30, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
        {34, 7, 12, 40, 3, 3, 2, 1, 1, 1, 1, 2, 2, 2},
        // More than 512 taps with four channel vectors (the K-blocked CPU kernels): chains split into two or three
        // blocks, border rows with shorter tables, an interior run that is not a multiple of four (overlapping last
        // tile), strided and dilated.
        {64, 7, 13, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
        {128, 5, 9, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        {80, 6, 10, 64, 3, 3, 2, 1, 1, 1, 1, 2, 1, 1},
        {64, 9, 14, 64, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1},
        // Planes that keep their size (the CPU's products, ConvGemm), small enough that a strip of pixels spans both
        // samples and a vector's load reaches past the last sample's plane.
        {32, 3, 6, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
        // ... a 3x5 kernel with its own padding per side, and a 1x1 layer (the products forward only: 32 taps back).
        {32, 6, 20, 24, 3, 5, 1, 1, 1, 2, 1, 1, 1, 2},
        {64, 5, 13, 32, 1, 1, 1, 1, 0, 0, 1, 1, 1, 2},
        // ... and a 7x7 kernel: more taps than OpenCL's products take (32), so they leave it to the channel lanes.
        {16, 9, 20, 16, 7, 7, 1, 1, 3, 3, 1, 1, 1, 2},
        // Few input channels, rows of four and more interior column vectors (the four-vector column-lane kernel).
        {3, 5, 100, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
        {2, 4, 90, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1},
        // Patch convolutions (kernel = stride, no padding: a ViT's patch embedding, the CPU's PatchConv): kernel
        // columns a divisor of the vector width, not one (period 48 at 16 lanes), rows and columns no patch
        // covers, grouped, and a 224 x 224 image in 16 x 16 patches.
        {3, 32, 32, 16, 8, 8, 8, 8, 0, 0, 1, 1, 1, 2},
        {2, 13, 40, 5, 6, 6, 6, 6, 0, 0, 1, 1, 1, 2},
        {3, 35, 37, 16, 8, 8, 8, 8, 0, 0, 1, 1, 1, 1},
        {4, 8, 36, 6, 4, 4, 4, 4, 0, 0, 1, 1, 2, 2},
        {3, 224, 224, 16, 16, 16, 16, 16, 0, 0, 1, 1, 1, 1},
        // Strided backprojections onto few channels (the CPU's StridedConv: a phase's columns in lanes): a ResNet's
        // 7x7 stride-2 first layer on a 224-column row (112-column phases, four-vector blocks and an overlapping
        // last block) and on 70 columns, stride 3 with phases of different interiors, stride only along the rows,
        // dilated and grouped, a stride larger than the kernel (a phase no tap reaches), and a phase interior of
        // one vector and a bit.
        {3, 6, 224, 8, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1},
        {3, 9, 70, 16, 7, 7, 2, 2, 3, 3, 1, 1, 1, 2},
        {1, 9, 100, 5, 5, 5, 3, 3, 2, 2, 1, 1, 1, 2},
        {3, 9, 60, 4, 3, 3, 2, 1, 1, 1, 1, 1, 1, 2},
        {4, 6, 80, 6, 3, 3, 2, 2, 1, 1, 2, 2, 2, 1},
        {1, 6, 96, 2, 2, 2, 3, 3, 0, 0, 1, 1, 1, 2},
        {2, 5, 38, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3},
        // ... and kernel = stride along the rows only (a patch in rows, stride 1 along the columns: not a patch).
        {3, 8, 40, 4, 2, 1, 2, 1, 0, 0, 1, 1, 1, 2},
        // Strided backprojections onto whole channel vectors with long tap tables (the K-blocked channel lanes, four
        // same-phase columns a tile): a 3x3 stride-2 layer (ResNet's downsampling 3x3), a 1x1 stride-2 layer with two
        // tap blocks (its downsampling shortcut), stride 3 dilated.
        {64, 9, 20, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 2},
        {64, 6, 28, 528, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1},
        {64, 7, 25, 64, 3, 3, 3, 3, 1, 1, 2, 2, 1, 1},
    };

    /**
     * Strided 1x1 layers without padding, which both backends run on their stride grid ({@link StrideGrid}): strides
     * 2x2, 3x2 and 1x2, odd planes, two groups, a 4x4 grid. {C, H, W, OC, SH, SW, G, rows}.
     */
    private static final int[][] STRIDE_GRID = {
        {64, 56, 56, 128, 2, 2, 1, 2},
        {64, 13, 29, 80, 2, 2, 1, 3},
        {96, 15, 22, 64, 3, 2, 1, 2},
        {64, 9, 40, 64, 1, 2, 1, 1},
        {128, 14, 14, 96, 2, 2, 2, 2},
        {64, 8, 8, 32, 2, 2, 1, 5},
    };

    /** {C, H, W, KH, KW, SH, SW, PH, PW, rows}. */
    private static final int[][] POOL = {
        {1, 4, 4, 2, 2, 2, 2, 0, 0, 1},
        {3, 7, 9, 3, 3, 1, 1, 1, 1, 2},
        {16, 9, 11, 3, 3, 2, 2, 1, 1, 3},
        {17, 5, 13, 2, 3, 1, 2, 0, 1, 2},
        {15, 12, 12, 2, 2, 2, 2, 1, 1, 5},
        {2, 6, 7, 5, 4, 3, 1, 2, 2, 1},
        {1, 3, 3, 3, 3, 1, 1, 0, 0, 4},
        // 2x2 windows without padding (the straight-line CPU kernel): odd sizes, overlapping, strided apart.
        {3, 7, 9, 2, 2, 2, 2, 0, 0, 2},
        {4, 9, 7, 2, 2, 1, 1, 0, 0, 2},
        {2, 8, 11, 2, 2, 3, 2, 0, 0, 3},
        // Windows apart with padding and one-column windows (inputs in no window, between windows and at the ends).
        {2, 9, 10, 2, 1, 3, 2, 1, 0, 2},
        // ... and planes of whole vectors of outputs and a tail (the CPU path gathers them): 14 x 14 and 7 x 7 outputs
        {3, 28, 28, 2, 2, 2, 2, 0, 0, 2},
        {2, 14, 15, 2, 2, 2, 2, 0, 0, 3},
        // 2x2 windows that tile the input (OpenCL's lane kernels): one whole vector of 16 outputs and a tail, two
        // whole vectors, a ceil-mode pooling that adds no window.
        {3, 8, 40, 2, 2, 2, 2, 0, 0, 3},
        {2, 6, 64, 2, 2, 2, 2, 0, 0, 2},
        {2, 4, 34, 2, 2, 2, 2, 0, 0, 2, 1},
        // Ceil mode (an 11th entry 1): windows past the edge (GoogLeNet's 3x3 stride 2), the 2x2 window on odd
        // sizes (not the straight-line kernel then), and a last window PyTorch drops (it would start in the padding).
        {16, 13, 13, 3, 3, 2, 2, 0, 0, 2, 1},
        {3, 7, 9, 2, 2, 2, 2, 0, 0, 2, 1},
        {2, 5, 6, 2, 2, 2, 2, 1, 1, 3, 1},
    };

    private ConvCases() {
    }

    /** One convolution case. */
    public record Conv(ConvGeometry g, int rows) {
        @Override
        public String toString() {
            return g + " rows=" + rows;
        }
    }

    /** One pooling case. */
    public record Pool(PoolGeometry p, int rows) {
        @Override
        public String toString() {
            return p + " rows=" + rows;
        }
    }

    /**
     * A ZBox forward whose chains underflow to -0: inputs {@code -s 1e-20} and weights {@code s 1e-30} for the sign
     * {@code s}, products about -1e-50; sign 0 gives positive weights with every fifth exactly +0 (products -0, so the
     * chains stay -0, unless a tap outside the input were to add +0 * +0). Returns {x, w}.
     */
    public static float[][] underflowZBox(ConvGeometry g, int rows, float sign) {
        float s = sign == 0f ? 1f : sign;
        float[] x = new float[rows * g.inSize()];
        java.util.Arrays.fill(x, -s * 1e-20f);
        float[] w = new float[g.weightSize()];
        java.util.Arrays.fill(w, s * 1e-30f);
        for (int k = 0; sign == 0f && k < w.length; k += 5) {
            w[k] = 0f;
        }
        return new float[][] {x, w};
    }

    /**
     * Sets every kernel's first row of {@code w} to +inf and -inf, kernel by kernel: taps that some outputs skip (in
     * the padding, between strides), which must stay skipped.
     */
    public static void infiniteFirstRows(float[] w, ConvGeometry g) {
        int taps = g.kernelH() * g.kernelW();
        for (int k = 0; k < w.length; k += taps) {
            for (int j = 0; j < g.kernelW(); j++) {
                w[k + j] = k / taps % 2 == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** The stride-grid cases ({@link #STRIDE_GRID}). */
    public static List<Conv> strideGrid() {
        List<Conv> out = new ArrayList<>();
        for (int[] c : STRIDE_GRID) {
            out.add(new Conv(new ConvGeometry(c[0], c[1], c[2], c[3], 1, 1, c[4], c[5], 0, 0, 1, 1, c[6]), c[7]));
        }
        return out;
    }

    /**
     * A stride-grid case's data, {x, w, bias, g}: values in [-1, 1), every seventh input negative or -0, so that inputs
     * off the grid get -0 or +0 from {@code x * +0}.
     */
    public static float[][] strideGridData(Conv c) {
        ConvGeometry g = c.g();
        SplittableRandom r = new SplittableRandom(g.inChannels() * 131L + g.inH() * 7L + g.inW());
        float[] x = uniform(r, c.rows() * g.inSize());
        for (int i = 0; i < x.length; i += 7) {
            x[i] = i % 2 == 0 ? -0f : -Math.abs(x[i]);
        }
        return new float[][] {x, uniform(r, g.weightSize()), uniform(r, g.outChannels()),
            uniform(r, c.rows() * g.outSize())};
    }

    private static float[] uniform(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    /**
     * conv, convBackproject with x and convBackproject without x of case c on {@code be} with {@code data} as
     * {@link #strideGridData} makes it, the weights prepared for both maps or not; returns the three outputs.
     */
    public static float[][] plainMaps(Backend be, Conv c, float[][] data, boolean prepared) {
        ConvGeometry g = c.g();
        int rows = c.rows();
        Buffer wb = be.upload(data[1]);
        if (prepared) {
            be.prepareConv(Op.CONV, g, wb);
            be.prepareConv(Op.CONV_BACKPROJECT, g, wb);
        }
        float[][] out = {new float[rows * g.outSize()], new float[rows * g.inSize()], new float[rows * g.inSize()]};
        try (Buffer xb = be.upload(data[0]); Buffer bb = be.upload(data[2]); Buffer gb = be.upload(data[3]);
             Buffer zb = be.allocate(out[0].length); Buffer rb = be.allocate(out[1].length);
             Buffer cb = be.allocate(out[2].length)) {
            be.conv(xb, wb, bb, zb, rows, g);
            be.convBackproject(gb, wb, xb, rb, rows, g);
            be.convBackproject(gb, wb, null, cb, rows, g);
            be.read(zb, out[0], 0, out[0].length);
            be.read(rb, out[1], 0, out[1].length);
            be.read(cb, out[2], 0, out[2].length);
        } finally {
            wb.close();
        }
        return out;
    }

    /** Fails at the first of {@link #plainMaps}' outputs whose bits differ, naming the map, the case and the index. */
    public static void assertSamePlainMaps(float[][] expect, float[][] actual, String what) {
        String[] maps = {"conv", "convBackproject with x", "convBackproject without x"};
        for (int k = 0; k < maps.length; k++) {
            for (int i = 0; i < expect[k].length; i++) {
                if (Float.floatToRawIntBits(expect[k][i]) != Float.floatToRawIntBits(actual[k][i])) {
                    throw new AssertionError(maps[k] + " " + what + " at " + i + ": " + actual[k][i] + " instead of "
                            + expect[k][i]);
                }
            }
        }
    }

    public static List<Conv> conv() {
        List<Conv> out = new ArrayList<>();
        for (int[] c : CONV) {
            out.add(new Conv(new ConvGeometry(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11],
                    c[12]), c[13]));
        }
        return out;
    }

    public static List<Pool> pool() {
        List<Pool> out = new ArrayList<>();
        for (int[] c : POOL) {
            out.add(new Pool(new PoolGeometry(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8],
                    c.length > 10 && c[10] == 1), c[9]));
        }
        return out;
    }
}
