package org.gpulrp.composite;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.model.LayerKind;
import org.gpulrp.rules.Pass;
import org.gpulrp.rules.Rule;

/**
 * Assigns a rule to each layer: entries are tried in order and the first match wins; every layer that is not dense
 * or a convolution gets {@link Pass} (the engine treats pooling and additions on its own terms, docs/DESIGN.md
 * section 2.5, and products, normalizations and attention by the composite's {@link Products} and
 * {@link Attention} modes, section 2.9). Composites are immutable: the {@code with...} methods return a new
 * composite whose new entry takes precedence over the existing ones. A linear layer that no entry matches gets the
 * fallback rule given to {@link #of} (Epsilon in the presets, LRP-0 in {@code montavon-2019}).
 */
public final class Composite {

    /** One rule for the layers a matcher selects. */
    public record Entry(LayerMatcher matcher, Rule rule) {
        public Entry {
            InvalidArgumentException.check(matcher != null, "matcher", "must not be null");
            InvalidArgumentException.check(rule != null, "rule", "must not be null");
        }
    }

    private final String name;
    private final List<Entry> entries;
    private final Rule fallback;
    private final ConvBias convBias;
    private final Products products;
    private final Attention attention;
    private final float stabilizer;

    private Composite(String name, List<Entry> entries, Rule fallback, ConvBias convBias, Products products,
                      Attention attention, float stabilizer) {
        this.name = name;
        this.entries = List.copyOf(entries);
        this.fallback = fallback;
        this.convBias = convBias;
        this.products = products;
        this.attention = attention;
        this.stabilizer = stabilizer;
    }

    /** An empty composite: every linear layer gets {@code fallback}. */
    public static Composite of(String name, Rule fallback) {
        InvalidArgumentException.check(fallback != null, "fallback", "must not be null");
        return new Composite(name, List.of(), fallback, ConvBias.RULE, Products.GRADIENT, Attention.ATTNLRP,
                Rule.DEFAULT_EPSILON);
    }

    /** The same rule on every linear layer. */
    public static Composite uniform(Rule rule) {
        return of(rule.describe(), rule);
    }

    public String name() {
        return name;
    }

    public List<Entry> entries() {
        return entries;
    }

    public Rule fallback() {
        return fallback;
    }

    /** A new composite with {@code rule} for layers matching {@code matcher}, ahead of the existing entries. */
    public Composite with(LayerMatcher matcher, Rule rule) {
        List<Entry> e = new ArrayList<>();
        e.add(new Entry(matcher, rule));
        e.addAll(entries);
        return new Composite(name, e, fallback, convBias, products, attention, stabilizer);
    }

    /** Appends an entry after the existing ones (lower precedence); for building presets. */
    public Composite thenWith(LayerMatcher matcher, Rule rule) {
        List<Entry> e = new ArrayList<>(entries);
        e.add(new Entry(matcher, rule));
        return new Composite(name, e, fallback, convBias, products, attention, stabilizer);
    }

    public Composite withName(String layerName, Rule rule) {
        return with(LayerMatcher.name(layerName), rule);
    }

    public Composite withKind(LayerKind kind, Rule rule) {
        return with(LayerMatcher.kind(kind), rule);
    }

    /** Linear layers with index in {@code [from, to)}, 0 = closest to the input. */
    public Composite withRange(int from, int to, Rule rule) {
        return with(LayerMatcher.range(from, to), rule);
    }

    public Composite withFirst(Rule rule) {
        return with(LayerMatcher.first(), rule);
    }

    public Composite named(String newName) {
        return new Composite(newName, entries, fallback, convBias, products, attention, stabilizer);
    }

    /** How the rules of this composite treat the biases of convolutions (see {@link ConvBias}). */
    public ConvBias convBias() {
        return convBias;
    }

    /** The same composite with the given treatment of convolution biases. */
    public Composite withConvBias(ConvBias mode) {
        InvalidArgumentException.check(mode != null, "convBias", "must not be null");
        return new Composite(name, entries, fallback, mode, products, attention, stabilizer);
    }

    /** How relevance crosses products of two activations (see {@link Products}). */
    public Products products() {
        return products;
    }

    /** The same composite with the given treatment of products of two activations. */
    public Composite withProducts(Products mode) {
        InvalidArgumentException.check(mode != null, "products", "must not be null");
        return new Composite(name, entries, fallback, convBias, mode, attention, stabilizer);
    }

    /** How relevance crosses attention, its softmax and its matrix products (see {@link Attention}). */
    public Attention attention() {
        return attention;
    }

    /** The same composite with the given treatment of attention (default {@link Attention#ATTNLRP}). */
    public Composite withAttention(Attention mode) {
        InvalidArgumentException.check(mode != null, "attention", "must not be null");
        return new Composite(name, entries, fallback, convBias, products, mode, stabilizer);
    }

    /**
     * The stabilizer of the steps that have no rule of their own (docs/DESIGN.md section 2.1): residual additions,
     * products of two activations, constant scales and shifts, layer norms, matrix products of activations, average
     * pooling and BatchNorms left standing; {@link Rule#DEFAULT_EPSILON} unless set. The linear layers take their
     * rules' own.
     */
    public float stabilizer() {
        return stabilizer;
    }

    /**
     * The same composite with the given stabilizer for the steps without a rule ({@link #stabilizer()}): e.g. 1e-30,
     * with {@code epsilon:1e-30} on the linear layers, to compare with LXT's Gradient*Input, which has none.
     */
    public Composite withStabilizer(float eps) {
        InvalidArgumentException.check(Float.isFinite(eps) && eps >= 0, "stabilizer",
                "must be finite and >= 0, got " + eps);
        return new Composite(name, entries, fallback, convBias, products, attention, eps);
    }

    /** The rule of every node of {@code network}, in node (forward) order: the one place rules are assigned. */
    public List<Rule> rules(org.gpulrp.model.Network network) {
        return LayerContext.of(network).stream().map(this::ruleFor).toList();
    }

    /** The rule for one layer; activations and identities always get Pass. */
    public Rule ruleFor(LayerContext layer) {
        if (!layer.kind().isLinear()) {
            return new Pass();
        }
        for (Entry e : entries) {
            if (e.matcher().matches(layer)) {
                return e.rule();
            }
        }
        return fallback;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name).append(" [");
        for (Entry e : entries) {
            sb.append(e.matcher().describe()).append(" -> ").append(e.rule().describe()).append("; ");
        }
        sb.append("otherwise ").append(fallback.describe());
        if (convBias != ConvBias.RULE) {
            sb.append("; convolution biases ").append(convBias.spelling());
        }
        for (String note : modeNotes()) {
            sb.append("; ").append(note);
        }
        return sb.append("]").toString();
    }

    /**
     * The products and attention modes and the stabilizer where they are not the defaults, e.g.
     * {@code "products uniform"}.
     */
    public java.util.List<String> modeNotes() {
        java.util.List<String> m = new java.util.ArrayList<>();
        if (products != Products.GRADIENT) {
            m.add("products " + products.spelling());
        }
        if (attention != Attention.ATTNLRP) {
            m.add("attention " + attention.spelling());
        }
        if (stabilizer != Rule.DEFAULT_EPSILON) {
            m.add("stabilizer " + stabilizer);
        }
        return m;
    }
}
