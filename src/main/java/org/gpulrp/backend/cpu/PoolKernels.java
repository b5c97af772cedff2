package org.gpulrp.backend.cpu;

import org.gpulrp.model.PoolGeometry;

/**
 * Max pooling and its relevance routing over batch rows {@code [r0, r1)}: comparisons and adds in a fixed order, in
 * plain loops (the Vector API path gathers 2x2 windows instead where it can: {@link VectorPool}).
 */
final class PoolKernels {

    private PoolKernels() {
    }

    /**
     * {@code y} = the window maximum in scan order (kernel row, then column), the first one on ties (only a strictly
     * greater value replaces it); {@code arg} = its flat index within the sample, as a float. Padding is skipped.
     */
    static void maxPool(float[] x, float[] y, float[] arg, int r0, int r1, PoolGeometry p) {
        int h = p.inH();
        int w = p.inW();
        int oh = p.outH();
        int ow = p.outW();
        if (p.kernelH() == 2 && p.kernelW() == 2 && p.windowsInside()) {
            maxPool2x2(x, y, arg, r0, r1, p);
            return;
        }
        for (int b = r0; b < r1; b++) {
            int xb = b * p.inSize();
            int o = b * p.outSize();
            for (int c = 0; c < p.channels(); c++) {
                for (int yy = 0; yy < oh; yy++) {
                    for (int q = 0; q < ow; q++, o++) {
                        int best = -1;
                        float m = 0f;
                        for (int i = 0; i < p.kernelH(); i++) {
                            int ih = yy * p.strideH() - p.padH() + i;
                            if (ih < 0 || ih >= h) {
                                continue;
                            }
                            for (int j = 0; j < p.kernelW(); j++) {
                                int iw = q * p.strideW() - p.padW() + j;
                                if (iw < 0 || iw >= w) {
                                    continue;
                                }
                                int e = (c * h + ih) * w + iw;
                                float v = x[xb + e];
                                if (best < 0 || v > m) {
                                    best = e;
                                    m = v;
                                }
                            }
                        }
                        y[o] = m;
                        arg[o] = best;
                    }
                }
            }
        }
    }

    /**
     * {@link #maxPool} for 2x2 windows without padding (every window inside the input), straight-line: the scan
     * order a, b (top row), c, d (bottom row), a later value taking over only when strictly greater. The index is
     * chosen by integer selects and the value re-read from it, so no branch depends on the data (on real data each
     * comparison is a coin toss, and mispredicted branches made this the slowest primitive of a small CNN).
     */
    private static void maxPool2x2(float[] x, float[] y, float[] arg, int r0, int r1, PoolGeometry p) {
        int h = p.inH();
        int w = p.inW();
        int oh = p.outH();
        int ow = p.outW();
        int sh = p.strideH();
        int sw = p.strideW();
        for (int b = r0; b < r1; b++) {
            int xb = b * p.inSize();
            int o = b * p.outSize();
            for (int c = 0; c < p.channels(); c++) {
                for (int yy = 0; yy < oh; yy++) {
                    int row = (c * h + yy * sh) * w;
                    for (int q = 0; q < ow; q++, o++) {
                        int best = best2x2(x, xb, row + q * sw, w);
                        y[o] = x[xb + best];
                        arg[o] = best;
                    }
                }
            }
        }
    }

    /**
     * The index (within the sample at {@code xb}) of the maximum of the 2x2 window whose top left is {@code e}, rows
     * {@code w} apart, in {@link #maxPool2x2}'s scan order: integer selects on re-read values, no data-dependent
     * branch.
     */
    static int best2x2(float[] x, int xb, int e, int w) {
        int best = e;
        best = x[xb + e + 1] > x[xb + best] ? e + 1 : best;
        best = x[xb + e + w] > x[xb + best] ? e + w : best;
        return x[xb + e + w + 1] > x[xb + best] ? e + w + 1 : best;
    }

    /**
     * {@code rIn[b,i]} = the chain of plain adds from {@code +0.0f} of {@code r[b,o]} over the outputs o, ascending,
     * whose {@code arg[b,o]} is i; {@code arg} must be what {@link #maxPool} wrote for the same geometry.
     */
    static void maxPoolRoute(float[] r, float[] arg, float[] rIn, int r0, int r1, PoolGeometry p) {
        int in = p.inSize();
        int out = p.outSize();
        java.util.Arrays.fill(rIn, r0 * in, r1 * in, 0f);
        for (int b = r0; b < r1; b++) {
            for (int o = b * out; o < (b + 1) * out; o++) {
                float a = arg[o];
                if (!(a >= 0 && a < in)) {
                    throw new org.gpulrp.InvalidArgumentException("arg", "holds " + a + " at output " + o
                            + ", not an index within a sample of " + in + " values; pass the arg buffer maxPool "
                            + "filled with the same geometry");
                }
                int i = b * in + (int) a;
                rIn[i] = rIn[i] + r[o];
            }
        }
    }
}
