package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import org.gpulrp.model.ConvGeometry;

/**
 * The weight layouts of {@link ChannelConv}, where a tap's channels are contiguous so that one vector load reads L
 * of them: the forward layout ({@code [group][tap][output channel]}), the backprojection layout
 * ({@code [group][output channel, kernel row, kernel column][input channel]}), and their K-blocked forms in blocks of
 * four vectors. Each is read from the weights' prepared layouts, or made once for the call where the buffer was not
 * prepared ({@link ConvWeights}).
 */
final class ChannelLayouts {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    private ChannelLayouts() {
    }

    /** The forward layout of {@code w}. */
    static float[] forwardLayout(ConvWeights w, ConvGeometry g) {
        return w.layout(java.util.List.of("channel-forward", g), () -> packForward(w.data, g));
    }

    /** The backprojection layout of {@code w}. */
    static float[] backwardLayout(ConvWeights w, ConvGeometry g) {
        return w.layout(java.util.List.of("channel-backward", g), () -> packBackward(w.data, g));
    }

    /**
     * The K-blocked kernels' forward layout: {@code [group][block of 4L output channels][tap][4L]}, each block's taps
     * contiguous (the plain layout strides a block's taps by all the group's channels: 2 KiB apart at 512 channels,
     * which the prefetcher and the TLB followed poorly). Whole blocks only.
     */
    static float[] forwardLayout4(ConvWeights w, ConvGeometry g) {
        return w.layout(java.util.List.of("channel-forward-4", g), () -> blocks4(forwardLayout(w, g),
                g.groups(), g.inChannels() / g.groups() * g.kernelH() * g.kernelW(), g.outChannels() / g.groups()));
    }

    /** As {@link #forwardLayout4} for the backprojection: {@code [group][block of 4L input channels][tap][4L]}. */
    static float[] backwardLayout4(ConvWeights w, ConvGeometry g) {
        return w.layout(java.util.List.of("channel-backward-4", g), () -> blocks4(backwardLayout(w, g),
                g.groups(), g.outChannels() / g.groups() * g.kernelH() * g.kernelW(), g.inChannels() / g.groups()));
    }

    /** {@code p[group][tap][channels]} to {@code [group][channels / 4L][tap][4L]} (whole blocks). */
    private static float[] blocks4(float[] p, int groups, int taps, int channels) {
        int nb = channels / (4 * L);
        float[] r = new float[groups * nb * taps * 4 * L];
        for (int grp = 0; grp < groups; grp++) {
            for (int blk = 0; blk < nb; blk++) {
                for (int t = 0; t < taps; t++) {
                    System.arraycopy(p, (grp * taps + t) * channels + blk * 4 * L, r,
                            ((grp * nb + blk) * taps + t) * 4 * L, 4 * L);
                }
            }
        }
        return r;
    }

    /**
     * The offset to add to a {@link ChannelTaps.RowTables#w4} entry of group {@code grp} to address channel block
     * {@code c0} (a multiple of 4L) in a {@link #blocks4} layout.
     */
    static int block4Base(int grp, int c0, int taps, int channels) {
        int nb = channels / (4 * L);
        return (grp * (nb - 1) + c0 / (4 * L)) * taps * 4 * L;
    }

    /** w[oc, cl, kh, kw] to wp[group][tap = (cl, kh, kw)][ocl]: the forward layout. */
    private static float[] packForward(float[] w, ConvGeometry g) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int taps = cg * g.kernelH() * g.kernelW();
        float[] p = new float[w.length];
        for (int oc = 0; oc < g.outChannels(); oc++) {
            int grp = oc / og;
            int ocl = oc % og;
            for (int t = 0; t < taps; t++) {
                p[(grp * taps + t) * og + ocl] = w[oc * taps + t];
            }
        }
        return p;
    }

    /** w[oc, cl, kh, kw] to wb[group][(ocl, kh, kw)][cl]: the backprojection layout. */
    private static float[] packBackward(float[] w, ConvGeometry g) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int k2 = g.kernelH() * g.kernelW();
        float[] p = new float[w.length];
        for (int oc = 0; oc < g.outChannels(); oc++) {
            int grp = oc / og;
            int ocl = oc % og;
            for (int cl = 0; cl < cg; cl++) {
                for (int k = 0; k < k2; k++) {
                    p[((grp * og + ocl) * k2 + k) * cg + cl] = w[(oc * cg + cl) * k2 + k];
                }
            }
        }
        return p;
    }
}
