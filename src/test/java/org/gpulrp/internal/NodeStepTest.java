package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Add;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Concat;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Identity;
import org.gpulrp.model.Layer;
import org.gpulrp.model.MaxPool2d;
import org.gpulrp.model.Multiply;
import org.gpulrp.model.Permute;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Slice;
import org.gpulrp.model.Node;
import org.gpulrp.model.PoolGeometry;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Pass;
import org.gpulrp.rules.Rule;
import org.junit.jupiter.api.Test;

/**
 * {@link NodeStep#of} is exhaustive over the sealed {@link Layer}: every permitted concrete layer type gets its step,
 * and its final {@code throw} is never reached. A layer added to a {@code permits} clause without a sample here and
 * an arm in {@code of} fails this test.
 */
class NodeStepTest {
    private static final Composite COMPOSITE = Composite.uniform(new Epsilon());
    private static final PoolGeometry POOL = new PoolGeometry(2, 4, 4, 2, 2, 2, 2, 0, 0);
    /** One node of every concrete layer type, the rule the engine gives it, and the step it must get. */
    private static final Map<Class<?>, Object[]> SAMPLES = new LinkedHashMap<>();

    private static void sample(Layer layer, int in, int out, Rule rule, Class<? extends NodeStep> step) {
        SAMPLES.put(layer.getClass(), new Object[] {new Node("n", layer, List.of(), in, out), rule, step});
    }

    static {
        sample(new Dense(3, 2, new float[6], new float[2]), 3, 2, new Epsilon(), NodeStep.Linear.class);
        ConvGeometry g = new ConvGeometry(2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        sample(new Conv2d(g, new float[g.weightSize()], new float[3]), 32, 48, new Epsilon(),
                NodeStep.Linear.class);
        sample(new AvgPool2d(POOL), 32, 8, new Pass(), NodeStep.Linear.class);
        sample(new MaxPool2d(POOL), 32, 8, new Pass(), NodeStep.MaxPool.class);
        float[] ones = {1f, 1f};
        sample(new BatchNorm(2, 4, 4, ones, new float[2], new float[2], ones, 1e-5), 32, 32, new Epsilon(),
                NodeStep.Norm.class);
        sample(new Activation(Activation.Function.RELU), 5, 5, new Pass(), NodeStep.Elementwise.class);
        sample(new Identity(), 5, 5, new Pass(), NodeStep.Through.class);
        sample(new Add(), 5, 5, new Pass(), NodeStep.Sum.class);
        sample(new Concat(), 10, 10, new Pass(), NodeStep.Join.class);
        sample(new Multiply(5), 10, 10, new Pass(), NodeStep.Product.class);
        sample(new Scale(new float[] {2f}), 5, 5, new Pass(), NodeStep.Scaled.class);
        sample(new Slice(1, 3), 5, 3, new Pass(), NodeStep.Cut.class);
        sample(new Permute(new int[] {1, 0}), 2, 2, new Pass(), NodeStep.Reorder.class);
    }

    /** The concrete types that may implement {@link Layer}, through sealed sub-interfaces such as Merge. */
    private static Set<Class<?>> concreteLayers() {
        Set<Class<?>> out = new HashSet<>();
        Deque<Class<?>> todo = new ArrayDeque<>(List.of(Layer.class));
        while (!todo.isEmpty()) {
            Class<?> c = todo.pop();
            if (c.isSealed()) {
                todo.addAll(List.of(c.getPermittedSubclasses()));
            } else {
                out.add(c);
            }
        }
        return out;
    }

    @Test
    void everyPermittedLayerHasAStep() {
        assertEquals(concreteLayers(), SAMPLES.keySet(), "every permitted Layer needs a sample here and an arm in "
                + "NodeStep.of");
        try (CpuBackend be = new CpuBackend()) {
            for (Object[] s : SAMPLES.values()) {
                NodeStep step = NodeStep.of(be, (Node) s[0], (Rule) s[1], COMPOSITE);
                try {
                    assertInstanceOf((Class<?>) s[2], step, ((Node) s[0]).layer().toString());
                    assertEquals(step instanceof NodeStep.Linear || step instanceof NodeStep.Norm,
                            step.linear() != null, "a step has a linear step exactly when it carries weights");
                } finally {
                    step.close();
                }
            }
        }
    }

    @Test
    void layersWithoutWeightsRefuseAnLrpRuleButPoolingScalesAndMergesIgnoreIt() {
        try (CpuBackend be = new CpuBackend()) {
            for (Class<?> type : List.of(Activation.class, Identity.class, Slice.class, Permute.class)) {
                Node node = (Node) SAMPLES.get(type)[0];
                InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                        () -> NodeStep.of(be, node, new Epsilon(), COMPOSITE));
                assertTrue(e.getMessage().contains("can only take the pass rule"), e.getMessage());
            }
            for (Class<?> type : List.of(MaxPool2d.class, Add.class, Concat.class, Multiply.class, Scale.class)) {
                NodeStep step = NodeStep.of(be, (Node) SAMPLES.get(type)[0], new Epsilon(), COMPOSITE);
                assertInstanceOf((Class<?>) SAMPLES.get(type)[2], step);
            }
        }
    }
}
