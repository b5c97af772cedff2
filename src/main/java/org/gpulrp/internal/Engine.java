package org.gpulrp.internal;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.InitialRelevance;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.backend.Backend;
import org.gpulrp.composite.Composite;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.rules.Rule;

/**
 * The LRP engine, one implementation for every backend: it runs the forward pass and the relevance pass as a
 * sequence of backend primitives, so that two backends with bit-identical primitives give bit-identical
 * explanations. It is three parts (docs/DESIGN.md section 4): the {@link GraphPlan} (where values and relevance
 * flow), one {@link NodeStep} per node (what the node does, prepared once with its weights and rule) and the
 * {@link Flow} (the per-batch buffers, sized for {@code capacity} rows and reused). Not thread-safe: the caller
 * serializes calls.
 */
public final class Engine implements AutoCloseable {

    private final Backend be;
    private final GraphPlan plan;
    private final InitialRelevance init;
    private final NodeStep[] steps;
    private final Rule[] rules;
    private final int capacity;
    /** Nodes whose relevance is zero by construction ({@link #silentOutputs}). */
    private boolean[] silent;
    /** The leading dense chain's fused passes, where the backend offers them ({@link FusedChain}); else null. */
    private FusedChain chain;
    private Flow flow;
    private boolean closed;
    /** Whether {@link #run} refuses NaN and infinite inputs (the default) or lets them through. */
    private volatile boolean rejectNonFinite = true;

    /**
     * @param capacity     rows per pass asked for
     * @param budgetFloats the most floats the per-batch buffers may take together; the capacity shrinks to fit it
     *                     (one row at the least), so a large network gets smaller passes instead of running out of
     *                     memory
     */
    public Engine(Backend be, Network network, Composite composite, InitialRelevance init, int capacity,
                  long budgetFloats) {
        InvalidArgumentException.check(capacity > 0, "capacity", "must be > 0, got " + capacity);
        InvalidArgumentException.check(budgetFloats > 0, "budget", "must be > 0, got " + budgetFloats);
        this.be = be;
        this.init = init;
        this.plan = new GraphPlan(network, init);
        this.capacity = evenForThreads(be, (int) Math.max(1, Math.min(capacity,
                budgetFloats / floatsPerRow(network))));
        int n = plan.nodes.size();
        this.steps = new NodeStep[n];
        try {
            List<Rule> assigned = composite.rules(network);
            this.rules = assigned.toArray(new Rule[0]);
            for (int k = 0; k < n; k++) {
                steps[k] = NodeStep.of(be, plan.nodes.get(k), rules[k], composite, plan.attentionInputs(k));
            }
            plusShortcuts(true);
            this.silent = silentOutputs(plan, steps);
            flow = new Flow(be, plan, steps, this.capacity);
            chain = FusedChain.of(be, plan, rules);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * On the CPU path a pass's rows are split over the threads, so a pass of 3 rows on 2 threads keeps one thread
     * idle a third of the time: a memory-limited capacity is rounded down to a multiple of the thread count.
     */
    private static int evenForThreads(Backend be, int capacity) {
        int threads = be.rowParallelism();
        return capacity > threads ? capacity - capacity % threads : capacity;
    }

    /** See {@link GraphPlan#floatsPerRow}. */
    static long floatsPerRow(Network network) {
        return GraphPlan.floatsPerRow(network);
    }

    /**
     * Lets each linear step know whether its input is non-negative by construction ({@code enabled}), or tells none
     * of them (false: every step keeps the general sign-split kernels; tests compare the two).
     */
    void plusShortcuts(boolean enabled) {
        boolean[] nonNeg = plan.nonNegativeOutputs();
        for (int k = 0; k < steps.length; k++) {
            LinearStep d = steps[k].linear();
            if (d != null) {
                d.inputNonNegative(enabled && nonNeg[plan.src[k][0]]);
            }
        }
    }

    /** Runs every node's relevance pass, silent ones included (tests compare the two). */
    void runSilentNodes() {
        silent = new boolean[steps.length];
    }

    /** The names of the nodes whose relevance pass is skipped as silent (for tests). */
    java.util.List<String> silentNodes() {
        java.util.List<String> names = new java.util.ArrayList<>();
        for (int k = 0; k < silent.length; k++) {
            if (silent[k]) {
                names.add(plan.nodes.get(k).name());
            }
        }
        return names;
    }

    /** Makes every gather run on the host instead of moving runs with {@code copyRows} (for tests: same bits). */
    void gathersOnHost() {
        for (int k = 0; k < steps.length; k++) {
            if (steps[k] instanceof TransformerSteps.Gather) {
                steps[k] = new TransformerSteps.Gather((org.gpulrp.model.Index) plan.nodes.get(k).layer(), 0);
            }
        }
    }

    /** Runs the leading dense chain's nodes as their own steps even where the backend fuses them (tests: same bits). */
    void unfuse() {
        if (chain != null) {
            chain.close();
            chain = null;
        }
    }

    /** Whether the leading dense chain runs fused where nothing per layer is reported (for tests). */
    boolean fused() {
        return chain != null;
    }

    /** Whether node k's relevance pass takes the non-negative-input shortcut of {@link LinearStep} (for tests). */
    boolean plusShortcut(int k) {
        return steps[k].linear() != null && steps[k].linear().plusShortcut();
    }

    /** Whether node k's relevance pass takes the stacked two-sided shortcut of {@link LinearStep} (for tests). */
    boolean stackShortcut(int k) {
        return steps[k].linear() != null && steps[k].linear().stackShortcut();
    }

    public int capacity() {
        return capacity;
    }

    public Network network() {
        return plan.network;
    }

    /** The rule each node gets, in node order. */
    public List<Rule> rules() {
        return List.of(rules);
    }

    /** Sets the non-finite input policy: true refuses them (naming the sample), false explains them anyway. */
    public void rejectNonFinite(boolean reject) {
        this.rejectNonFinite = reject;
    }

    /** This engine's flow (tests). */
    Flow flow() {
        return flow;
    }

    /**
     * Explains rows {@code [row0, row0 + rows)} of {@code x} ({@code [batch, inputSize]}), {@code rows <= capacity},
     * writing every result straight into {@code out} at the same rows. Checks the rows' values first.
     *
     * @param targetOf maps this chunk's network outputs ({@code [rows, outputs]}) to one class per row
     */
    public void run(float[] x, int row0, int rows, TargetResolver targetOf, Batch out) {
        boolean fuse = chain != null && out.layers == null && out.health == null;
        forwardPass(x, row0, rows, fuse);
        Network network = plan.network;
        int in = network.inputSize();
        int outSize = network.outputSize();
        int last = steps.length - 1;
        be.read(flow.output(last), out.outputs, row0 * outSize, rows * outSize);
        float[] chunkOutputs = java.util.Arrays.copyOfRange(out.outputs, row0 * outSize, (row0 + rows) * outSize);
        int top = plan.top;
        int width = plan.width(top + 1);
        float[] topValues = chunkOutputs;
        if (top != last) {
            topValues = new float[rows * width];
            be.read(flow.output(top), topValues, 0, topValues.length);
        }
        int[] targets = targetOf.resolve(chunkOutputs, rows, outSize);
        float[] r0 = new float[rows * width];
        for (int b = 0; b < rows; b++) {
            int t = targets[b];
            r0[b * width + t] = init == InitialRelevance.ONEHOT ? 1f : topValues[b * width + t];
            out.targets[row0 + b] = t;
            out.scores[row0 + b] = r0[b * width + t];
        }
        be.write(flow.outputRelevance(top), r0, 0, r0.length);
        if (fuse) {
            backward(rows, row0, out, chain.end + 1);
            chain.chain.backward(flow.values(0), flow.outputRelevance(chain.end), flow.relevance(0), rows);
        } else {
            backward(rows, row0, out, 0);
        }
        flow.dropHost();
        be.read(flow.relevance(0), out.relevance, row0 * in, rows * in);
        if (out.health != null) {
            long[] c = new long[3];
            Health.counts(out.relevance, row0, rows, in, c);
            out.health.count(0, c);
        }
    }


    /**
     * The forward pass alone for rows {@code [row0, row0 + rows)} of {@code x}: writes each row's explained score,
     * the value at the top of the relevance pass at {@code targets[row]} (the model output at the target; the logit
     * with {@link InitialRelevance#LOGIT}), into {@code scores} at the same row. The same steps as {@link #run}, so
     * the same bits as an explanation's scores, on every backend. docs/DESIGN.md section 2.10.
     *
     * @param targets one flat output index per row of the whole batch
     */
    public void score(float[] x, int row0, int rows, int[] targets, float[] scores) {
        forwardPass(x, row0, rows, chain != null);
        flow.dropHost();
        int width = plan.width(plan.top + 1);
        float[] top = new float[rows * width];
        be.read(flow.output(plan.top), top, 0, top.length);
        for (int b = 0; b < rows; b++) {
            int t = targets[row0 + b];
            if (t < 0 || t >= width) {
                throw new InvalidArgumentException("targets", "sample " + (row0 + b) + " has target " + t
                        + ", outside 0.." + (width - 1));
            }
            scores[row0 + b] = top[b * width + t];
        }
    }

    /**
     * Checks the rows, uploads them and runs every node's forward step, those of the leading dense chain as its fused
     * kernel where {@code fuse} says so.
     */
    private void forwardPass(float[] x, int row0, int rows, boolean fuse) {
        if (closed) {
            throw new org.gpulrp.ClosedException("prepared model");
        }
        InvalidArgumentException.check(rows > 0 && rows <= capacity, "rows", "must be in 1.." + capacity);
        int in = plan.network.inputSize();
        if (rejectNonFinite) {
            checkFinite(x, row0, rows, in);
        }
        be.write(flow.values(0), x, row0 * in, rows * in);
        flow.beginForward(row0);
        int first = 0;
        if (fuse) {
            chain.chain.forward(flow.values(0), flow.output(chain.end), rows);
            first = chain.end + 1;
        }
        for (int k = first; k < steps.length; k++) {
            steps[k].forward(flow, k, rows);
            flow.endStep();
        }
    }

    /**
     * Which nodes receive no relevance by construction: every consumer of the node's output either is such a node
     * itself or passes nothing to that input ({@link NodeStep#passesNothingTo}: CP-LRP's softmax, a matrix product's
     * constant operand). Under CP-LRP that is the whole query-key branch of every attention block (the product, its
     * scale and mask, the head splits, the query and key projections). Their relevance pass is skipped and their
     * inputs get zeros (docs/DESIGN.md section 2.9); decided from the graph and the rules alone.
     */
    static boolean[] silentOutputs(GraphPlan plan, NodeStep[] steps) {
        int n = steps.length;
        boolean[] silent = new boolean[n];
        boolean[] anyConsumer = new boolean[n + 1];
        boolean[] allSilent = new boolean[n + 1];
        java.util.Arrays.fill(allSilent, true);
        for (int k = plan.top; k >= 0; k--) {
            if (!plan.reached[k + 1]) {
                continue;
            }
            silent[k] = k != plan.top && anyConsumer[k + 1] && allSilent[k + 1];
            for (int i = 0; i < plan.src[k].length; i++) {
                int o = plan.src[k][i];
                anyConsumer[o] = true;
                allSilent[o] &= silent[k] || steps[k].passesNothingTo(i);
            }
        }
        return silent;
    }

    /**
     * The relevance pass, nodes from the top down. A node's output relevance is complete when it is reached (all its
     * consumers come later in the node order); the flow adds contributions to an output with several consumers in
     * the order the consumers are processed (descending node index), the same order on every backend. Stops after
     * node {@code lowest} (0, or the node after a fused chain).
     */
    private void backward(int rows, int row0, Batch out, int lowest) {
        flow.beginBackward(out, row0);
        for (int k = plan.top; k >= lowest; k--) {
            if (!plan.reached[k + 1]) {
                continue;
            }
            Node node = plan.nodes.get(k);
            int w = node.outputSize();
            if (out.layers != null) {
                be.read(flow.outputRelevance(k), out.layers.get(node.name()), row0 * w, rows * w);
            }
            if (out.health != null) {
                long[] c = new long[3];
                Health.add(out.health.entering[k], flow.sampleSums(flow.outputRelevance(k), rows, w, c), row0);
                out.health.count(k + 1, c);
            }
            if (silent[k]) {
                for (int i = 0; i < plan.src[k].length; i++) {
                    flow.sentNothing(k, i, rows);
                }
            } else {
                steps[k].backward(flow, k, rows);
            }
            flow.endStep();
        }
    }

    /**
     * Refuses the first NaN or infinite value of rows {@code [row0, row0 + rows)}, naming its sample and feature.
     * Whole vectors are scanned first (|v| < infinity is false for both), so a clean pass costs a compare per vector
     * (the scalar scan was about 3 % of the 10-input sample model); the scalar scan takes over from the first vector
     * with a bad value.
     */
    private static void checkFinite(float[] x, int row0, int rows, int in) {
        int k = row0 * in;
        int end = (row0 + rows) * in;
        FloatVector inf = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
        for (; k + F.length() <= end; k += F.length()) {
            if (!FloatVector.fromArray(F, x, k).abs().compare(VectorOperators.LT, inf).allTrue()) {
                break;
            }
        }
        for (; k < end; k++) {
            if (!Float.isFinite(x[k])) {
                int b = k / in;
                throw new org.gpulrp.InvalidInputException("sample " + b + " feature " + (k % in) + " is " + x[k]
                        + "; LRP needs finite inputs", b, k % in);
            }
        }
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** The result arrays of an earlier call, handed to the next one of the same size ({@link Batch}). */
    public record Reuse(float[] relevance, float[] outputs, int[] targets, float[] scores) {
        /** New arrays for a call of {@code rows} rows of {@code n}. */
        static Reuse fresh(Network n, int rows) {
            return new Reuse(new float[rows * n.inputSize()], new float[rows * n.outputSize()], new int[rows],
                    new float[rows]);
        }

        /** Whether these arrays hold exactly a call of {@code rows} rows of this engine's network. */
        public boolean fits(Network n, int rows) {
            return relevance.length == (long) rows * n.inputSize() && outputs.length == (long) rows * n.outputSize()
                    && targets.length == rows && scores.length == rows;
        }
    }

    /** Where the results of a whole batch go; chunks fill their own rows. */
    public static final class Batch {
        public final float[] relevance;
        public final float[] outputs;
        public final int[] targets;
        public final float[] scores;
        /** Relevance at each node's output, top first; null unless layer relevances are kept. */
        public final Map<String, float[]> layers;
        /** Where relevance went, per node and sample; null unless asked for. */
        public final Health health;

        public Batch(Engine e, int rows, boolean keepLayers) {
            this(e, rows, keepLayers, false);
        }

        public Batch(Engine e, int rows, boolean keepLayers, boolean health) {
            this(e, rows, keepLayers, health, null);
        }

        /**
         * With {@code reuse} (relevance, outputs, targets and scores of an earlier batch of the same size, or null
         * for new arrays): every row of them is written again by the call, so their old contents do not matter.
         */
        public Batch(Engine e, int rows, boolean keepLayers, boolean health, Reuse reuse) {
            this.health = health ? new Health(e.plan.nodes.size(), rows) : null;
            Reuse arrays = reuse != null ? reuse : Reuse.fresh(e.plan.network, rows);
            this.relevance = arrays.relevance();
            this.outputs = arrays.outputs();
            this.targets = arrays.targets();
            this.scores = arrays.scores();
            if (keepLayers) {
                layers = new LinkedHashMap<>();
                for (int k = e.plan.top; k >= 0; k--) {
                    if (e.plan.reached[k + 1]) {
                        Node node = e.plan.nodes.get(k);
                        layers.put(node.name(), new float[rows * node.outputSize()]);
                    }
                }
            } else {
                layers = null;
            }
        }
    }

    /** Chooses each row's target class from the network outputs. */
    @FunctionalInterface
    public interface TargetResolver {
        int[] resolve(float[] outputs, int rows, int classes);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        unfuse();
        for (NodeStep s : steps) {
            if (s != null) {
                s.close();
            }
        }
        if (flow != null) {
            flow.close();
        }
    }
}
