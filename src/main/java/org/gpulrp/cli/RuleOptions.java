package org.gpulrp.cli;

import java.util.Arrays;
import java.util.List;
import org.gpulrp.composite.Attention;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.composite.ConvBias;
import org.gpulrp.composite.Products;
import org.gpulrp.io.image.Preprocess;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.ZBox;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * The rule options every command that explains takes (mixed in with {@code @Mixin}): {@code --composite} or
 * {@code --rule} (one of them; picocli enforces it), {@code --first-rule} on top, {@code --conv-bias} and
 * {@code --products}. A
 * {@code zbox} or {@code epsilon-gamma-box} written without bounds gets them from the input preprocessing
 * ({@link #composite(Preprocess)}).
 */
final class RuleOptions {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private Choice choice;

    @Option(names = "--first-rule", paramLabel = "NAME[:P,..]", converter = Converters.RuleSpec.class,
            description = "This rule on the first linear layer (dense or convolution), over the composite's choice; "
                    + "e.g. zbox:-3,3 on the first dense layer of a tabular model, or zbox alone for bounds from "
                    + "the preprocessing.")
    private RuleSpecs.Parsed<Rule> firstRule;

    @Option(names = "--conv-bias", paramLabel = "rule|zennit", converter = ConvBiasName.class,
            defaultValue = "rule", description = "rule (default): the rules modify a convolution's bias like its "
                    + "weights. zennit: the bias enters every modified pass unchanged, as Zennit computes for "
                    + "convolutions built with bias=False whose BatchNorm it merged (torchvision ResNets); use it to "
                    + "reproduce Zennit's numbers on such models.")
    private ConvBias convBias = ConvBias.RULE;

    @Option(names = "--products", paramLabel = "gradient|constant-gate|uniform", converter = ProductsName.class,
            description = "How relevance crosses a product of two activations (a squeeze-and-excitation gate, a "
                    + "gated MLP), over the composite's choice. gradient (the default of every composite but "
                    + "attnlrp, cp-lrp and attnlrp-vit): the relevance times the product's gradient, Zennit's answer "
                    + "for an operation without a rule (not conserving). constant-gate (cp-lrp's): the gate is a "
                    + "constant and all relevance goes to the gated activation (conserving). uniform (attnlrp's): "
                    + "half of the epsilon-stabilized relevance to each factor.")
    private Products products;

    @Option(names = "--attention", paramLabel = "attnlrp|cp-lrp", converter = AttentionName.class,
            description = "How relevance crosses a transformer's attention, over the composite's choice. attnlrp "
                    + "(the default of every composite but cp-lrp and attnlrp-vit): the softmax by input times "
                    + "gradient, matrix products half to each operand. cp-lrp: the attention weights are constants, "
                    + "so the softmax passes nothing and all relevance goes to the values.")
    private Attention attention;

    @Option(names = "--stabilizer", paramLabel = "EPS", description = "The stabilizer of the steps without a rule "
            + "of their own: residual additions, products of activations, layer norms, attention's matrix "
            + "products, constant scales and shifts, average pooling (default 1e-6). With --rule epsilon:1e-30, "
            + "--stabilizer 1e-30 computes what LXT's Gradient*Input does.")
    private Float stabilizer;

    /** {@code --composite NAME[:params]} or {@code --rule NAME[:params]}. */
    static final class Choice {
        @Option(names = "--composite", paramLabel = "NAME[:P,..]", converter = Converters.CompositeSpec.class,
                description = "A rule preset, as Zennit defines it: " + RuleSpecs.COMPOSITES
                        + ". Default: epsilon on every layer. ZBox bounds: one LOW,HIGH for all inputs, "
                        + "L1:L2:L3,H1:H2:H3 per channel, or none: pixels in [0, 1] through the normalization of "
                        + "--preprocess, --mean, --std.")
        private RuleSpecs.Parsed<Composite> composite;

        @Option(names = "--rule", paramLabel = "NAME[:P,..]", converter = Converters.RuleSpec.class,
                description = "One rule for every linear layer: " + RuleSpecs.RULES + ".")
        private RuleSpecs.Parsed<Rule> rule;
    }

    /** Whether a rule or composite was written without its ZBox bounds, to be derived from the preprocessing. */
    boolean needsBounds() {
        return needing() != null;
    }

    /**
     * The chosen composite with {@code --first-rule}, {@code --conv-bias}, {@code --products}, {@code --attention} and
     * {@code --stabilizer} applied; a ZBox written without bounds gets {@link #derivedBox(Preprocess)}.
     *
     * @param preprocessOrNull the input preprocessing, or null when none is known (a .npy or .csv input without
     *                         {@code --preprocess}, {@code --mean} or {@code --std})
     * @throws ParameterException when bounds are needed and {@code preprocessOrNull} is null
     */
    Composite composite(Preprocess preprocessOrNull) {
        String option = needing();
        if (option != null && preprocessOrNull == null) {
            RuleSpecs.Parsed<?> p = option.equals("--first-rule") ? firstRule
                    : choice.composite != null ? choice.composite : choice.rule;
            String name = p.spec().strip();
            throw new ParameterException(mixee.commandLine(), option + " " + name + ": no ZBox bounds given and "
                    + "none to derive, as no image preprocessing is known (a .npy or .csv input, and no --preprocess,"
                    + " --mean or --std); give the bounds, " + name + ":LOW,HIGH or " + name + ":L1:L2:..,H1:H2:.. "
                    + "(one per channel), or the preprocessing whose normalization of [0, 1] gives them "
                    + "(--preprocess none|imagenet, --mean, --std) (valid "
                    + (option.equals("--composite") ? "composites: " + RuleSpecs.COMPOSITES
                    : "rules: " + RuleSpecs.RULES) + ")");
        }
        ZBox box = option == null ? null : derivedBox(preprocessOrNull);
        Composite c = choice == null ? Composites.epsilon()
                : choice.composite != null ? choice.composite.resolve(box)
                : Composite.uniform(choice.rule.resolve(box));
        if (firstRule != null) {
            c = c.withFirst(firstRule.resolve(box));
        }
        c = c.withConvBias(convBias);
        if (products != null) {
            c = c.withProducts(products);
        }
        if (stabilizer != null) {
            try {
                c = c.withStabilizer(stabilizer);
            } catch (org.gpulrp.InvalidArgumentException e) {
                throw new ParameterException(mixee.commandLine(), "--stabilizer " + stabilizer + ": must be a finite "
                        + "number >= 0");
            }
        }
        return attention == null ? c : c.withAttention(attention);
    }

    /** The ZBox whose bounds are the preprocessing's {@link Preprocess#inputRange() input range}. */
    static ZBox derivedBox(Preprocess p) {
        Preprocess.Range r = p.inputRange();
        return new ZBox(r.low(), r.high(), Rule.DEFAULT_EPSILON);
    }

    /**
     * One line saying the derived bounds and where they come from, for {@code --verbose}, e.g. {@code zbox bounds per
     * channel: low [...], high [...] (from --preprocess imagenet)}.
     */
    static String describeDerived(Preprocess p, String source) {
        Preprocess.Range r = p.inputRange();
        return "zbox bounds " + (r.low().length == 1 ? "for every channel" : "per channel") + ": low "
                + Arrays.toString(r.low()) + ", high " + Arrays.toString(r.high()) + " (from " + source + ")";
    }

    /** The first option whose spec waits for ZBox bounds, or null. */
    private String needing() {
        if (choice != null && choice.composite != null && choice.composite.needsBounds()) {
            return "--composite";
        }
        if (choice != null && choice.rule != null && choice.rule.needsBounds()) {
            return "--rule";
        }
        return firstRule != null && firstRule.needsBounds() ? "--first-rule" : null;
    }

    /** {@code rule} or {@code zennit}. */
    /** Reads an enum by its {@code spelling()}, naming the valid spellings when none matches. */
    private static <E extends Enum<E>> E bySpelling(Class<E> type, String v, java.util.function.Function<E, String>
            spelling, String what) {
        List<String> valid = new java.util.ArrayList<>();
        for (E e : type.getEnumConstants()) {
            if (spelling.apply(e).equals(v.strip())) {
                return e;
            }
            valid.add(spelling.apply(e));
        }
        throw new TypeConversionException("'" + v + "' is not " + what + " (valid: " + String.join(", ", valid)
                + ")");
    }

    static final class ConvBiasName implements ITypeConverter<ConvBias> {
        @Override
        public ConvBias convert(String v) {
            return bySpelling(ConvBias.class, v, ConvBias::spelling, "a convolution bias mode");
        }
    }

    static final class ProductsName implements ITypeConverter<Products> {
        @Override
        public Products convert(String v) {
            return bySpelling(Products.class, v, Products::spelling, "a products mode");
        }
    }

    static final class AttentionName implements ITypeConverter<Attention> {
        @Override
        public Attention convert(String v) {
            return bySpelling(Attention.class, v, Attention::spelling, "an attention mode");
        }
    }
}
