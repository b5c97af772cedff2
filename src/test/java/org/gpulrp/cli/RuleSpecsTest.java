package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.InvalidArgumentException;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.composite.LayerContext;
import org.gpulrp.model.LayerKind;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Rule and composite names as the command line spells them. */
class RuleSpecsTest {

    @Test
    void everyRuleNameWithAndWithoutParameters() {
        assertEquals(new Epsilon(), RuleSpecs.rule("epsilon"));
        assertEquals(new Epsilon(0.25f), RuleSpecs.rule("epsilon:0.25"));
        assertEquals(new Epsilon(0f), RuleSpecs.rule("epsilon:0"));
        assertEquals(new ZPlus(), RuleSpecs.rule("zplus"));
        assertEquals(new AlphaBeta(2, 1), RuleSpecs.rule("alpha-beta:2,1"));
        assertEquals(new Gamma(), RuleSpecs.rule("gamma"));
        assertEquals(new Gamma(0.5f), RuleSpecs.rule("gamma:0.5"));
        assertEquals(new ZBox(-3, 3), RuleSpecs.rule("zbox:-3,3"));
        assertEquals(new WSquare(), RuleSpecs.rule("wsquare"));
        assertEquals(new Flat(), RuleSpecs.rule(" Flat "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"lrp", "epsilon:", "epsilon:x", "epsilon:1,2", "epsilon:NaN", "epsilon:1f", "zplus:1",
        "alpha-beta", "alpha-beta:2", "alpha-beta:1,1", "alpha-beta:2,1,0", "gamma:-1", "zbox:3,-3", "zbox:1",
        "wsquare:2", "flat:0", "", "epsilon-plus"})
    void badRulesNameTheValidChoices(String spec) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> RuleSpecs.rule(spec));
        assertTrue(e.getMessage().contains(RuleSpecs.RULES), e.getMessage());
        assertEquals("rule", e.parameter());
    }

    @Test
    void compositesByName() {
        Composite box = RuleSpecs.composite("epsilon-gamma-box:-2,2");
        assertEquals(new Epsilon(), box.ruleFor(dense(0, 3)));
        assertEquals(new Epsilon(), box.ruleFor(dense(1, 3)));
        assertEquals(new Flat(), RuleSpecs.composite("epsilon-plus-flat").ruleFor(dense(0, 3)));
        assertEquals(new Flat(), RuleSpecs.composite("epsilon-alpha2-beta1-flat").ruleFor(dense(0, 3)));
        for (String name : new String[] {"epsilon-plus", "epsilon-alpha2-beta1"}) {
            Rule r = RuleSpecs.composite(name).ruleFor(dense(0, 3));
            assertEquals(new Epsilon(), r, name + " on a dense layer");
        }
        assertEquals(Composites.epsilonPlus().name(), RuleSpecs.composite("epsilon-plus").name());
        // As Zennit: ZBox on the first convolution only; dense layers Epsilon, also the first one.
        Composite box2 = RuleSpecs.composite("epsilon-gamma-box:-1,1,0.5");
        assertEquals(new Epsilon(), box2.ruleFor(dense(0, 3)));
        LayerContext conv0 = new LayerContext("c0", LayerKind.CONV, 1, 3, 4, 0);
        LayerContext conv1 = new LayerContext("c1", LayerKind.CONV, 2, 3, 4, 1);
        assertEquals(new ZBox(-1, 1), box2.ruleFor(conv0));
        assertEquals(new Gamma(0.5f), box2.ruleFor(conv1));
        assertEquals(new Flat(), RuleSpecs.composite("epsilon-plus-flat").ruleFor(dense(0, 3)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"epsilon", "zplus", "epsilon-plus:1", "epsilon-gamma-box", "epsilon-gamma-box:1",
        "epsilon-gamma-box:1,2,3,4", "epsilon-gamma-box:2,1", "epsilon-gamma-box:a,b", "eps-plus"})
    void badCompositesNameTheValidChoices(String spec) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> RuleSpecs.composite(spec));
        assertTrue(e.getMessage().contains(RuleSpecs.COMPOSITES), e.getMessage());
        assertEquals("composite", e.parameter());
    }

    private static LayerContext dense(int index, int count) {
        return new LayerContext("fc" + index, LayerKind.DENSE, index, count, 4);
    }
}
