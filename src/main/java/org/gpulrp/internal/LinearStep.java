package org.gpulrp.internal;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.ZBox;

/**
 * A linear layer (dense or convolution) prepared for one rule: the weight and the variants the rule needs live on
 * the backend for the life of the prepared model. The step is the layer's geometry; the rule's math is its
 * {@link LinearPlan} (one per rule family, chosen by {@link LinearPlan#forRule}), which derives its variants from
 * the uploaded weights through {@link #keep} and runs the relevance pass on the step's primitives. Subclasses supply
 * the layer's own primitives and weight layouts ({@code w} for the backprojection, {@code wt} for the forward map:
 * the transpose for dense layers, the same buffer for convolutions).
 */
abstract class LinearStep {
    final String name;
    /**
     * Features per row of the map in and out; a sample is {@link #positions} such rows (a token-wise dense layer),
     * so a pass over {@code rows} samples runs the map's primitives over {@code rows * positions} rows.
     */
    final int in;
    final int out;
    /** Rows of the map per sample: 1, or a token-wise dense layer's positions. */
    final int positions;
    protected final Backend be;
    private final List<Buffer> owned = new ArrayList<>();
    private final LinearPlan plan;

    /** The weight in its backprojection layout and in its forward layout (may be the same buffer); bias [channels]. */
    protected Buffer w;
    protected Buffer wt;
    protected Buffer bias;
    /**
     * Zennit's treatment of a merged-BatchNorm bias ({@link org.gpulrp.composite.ConvBias#ZENNIT}): the bias enters
     * every modified forward pass unchanged.
     */
    final boolean rawBias;

    /** Chooses the rule's plan, refusing before anything is allocated a rule that cannot run on this layer. */
    LinearStep(Backend be, String name, int in, int out, Rule rule, int channels, boolean rawBias) {
        this(be, name, 1, in, out, rule, channels, rawBias);
    }

    /** As above, for a map applied at {@code positions} rows of each sample. */
    LinearStep(Backend be, String name, int positions, int in, int out, Rule rule, int channels, boolean rawBias) {
        this.be = be;
        this.name = name;
        this.positions = positions;
        this.in = in;
        this.out = out;
        this.rawBias = rawBias;
        this.plan = LinearPlan.forRule(rule, name, in, channels);
    }

    /** Uploads the weights and prepares the rule; subclass constructors call it last. Releases all on failure. */
    protected final void prepare(float[] wf, float[] bf) {
        try {
            uploadWeights(wf);
            prepareWeights(Use.FORWARD, wt);
            this.bias = keep(be.upload(bf));
            plan.prepare(this, wf, bf);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Sets {@link #w} and {@link #wt} (through {@link #keep}). */
    protected abstract void uploadWeights(float[] wf);

    /**
     * The step's maps a weight buffer (or a pair or triple of them, in the map's argument order) is passed to: what
     * {@link #prepareWeights} prepares it for.
     */
    enum Use {
        /** {@link #forwardMap}. */
        FORWARD,
        /** {@link #forwardSigned} with both outputs. */
        FORWARD_SIGNED,
        /** {@link #forwardSigned} without the negative output. */
        FORWARD_SIGNED_P,
        /** {@link #forwardZBox}. */
        FORWARD_ZBOX,
        /** {@link #backprojectMap}. */
        BACKPROJECT,
        /** {@link #backprojectSignedMap}. */
        BACKPROJECT_SIGNED,
        /** {@link #backprojectZBoxMap}: {@code (w, wpos, wneg)}. */
        BACKPROJECT_ZBOX,
        /** {@link #backprojectStacked}. */
        BACKPROJECT_STACKED
    }

    /**
     * Asks the backend, once, at build time, to prepare {@code weights} for {@code use} (docs/DESIGN.md section 4.1,
     * "prepared weights"): the step and its plan call it right after they made the buffers, for every map they will
     * pass them to. The backend keeps the layouts with the buffers (closed with the step, through {@link #keep}) and
     * seals them. The default prepares nothing.
     */
    protected void prepareWeights(Use use, Buffer... weights) {
    }

    /** Same-layout variants: {@code wt} is {@code w} for convolutions, so one derivation serves both. */
    final boolean sharedLayout() {
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

    protected abstract void forwardSigned(Buffer x, Buffer wpFwd, Buffer wnFwd, Buffer bp, Buffer bn, Buffer p,
                                          Buffer n, int rows);

    protected abstract void forwardZBox(Buffer x, Buffer wFwd, Buffer lo, Buffer hi, Buffer d, int rows);

    protected abstract void backprojectMap(Buffer g, Buffer wBwd, Buffer x, Buffer r, int rows);

    protected abstract void backprojectSignedMap(Buffer hp, Buffer hn, Buffer wp, Buffer wn, Buffer x, Buffer r,
                                                 int rows);

    protected abstract void backprojectZBoxMap(Buffer g, Buffer wBwd, Buffer wp, Buffer wn, Buffer x, Buffer lo,
                                               Buffer hi, Buffer r, int rows);

    /** Whether {@link #backprojectStacked} can run (weights stack along the outputs as a plain array concat). */
    protected abstract boolean canStack();

    /** Backprojection of {@code g} [rows, 2*out] through {@code w} stacked to 2*out output features. */
    protected abstract void backprojectStacked(Buffer g, Buffer wStacked, Buffer x, Buffer r, int rows);

    /** Takes {@code b} into the step's keeping: it is closed with the step. */
    final Buffer keep(Buffer b) {
        owned.add(b);
        return b;
    }

    /** Closes a buffer taken by {@link #keep} before the step closes. */
    final void release(Buffer b) {
        owned.remove(b);
        b.close();
    }

    /**
     * Tells the step that its input is non-negative by construction, decided from the graph; the plan may take a
     * shortcut for it (see {@link SignSplitPlan#inputNonNegative}).
     */
    void inputNonNegative(boolean nonNegative) {
        plan.inputNonNegative(this, nonNegative);
    }

    /** Whether the relevance pass takes the two-sided (stacked) shortcut (it needs {@link Scratch#stackedSignal}). */
    boolean stackShortcut() {
        return plan.stackShortcut();
    }

    /** Whether the relevance pass takes the non-negative-input shortcut (for tests). */
    boolean plusShortcut() {
        return plan.plusShortcut();
    }

    /** Forward over {@code rows} samples: the layer's linear map with its bias at each of their positions. */
    void forward(Buffer x, Buffer z, int rows) {
        forwardMap(x, wt, bias, z, rows * positions);
    }

    /**
     * Relevance from this layer's output ({@code r}, [rows,positions*out]) to its input ({@code rIn},
     * [rows,positions*in]) over {@code rows} samples; {@code x} is the layer's input, {@code z} its forward output;
     * {@code s} holds the per-batch scratch buffers. The plan sees the map's rows ({@code rows * positions}): every
     * rule acts on each position as on a sample of its own.
     */
    void backward(Buffer x, Buffer z, Buffer r, Buffer rIn, Scratch s, int rows) {
        plan.backward(this, x, z, r, rIn, s, rows * positions);
    }

    /**
     * After {@link #backward}, over the same {@code rows} samples: the relevance the stabilizer absorbed, per sample
     * (summed over its positions); see {@link LinearPlan#stabilizerShare}.
     */
    void stabilizerShare(Buffer z, Scratch s, int rows, double[] into, int row0) {
        plan.stabilizerShare(this, z, s, rows, into, row0);
    }

    void close() {
        for (Buffer b : owned) {
            b.close();
        }
        owned.clear();
    }

    /**
     * Per-batch scratch buffers of [rows, maxOut], shared by all layers, by role in a relevance pass: the
     * denominators of the (positive) pass and of the negative pass, and the normalized signals
     * {@code g = R / stab(D)} against them.
     */
    static final class Scratch {
        /** The normalized signal, {@code g} or {@code hp}. */
        Buffer signal;
        /** The normalized signal of the negative pass, {@code hn}. */
        Buffer signalNeg;
        /** The denominator {@code D} or {@code P} where it is not the forward output. */
        Buffer denominator;
        /** The denominator {@code N} of the negative pass. */
        Buffer denominatorNeg;
        /** {@code [hp; hn]} per row, [rows, 2*maxOut], only where a step takes the stacked shortcut. */
        Buffer stackedSignal;
    }
}
