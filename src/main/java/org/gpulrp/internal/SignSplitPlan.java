package org.gpulrp.internal;

import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.ZPlus;

/**
 * The sign-split rules, which pair two weights {@code wp}, {@code wn} (and biases {@code bp}, {@code bn}) with the
 * signs of the input: ZPlus and AlphaBeta ({@code wp = W+}, {@code wn = W-}, the sign parts) and Gamma
 * ({@code wp = W + gamma W+}, {@code wn = W + gamma W-}). The positive pass is
 * {@code P = x+ wp + x- wn + bp}; two-sided rules (AlphaBeta with beta &gt; 0, Gamma) add the negative pass
 * {@code N = x+ wn + x- wp + bn}. {@code normalizeSigned} turns R into the normalized signals {@code hp} (and
 * {@code hn}), scaled by the rule ({@code alpha}, {@code -beta}; Gamma gates them by the sign of {@code z}), and the
 * sign-split backprojection returns them through the same pairs. The rules differ only in how the pair is derived
 * from W and b ({@link Derive}), in the scales and in the gating.
 */
final class SignSplitPlan extends LinearPlan {
    /** How the pair is derived on the backend from W (or b): the sign parts, or the gamma-modified weights. */
    @FunctionalInterface
    private interface Derive {
        void apply(Backend be, Buffer source, Buffer plus, Buffer minus, int n);
    }

    private final Derive derive;
    /** The weights of the positive and the negative signal in {@code normalizeSigned}. */
    private final float scalePos;
    private final float scaleNeg;
    /** Whether the rule has a negative pass. */
    private final boolean twoSided;
    /** Gamma's gating of the signals by the sign of the unmodified output. */
    private final boolean gated;

    /** The pair in the backprojection layout and in the forward layout (the same buffers where the step shares it). */
    private Buffer wp;
    private Buffer wn;
    private Buffer wpForward;
    private Buffer wnForward;
    /** The biases of the positive and the negative pass (one buffer under {@link LinearStep#rawBias}). */
    private Buffer bp;
    private Buffer bn;
    /** {@code [wp; wn]} stacked along the output features (backprojection layout), for the stacked shortcut. */
    private Buffer wStacked;
    /** Whether {@link #backward} takes the non-negative-input shortcuts; see {@link #inputNonNegative}. */
    private boolean plusShortcut;
    private boolean stackShortcut;

    private SignSplitPlan(float eps, Derive derive, float scalePos, float scaleNeg, boolean twoSided,
                          boolean gated) {
        super(eps);
        this.derive = derive;
        this.scalePos = scalePos;
        this.scaleNeg = scaleNeg;
        this.twoSided = twoSided;
        this.gated = gated;
    }

    static SignSplitPlan zPlus(ZPlus z) {
        return new SignSplitPlan(z.epsilon(), Backend::splitSign, 1f, 0f, false, false);
    }

    static SignSplitPlan alphaBeta(AlphaBeta ab) {
        return new SignSplitPlan(ab.epsilon(), Backend::splitSign, ab.alpha(), -ab.beta(), ab.beta() != 0f, false);
    }

    static SignSplitPlan gamma(Gamma g) {
        float gamma = g.gamma();
        return new SignSplitPlan(g.epsilon(), (be, source, plus, minus, n) -> be.gammaWeights(source, gamma, plus,
                minus, n), 1f, 0f, true, true);
    }

    /** Whether the rule has a negative pass (for tests). */
    boolean twoSided() {
        return twoSided;
    }

    /**
     * The pair derived from W in both layouts, then the biases: by the rule, derived from b like the weights
     * ({@code b+}, {@code b-}, or {@code b + gamma b+}, {@code b + gamma b-}); under {@link LinearStep#rawBias},
     * {@code 2b} for both (Zennit adds the unmodified bias once in the positive-input and once in the
     * negative-input pass).
     */
    @Override
    void prepare(LinearStep step, float[] wf, float[] bf) {
        Backend be = step.be;
        int n = step.w.length();
        wp = step.keep(be.allocate(n));
        wn = step.keep(be.allocate(n));
        derive.apply(be, step.w, wp, wn, n);
        if (step.sharedLayout()) {
            wpForward = wp;
            wnForward = wn;
        } else {
            wpForward = step.keep(be.allocate(n));
            wnForward = step.keep(be.allocate(n));
            derive.apply(be, step.wt, wpForward, wnForward, n);
        }
        if (step.rawBias) {
            float[] twice = new float[bf.length];
            for (int k = 0; k < bf.length; k++) {
                twice[k] = 2f * bf[k];
            }
            bp = step.keep(be.upload(twice));
            bn = bp;
            return;
        }
        int channels = step.bias.length();
        bp = step.keep(be.allocate(channels));
        bn = step.keep(be.allocate(channels));
        derive.apply(be, step.bias, bp, bn, channels);
    }

    /**
     * Tells the plan that the step's input is non-negative by construction (the engine decides this from the
     * graph, never from data, so every backend makes the same choice). The sign split then has nothing to split,
     * and the relevance pass uses plain primitives, one chain per output, instead of the sign-split pairs of
     * chains:
     * <ul>
     *   <li>one-sided rules (ZPlus, AlphaBeta with beta 0): {@code P = forwardMap(x, W+, b+)}, {@code hp} from
     *       {@code normalizeSigned} as usual, {@code R_in = backprojectMap(hp, W+, x)} ({@code x *} the chain of
     *       W+ against hp). Where {@code x > 0} each chain is the sign-split kernel's {@code p} and {@code c1}, term
     *       for term; where {@code x == +0} the two forms may differ only in the sign of a zero.</li>
     *   <li>two-sided rules (AlphaBeta with beta &gt; 0: wp = W+, wn = W-; Gamma: wp = W + g W+, wn = W + g W-),
     *       on layers with one group: {@code P = forwardMap(x, wp, bp)}, {@code N = forwardMap(x, wn, bn)},
     *       {@code hp, hn} from {@code normalizeSigned} as usual, then one backprojection through the weights
     *       stacked along the outputs, {@code R_in = x * chain over [wp; wn] against [hp; hn]}: all of wp's terms
     *       in the primitive's order, then all of wn's. That is {@code x * (wp hp + wn hn)}, the general formula
     *       where {@code x > 0}, with the sums in another order (the sign-split kernel interleaves wp and wn per
     *       tap), so its bits differ from the general path's; every backend takes the same path.</li>
     * </ul>
     */
    @Override
    void inputNonNegative(LinearStep step, boolean nonNegative) {
        plusShortcut = nonNegative && !twoSided;
        stackShortcut = nonNegative && twoSided && step.canStack();
        if (stackShortcut && wStacked == null) {
            int n = wp.length();
            wStacked = step.keep(step.be.allocate(2 * n));
            step.be.copyRows(wp, n, 0, wStacked, 2 * n, 0, n, 1);
            step.be.copyRows(wn, n, 0, wStacked, 2 * n, n, n, 1);
        }
        prepareWeights(step);
    }

    /**
     * Prepares the weights for the maps the relevance pass now takes (the path is decided here, at build time;
     * preparing a path again, when tests switch back and forth, adds nothing).
     */
    private void prepareWeights(LinearStep step) {
        if (plusShortcut) {
            step.prepareWeights(LinearStep.Use.FORWARD, wpForward);
            step.prepareWeights(LinearStep.Use.BACKPROJECT, wp);
        } else if (stackShortcut) {
            step.prepareWeights(LinearStep.Use.FORWARD, wpForward);
            step.prepareWeights(LinearStep.Use.FORWARD, wnForward);
            step.prepareWeights(LinearStep.Use.BACKPROJECT_STACKED, wStacked);
        } else {
            step.prepareWeights(twoSided ? LinearStep.Use.FORWARD_SIGNED : LinearStep.Use.FORWARD_SIGNED_P,
                    wpForward, wnForward);
            step.prepareWeights(LinearStep.Use.BACKPROJECT_SIGNED, wp, wn);
        }
    }

    @Override
    boolean plusShortcut() {
        return plusShortcut;
    }

    @Override
    boolean stackShortcut() {
        return stackShortcut;
    }

    @Override
    void backward(LinearStep step, Buffer x, Buffer z, Buffer r, Buffer rIn, LinearStep.Scratch s, int rows) {
        Backend be = step.be;
        int out = step.out;
        if (plusShortcut) {
            step.forwardMap(x, wpForward, bp, s.denominator, rows);
            be.normalizeSigned(r, z, s.denominator, null, eps, scalePos, scaleNeg, false, s.signal, null, rows,
                    out);
            step.backprojectMap(s.signal, wp, x, rIn, rows);
        } else if (stackShortcut) {
            step.forwardMap(x, wpForward, bp, s.denominator, rows);
            step.forwardMap(x, wnForward, bn, s.denominatorNeg, rows);
            be.normalizeSigned(r, z, s.denominator, s.denominatorNeg, eps, scalePos, scaleNeg, gated, s.signal,
                    s.signalNeg, rows, out);
            be.copyRows(s.signal, out, 0, s.stackedSignal, 2 * out, 0, out, rows);
            be.copyRows(s.signalNeg, out, 0, s.stackedSignal, 2 * out, out, out, rows);
            step.backprojectStacked(s.stackedSignal, wStacked, x, rIn, rows);
        } else {
            Buffer negative = twoSided ? s.denominatorNeg : null;
            Buffer signalNeg = twoSided ? s.signalNeg : null;
            step.forwardSigned(x, wpForward, wnForward, bp, bn, s.denominator, negative, rows);
            be.normalizeSigned(r, z, s.denominator, negative, eps, scalePos, scaleNeg, gated, s.signal, signalNeg,
                    rows, out);
            step.backprojectSignedMap(s.signal, signalNeg, wp, wn, x, rIn, rows);
        }
    }

    @Override
    void stabilizerShare(LinearStep step, Buffer z, LinearStep.Scratch s, int rows, double[] into, int row0) {
        addStabilizer(step, s.signal, s.denominator, step.out, rows, into, row0);
        if (twoSided) {
            addStabilizer(step, s.signalNeg, s.denominatorNeg, step.out, rows, into, row0);
        }
    }
}
