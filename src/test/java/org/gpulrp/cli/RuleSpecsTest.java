package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.InvalidArgumentException;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.composite.LayerContext;
import org.gpulrp.io.image.Preprocess;
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
        // The transformer composites: Epsilon on dense layers, Gamma for vision transformers.
        assertEquals(new Epsilon(), RuleSpecs.composite("attnlrp").ruleFor(dense(0, 3)));
        assertEquals(new Epsilon(), RuleSpecs.composite("cp-lrp").ruleFor(dense(2, 3)));
        assertEquals(new Gamma(0.25f), RuleSpecs.composite("attnlrp-vit").ruleFor(conv0));
        assertEquals(new Gamma(0.3f), RuleSpecs.composite("attnlrp-vit:0.3").ruleFor(dense(2, 3)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"epsilon", "zplus", "epsilon-plus:1", "epsilon-gamma-box", "epsilon-gamma-box:1",
        "epsilon-gamma-box:1,2,3,4", "epsilon-gamma-box:2,1", "epsilon-gamma-box:a,b", "eps-plus", "attnlrp:0.1",
        "cp-lrp:1", "attnlrp-vit:x", "attnlrp-vit:-0.5", "attnlrp-vit:1,2", "attnlrp-bert"})
    void badCompositesNameTheValidChoices(String spec) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> RuleSpecs.composite(spec));
        assertTrue(e.getMessage().contains(RuleSpecs.COMPOSITES), e.getMessage());
        assertEquals("composite", e.parameter());
    }

    @Test
    void perChannelZBoxBounds() {
        ZBox three = new ZBox(new float[] {-1f, -2.5f, -3f}, new float[] {1f, 2f, 3.25f}, Rule.DEFAULT_EPSILON);
        assertEquals(three, RuleSpecs.rule("zbox:-1:-2.5:-3,1:2:3.25"));
        assertEquals(three, RuleSpecs.rule("zbox: -1 : -2.5:-3 , 1:2:3.25 "));
        assertEquals(new ZBox(-3, 3), RuleSpecs.rule("zbox:-3,3"));
        Composite c = RuleSpecs.composite("epsilon-gamma-box:-1:-2.5:-3,1:2:3.25");
        assertEquals(three, c.ruleFor(conv(0, 3)));
        assertEquals(new Gamma(), c.ruleFor(conv(1, 3)));
        Composite g = RuleSpecs.composite("epsilon-gamma-box:-1:-2.5:-3,1:2:3.25,0.5");
        assertEquals(three, g.ruleFor(conv(0, 3)));
        assertEquals(new Gamma(0.5f), g.ruleFor(conv(1, 3)));
        assertEquals("zbox(low=[-1,-2.5,-3],high=[1,2,3.25])", three.describe());
        assertEquals("zbox(-3.0,3.0)", new ZBox(-3, 3).describe());
    }

    @ParameterizedTest
    @ValueSource(strings = {"zbox:1:2,3", "zbox:-1,2:3", "zbox:-1:-2:-3,1:2", "zbox:-1::-3,1:2:3",
        "zbox:-1:x:-3,1:2:3", "zbox:0:2,1:1", "zbox:-1:-2,1:2,3", "zbox:-1:-2", "zbox:1:NaN,2:3"})
    void badPerChannelRulesNameTheSpecAndTheForms(String spec) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> RuleSpecs.parseRule(spec));
        assertTrue(e.getMessage().contains(spec) && e.getMessage().contains(RuleSpecs.RULES), e.getMessage());
        assertEquals("rule", e.parameter());
    }

    @ParameterizedTest
    @ValueSource(strings = {"epsilon-gamma-box:1:2,3", "epsilon-gamma-box:-1,1:2", "epsilon-gamma-box:-1:-2",
        "epsilon-gamma-box:-1:-2,1:2,0.1:0.2", "epsilon-gamma-box:-1:-2,1:2,0.5,1", "epsilon-gamma-box:,"})
    void badPerChannelCompositesNameTheSpecAndTheForms(String spec) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> RuleSpecs.parseComposite(spec));
        assertTrue(e.getMessage().contains(spec) && e.getMessage().contains(RuleSpecs.COMPOSITES), e.getMessage());
        assertEquals("composite", e.parameter());
    }

    @Test
    void mismatchedCountsSayHowMany() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> RuleSpecs.rule("zbox:-1:-2:-3,1"));
        assertTrue(e.getMessage().contains("3 low bounds and 1 high bound"), e.getMessage());
    }

    @Test
    void withoutBoundsTheSpecWaitsForTheDerivedBox() {
        ZBox derived = RuleOptions.derivedBox(Preprocess.imagenet());
        RuleSpecs.Parsed<Rule> r = RuleSpecs.parseRule("zbox");
        assertTrue(r.needsBounds());
        assertEquals(derived, r.resolve(derived));
        RuleSpecs.Parsed<Composite> c = RuleSpecs.parseComposite("epsilon-gamma-box");
        assertTrue(c.needsBounds());
        Composite box = c.resolve(derived);
        assertEquals(derived, box.ruleFor(conv(0, 3)));
        assertEquals(new Gamma(), box.ruleFor(conv(1, 3)));
        assertEquals("epsilon-gamma-box", box.name());
        assertFalse(RuleSpecs.parseRule("zbox:0,1").needsBounds());
        assertFalse(RuleSpecs.parseComposite("epsilon-gamma-box:0,1").needsBounds());
        assertEquals(new ZBox(0, 1), RuleSpecs.parseRule("zbox:0,1").resolve(derived), "given bounds win");
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> RuleSpecs.rule("zbox"));
        assertTrue(e.getMessage().contains("LOW,HIGH") && e.getMessage().contains(RuleSpecs.RULES), e.getMessage());
    }

    @Test
    void derivedImagenetBoundsAreTheNormalizedPixelRangeBitForBit() {
        float[] mean = {0.485f, 0.456f, 0.406f};
        float[] std = {0.229f, 0.224f, 0.225f};
        Preprocess.Range r = Preprocess.imagenet().inputRange();
        assertEquals(3, r.low().length);
        for (int c = 0; c < 3; c++) {
            assertEquals(Float.floatToRawIntBits((0f - mean[c]) / std[c]), Float.floatToRawIntBits(r.low()[c]),
                    "low " + c);
            assertEquals(Float.floatToRawIntBits((1f - mean[c]) / std[c]), Float.floatToRawIntBits(r.high()[c]),
                    "high " + c);
        }
        ZBox box = RuleOptions.derivedBox(Preprocess.imagenet());
        assertEquals(new ZBox(r.low(), r.high(), Rule.DEFAULT_EPSILON), box);
        assertEquals("zbox(low=[-2.118,-2.036,-1.804],high=[2.249,2.429,2.64])", box.describe());
        Preprocess.Range none = Preprocess.none().inputRange();
        assertArrayEquals(new float[] {0f}, none.low());
        assertArrayEquals(new float[] {1f}, none.high());
        Preprocess.Range mixed = Preprocess.none().withNormalization(new float[] {0.5f}, new float[] {0.5f, 0.25f,
            2f}).inputRange();
        assertArrayEquals(new float[] {-1f, -2f, -0.25f}, mixed.low());
        assertArrayEquals(new float[] {1f, 2f, 0.25f}, mixed.high());
    }

    @Test
    void longPerFeatureBoundsDescribeShortly() {
        float[] low = new float[784];
        float[] high = new float[784];
        java.util.Arrays.fill(high, 1f);
        low[5] = -0.5f;
        assertEquals("zbox(784 bounds,low in [-0.5,0],high in [1,1])",
                new ZBox(low, high, Rule.DEFAULT_EPSILON).describe());
    }

    private static LayerContext conv(int index, int count) {
        return new LayerContext("conv" + index, LayerKind.CONV, index, count, 4);
    }

    private static LayerContext dense(int index, int count) {
        return new LayerContext("fc" + index, LayerKind.DENSE, index, count, 4);
    }
}
