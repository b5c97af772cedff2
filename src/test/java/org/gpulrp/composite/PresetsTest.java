package org.gpulrp.composite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.InvalidArgumentException;
import org.gpulrp.backend.Flops;
import org.gpulrp.model.Network;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Pass;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.ZBox;
import org.junit.jupiter.api.Test;

/** Presets by name as the library serves them to the CLI, Spark and the benchmarks; the one flops count. */
class PresetsTest {
    /** 1x6x6, conv 2 (3x3, pad 1), ReLU, conv 3 (3x3), flatten, dense 4. */
    private static Network net() {
        return Network.builder("t", 1, 6, 6)
                .conv2d("c1", 2, 3, 1, 1, new float[2 * 9], new float[2]).relu("r1")
                .conv2d("c2", 3, 3, 1, 0, new float[3 * 2 * 9], new float[3]).flatten("f")
                .dense("d", 4, new float[4 * 3 * 4 * 4], new float[4]).build();
    }

    @Test
    void byNameGivesThePresets() {
        Network net = net();
        assertEquals(Composites.epsilonPlus().rules(net), Composites.byName("epsilon-plus").rules(net));
        assertEquals(Composites.epsilonGammaBox(-3f, 3f, 0.5f).rules(net),
                Composites.byName("epsilon-gamma-box:-3,3,0.5").rules(net));
        assertEquals("epsilon-plus-flat", Composites.byName("epsilon-plus-flat").name());
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Composites.byName("epsilon"));
        assertTrue(e.getMessage().contains(Presets.COMPOSITES), e.getMessage());
    }

    @Test
    void aRuleNameIsThatRuleEverywhere() {
        Network net = net();
        Composite eps = Presets.parseCompositeOrRule("epsilon").resolve(null);
        assertEquals(Composites.epsilon().name(), eps.name());
        assertEquals(Composites.epsilon().rules(net), eps.rules(net));
        assertEquals(new Epsilon(0.5f), Presets.parseCompositeOrRule("epsilon:0.5").resolve(null).rules(net).get(0));
        ZBox box = new ZBox(-3f, 3f);
        assertEquals(Composites.epsilonGammaBox(-3f, 3f).rules(net),
                Presets.parseCompositeOrRule("epsilon-gamma-box").resolve(box).rules(net));
        assertEquals(box, Presets.parseCompositeOrRule("zbox").resolve(box).rules(net).get(2));
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> Presets.parseCompositeOrRule("lrp-zero"));
        assertTrue(e.getMessage().contains(Presets.COMPOSITES) && e.getMessage().contains(Presets.RULES),
                e.getMessage());
    }

    @Test
    void transformerCompositesByName() {
        Network net = net();
        Composite attn = Composites.byName("attnlrp");
        assertEquals(Composites.epsilon().rules(net), attn.rules(net));
        assertEquals(Products.UNIFORM, attn.products());
        assertEquals(Attention.ATTNLRP, attn.attention());
        Composite cp = Composites.byName("cp-lrp");
        assertEquals(Composites.epsilon().rules(net), cp.rules(net));
        assertEquals(Products.CONSTANT_GATE, cp.products());
        assertEquals(Attention.CP_LRP, cp.attention());
        Composite vit = Composites.byName("attnlrp-vit");
        assertEquals(java.util.List.of(new Gamma(0.25f), new Pass(), new Gamma(0.25f), new Pass(), new Gamma(0.25f)),
                vit.rules(net), "Gamma on every linear layer, the convolutions included");
        assertEquals(Products.UNIFORM, vit.products());
        assertEquals(Attention.CP_LRP, vit.attention());
        assertEquals(new Gamma(0.5f), Composites.byName("attnlrp-vit:0.5").rules(net).get(4));
        assertEquals(Composites.attnLrpVit(0.5f).toString(), Composites.byName("attnlrp-vit:0.5").toString());
        // Parsed through the composite-or-rule entry too; the existing presets keep their modes.
        assertEquals(Attention.CP_LRP, Presets.parseCompositeOrRule("cp-lrp").resolve(null).attention());
        assertEquals(Attention.ATTNLRP, Composites.epsilonPlus().attention());
        assertEquals(Products.GRADIENT, Composites.epsilonPlus().products());
        assertEquals(Attention.CP_LRP, Composites.epsilonPlus().withAttention(Attention.CP_LRP).attention());
        assertTrue(cp.toString().contains("attention cp-lrp") && cp.toString().contains("products constant-gate"),
                cp.toString());
        for (String bad : new String[] {"attnlrp:1", "cp-lrp:0.1", "attnlrp-vit:-1", "attnlrp-vit:0.1,2",
            "attn-lrp"}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Composites.byName(bad),
                    bad);
            assertTrue(e.getMessage().contains(Presets.COMPOSITES), e.getMessage());
        }
        assertTrue(Presets.COMPOSITES.contains("attnlrp, cp-lrp, attnlrp-vit[:GAMMA]"), Presets.COMPOSITES);
    }

    @Test
    void theStabilizerIsKeptByEveryModeAndChecked() {
        assertEquals(Rule.DEFAULT_EPSILON, Composites.cpLrp().stabilizer());
        Composite c = Composites.cpLrp().withStabilizer(0f).withProducts(Products.UNIFORM)
                .withAttention(Attention.ATTNLRP).withConvBias(ConvBias.ZENNIT).withFirst(new Gamma(0.5f))
                .named("x");
        assertEquals(0f, c.stabilizer(), "every with... keeps it");
        assertTrue(c.toString().contains("stabilizer 0.0"), c.toString());
        for (float bad : new float[] {-1e-6f, Float.NaN, Float.POSITIVE_INFINITY}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> Composites.cpLrp().withStabilizer(bad), "" + bad);
            assertTrue(e.getMessage().contains("stabilizer"), e.getMessage());
        }
    }

    @Test
    void flopsCountForwardAndBackprojectionOfLinearLayers() {
        double conv1 = 2 * 6 * 6 * (1 * 3 * 3);
        double conv2 = 3 * 4 * 4 * (2 * 3 * 3);
        double dense = 4 * 48;
        assertEquals(4 * (conv1 + conv2 + dense), Flops.perSample(net()));
    }
}
