package org.gpulrp.composite;

import org.gpulrp.InvalidArgumentException;
import org.gpulrp.model.LayerKind;

/** Selects layers for a composite entry. */
@FunctionalInterface
public interface LayerMatcher {
    boolean matches(LayerContext layer);

    /** What it matches, for {@code info} listings. */
    default String describe() {
        return "custom";
    }

    static LayerMatcher name(String name) {
        InvalidArgumentException.check(name != null, "name", "must not be null");
        return new Named(l -> l.name().equals(name), "name=" + name);
    }

    static LayerMatcher kind(LayerKind kind) {
        InvalidArgumentException.check(kind != null, "kind", "must not be null");
        return new Named(l -> l.kind() == kind, "kind=" + kind);
    }

    /**
     * Linear layers with index in {@code [from, to)}, counted from the input (0 = first). To count from the output
     * end, use {@link #lastLayers(int)}.
     */
    static LayerMatcher range(int from, int to) {
        InvalidArgumentException.check(from >= 0 && to > from, "range", "need 0 <= from < to, got [" + from + ", "
                + to + ")");
        return new Named(l -> l.linearIndex() >= from && l.linearIndex() < to, "index in [" + from + "," + to + ")");
    }

    /** The last {@code n} linear layers (closest to the output). */
    static LayerMatcher lastLayers(int n) {
        InvalidArgumentException.check(n > 0, "n", "must be > 0, got " + n);
        return new Named(l -> l.linearIndex() >= l.linearCount() - n, "last " + n);
    }

    /** The first linear layer (closest to the input). */
    static LayerMatcher first() {
        return new Named(LayerContext::isFirst, "first");
    }

    /** The first linear layer of one kind (e.g. the first convolution), closest to the input. */
    static LayerMatcher firstOf(LayerKind kind) {
        InvalidArgumentException.check(kind != null && kind.isLinear(), "kind", "must be a linear kind, got " + kind);
        return new Named(l -> l.kind() == kind && l.kindIndex() == 0,
                "first " + kind.name().toLowerCase(java.util.Locale.ROOT));
    }

    /** Every linear layer. */
    static LayerMatcher any() {
        return new Named(l -> true, "any");
    }

    /** Linear layers whose relative depth {@code index / count} lies in {@code [from, to)}. */
    static LayerMatcher depth(double from, double to) {
        InvalidArgumentException.check(from >= 0 && to > from && to <= 1.0 + 1e-9, "depth",
                "need 0 <= from < to <= 1, got [" + from + ", " + to + ")");
        return new Named(l -> {
            double d = (double) l.linearIndex() / l.linearCount();
            return d >= from && d < to;
        }, "depth in [" + from + "," + to + ")");
    }

    /** A matcher with a description. */
    record Named(LayerMatcher inner, String description) implements LayerMatcher {
        @Override
        public boolean matches(LayerContext layer) {
            return inner.matches(layer);
        }

        @Override
        public String describe() {
            return description;
        }
    }
}
