package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.model.ConvGeometry;

/**
 * Convolution kernels with the vector lanes over channels: the forward map keeps L output channels of one output
 * pixel per accumulator, the backprojection L input channels of one input pixel, four pixels at a time. The weights
 * are read in packed layouts where a tap's L channels are contiguous, prepared once with the weight buffer or made
 * for the call ({@link ConvWeights}). Every output is still one fma chain in the contract's order, (input channel,
 * kernel row, kernel column) forward and (output channel, kernel row, kernel column) backward, with taps in the
 * padding skipped. Used where a group's channel count is a multiple of L.
 *
 * <p>This class says when the family applies, is its entry, and holds the blocking both directions share. The rest
 * has one room each: {@link ChannelForward} (the forward map), {@link ChannelBackward} (the backprojection),
 * {@link ChannelKernels} (the micro-kernels both run), {@link ChannelTaps} (the tap tables) and
 * {@link ChannelLayouts} (the packed weight layouts).
 */
final class ChannelConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private ChannelConv() {
    }

    /** Whether the forward kernels apply: each group's output channels fill whole vectors. */
    static boolean forward(ConvGeometry g) {
        return (g.outChannels() / g.groups()) % L == 0;
    }

    /** Whether the backprojection kernels apply: each group's input channels fill whole vectors. */
    static boolean backward(ConvGeometry g) {
        return (g.inChannels() / g.groups()) % L == 0;
    }

    /**
     * Forward: {@code out = chain + bias}; with {@code v} given, the sign-split pair ({@code outP} from u where x > 0
     * else v, {@code outN} the other way), else the plain map with {@code u} as the weight.
     */
    static void forward(boolean wide, float[] x, ConvWeights u, ConvWeights v, float[] biasP, float[] biasN,
                        float[] outP, float[] outN, int r0, int r1, ConvGeometry g) {
        new ChannelForward(wide, x, u, v, biasP, biasN, outP, outN, g).samples(r0, r1);
    }

    /**
     * Backprojection: the plain map ({@code v == null}: {@code c = chain(u, hp)}, {@code r = x == null ? c : x c})
     * or the sign-split one ({@code c1 = u hp [+ v hn]}, {@code c2 = v hp [+ u hn]}, {@code r = x (x > 0 ? c1 : c2)}).
     */
    static void backward(boolean wide, float[] hp, float[] hn, ConvWeights u, ConvWeights v, float[] x, float[] r,
                         int r0, int r1, ConvGeometry g) {
        new ChannelBackward(wide, hp, hn, u, v, x, r, g).samples(r0, r1);
    }

    /**
     * Channels per block of the plain maps, {@code left} channels of the group left: four vectors where a four-pixel
     * tile's 16 accumulators fit the registers ({@code wide}: 32 vector registers) or where the layer's tables are
     * long enough to run K-blocked ({@code blocked}; with 16 registers the block then runs as two two-vector halves,
     * {@link ChannelKernels#block4}), else two, else one.
     */
    static int plainWidth(int left, boolean wide, boolean blocked) {
        if ((wide || blocked) && left >= 4 * L) {
            return 4 * L;
        }
        return left >= 2 * L ? 2 * L : L;
    }

    /**
     * Taps per block of the K-blocked four-vector kernels: a block's weight panel ({@code KC} taps x 4 vectors,
     * 128 KiB) stays in L2 while every tile of a block of rows runs through it. Chains are split at the same table
     * index for every tile and continued from the stored accumulators, so the bits do not change.
     */
    static final int KC = 512;

    /**
     * Rows per block of the K-blocked kernels: about 128 pixels, so the block's accumulators stay in cache, and a
     * multiple of four, so single columns can run as vertical tiles.
     */
    static int blockRows(int width) {
        return Math.max(4, 128 / width / 4 * 4);
    }

    /** Samples per chunk: as many as keep about 256 KiB of one sample's {@code perRow} floats each in cache. */
    static int chunkRows(int perRow) {
        return Math.max(1, (1 << 16) / Math.max(1, perRow));
    }
}
