package org.gpulrp.internal;

import org.gpulrp.backend.Buffer;
import org.gpulrp.rules.ZBox;

/**
 * LRP-z^B for inputs bounded by {@code low <= x <= high}:
 * {@code D_j = sum_i (x_i w_ij - l_i w+_ij - h_i w-_ij)}, {@code g = R / stab(D)},
 * {@code R_i = x_i (W g)_i - l_i (W+ g)_i - h_i (W- g)_i}. The bias cancels, except under
 * {@link LinearStep#rawBias}, where Zennit's {@code z - (l W+ + b) - (h W- + b)} leaves {@code -b} in {@code D}.
 */
final class BoxPlan extends LinearPlan {
    private final ZBox rule;
    /** The sign parts of W in the backprojection layout. */
    private Buffer wPos;
    private Buffer wNeg;
    /** The bounds, one per input feature. */
    private Buffer low;
    private Buffer high;
    /** Under {@link LinearStep#rawBias}: {@code -b} per output feature, else null. */
    private float[] negBias;
    /** {@link #negBias} repeated for the rows of a pass (grown on demand, kept with the weights). */
    private Buffer negBiasRows;

    private BoxPlan(ZBox rule) {
        super(rule.epsilon());
        this.rule = rule;
    }

    /** The plan, or the refusal of bounds that fit neither one value, one per channel nor one per input feature. */
    static BoxPlan checked(ZBox zb, String layer, int in, int channels) {
        if (zb.boundCount() != 1 && zb.boundCount() != in && zb.boundCount() != channels) {
            throw new org.gpulrp.ShapeMismatchException("zbox bounds for layer '" + layer + "'", "1, " + channels
                    + " (per channel) or " + in + " values", zb.boundCount() + " values");
        }
        return new BoxPlan(zb);
    }

    @Override
    void prepare(LinearStep step, float[] wf, float[] bf) {
        int n = step.w.length();
        wPos = step.keep(step.be.allocate(n));
        wNeg = step.keep(step.be.allocate(n));
        step.be.splitSign(step.w, wPos, wNeg, n);
        step.prepareWeights(LinearStep.Use.FORWARD_ZBOX, step.wt);
        step.prepareWeights(LinearStep.Use.BACKPROJECT_ZBOX, step.w, wPos, wNeg);
        low = step.keep(step.be.upload(step.expandBounds(rule, true)));
        high = step.keep(step.be.upload(step.expandBounds(rule, false)));
        if (step.rawBias) {
            // Zennit: z - (l W+ + b) - (h W- + b) = sum (x w - l w+ - h w-) - b.
            float[] nb = new float[bf.length];
            for (int k = 0; k < bf.length; k++) {
                nb[k] = -bf[k];
            }
            negBias = step.perOutputFeature(nb);
        }
    }

    @Override
    void backward(LinearStep step, Buffer x, Buffer z, Buffer r, Buffer rIn, LinearStep.Scratch s, int rows) {
        step.forwardZBox(x, step.wt, low, high, s.denominator, rows);
        if (negBias != null) {
            step.be.add(s.denominator, negBiasRows(step, rows), s.denominator, rows * step.out);
        }
        step.be.normalize(r, s.denominator, step.out, eps, s.signal, rows, step.out);
        step.backprojectZBoxMap(s.signal, step.w, wPos, wNeg, x, low, high, rIn, rows);
    }

    @Override
    void stabilizerShare(LinearStep step, Buffer z, LinearStep.Scratch s, int rows, double[] into, int row0) {
        addStabilizer(step, s.signal, s.denominator, step.out, rows, into, row0);
    }

    private Buffer negBiasRows(LinearStep step, int rows) {
        int out = step.out;
        if (negBiasRows == null || negBiasRows.length() < rows * out) {
            if (negBiasRows != null) {
                step.release(negBiasRows);
                negBiasRows = null;
            }
            float[] h = new float[rows * out];
            for (int b = 0; b < rows; b++) {
                System.arraycopy(negBias, 0, h, b * out, out);
            }
            negBiasRows = step.keep(step.be.upload(h));
        }
        return negBiasRows;
    }
}
