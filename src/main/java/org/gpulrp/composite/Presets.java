package org.gpulrp.composite;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.LrpException;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;

/**
 * Rules and composites by name, {@code NAME[:P1,P2,...]}, as the command line, the Spark module and the benchmarks
 * spell them: for example {@code epsilon:0.01}, {@code alpha-beta:2,1}, {@code epsilon-gamma-box:-3,3}. ZBox bounds
 * are one value for all inputs or several separated by colons, one per channel:
 * {@code zbox:-2.1:-2:-1.8,2.2:2.4:2.6}. Without bounds, {@code zbox} and {@code epsilon-gamma-box} take them from
 * the input preprocessing: {@link #parseRule} and {@link #parseComposite} return a {@link Parsed} that the caller
 * resolves once it knows the preprocessing. Errors are {@link InvalidArgumentException}s naming the valid choices.
 */
public final class Presets {
    /** The rule names with their parameters, for usage and error messages. */
    public static final String RULES = "epsilon[:EPS], zplus, alpha-beta:A,B, gamma[:G], "
            + "zbox[:LOW,HIGH | :L1:L2:..,H1:H2:..], wsquare, flat";
    /** The composite names with their parameters. */
    public static final String COMPOSITES = "epsilon-plus, epsilon-alpha2-beta1, epsilon-plus-flat, "
            + "epsilon-alpha2-beta1-flat, epsilon-gamma-box[:LOW,HIGH[,GAMMA] | :L1:L2:..,H1:H2:..[,GAMMA]], "
            + "attnlrp, cp-lrp, attnlrp-vit[:GAMMA]";
    /** The rule names of {@link #RULES} and the composite names of {@link #COMPOSITES}, bare. */
    private static final Set<String> RULE_NAMES = Set.of("epsilon", "zplus", "alpha-beta", "gamma", "zbox",
            "wsquare", "flat");
    private static final Set<String> COMPOSITE_NAMES = Set.of("epsilon-plus", "epsilon-alpha2-beta1",
            "epsilon-plus-flat", "epsilon-alpha2-beta1-flat", "epsilon-gamma-box", "attnlrp", "cp-lrp",
            "attnlrp-vit");
    /** How the ZBox bounds are written, for error messages. */
    static final String BOUNDS = "LOW,HIGH (one bound for all inputs), L1:L2:..,H1:H2:.. (one per channel), or "
            + "nothing (the bounds come from the input preprocessing)";

    private Presets() {
    }

    /**
     * Parses a rule spec such as {@code gamma:0.5}; throws {@link InvalidArgumentException} naming the choices, also
     * for a {@code zbox} without bounds (use {@link #parseRule} where the preprocessing can give them).
     */
    public static Rule rule(String spec) {
        return parseRule(spec).resolve(null);
    }

    /** Parses a composite spec such as {@code epsilon-gamma-box:-3,3}; as {@link #rule(String)}. */
    public static Composite composite(String spec) {
        return parseComposite(spec).resolve(null);
    }

    /** Parses a rule spec; {@code zbox} without parameters waits for its bounds (see {@link Parsed}). */
    public static Parsed<Rule> parseRule(String spec) {
        Spec s = split(spec, "rule", RULES);
        try {
            return switch (s.name) {
                case "epsilon" -> ready(s, s.count("rule", 0, 1) == 0 ? new Epsilon() : new Epsilon(s.p(0)));
                case "zplus" -> ready(s, none(s, new ZPlus()));
                case "alpha-beta" -> {
                    s.count("rule", 2, 2);
                    yield ready(s, new AlphaBeta(s.p(0), s.p(1)));
                }
                case "gamma" -> ready(s, s.count("rule", 0, 1) == 0 ? new Gamma() : new Gamma(s.p(0)));
                case "zbox" -> {
                    if (s.params.isEmpty()) {
                        yield new Parsed<>("rule", spec, null, box -> box);
                    }
                    s.count("rule", 2, 2);
                    yield ready(s, s.box());
                }
                case "wsquare" -> ready(s, none(s, new WSquare()));
                case "flat" -> ready(s, none(s, new Flat()));
                default -> throw new InvalidArgumentException("rule", "unknown rule '" + s.name
                        + "'; valid rules: " + RULES);
            };
        } catch (InvalidArgumentException e) {
            throw e.parameter().equals("rule") ? e : bad("rule", spec, e, RULES);
        }
    }

    /** Parses a composite spec; {@code epsilon-gamma-box} without parameters waits for its bounds. */
    public static Parsed<Composite> parseComposite(String spec) {
        Spec s = split(spec, "composite", COMPOSITES);
        try {
            return switch (s.name) {
                case "epsilon-plus" -> ready(s, none(s, Composites.epsilonPlus()));
                case "epsilon-alpha2-beta1" -> ready(s, none(s, Composites.epsilonAlpha2Beta1()));
                case "epsilon-plus-flat" -> ready(s, none(s, Composites.epsilonPlusFlat()));
                case "epsilon-alpha2-beta1-flat" -> ready(s, none(s, Composites.epsilonAlpha2Beta1Flat()));
                case "epsilon-gamma-box" -> {
                    if (s.params.isEmpty()) {
                        yield new Parsed<>("composite", spec, null, Composites::epsilonGammaBox);
                    }
                    if (s.params.size() == 1 || s.params.size() > 3) {
                        throw new InvalidArgumentException("composite", "'" + spec + "': epsilon-gamma-box takes "
                                + "0, 2 or 3 parameters (the bounds: " + BOUNDS + "; then an optional GAMMA), got "
                                + s.params.size() + " (valid composites: " + COMPOSITES + ")");
                    }
                    yield ready(s, s.params.size() == 2 ? Composites.epsilonGammaBox(s.box())
                            : Composites.epsilonGammaBox(s.box(), s.p(2)));
                }
                case "attnlrp" -> ready(s, none(s, Composites.attnLrp()));
                case "cp-lrp" -> ready(s, none(s, Composites.cpLrp()));
                case "attnlrp-vit" -> ready(s, s.count("composite", 0, 1) == 0 ? Composites.attnLrpVit()
                        : Composites.attnLrpVit(s.p(0)));
                default -> throw new InvalidArgumentException("composite", "unknown composite '" + s.name
                        + "'; valid composites: " + COMPOSITES);
            };
        } catch (InvalidArgumentException e) {
            throw e.parameter().equals("composite") ? e : bad("composite", spec, e, COMPOSITES);
        }
    }

    /**
     * A composite spec, or a rule spec meaning that rule on every linear layer (a composite named by the spec, so
     * {@code epsilon} is {@link Composites#epsilon()}); {@code epsilon-gamma-box} and {@code zbox} without parameters
     * wait for their bounds.
     */
    public static Parsed<Composite> parseCompositeOrRule(String spec) {
        String name = split(spec, "composite", COMPOSITES + "; or a rule: " + RULES).name;
        if (!RULE_NAMES.contains(name)) {
            if (!COMPOSITE_NAMES.contains(name)) {
                throw new InvalidArgumentException("composite", "unknown composite or rule '" + name
                        + "'; valid composites: " + COMPOSITES + "; valid rules: " + RULES);
            }
            return parseComposite(spec);
        }
        Parsed<Rule> r = parseRule(spec);
        String named = spec.strip();
        return new Parsed<>("rule", spec, r.needsBounds() ? null : Composite.of(named, r.resolve(null)),
                box -> Composite.of(named, r.resolve(box)));
    }

    /**
     * A parsed rule or composite: either ready, or a {@code zbox} / {@code epsilon-gamma-box} written without bounds,
     * which waits for the ZBox that the input preprocessing gives ({@link #resolve}).
     *
     * @param <T> {@link Rule} or {@link Composite}
     */
    public static final class Parsed<T> {
        private final String kind;
        private final String spec;
        private final T value;
        private final Function<ZBox, T> withBox;

        private Parsed(String kind, String spec, T value, Function<ZBox, T> withBox) {
            this.kind = kind;
            this.spec = spec;
            this.value = value;
            this.withBox = withBox;
        }

        /** The spec as written. */
        public String spec() {
            return spec;
        }

        /** Whether the ZBox bounds are still to be derived from the preprocessing. */
        public boolean needsBounds() {
            return value == null;
        }

        /**
         * The rule or composite, with {@code derived} as its ZBox when {@link #needsBounds()} (ignored otherwise).
         *
         * @throws InvalidArgumentException when the bounds are needed and {@code derived} is null
         */
        public T resolve(ZBox derived) {
            if (value != null) {
                return value;
            }
            if (derived == null) {
                throw new InvalidArgumentException(kind, "'" + spec + "': no ZBox bounds to derive here; give them "
                        + "as " + BOUNDS.substring(0, BOUNDS.indexOf(", or")) + " (valid " + kind + "s: "
                        + (kind.equals("rule") ? RULES : COMPOSITES) + ")");
            }
            return withBox.apply(derived);
        }
    }

    private static <T> Parsed<T> ready(Spec s, T value) {
        return new Parsed<>(s.kind, s.text, value, null);
    }

    private static InvalidArgumentException bad(String what, String spec, LrpException e, String choices) {
        return new InvalidArgumentException(what, "'" + spec + "': " + e.getMessage() + " (valid " + what + "s: "
                + choices + ")");
    }

    private static <T> T none(Spec s, T value) {
        s.count(s.kind, 0, 0);
        return value;
    }

    private static Spec split(String spec, String kind, String choices) {
        InvalidArgumentException.check(spec != null && !spec.isBlank(), kind, "is empty; valid " + kind + "s: "
                + choices);
        String t = spec.strip();
        int colon = t.indexOf(':');
        String name = (colon < 0 ? t : t.substring(0, colon)).strip().toLowerCase(Locale.ROOT);
        if (colon < 0) {
            return new Spec(kind, spec, name, List.of());
        }
        return new Spec(kind, spec, name, List.of(t.substring(colon + 1).split(",", -1)));
    }

    /** A parsed {@code NAME:params} with its parameters still as text. */
    private record Spec(String kind, String text, String name, List<String> params) {
        /** Checks the parameter count is in {@code [min, max]} and returns it. */
        int count(String what, int min, int max) {
            int n = params.size();
            if (n < min || n > max) {
                String want = max == 0 ? "takes no parameters" : min == max ? "takes " + min + " parameter"
                        + (min == 1 ? "" : "s") : "takes " + min + " to " + max + " parameters";
                throw new InvalidArgumentException(what, "'" + text + "': " + name + " " + want + ", got " + n
                        + " (valid " + what + "s: " + choices() + ")");
            }
            return n;
        }

        String choices() {
            return kind.equals("rule") ? RULES : COMPOSITES;
        }

        float p(int k) {
            String v = params.get(k).strip();
            return number(v, "parameter " + (k + 1) + " of " + name);
        }

        /** Parameters 1 and 2 as a ZBox: one bound each, or as many colon-separated bounds each (per channel). */
        ZBox box() {
            float[] low = values(0, "low");
            float[] high = values(1, "high");
            if (low.length != high.length) {
                throw new InvalidArgumentException(kind, "'" + text + "': " + name + " has " + low.length
                        + " low bound" + (low.length == 1 ? "" : "s") + " and " + high.length + " high bound"
                        + (high.length == 1 ? "" : "s") + "; give as many of each: " + BOUNDS + " (valid " + kind
                        + "s: " + choices() + ")");
            }
            return new ZBox(low, high, Rule.DEFAULT_EPSILON);
        }

        private float[] values(int k, String what) {
            String[] parts = params.get(k).split(":", -1);
            float[] out = new float[parts.length];
            for (int i = 0; i < parts.length; i++) {
                out[i] = number(parts[i].strip(), parts.length == 1 ? "parameter " + (k + 1) + " (" + what
                        + ") of " + name : what + " bound " + (i + 1) + " of " + name);
            }
            return out;
        }

        private float number(String v, String where) {
            float f;
            try {
                f = Float.parseFloat(v);
            } catch (NumberFormatException e) {
                f = Float.NaN;
            }
            if (!Float.isFinite(f) || v.matches(".*[fFdD]$")) {
                throw new InvalidArgumentException(kind, "'" + text + "': " + where + " is '" + v
                        + "', not a finite number (valid " + kind + "s: " + choices() + ")");
            }
            return f;
        }
    }
}
