package org.gpulrp.internal;

import org.gpulrp.backend.Buffer;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.WSquare;

/**
 * The rules whose denominator does not depend on the input: WSquare ({@code D_j = sum_i w_ij^2 + b_j^2}, relevance
 * along the squared weights) and Flat ({@code D_j} = the number of connected inputs, relevance along ones). The
 * modified weight and the denominators are computed once, at preparation, by the step's
 * {@link LinearStep#fixedDenominators}; the relevance pass is {@code g = R / stab(D)},
 * {@code R_in = modified W g} (the input values are not used).
 */
final class FixedDenominatorPlan extends LinearPlan {
    /** WSquare (squared weights) rather than Flat (ones). */
    private final boolean square;
    /** The modified weight in the backprojection layout, and the denominators, one per output feature. */
    private Buffer weight;
    private Buffer denominator;

    private FixedDenominatorPlan(float eps, boolean square) {
        super(eps);
        this.square = square;
    }

    static FixedDenominatorPlan wSquare(WSquare ws) {
        return new FixedDenominatorPlan(ws.epsilon(), true);
    }

    static FixedDenominatorPlan flat(Flat f) {
        return new FixedDenominatorPlan(f.epsilon(), false);
    }

    /**
     * The bias term of the denominator, per output channel: {@code b^2} (WSquare) or none (Flat); under
     * {@link LinearStep#rawBias} the bias itself, unmodified, for both.
     */
    private float[] denominatorBias(LinearStep step, float[] bf) {
        if (!square) {
            return step.rawBias ? bf : new float[bf.length];
        }
        float[] db = new float[bf.length];
        for (int k = 0; k < bf.length; k++) {
            db[k] = step.rawBias ? bf[k] : bf[k] * bf[k];
        }
        return db;
    }

    @Override
    void prepare(LinearStep step, float[] wf, float[] bf) {
        Buffer[] f = step.fixedDenominators(wf, denominatorBias(step, bf), square);
        weight = step.keep(f[0]);
        denominator = step.keep(f[1]);
        step.prepareWeights(LinearStep.Use.BACKPROJECT, weight);
    }

    @Override
    void backward(LinearStep step, Buffer x, Buffer z, Buffer r, Buffer rIn, LinearStep.Scratch s, int rows) {
        step.be.normalize(r, denominator, 0, eps, s.signal, rows, step.out);
        step.backprojectMap(s.signal, weight, null, rIn, rows);
    }

    @Override
    void stabilizerShare(LinearStep step, Buffer z, LinearStep.Scratch s, int rows, double[] into, int row0) {
        addStabilizer(step, s.signal, denominator, 0, rows, into, row0);
    }
}
