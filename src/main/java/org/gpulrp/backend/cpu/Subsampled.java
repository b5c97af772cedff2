package org.gpulrp.backend.cpu;

import org.gpulrp.backend.StrideGrid;
import org.gpulrp.model.ConvGeometry;

/**
 * The CPU path's side of {@link StrideGrid}: a 1x1 convolution with a stride above 1 and no padding (a ResNet's
 * downsampling shortcuts) reads only the input pixels on its stride grid, so its forward chains are the stride-1
 * layer's over the gathered grid, and its backprojection's are that layer's backprojection's on the grid, while every
 * input off the grid has no tap (its chain is +0, so {@code r = x * +0}, as the scalar kernels give it;
 * docs/DESIGN.md section 3, rule 1). The stride-1 layer runs on the dense tile ({@link ConvGemm}),
 * where the strided one had only the channel-lane kernels (ResNet-50's 256 -> 512 shortcut, 8 images: 1.2-1.4x faster
 * forward, 3.3x backward). Same chains, same order, so the same bits.
 */
final class Subsampled {
    private Subsampled() {
    }

    /** Samples {@code [r0, r1)}: the grid's pixels of x ({@code g}'s input) into {@code xs} (the grid's input). */
    static void gather(float[] x, float[] xs, int r0, int r1, ConvGeometry g) {
        int oh = g.outH();
        int ow = g.outW();
        int sh = g.strideH();
        int sw = g.strideW();
        int hw = g.inH() * g.inW();
        for (int b = r0; b < r1; b++) {
            for (int c = 0; c < g.inChannels(); c++) {
                int s = (b * g.inChannels() + c) * hw;
                int d = (b * g.inChannels() + c) * oh * ow;
                for (int y = 0; y < oh; y++, d += ow) {
                    int sy = s + y * sh * g.inW();
                    for (int q = 0; q < ow; q++) {
                        xs[d + q] = x[sy + q * sw];
                    }
                }
            }
        }
    }

    /**
     * Samples {@code [r0, r1)}: the backprojection of g from the grid's chains {@code cs}: {@code r = x * c} on the
     * grid, {@code x * +0} off it ({@code c} and {@code +0} where x is null).
     */
    static void scatter(float[] cs, float[] x, float[] r, int r0, int r1, ConvGeometry g) {
        int oh = g.outH();
        int ow = g.outW();
        int sh = g.strideH();
        int sw = g.strideW();
        int wi = g.inW();
        int hw = g.inH() * wi;
        for (int b = r0; b < r1; b++) {
            for (int c = 0; c < g.inChannels(); c++) {
                int o = (b * g.inChannels() + c) * hw;
                int s = (b * g.inChannels() + c) * oh * ow;
                for (int i = o; i < o + hw; i++) {
                    r[i] = x == null ? 0f : x[i] * 0f;
                }
                for (int y = 0; y < oh; y++, s += ow) {
                    int oy = o + y * sh * wi;
                    for (int q = 0; q < ow; q++) {
                        int i = oy + q * sw;
                        r[i] = x == null ? cs[s + q] : x[i] * cs[s + q];
                    }
                }
            }
        }
    }
}
