package org.gpulrp.backend;

import org.gpulrp.model.ConvGeometry;

/**
 * The stride grid of a 1x1 convolution with a stride above 1 and no padding (a ResNet's downsampling shortcuts): such
 * a layer reads only the input pixels on that grid, one per input channel, so it is the stride-1 1x1 layer of those
 * pixels, and its backprojection is that layer's backprojection on the grid with every input off it an empty chain
 * ({@code x * +0}). Both backends run such layers that way where their stride-1 products are faster (the CPU path's
 * {@code Subsampled}, OpenCL's {@code conv_grid_gather} and {@code conv_grid_scatter}); the chains and their order
 * are the layer's own, so the bits are too.
 */
public final class StrideGrid {
    private StrideGrid() {
    }

    /** The stride-1 geometry on g's grid, or null where g is not a 1x1 layer with a stride above 1 and no padding. */
    public static ConvGeometry of(ConvGeometry g) {
        if (g.kernelH() != 1 || g.kernelW() != 1 || g.padH() != 0 || g.padW() != 0
                || g.strideH() == 1 && g.strideW() == 1) {
            return null;
        }
        return new ConvGeometry(g.inChannels(), g.outH(), g.outW(), g.outChannels(), 1, 1, 1, 1, 0, 0, 1, 1,
                g.groups());
    }
}
