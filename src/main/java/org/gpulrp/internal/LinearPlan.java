package org.gpulrp.internal;

import org.gpulrp.backend.Buffer;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Pass;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;

/**
 * The rule's half of a {@link LinearStep}: one plan per rule family, chosen once per layer by {@link #forRule}.
 * A plan owns the rule's preparation (the derived weights, biases and denominators it puts on the backend, through
 * the step's {@link LinearStep#keep}), its relevance pass and its health accounting; the step supplies the layer's
 * geometry (its primitives and weight layouts). Families: {@link EpsilonPlan}; {@link SignSplitPlan} (ZPlus,
 * AlphaBeta, Gamma and their non-negative-input shortcuts); {@link BoxPlan} (ZBox); {@link FixedDenominatorPlan}
 * (WSquare, Flat). Pass is refused: a linear layer needs an LRP rule.
 *
 * <p>Adding a rule: its record in {@code rules/} (and in the {@code permits} of {@link Rule}), a plan (or an
 * existing one with new parameters), one arm in {@link #forRule}, and its CLI name in {@code cli/RuleSpecs}.
 * {@code LinearPlanTest} fails for a permitted rule that has no arm.
 */
abstract class LinearPlan {
    /** The rule's stabilizer. */
    final float eps;

    LinearPlan(float eps) {
        this.eps = eps;
    }

    /**
     * The plan for {@code rule} on layer {@code layer} ({@code in} input features in {@code channels} channels), or
     * the refusal of a rule that cannot run on it, before anything is allocated.
     *
     * <p>One exhaustive chain over the sealed {@link Rule}, each arm a pattern on one permitted type. It is an
     * {@code if} chain rather than a {@code switch} because pattern matching for {@code switch} is a preview
     * feature in Java 17 (JEP 406, final only in Java 21), and a preview class file would need
     * {@code --enable-preview} in every application that loads the library; a visitor would instead add a public
     * method and interface to the public {@code rules} API for an internal concern. The compiler therefore does not
     * check the chain for exhaustiveness: {@code LinearPlanTest} does, over
     * {@code Rule.class.getPermittedSubclasses()}, and shows that the final {@code throw} is unreachable. On
     * Java 21 this becomes a {@code switch (rule)} with one {@code case} per type and no {@code default}.
     */
    static LinearPlan forRule(Rule rule, String layer, int in, int channels) {
        if (rule instanceof Epsilon e) {
            return new EpsilonPlan(e.epsilon());
        } else if (rule instanceof ZPlus z) {
            return SignSplitPlan.zPlus(z);
        } else if (rule instanceof AlphaBeta ab) {
            return SignSplitPlan.alphaBeta(ab);
        } else if (rule instanceof Gamma g) {
            return SignSplitPlan.gamma(g);
        } else if (rule instanceof ZBox zb) {
            return BoxPlan.checked(zb, layer, in, channels);
        } else if (rule instanceof WSquare ws) {
            return FixedDenominatorPlan.wSquare(ws);
        } else if (rule instanceof Flat f) {
            return FixedDenominatorPlan.flat(f);
        } else if (rule instanceof Pass) {
            throw new org.gpulrp.InvalidArgumentException("rule", "pass cannot be applied to layer '" + layer
                    + "': a linear layer needs an LRP rule (epsilon, zplus, ...)");
        }
        throw new IllegalStateException("no plan for rule " + rule.getClass().getName()
                + ": add its arm to LinearPlan.forRule");
    }

    /** Puts the rule's derived weights on the backend; the step has uploaded its weights and bias already. */
    abstract void prepare(LinearStep step, float[] wf, float[] bf);

    /**
     * Tells the plan that the step's input is non-negative by construction (see
     * {@link SignSplitPlan#inputNonNegative}); only the sign-split rules have shortcuts for it.
     */
    void inputNonNegative(LinearStep step, boolean nonNegative) {
    }

    /** Whether the relevance pass takes the non-negative-input shortcut (for tests). */
    boolean plusShortcut() {
        return false;
    }

    /** Whether the relevance pass takes the stacked two-sided shortcut (needs the scratch's stacked signal). */
    boolean stackShortcut() {
        return false;
    }

    /**
     * Relevance from the step's output ({@code r}, [rows,out]) to its input ({@code rIn}, [rows,in]) over
     * {@code rows} rows of the map (samples times the step's positions); {@code x} is the step's input, {@code z}
     * its forward output. Leaves in {@code s} what {@link #stabilizerShare} reads.
     */
    abstract void backward(LinearStep step, Buffer x, Buffer z, Buffer r, Buffer rIn, LinearStep.Scratch s,
                           int rows);

    /**
     * After {@link #backward}, over {@code rows} samples (not map rows): the relevance the stabilizer absorbed, per
     * sample, added into {@code into[row]}. With
     * {@code g = R / stab(D)} the layer passes down {@code sum_j g_j (D_j - bias term_j)} and so absorbs
     * {@code sum_j g_j bias term_j} (the biases) plus {@code eps * sum_j g_j s(D_j)} (the stabilizer), which is
     * what this returns, summed in double over j ascending. Two-sided rules add the same term of the negative side
     * (its normalized signal already carries the rule's weight, e.g. -beta).
     */
    abstract void stabilizerShare(LinearStep step, Buffer z, LinearStep.Scratch s, int rows, double[] into,
                                  int row0);

    /**
     * The share of one normalized signal against its denominator, per sample of {@code rows}: {@code stride} is
     * {@code step.out} for a denominator per map row, 0 for one row shared by all (one value per output feature). A
     * sample's {@code positions} map rows are contiguous, so its share is summed over all of them.
     */
    final void addStabilizer(LinearStep step, Buffer signal, Buffer denominator, int stride, int rows,
                             double[] into, int row0) {
        int width = step.positions * step.out;
        Health.addStabilizer(step.be, signal, denominator, stride == 0 ? 0 : width, rows, width, step.out, eps,
                into, row0);
    }
}
