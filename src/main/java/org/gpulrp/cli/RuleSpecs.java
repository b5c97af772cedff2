package org.gpulrp.cli;

import java.util.List;
import java.util.Locale;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.LrpException;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;

/**
 * Rule and composite names as the command line spells them, {@code NAME[:P1,P2,...]}: for example
 * {@code epsilon:0.01}, {@code alpha-beta:2,1}, {@code epsilon-gamma-box:-3,3}.
 */
public final class RuleSpecs {
    /** The rule names with their parameters, for usage and error messages. */
    public static final String RULES = "epsilon[:EPS], zplus, alpha-beta:A,B, gamma[:G], zbox:LOW,HIGH, wsquare, flat";
    /** The composite names with their parameters. */
    public static final String COMPOSITES = "epsilon-plus, epsilon-alpha2-beta1, epsilon-plus-flat, "
            + "epsilon-alpha2-beta1-flat, epsilon-gamma-box:LOW,HIGH[,GAMMA]";

    private RuleSpecs() {
    }

    /** Parses a rule spec such as {@code gamma:0.5}; throws {@link InvalidArgumentException} naming the choices. */
    public static Rule rule(String spec) {
        Spec s = split(spec, "rule", RULES);
        try {
            return switch (s.name) {
                case "epsilon" -> s.count("rule", 0, 1) == 0 ? new Epsilon() : new Epsilon(s.p(0));
                case "zplus" -> none(s, new ZPlus());
                case "alpha-beta" -> {
                    s.count("rule", 2, 2);
                    yield new AlphaBeta(s.p(0), s.p(1));
                }
                case "gamma" -> s.count("rule", 0, 1) == 0 ? new Gamma() : new Gamma(s.p(0));
                case "zbox" -> {
                    s.count("rule", 2, 2);
                    yield new ZBox(s.p(0), s.p(1));
                }
                case "wsquare" -> none(s, new WSquare());
                case "flat" -> none(s, new Flat());
                default -> throw new InvalidArgumentException("rule", "unknown rule '" + s.name
                        + "'; valid rules: " + RULES);
            };
        } catch (InvalidArgumentException e) {
            throw e.parameter().equals("rule") ? e : bad("rule", spec, e, RULES);
        }
    }

    /** Parses a composite spec such as {@code epsilon-gamma-box:-3,3}. */
    public static Composite composite(String spec) {
        Spec s = split(spec, "composite", COMPOSITES);
        try {
            return switch (s.name) {
                case "epsilon-plus" -> none(s, Composites.epsilonPlus());
                case "epsilon-alpha2-beta1" -> none(s, Composites.epsilonAlpha2Beta1());
                case "epsilon-plus-flat" -> none(s, Composites.epsilonPlusFlat());
                case "epsilon-alpha2-beta1-flat" -> none(s, Composites.epsilonAlpha2Beta1Flat());
                case "epsilon-gamma-box" -> s.count("composite", 2, 3) == 2
                        ? Composites.epsilonGammaBox(s.p(0), s.p(1))
                        : Composites.epsilonGammaBox(s.p(0), s.p(1), s.p(2));
                default -> throw new InvalidArgumentException("composite", "unknown composite '" + s.name
                        + "'; valid composites: " + COMPOSITES);
            };
        } catch (InvalidArgumentException e) {
            throw e.parameter().equals("composite") ? e : bad("composite", spec, e, COMPOSITES);
        }
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
            float f;
            try {
                f = Float.parseFloat(v);
            } catch (NumberFormatException e) {
                f = Float.NaN;
            }
            if (!Float.isFinite(f) || v.matches(".*[fFdD]$")) {
                throw new InvalidArgumentException(kind, "'" + text + "': parameter " + (k + 1) + " of " + name
                        + " is '" + v + "', not a finite number (valid " + kind + "s: " + choices() + ")");
            }
            return f;
        }
    }
}
