package org.gpulrp.cli;

import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.composite.ConvBias;
import org.gpulrp.rules.Rule;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The rule options every command that explains takes (mixed in with {@code @Mixin}): {@code --composite} or
 * {@code --rule} (one of them; picocli enforces it), {@code --first-rule} on top, and {@code --conv-bias}.
 */
final class RuleOptions {
    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private Choice choice;

    @Option(names = "--first-rule", paramLabel = "NAME[:P,..]", converter = Converters.RuleSpec.class,
            description = "This rule on the first linear layer (dense or convolution), over the composite's choice; "
                    + "e.g. zbox:-3,3 on the first dense layer of a tabular model.")
    private Rule firstRule;

    @Option(names = "--conv-bias", paramLabel = "rule|zennit", converter = ConvBiasName.class,
            defaultValue = "rule", description = "rule (default): the rules modify a convolution's bias like its "
                    + "weights. zennit: the bias enters every modified pass unchanged, as Zennit computes for "
                    + "convolutions built with bias=False whose BatchNorm it merged (torchvision ResNets); use it to "
                    + "reproduce Zennit's numbers on such models.")
    private ConvBias convBias = ConvBias.RULE;

    /** {@code --composite NAME[:params]} or {@code --rule NAME[:params]}. */
    static final class Choice {
        @Option(names = "--composite", paramLabel = "NAME[:P,..]", converter = Converters.CompositeSpec.class,
                description = "A rule preset, as Zennit defines it: " + RuleSpecs.COMPOSITES
                        + ". Default: epsilon on every layer.")
        private Composite composite;

        @Option(names = "--rule", paramLabel = "NAME[:P,..]", converter = Converters.RuleSpec.class,
                description = "One rule for every linear layer: " + RuleSpecs.RULES + ".")
        private Rule rule;
    }

    /** The chosen composite with {@code --first-rule} and {@code --conv-bias} applied. */
    Composite composite() {
        Composite c = choice == null ? Composites.epsilon()
                : choice.composite != null ? choice.composite : Composite.uniform(choice.rule);
        if (firstRule != null) {
            c = c.withFirst(firstRule);
        }
        return c.withConvBias(convBias);
    }

    /** {@code rule} or {@code zennit}. */
    static final class ConvBiasName implements ITypeConverter<ConvBias> {
        @Override
        public ConvBias convert(String v) {
            for (ConvBias b : ConvBias.values()) {
                if (b.spelling().equals(v.strip())) {
                    return b;
                }
            }
            throw new TypeConversionException("'" + v + "' is not a convolution bias mode (valid: rule, zennit)");
        }
    }
}
