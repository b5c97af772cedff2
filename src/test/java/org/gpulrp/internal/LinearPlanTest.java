package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Pass;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;
import org.junit.jupiter.api.Test;

/**
 * {@link LinearPlan#forRule} is exhaustive over the sealed {@link Rule}: every permitted type gets its family's plan
 * or, for Pass alone, the documented refusal; its final {@code throw} is never reached. A rule added to the
 * {@code permits} clause without a sample here and an arm in {@code forRule} fails this test.
 */
class LinearPlanTest {
    /** One instance of every permitted rule type, and the plan family it gets (null: refused on linear layers). */
    private static final Map<Class<?>, Rule> SAMPLES = new LinkedHashMap<>();
    private static final Map<Class<?>, Class<? extends LinearPlan>> FAMILY = new LinkedHashMap<>();

    private static void sample(Rule rule, Class<? extends LinearPlan> family) {
        SAMPLES.put(rule.getClass(), rule);
        FAMILY.put(rule.getClass(), family);
    }

    static {
        sample(new Epsilon(0.25f), EpsilonPlan.class);
        sample(new ZPlus(0.5f), SignSplitPlan.class);
        sample(new AlphaBeta(2f, 1f, 0.125f), SignSplitPlan.class);
        sample(new Gamma(0.25f, 0.0625f), SignSplitPlan.class);
        sample(new ZBox(new float[] {-1f}, new float[] {1f}, 0.75f), BoxPlan.class);
        sample(new WSquare(1.5f), FixedDenominatorPlan.class);
        sample(new Flat(2.5f), FixedDenominatorPlan.class);
        sample(new Pass(), null);
    }

    @Test
    void everyPermittedRuleHasAPlanOrTheDocumentedRefusal() {
        Set<Class<?>> permitted = new HashSet<>(List.of(Rule.class.getPermittedSubclasses()));
        assertEquals(permitted, SAMPLES.keySet(), "every permitted Rule needs a sample here and an arm in "
                + "LinearPlan.forRule");
        for (Class<?> type : permitted) {
            Rule rule = SAMPLES.get(type);
            Class<? extends LinearPlan> family = FAMILY.get(type);
            if (family == null) {
                InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                        () -> LinearPlan.forRule(rule, "fc", 6, 3), type.getName());
                assertEquals("rule: pass cannot be applied to layer 'fc': a linear layer needs an LRP rule "
                        + "(epsilon, zplus, ...)", e.getMessage());
            } else {
                LinearPlan plan = LinearPlan.forRule(rule, "fc", 6, 3);
                assertInstanceOf(family, plan, type.getName());
                assertFalse(plan.plusShortcut() || plan.stackShortcut(), "no shortcut before inputNonNegative");
            }
        }
        assertEquals(Set.of(Pass.class), refused(), "Pass is the only rule a linear layer refuses");
    }

    private static Set<Class<?>> refused() {
        Set<Class<?>> r = new HashSet<>();
        FAMILY.forEach((type, family) -> {
            if (family == null) {
                r.add(type);
            }
        });
        return r;
    }

    /** Each plan carries its rule's stabilizer. */
    @Test
    void plansCarryTheRuleEpsilon() {
        assertEquals(0.25f, LinearPlan.forRule(new Epsilon(0.25f), "fc", 6, 3).eps);
        assertEquals(0.5f, LinearPlan.forRule(new ZPlus(0.5f), "fc", 6, 3).eps);
        assertEquals(0.125f, LinearPlan.forRule(new AlphaBeta(2f, 1f, 0.125f), "fc", 6, 3).eps);
        assertEquals(0.0625f, LinearPlan.forRule(new Gamma(0.25f, 0.0625f), "fc", 6, 3).eps);
        assertEquals(0.75f, LinearPlan.forRule(new ZBox(new float[] {-1f}, new float[] {1f}, 0.75f), "fc", 6, 3).eps);
        assertEquals(1.5f, LinearPlan.forRule(new WSquare(1.5f), "fc", 6, 3).eps);
        assertEquals(2.5f, LinearPlan.forRule(new Flat(2.5f), "fc", 6, 3).eps);
    }

    /** Which sign-split rules have a negative pass: AlphaBeta with beta > 0 and Gamma; ZPlus and AlphaBeta(1,0) not. */
    @Test
    void twoSidedSignSplitRules() {
        assertFalse(((SignSplitPlan) LinearPlan.forRule(new ZPlus(), "fc", 6, 3)).twoSided());
        assertFalse(((SignSplitPlan) LinearPlan.forRule(new AlphaBeta(1f, 0f), "fc", 6, 3)).twoSided());
        assertTrue(((SignSplitPlan) LinearPlan.forRule(new AlphaBeta(2f, 1f), "fc", 6, 3)).twoSided());
        assertTrue(((SignSplitPlan) LinearPlan.forRule(new Gamma(0f), "fc", 6, 3)).twoSided());
    }

    /** ZBox bounds must be one value, one per channel or one per input feature; others are refused by the factory. */
    @Test
    void zboxBoundsAreCheckedBeforeAllocation() {
        for (int count : new int[] {1, 3, 6}) {
            float[] lo = new float[count];
            float[] hi = new float[count];
            java.util.Arrays.fill(hi, 1f);
            assertInstanceOf(BoxPlan.class, LinearPlan.forRule(new ZBox(lo, hi, 0f), "fc", 6, 3));
        }
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                () -> LinearPlan.forRule(new ZBox(new float[4], new float[4], 0f), "fc", 6, 3));
        assertTrue(e.getMessage().contains("zbox bounds for layer 'fc'"), e.getMessage());
    }
}
