package org.gpulrp.cli;

import org.gpulrp.InvalidArgumentException;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Presets;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.ZBox;

/**
 * Rule and composite names as the command line spells them, {@code NAME[:P1,P2,...]}: the library's
 * {@link Presets}, which defines the names, their parameters and the error messages. Without bounds, {@code zbox}
 * and {@code epsilon-gamma-box} take them from the input preprocessing: {@link #parseRule} and
 * {@link #parseComposite} return a {@link Parsed} that the command resolves once it knows the preprocessing.
 */
public final class RuleSpecs {
    /** The rule names with their parameters, for usage and error messages. */
    public static final String RULES = Presets.RULES;
    /** The composite names with their parameters. */
    public static final String COMPOSITES = Presets.COMPOSITES;

    private RuleSpecs() {
    }

    /** {@link Presets#rule(String)}. */
    public static Rule rule(String spec) {
        return Presets.rule(spec);
    }

    /** {@link Presets#composite(String)}. */
    public static Composite composite(String spec) {
        return Presets.composite(spec);
    }

    /** {@link Presets#parseRule(String)}. */
    public static Parsed<Rule> parseRule(String spec) {
        return new Parsed<>(Presets.parseRule(spec));
    }

    /** {@link Presets#parseComposite(String)}. */
    public static Parsed<Composite> parseComposite(String spec) {
        return new Parsed<>(Presets.parseComposite(spec));
    }

    /**
     * A parsed rule or composite ({@link Presets.Parsed}): either ready, or a {@code zbox} / {@code epsilon-gamma-box}
     * written without bounds, which waits for the ZBox that the input preprocessing gives ({@link #resolve}).
     *
     * @param <T> {@link Rule} or {@link Composite}
     */
    public static final class Parsed<T> {
        private final Presets.Parsed<T> parsed;

        private Parsed(Presets.Parsed<T> parsed) {
            this.parsed = parsed;
        }

        /** The spec as written. */
        public String spec() {
            return parsed.spec();
        }

        /** Whether the ZBox bounds are still to be derived from the preprocessing. */
        public boolean needsBounds() {
            return parsed.needsBounds();
        }

        /**
         * The rule or composite, with {@code derived} as its ZBox when {@link #needsBounds()} (ignored otherwise).
         *
         * @throws InvalidArgumentException when the bounds are needed and {@code derived} is null
         */
        public T resolve(ZBox derived) {
            return parsed.resolve(derived);
        }
    }
}
