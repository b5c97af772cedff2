package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.gpulrp.InitialRelevance;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Index;
import org.gpulrp.model.Network;
import org.gpulrp.transformer.TransformerNets;
import org.junit.jupiter.api.Test;

/**
 * The engine's choices for the transformer steps that must not change bits (docs/DESIGN.md section 3, rule 7): the
 * host gather against the copied runs, the host loops on one thread against several, and the graph decisions of
 * {@link GraphPlan} (attention weights, non-negative outputs).
 */
class TransformerPathsTest {
    private static final int ROWS = 7;

    private static Engine.Batch run(Network net, Composite c, float[] x, Consumer<Engine> setup) {
        try (CpuBackend be = new CpuBackend(); Engine e = new Engine(be, net, c, InitialRelevance.OUTPUT, 3,
                1 << 22)) {
            setup.accept(e);
            Engine.Batch out = new Engine.Batch(e, ROWS, true, true);
            int chunk = e.capacity();
            for (int start = 0; start < ROWS; start += chunk) {
                int r0 = start;
                e.run(x, r0, Math.min(chunk, ROWS - r0), (o, rr, classes) -> {
                    int[] t = new int[rr];
                    for (int b = 0; b < rr; b++) {
                        t[b] = (r0 + b) % classes;
                    }
                    return t;
                }, out);
            }
            return out;
        }
    }

    private static void assertSameBits(String what, Engine.Batch a, Engine.Batch b) {
        assertBits(what + " input", a.relevance, b.relevance);
        assertBits(what + " outputs", a.outputs, b.outputs);
        for (Map.Entry<String, float[]> e : a.layers.entrySet()) {
            assertBits(what + " " + e.getKey(), e.getValue(), b.layers.get(e.getKey()));
        }
        for (int k = 0; k < a.health.stabilizer.length; k++) {
            for (int r = 0; r < ROWS; r++) {
                assertEquals(a.health.stabilizer[k][r], b.health.stabilizer[k][r], what + " health " + k);
            }
        }
    }

    private static void assertBits(String what, float[] a, float[] b) {
        assertEquals(a.length, b.length, what);
        for (int k = 0; k < a.length; k++) {
            assertEquals(Float.floatToRawIntBits(a[k]), Float.floatToRawIntBits(b[k]), what + " [" + k + "]");
        }
    }

    /** A dense layer, a gather with gaps in two runs (the copy path), a head. */
    private static Network gaps() {
        float[] w = new float[6 * 6];
        float[] h = new float[7 * 3];
        for (int k = 0; k < w.length; k++) {
            w[k] = (float) Math.sin(k + 1);
        }
        for (int k = 0; k < h.length; k++) {
            h[k] = (float) Math.cos(3 * k + 1);
        }
        return Network.builder("gaps", 6).add("fc", new Dense(6, 6, w, null))
                .add("gather", new Index(6, new int[] {-1, 2, 3, 4, -1, 0, 1}))
                .add("head", new Dense(7, 3, h, null)).build();
    }

    @Test
    void hostGathersAndCopiedRunsGiveTheSameBits() {
        Network bert = TransformerNets.bert(TransformerNets.Options.of(6));
        float[] x = TransformerNets.bertBatch(ROWS, 6, 3);
        assertSameBits("bert", run(bert, Composites.attnLrp(), x, e -> { }),
                run(bert, Composites.attnLrp(), x, Engine::gathersOnHost));
        Network gaps = gaps();
        float[] g = new float[ROWS * 6];
        for (int k = 0; k < g.length; k++) {
            g[k] = (float) Math.sin(0.7 * k) * 2;
        }
        assertSameBits("gaps", run(gaps, Composites.epsilon(), g, e -> { }),
                run(gaps, Composites.epsilon(), g, Engine::gathersOnHost));
        try (CpuBackend be = new CpuBackend();
             Engine e = new Engine(be, gaps, Composites.epsilon(), InitialRelevance.OUTPUT, 3, 1 << 20)) {
            assertTrue(((TransformerSteps.Gather) stepOf(e, 1)).copiesRuns(), "the gather with gaps copies its runs");
        }
    }

    private static NodeStep stepOf(Engine e, int k) {
        try {
            java.lang.reflect.Field f = Engine.class.getDeclaredField("steps");
            f.setAccessible(true);
            return ((NodeStep[]) f.get(e))[k];
        } catch (ReflectiveOperationException ex) {
            throw new AssertionError(ex);
        }
    }

    /**
     * Under CP-LRP the query-key branch of every attention block gets no relevance by construction, so the engine
     * skips its relevance pass; the results equal running every node (as numbers: a skipped node's zeros are +0
     * where the full pass may give -0), and AttnLRP skips nothing.
     */
    @Test
    void silentNodesAreSkippedWithTheSameResults() {
        Network bert = TransformerNets.bert(TransformerNets.Options.of(6).layers(2));
        Network llama = TransformerNets.llama(TransformerNets.Options.of(5).mlp(Activation.Function.SILU));
        float[] x = TransformerNets.bertBatch(ROWS, 6, 4);
        float[] ids = TransformerNets.llamaBatch(ROWS, 5, 4);
        for (Object[] c : new Object[][] {{bert, x}, {llama, ids}}) {
            Network net = (Network) c[0];
            float[] in = (float[]) c[1];
            Engine.Batch skipped = run(net, Composites.cpLrp(), in, e -> { });
            Engine.Batch full = run(net, Composites.cpLrp(), in, Engine::runSilentNodes);
            assertSameNumbers(net.name() + " input", full.relevance, skipped.relevance);
            for (Map.Entry<String, float[]> e : full.layers.entrySet()) {
                assertSameNumbers(net.name() + " " + e.getKey(), e.getValue(), skipped.layers.get(e.getKey()));
            }
        }
        try (CpuBackend be = new CpuBackend();
             Engine cp = new Engine(be, bert, Composites.cpLrp(), InitialRelevance.OUTPUT, 3, 1 << 22);
             Engine attn = new Engine(be, bert, Composites.attnLrp(), InitialRelevance.OUTPUT, 3, 1 << 22)) {
            List<String> silent = cp.silentNodes();
            for (String name : new String[] {"l0.probs", "l0.scores", "l0.q", "l0.k", "l1.scores", "l1.qh"}) {
                assertTrue(silent.contains(name), name + " is silent under CP-LRP: " + silent);
            }
            assertFalse(silent.contains("l0.v") || silent.contains("l0.vh"), "the values get relevance");
            assertEquals(List.of(), attn.silentNodes(), "AttnLRP passes relevance everywhere");
        }
    }

    private static void assertSameNumbers(String what, float[] a, float[] b) {
        assertEquals(a.length, b.length, what);
        for (int k = 0; k < a.length; k++) {
            assertTrue(a[k] == b[k] || Float.isNaN(a[k]) && Float.isNaN(b[k]), what + " [" + k + "]: " + a[k]
                    + " vs " + b[k]);
        }
    }

    @Test
    void hostLoopsGiveTheSameBitsOnOneThreadAndOnMany() {
        int threads = HostParallel.threads;
        long work = HostParallel.sequentialWork;
        Network bert = TransformerNets.bert(TransformerNets.Options.of(6).layers(2));
        Network llama = TransformerNets.llama(TransformerNets.Options.of(5).mlp(Activation.Function.SILU));
        float[] x = TransformerNets.bertBatch(ROWS, 6, 4);
        float[] ids = TransformerNets.llamaBatch(ROWS, 5, 4);
        try {
            HostParallel.threads = 1;
            Engine.Batch bertOne = run(bert, Composites.attnLrp(), x, e -> { });
            Engine.Batch llamaOne = run(llama, Composites.cpLrp(), ids, e -> { });
            HostParallel.threads = 5;
            HostParallel.sequentialWork = 0;
            assertSameBits("bert", bertOne, run(bert, Composites.attnLrp(), x, e -> { }));
            assertSameBits("llama", llamaOne, run(llama, Composites.cpLrp(), ids, e -> { }));
        } finally {
            HostParallel.threads = threads;
            HostParallel.sequentialWork = work;
        }
    }

    @Test
    void theGraphSaysWhichOperandsAreAttentionWeightsAndWhatIsNonNegative() {
        Network bert = TransformerNets.bert(TransformerNets.Options.of(4));
        GraphPlan plan = new GraphPlan(bert, InitialRelevance.OUTPUT);
        List<String> names = bert.nodes().stream().map(n -> n.name()).toList();
        int scores = names.indexOf("l0.scores");
        int context = names.indexOf("l0.context");
        assertEquals(List.of(false, false), List.of(plan.attentionInputs(scores)[0], plan.attentionInputs(scores)[1]));
        assertEquals(List.of(true, false), List.of(plan.attentionInputs(context)[0],
                plan.attentionInputs(context)[1]), "the probabilities are attention weights, the values are not");
        boolean[] nonNeg = plan.nonNegativeOutputs();
        assertTrue(nonNeg[names.indexOf("l0.probs") + 1], "a softmax is non-negative");
        assertFalse(nonNeg[names.indexOf("l0.context") + 1], "A V is not: V is signed");
        assertFalse(nonNeg[names.indexOf("l0.norm1") + 1]);
        assertFalse(nonNeg[names.indexOf("mask1") + 1], "the mask minus one");
        // Through a gather and a scale of the weights, the operand is still attention weights.
        Network moved = Network.builder("moved", 8)
                .add("sm", new org.gpulrp.model.Softmax(4))
                .add("t", new Index(8, new int[] {0, 2, 1, 3, 4, 6, 5, 7}))
                .add("s", new org.gpulrp.model.Scale(new float[] {2f}))
                .add("mm", new org.gpulrp.model.MatMul(2, 2, 2, 2), "s", Network.INPUT)
                .add("act", new Activation(Activation.Function.SIGMOID), "sm")
                .add("mm2", new org.gpulrp.model.MatMul(2, 2, 2, 2), "act", "mm")
                .build();
        GraphPlan p = new GraphPlan(moved, InitialRelevance.OUTPUT);
        assertTrue(p.attentionInputs(3)[0] && !p.attentionInputs(3)[1]);
        assertFalse(p.attentionInputs(5)[0] || p.attentionInputs(5)[1], "an activation of the weights is not");
        boolean[] nn = p.nonNegativeOutputs();
        assertTrue(nn[1] && nn[2], "a softmax and a gather of it");
        assertFalse(nn[4], "a product with the signed input is not");
    }
}
