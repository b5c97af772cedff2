// Inference-time batch normalization over NCHW samples (PyTorch BatchNorm2d/1d in eval mode).
package org.gpulrp.model;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.InvalidInputException;
import org.gpulrp.ShapeMismatchException;

/**
 * Batch normalization at inference: {@code y = (x - mean) / sqrt(var + eps) * gamma + beta} per channel of a
 * {@code [channels, height, width]} sample (a {@code [features]} vector is {@code [features, 1, 1]}). Usually folded
 * into the preceding convolution or dense layer by {@link org.gpulrp.canonize.Canonizers#foldBatchNorm}; a
 * standalone one computes the per-channel affine map it is (a depthwise 1x1 convolution with weight
 * {@code s = gamma / sqrt(var + eps)} and bias {@code beta - mean * s}) and passes relevance through unchanged, as
 * Zennit's composites do for a BatchNorm that no linear layer precedes, whatever the composite says. Its kind is
 * {@link LayerKind#POOL}: composites assign it no rule. The arrays are copied in and never handed out.
 */
public final class BatchNorm implements Layer {
    private final int channels;
    private final int height;
    private final int width;
    private final float[] gamma;
    private final float[] beta;
    private final float[] mean;
    private final float[] var;
    private final double eps;

    /**
     * @param channels channels (the length of each parameter array)
     * @param height   sample height (1 for a feature vector)
     * @param width    sample width (1 for a feature vector)
     * @param eps      the variance stabilizer, > 0 (PyTorch's default 1e-5)
     */
    public BatchNorm(int channels, int height, int width, float[] gamma, float[] beta, float[] mean, float[] var,
                     double eps) {
        InvalidArgumentException.check(channels > 0 && height > 0 && width > 0, "batch norm shape",
                "must be positive, got [" + channels + ", " + height + ", " + width + "]");
        InvalidArgumentException.check((long) channels * height * width <= Integer.MAX_VALUE - 8, "batch norm shape",
                "too large");
        InvalidArgumentException.check(eps > 0 && Double.isFinite(eps), "eps", "must be a positive number, got "
                + eps);
        String[] names = {"weight (gamma)", "bias (beta)", "running_mean", "running_var"};
        float[][] arrays = {gamma, beta, mean, var};
        for (int a = 0; a < 4; a++) {
            if (arrays[a] == null || arrays[a].length != channels) {
                throw new ShapeMismatchException("batch norm " + names[a], channels + " values",
                        arrays[a] == null ? "null" : arrays[a].length + " values");
            }
            for (int k = 0; k < channels; k++) {
                if (!Float.isFinite(arrays[a][k]) || (a == 3 && arrays[a][k] < 0)) {
                    throw new InvalidInputException("batch norm " + names[a] + " holds " + arrays[a][k]
                            + " at channel " + k + (a == 3 ? " (a variance must be finite and >= 0)" : ""), -1, k);
                }
            }
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.gamma = gamma.clone();
        this.beta = beta.clone();
        this.mean = mean.clone();
        this.var = var.clone();
        this.eps = eps;
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public double eps() {
        return eps;
    }

    /** Per-channel scale {@code gamma / sqrt(var + eps)}, in double. */
    public double[] scale() {
        double[] s = new double[channels];
        for (int c = 0; c < channels; c++) {
            s[c] = gamma[c] / Math.sqrt((double) var[c] + eps);
        }
        return s;
    }

    /** Per-channel mean, as given. */
    public float[] mean() {
        return mean.clone();
    }

    /** Per-channel shift beta, as given. */
    public float[] beta() {
        return beta.clone();
    }

    /** The weight of the equivalent depthwise 1x1 convolution, {@code s} rounded to float. */
    public float[] foldedWeight() {
        double[] s = scale();
        float[] w = new float[channels];
        for (int c = 0; c < channels; c++) {
            w[c] = (float) s[c];
        }
        return w;
    }

    /** The bias of the equivalent depthwise 1x1 convolution, {@code beta - mean * s} in double, rounded to float. */
    public float[] foldedBias() {
        double[] s = scale();
        float[] b = new float[channels];
        for (int c = 0; c < channels; c++) {
            b[c] = (float) (beta[c] - mean[c] * s[c]);
        }
        return b;
    }

    @Override
    public LayerKind kind() {
        return LayerKind.POOL;
    }

    @Override
    public int outputSize(int inputSize) {
        int size = channels * height * width;
        if (inputSize != size) {
            throw new ShapeMismatchException("batch norm input", size + " values ([" + channels + ", " + height
                    + ", " + width + "])", inputSize + " values");
        }
        return size;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchNorm b && b.channels == channels && b.height == height && b.width == width
                && b.eps == eps && Arrays.equals(b.gamma, gamma) && Arrays.equals(b.beta, beta)
                && Arrays.equals(b.mean, mean) && Arrays.equals(b.var, var);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(gamma) * 31 + Arrays.hashCode(var);
    }

    @Override
    public String toString() {
        return "BatchNorm(" + channels + ")";
    }
}
