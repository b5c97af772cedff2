package org.gpulrp.cli;

import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.rules.Rule;
import picocli.CommandLine.Option;

/** {@code --composite NAME[:params]} or {@code --rule NAME[:params]} (one of them; picocli enforces it). */
final class RuleOptions {
    @Option(names = "--composite", paramLabel = "NAME[:P,..]", converter = Converters.CompositeSpec.class,
            description = "A rule preset: " + RuleSpecs.COMPOSITES + ". Default: epsilon on every layer.")
    private Composite composite;

    @Option(names = "--rule", paramLabel = "NAME[:P,..]", converter = Converters.RuleSpec.class,
            description = "One rule for every linear layer: " + RuleSpecs.RULES + ".")
    private Rule rule;

    /** The chosen composite; {@code group} is null when neither option was given. */
    static Composite of(RuleOptions group) {
        if (group == null) {
            return Composites.epsilon();
        }
        return group.composite != null ? group.composite : Composite.uniform(group.rule);
    }
}
