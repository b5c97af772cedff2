package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.gpulrp.composite.Attention;
import org.gpulrp.composite.Composite;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Add;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Concat;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Embedding;
import org.gpulrp.model.Index;
import org.gpulrp.model.LayerNorm;
import org.gpulrp.model.MatMul;
import org.gpulrp.model.Offset;
import org.gpulrp.model.Softmax;
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
        sample(new LayerNorm(2, 3, null, null, 1e-5f, false), 6, 6, new Pass(), TransformerSteps.Normalize.class);
        sample(new Softmax(3), 6, 6, new Pass(), TransformerSteps.RowSoftmax.class);
        sample(new MatMul(2, 3, 4, 5), 2 * 12 + 2 * 20, 30, new Pass(), TransformerSteps.MatrixProduct.class);
        sample(new Index(4, new int[] {3, -1, 0, 0}), 4, 4, new Pass(), TransformerSteps.Gather.class);
        sample(new Offset(new float[] {1f}), 5, 5, new Pass(), TransformerSteps.Shift.class);
        sample(new Embedding(2, 3, 4, new float[12]), 2, 8, new Pass(), TransformerSteps.Lookup.class);
    }

    /**
     * A matrix product's operands under each attention mode: half each (AttnLRP, and CP-LRP where neither or both
     * are attention weights), or all to the operand that is not attention weights (CP-LRP).
     */
    @Test
    void matrixProductsShareByTheAttentionMode() {
        MatMul mm = new MatMul(1, 2, 2, 2);
        boolean[][] inputs = {{false, false}, {true, false}, {false, true}, {true, true}};
        double[][] cp = {{0.5, 0.5}, {0, 1}, {1, 0}, {0.5, 0.5}};
        for (int i = 0; i < inputs.length; i++) {
            assertArrayEquals(new double[] {0.5, 0.5}, new TransformerSteps.MatrixProduct(mm, Attention.ATTNLRP,
                    inputs[i], 1e-6f).weights(), "attnlrp " + i);
            assertArrayEquals(cp[i], new TransformerSteps.MatrixProduct(mm, Attention.CP_LRP, inputs[i], 1e-6f)
                    .weights(), "cp-lrp " + i);
        }
    }

    /** A gather moves runs with copyRows only when it reads each feature at most once, in a few runs. */
    @Test
    void gathersCopyFewRunsAndGatherTheRestOnTheHost() {
        assertTrue(new TransformerSteps.Gather(new Index(6, new int[] {2, 3, 4})).copiesRuns(), "a slice");
        assertTrue(new TransformerSteps.Gather(new Index(6, new int[] {-1, -1, 0, 1, 4, 5})).copiesRuns(), "gaps, 2 runs");
        assertFalse(new TransformerSteps.Gather(new Index(6, new int[] {0, 0, 1})).copiesRuns(), "a feature read twice");
        int[] transpose = new int[2 * (TransformerSteps.Gather.MAX_RUNS + 1)];
        for (int i = 0; i < transpose.length; i++) {
            transpose[i] = i % 2 * (TransformerSteps.Gather.MAX_RUNS + 1) + i / 2;
        }
        assertFalse(new TransformerSteps.Gather(new Index(transpose.length, transpose)).copiesRuns(), "a transpose");
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
            for (Class<?> type : List.of(Activation.class, Identity.class, Slice.class, Permute.class,
                    Softmax.class, Index.class, Embedding.class)) {
                Node node = (Node) SAMPLES.get(type)[0];
                InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                        () -> NodeStep.of(be, node, new Epsilon(), COMPOSITE));
                assertTrue(e.getMessage().contains("can only take the pass rule"), e.getMessage());
            }
            for (Class<?> type : List.of(MaxPool2d.class, Add.class, Concat.class, Multiply.class, Scale.class,
                    LayerNorm.class, MatMul.class, Offset.class)) {
                NodeStep step = NodeStep.of(be, (Node) SAMPLES.get(type)[0], new Epsilon(), COMPOSITE);
                assertInstanceOf((Class<?>) SAMPLES.get(type)[2], step);
            }
        }
    }
}
