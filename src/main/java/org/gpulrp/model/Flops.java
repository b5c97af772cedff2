package org.gpulrp.model;

/**
 * The effective work of one explained sample, the one count that {@code gpulrp bench} and the JMH suite report
 * GFLOP/s with: 2 flops per multiply-add of each dense and convolution layer, counted twice (the forward pass and
 * the relevance backprojection), whatever extra passes the rules need; normalization, pooling and activations are
 * O(N) and left out.
 */
public final class Flops {
    private Flops() {
    }

    /** Effective flops of one sample of {@code net}. */
    public static double perSample(Network net) {
        double f = 0;
        for (Node n : net.nodes()) {
            if (n.layer() instanceof Dense d) {
                f += 4.0 * d.in() * d.out();
            } else if (n.layer() instanceof Conv2d c) {
                var g = c.geometry();
                f += 4.0 * g.outSize() * (g.inChannels() / g.groups()) * g.kernelH() * g.kernelW();
            }
        }
        return f;
    }
}
