package org.gpulrp.backend;

import java.util.List;
import org.gpulrp.InvalidArgumentException;

/**
 * A narrow chain of dense layers (ReLUs between them) explained with the epsilon rule, prepared on a backend that
 * runs each pass over a row as one kernel ({@link Backend#denseChain}): a row's values stay in registers from the
 * input to the top and back, where the per-layer primitives send every layer's values through memory. Its results
 * are the per-layer primitives' bits: forward, layer by layer, {@link Backend#linear} and then {@link Backend#relu}
 * where one follows; relevance pass, from the top down, {@link Backend#normalize} against the layer's own output and
 * {@link Backend#backproject} onto its input (a ReLU passes relevance unchanged). docs/DESIGN.md section 4.4.
 * Closing releases what the backend made for it; idempotent.
 */
public interface DenseChain extends AutoCloseable {
    /** The most features of any layer's input or output. */
    int MAX_WIDTH = 64;
    /** The most output values of all layers together, per row. */
    int MAX_VALUES = 256;

    /** {@code zTop} [rows, the top layer's out] = the top layer's output for the input {@code x} [rows, in_0]. */
    void forward(Buffer x, Buffer zTop, int rows);

    /**
     * {@code rIn} [rows, in_0] = the relevance at the input of {@code x} [rows, in_0], from {@code rTop} [rows, the
     * top layer's out] at the top layer's output (its forward values computed again, the same bits).
     */
    void backward(Buffer x, Buffer rTop, Buffer rIn, int rows);

    @Override
    void close();

    /**
     * One layer: {@code weight} [out, in] (PyTorch's layout), {@code bias} [out] (added after each chain, as
     * {@link Backend#linear} does), the epsilon rule's stabilizer, and whether a ReLU follows.
     */
    record Layer(int in, int out, float[] weight, float[] bias, float eps, boolean reluAfter) {
        public Layer {
            InvalidArgumentException.check(in > 0 && out > 0, "layer", "needs in, out > 0, got " + in + ", " + out);
            InvalidArgumentException.check(weight != null && weight.length == (long) in * out, "weight",
                    "must hold " + in + " x " + out + " values");
            InvalidArgumentException.check(bias != null && bias.length == out, "bias", "must hold " + out + " values");
            InvalidArgumentException.check(eps >= 0 && Float.isFinite(eps), "eps", "must be finite and >= 0");
        }

        /** This layer with a ReLU after it or not. */
        public Layer withRelu(boolean relu) {
            return new Layer(in, out, weight, bias, eps, relu);
        }
    }

    /** Whether {@code layers} (input to top, each one's in the previous one's out) fit the fused kernels. */
    static boolean fits(List<Layer> layers) {
        if (layers.isEmpty() || layers.get(0).in() > MAX_WIDTH) {
            return false;
        }
        int values = 0;
        for (int l = 0; l < layers.size(); l++) {
            Layer y = layers.get(l);
            if (y.out() > MAX_WIDTH || l > 0 && y.in() != layers.get(l - 1).out()) {
                return false;
            }
            values += y.out();
        }
        return values <= MAX_VALUES;
    }
}
