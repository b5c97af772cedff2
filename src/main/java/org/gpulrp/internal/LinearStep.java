package org.gpulrp.internal;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;

/**
 * A linear layer (dense or convolution) prepared for one rule: the weight and the variants the rule needs live on
 * the backend for the life of the prepared model. Variants that are exact functions of W (sign parts,
 * gamma-modified weights) are derived on the backend from the uploaded W; input-independent denominators (WSquare,
 * Flat) are computed once. The rule logic lives here, once; subclasses supply the layer's own primitives and weight
 * layouts ({@code w} for the backprojection, {@code wt} for the forward map: the transpose for dense layers, the
 * same buffer for convolutions).
 */
abstract class LinearStep {
    final String name;
    /** Features per sample in and out. */
    final int in;
    final int out;
    final Rule rule;
    protected final Backend be;
    private final List<Buffer> owned = new ArrayList<>();

    /** The weight in its backprojection layout and in its forward layout (may be the same buffer); bias [channels]. */
    protected Buffer w;
    protected Buffer wt;
    protected Buffer bias;
    /** Rule variants: u/v (sign parts or gamma weights) in both layouts, biases, ZBox bounds, fixed denominators. */
    private Buffer u;
    private Buffer v;
    private Buffer ut;
    private Buffer vt;
    private Buffer biasP;
    private Buffer biasN;
    private Buffer low;
    private Buffer high;
    private Buffer fixedW;
    private Buffer fixedD;
    private float scaleP = 1f;
    private float scaleN;
    private boolean twoSided;
    private float eps;
    /**
     * Zennit's treatment of a merged-BatchNorm bias ({@link org.gpulrp.composite.ConvBias#ZENNIT}): the bias enters
     * every modified forward pass unchanged.
     */
    private final boolean rawBias;
    /** ZBox under {@link #rawBias}: {@code -b} per output feature, repeated for the rows of a pass. */
    private float[] zboxBias;
    private Buffer zboxBiasRows;
    /** Whether {@link #backward} takes the non-negative-input shortcuts; see {@link #inputNonNegative}. */
    private boolean plusShortcut;
    private boolean stackShortcut;
    /** {@code [u; v]} stacked along the output features (backprojection layout), for the stacked shortcut. */
    private Buffer uv;

    LinearStep(Backend be, String name, int in, int out, Rule rule, int channels, boolean rawBias) {
        this.be = be;
        this.name = name;
        this.in = in;
        this.out = out;
        this.rule = rule;
        this.rawBias = rawBias;
        checkApplicable(rule, name, in, channels);
    }

    /** Uploads the weights and prepares the rule; subclass constructors call it last. Releases all on failure. */
    protected final void prepare(float[] wf, float[] bf) {
        try {
            uploadWeights(wf);
            this.bias = keep(be.upload(bf));
            this.eps = prepareRule(wf, bf);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Sets {@link #w} and {@link #wt} (through {@link #keep}). */
    protected abstract void uploadWeights(float[] wf);

    /** Same-layout variants: {@code wt} is {@code w} for convolutions, so one derivation serves both. */
    private boolean sharedLayout() {
        return wt == w;
    }

    /**
     * The input-independent denominators of WSquare ({@code square}: weights squared) or Flat (ones), plus
     * {@code denominatorBias} (per output channel), one per output feature, and the modified weight in the
     * backprojection layout.
     */
    protected abstract Buffer[] fixedDenominators(float[] wf, float[] denominatorBias, boolean square);

    /** A per-output-channel array repeated to one value per output feature. */
    protected abstract float[] perOutputFeature(float[] perChannel);

    /** Per-input-feature ZBox bounds from one bound, one per channel, or one per feature. */
    protected abstract float[] expandBounds(ZBox zb, boolean low);

    protected abstract void forwardMap(Buffer x, Buffer wFwd, Buffer b, Buffer z, int rows);

    protected abstract void forwardSigned(Buffer x, Buffer uFwd, Buffer vFwd, Buffer bp, Buffer bn, Buffer p,
                                          Buffer n, int rows);

    protected abstract void forwardZBox(Buffer x, Buffer wFwd, Buffer lo, Buffer hi, Buffer d, int rows);

    protected abstract void backprojectMap(Buffer g, Buffer wBwd, Buffer x, Buffer r, int rows);

    protected abstract void backprojectSignedMap(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r,
                                                 int rows);

    protected abstract void backprojectZBoxMap(Buffer g, Buffer wBwd, Buffer wp, Buffer wn, Buffer x, Buffer lo,
                                               Buffer hi, Buffer r, int rows);

    /** Refuses, before anything is allocated, a rule that cannot run on this layer. */
    private static void checkApplicable(Rule rule, String name, int in, int channels) {
        if (rule instanceof ZBox zb && zb.boundCount() != 1 && zb.boundCount() != in
                && zb.boundCount() != channels) {
            throw new org.gpulrp.ShapeMismatchException("zbox bounds for layer '" + name + "'", "1, " + channels
                    + " (per channel) or " + in + " values", zb.boundCount() + " values");
        }
        if (rule instanceof org.gpulrp.rules.Pass) {
            throw new org.gpulrp.InvalidArgumentException("rule", "pass cannot be applied to layer '" + name
                    + "': a linear layer needs an LRP rule (epsilon, zplus, ...)");
        }
    }

    protected final Buffer keep(Buffer b) {
        owned.add(b);
        return b;
    }

    private void splitSigns() {
        int n = w.length();
        u = keep(be.allocate(n));
        v = keep(be.allocate(n));
        be.splitSign(w, u, v, n);
        if (sharedLayout()) {
            ut = u;
            vt = v;
        } else {
            ut = keep(be.allocate(n));
            vt = keep(be.allocate(n));
            be.splitSign(wt, ut, vt, n);
        }
    }

    private float prepareRule(float[] wf, float[] bf) {
        if (rule instanceof Epsilon e) {
            return e.epsilon();
        } else if (rule instanceof ZPlus z) {
            splitSigns();
            signedBiases(bf, false, 0f);
            return z.epsilon();
        } else if (rule instanceof AlphaBeta ab) {
            splitSigns();
            signedBiases(bf, false, 0f);
            scaleP = ab.alpha();
            scaleN = -ab.beta();
            twoSided = ab.beta() != 0f;
            return ab.epsilon();
        } else if (rule instanceof Gamma g) {
            int n = w.length();
            u = keep(be.allocate(n));
            v = keep(be.allocate(n));
            be.gammaWeights(w, g.gamma(), u, v, n);
            if (sharedLayout()) {
                ut = u;
                vt = v;
            } else {
                ut = keep(be.allocate(n));
                vt = keep(be.allocate(n));
                be.gammaWeights(wt, g.gamma(), ut, vt, n);
            }
            signedBiases(bf, true, g.gamma());
            twoSided = true;
            return g.epsilon();
        } else if (rule instanceof ZBox zb) {
            int n = w.length();
            u = keep(be.allocate(n));
            v = keep(be.allocate(n));
            be.splitSign(w, u, v, n);
            low = keep(be.upload(expandBounds(zb, true)));
            high = keep(be.upload(expandBounds(zb, false)));
            if (rawBias) {
                // Zennit: z - (l W+ + b) - (h W- + b) = sum (x w - l w+ - h w-) - b.
                float[] nb = new float[bf.length];
                for (int k = 0; k < bf.length; k++) {
                    nb[k] = -bf[k];
                }
                zboxBias = perOutputFeature(nb);
            }
            return zb.epsilon();
        } else if (rule instanceof WSquare ws) {
            float[] db = new float[bf.length];
            for (int k = 0; k < bf.length; k++) {
                db[k] = rawBias ? bf[k] : bf[k] * bf[k];
            }
            Buffer[] f = fixedDenominators(wf, db, true);
            fixedW = keep(f[0]);
            fixedD = keep(f[1]);
            return ws.epsilon();
        } else if (rule instanceof Flat f) {
            Buffer[] d = fixedDenominators(wf, rawBias ? bf : new float[bf.length], false);
            fixedW = keep(d[0]);
            fixedD = keep(d[1]);
            return f.epsilon();
        }
        throw new org.gpulrp.InvalidArgumentException("rule", rule.describe() + " cannot be applied to layer '"
                + name + "'");
    }

    /**
     * The biases of the positive and the negative pass: by the rule, the sign parts {@code b+}, {@code b-} (ZPlus,
     * AlphaBeta) or {@code b + gamma b+}, {@code b + gamma b-} (Gamma); under {@link #rawBias}, {@code 2b} for both
     * (Zennit adds the unmodified bias once in the positive-input and once in the negative-input pass).
     */
    private void signedBiases(float[] bf, boolean gamma, float g) {
        if (rawBias) {
            float[] twice = new float[bf.length];
            for (int k = 0; k < bf.length; k++) {
                twice[k] = 2f * bf[k];
            }
            biasP = keep(be.upload(twice));
            biasN = biasP;
            return;
        }
        biasP = keep(be.allocate(bias.length()));
        biasN = keep(be.allocate(bias.length()));
        if (gamma) {
            be.gammaWeights(bias, g, biasP, biasN, bias.length());
        } else {
            be.splitSign(bias, biasP, biasN, bias.length());
        }
    }

    /**
     * Tells the step that its input is non-negative by construction (the engine decides this from the graph, never
     * from data, so every backend makes the same choice). The sign split then has nothing to split, and the
     * relevance pass uses plain primitives, one chain per output, instead of the sign-split pairs of chains:
     * <ul>
     *   <li>one-sided rules (ZPlus, AlphaBeta with beta 0): {@code P = forwardMap(x, W+, b+)}, {@code hp} from
     *       {@code normalizeSigned} as usual, {@code R_in = backprojectMap(hp, W+, x)} ({@code x *} the chain of
     *       W+ against hp). Where {@code x > 0} each chain is the sign-split kernel's {@code p} and {@code c1}, term
     *       for term; where {@code x == +0} the two forms may differ only in the sign of a zero.</li>
     *   <li>two-sided rules (AlphaBeta with beta &gt; 0: u = W+, v = W-; Gamma: u = W + g W+, v = W + g W-), on
     *       layers with one group: {@code P = forwardMap(x, u, bP)}, {@code N = forwardMap(x, v, bN)},
     *       {@code hp, hn} from {@code normalizeSigned} as usual, then one backprojection through the weights
     *       stacked along the outputs, {@code R_in = x * chain over [u; v] against [hp; hn]}: all of u's terms in
     *       the primitive's order, then all of v's. That is {@code x * (u hp + v hn)}, the general formula where
     *       {@code x > 0}, with the sums in another order (the sign-split kernel interleaves u and v per tap), so
     *       its bits differ from the general path's; every backend takes the same path.</li>
     * </ul>
     */
    void inputNonNegative(boolean nonNegative) {
        plusShortcut = nonNegative && !twoSided && (rule instanceof ZPlus || rule instanceof AlphaBeta);
        stackShortcut = nonNegative && twoSided && (rule instanceof AlphaBeta || rule instanceof Gamma)
                && canStack();
        if (stackShortcut && uv == null) {
            int n = u.length();
            uv = keep(be.allocate(2 * n));
            be.copyRows(u, n, 0, uv, 2 * n, 0, n, 1);
            be.copyRows(v, n, 0, uv, 2 * n, n, n, 1);
        }
    }

    /** Whether {@link #backprojectStacked} can run (weights stack along the outputs as a plain array concat). */
    protected abstract boolean canStack();

    /** Backprojection of {@code g} [rows, 2*out] through {@code w} stacked to 2*out output features. */
    protected abstract void backprojectStacked(Buffer g, Buffer wStacked, Buffer x, Buffer r, int rows);

    /** Whether the relevance pass takes the two-sided (stacked) shortcut (for tests). */
    boolean stackShortcut() {
        return stackShortcut;
    }

    /** Whether the relevance pass takes the non-negative-input shortcut (for tests). */
    boolean plusShortcut() {
        return plusShortcut;
    }

    /** Forward: the layer's linear map with its bias. */
    void forward(Buffer x, Buffer z, int rows) {
        forwardMap(x, wt, bias, z, rows);
    }

    /**
     * Relevance from this layer's output ({@code r}, [rows,out]) to its input ({@code rIn}, [rows,in]); {@code x}
     * is the layer's input, {@code z} its forward output; {@code s1..s4} are [rows,out] scratch buffers.
     */
    void backward(Buffer x, Buffer z, Buffer r, Buffer rIn, Scratch s, int rows) {
        if (rule instanceof Epsilon) {
            be.normalize(r, z, out, eps, s.a, rows, out);
            backprojectMap(s.a, w, x, rIn, rows);
        } else if (plusShortcut) {
            forwardMap(x, ut, biasP, s.c, rows);
            be.normalizeSigned(r, z, s.c, null, eps, scaleP, scaleN, false, s.a, null, rows, out);
            backprojectMap(s.a, u, x, rIn, rows);
        } else if (stackShortcut) {
            forwardMap(x, ut, biasP, s.c, rows);
            forwardMap(x, vt, biasN, s.d, rows);
            be.normalizeSigned(r, z, s.c, s.d, eps, scaleP, scaleN, rule instanceof Gamma, s.a, s.b, rows, out);
            be.copyRows(s.a, out, 0, s.e, 2 * out, 0, out, rows);
            be.copyRows(s.b, out, 0, s.e, 2 * out, out, out, rows);
            backprojectStacked(s.e, uv, x, rIn, rows);
        } else if (rule instanceof ZPlus || rule instanceof AlphaBeta || rule instanceof Gamma) {
            Buffer n = twoSided ? s.d : null;
            Buffer hn = twoSided ? s.b : null;
            forwardSigned(x, ut, vt, biasP, biasN, s.c, n, rows);
            be.normalizeSigned(r, z, s.c, n, eps, scaleP, scaleN, rule instanceof Gamma, s.a, hn, rows, out);
            backprojectSignedMap(s.a, hn, u, v, x, rIn, rows);
        } else if (rule instanceof ZBox) {
            forwardZBox(x, wt, low, high, s.c, rows);
            if (zboxBias != null) {
                be.add(s.c, zboxBiasRows(rows), s.c, rows * out);
            }
            be.normalize(r, s.c, out, eps, s.a, rows, out);
            backprojectZBoxMap(s.a, w, u, v, x, low, high, rIn, rows);
        } else {
            be.normalize(r, fixedD, 0, eps, s.a, rows, out);
            backprojectMap(s.a, fixedW, null, rIn, rows);
        }
    }

    /**
     * After {@link #backward}: the relevance the stabilizer absorbed, per sample, added into {@code into[row]}. With
     * {@code g = R / stab(D)} the layer passes down {@code sum_j g_j (D_j - bias term_j)} and so absorbs
     * {@code sum_j g_j bias term_j} (the biases) plus {@code eps * sum_j g_j s(D_j)} (the stabilizer), which is
     * what this returns, summed in double over j ascending. Two-sided rules add the same term of the negative side
     * (its normalized signal already carries the rule's weight, e.g. -beta).
     */
    void stabilizerShare(Buffer z, Scratch s, int rows, double[] into, int row0) {
        Buffer d;
        int stride = out;
        Buffer dn = null;
        if (rule instanceof Epsilon) {
            d = z;
        } else if (rule instanceof ZPlus || rule instanceof AlphaBeta || rule instanceof Gamma || rule instanceof ZBox) {
            d = s.c;
            dn = twoSided ? s.d : null;
        } else {
            d = fixedD;
            stride = 0;
        }
        Health.addStabilizer(be, s.a, d, stride, rows, out, eps, into, row0);
        if (dn != null) {
            Health.addStabilizer(be, s.b, dn, out, rows, out, eps, into, row0);
        }
    }

    /** {@link #zboxBias} repeated for {@code rows} rows (grown on demand, kept with the weights). */
    private Buffer zboxBiasRows(int rows) {
        if (zboxBiasRows == null || zboxBiasRows.length() < rows * out) {
            if (zboxBiasRows != null) {
                owned.remove(zboxBiasRows);
                zboxBiasRows.close();
            }
            float[] h = new float[rows * out];
            for (int b = 0; b < rows; b++) {
                System.arraycopy(zboxBias, 0, h, b * out, out);
            }
            zboxBiasRows = keep(be.upload(h));
        }
        return zboxBiasRows;
    }

    /** Weight floats held on the backend, for memory estimates. */
    long deviceFloats() {
        long n = 0;
        for (Buffer b : owned) {
            n += b.length();
        }
        return n;
    }

    void close() {
        for (Buffer b : owned) {
            b.close();
        }
        owned.clear();
    }

    /** Per-batch scratch buffers of [rows, maxOut], shared by all layers. */
    static final class Scratch {
        Buffer a;
        Buffer b;
        Buffer c;
        Buffer d;
        /** [rows, 2*maxOut], only where a step takes the stacked shortcut. */
        Buffer e;
    }
}
