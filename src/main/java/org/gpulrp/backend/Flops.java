package org.gpulrp.backend;

import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Dense;
import org.gpulrp.model.MatMul;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;

/**
 * The effective work of one explained sample, the one count that {@code gpulrp bench} and the JMH suite report
 * GFLOP/s with: the op table's count ({@link Op#flops}, 2 flops per multiply-add) of each dense and convolution
 * layer's plain forward map and plain backprojection (a token-wise dense layer once per position), whatever extra
 * passes the rules need, and for each product of two activations ({@link MatMul}, on the host) its forward
 * {@code 2 batch m k n} and the two backprojections onto its operands, {@code 4 batch m k n}; normalization,
 * pooling and activations are O(N) and left out.
 */
public final class Flops {
    private Flops() {
    }

    /** Effective flops of one sample of {@code net}. */
    public static double perSample(Network net) {
        double f = 0;
        for (Node n : net.nodes()) {
            if (n.layer() instanceof Dense d) {
                f += Op.LINEAR.flops(d.positions(), d.in(), d.out())
                        + Op.BACKPROJECT.flops(d.positions(), d.in(), d.out());
            } else if (n.layer() instanceof MatMul m) {
                f += 6.0 * m.batch() * m.m() * m.k() * m.n();
            } else if (n.layer() instanceof Conv2d c) {
                f += Op.CONV.flops(1, c.geometry()) + Op.CONV_BACKPROJECT.flops(1, c.geometry());
            }
        }
        return f;
    }
}
