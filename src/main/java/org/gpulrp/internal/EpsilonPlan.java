package org.gpulrp.internal;

import org.gpulrp.backend.Buffer;

/**
 * LRP-epsilon (LRP-0 with epsilon 0): the denominator is the layer's own forward output {@code z}, so nothing is
 * derived (the weight is prepared for the backprojection); {@code g = R / stab(z)}, {@code R_in = x * (W g)}.
 */
final class EpsilonPlan extends LinearPlan {

    EpsilonPlan(float eps) {
        super(eps);
    }

    @Override
    void prepare(LinearStep step, float[] wf, float[] bf) {
        step.prepareWeights(LinearStep.Use.BACKPROJECT, step.w);
    }

    @Override
    void backward(LinearStep step, Buffer x, Buffer z, Buffer r, Buffer rIn, LinearStep.Scratch s, int rows) {
        step.be.normalize(r, z, step.out, eps, s.signal, rows, step.out);
        step.backprojectMap(s.signal, step.w, x, rIn, rows);
    }

    @Override
    void stabilizerShare(LinearStep step, Buffer z, LinearStep.Scratch s, int rows, double[] into, int row0) {
        addStabilizer(step, s.signal, z, step.out, rows, into, row0);
    }
}
