package org.gpulrp.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.InitialRelevance;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.ConvBias;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Dense;
import org.gpulrp.model.LayerKind;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.rules.Pass;
import org.gpulrp.rules.Rule;

/**
 * The LRP engine, one implementation for every backend: it runs the forward pass and the relevance pass as a
 * sequence of backend primitives, so that two backends with bit-identical primitives give bit-identical
 * explanations. Weights are prepared once; per-batch buffers are sized for {@code capacity} rows and reused.
 * Not thread-safe: the caller serializes calls.
 */
public final class Engine implements AutoCloseable {

    private final Backend be;
    private final Network network;
    private final InitialRelevance init;
    private final List<Node> nodes;
    private final LinearStep[] dense;
    private final Rule[] rules;
    /** Index of the node whose output receives the initial relevance. */
    private final int top;
    private final int capacity;
    /**
     * Outputs are numbered: 0 = the network input, k + 1 = node k's output. {@code src[k]} lists node k's inputs.
     */
    private final int[][] src;
    /** Whether output o carries relevance (an ancestor of the top node, or the top node itself). */
    private final boolean[] reached;
    /** How many relevance contributions output o receives (one per reached consumer edge). */
    private final int[] fanOut;
    /** acts[o] = output o's values; entries alias where a node passes values through. */
    private final Buffer[] acts;
    /** rel[o] = relevance at output o; pass-through nodes with a single consumer share their consumer's buffer. */
    private final Buffer[] rel;
    private final LinearStep.Scratch scratch = new LinearStep.Scratch();
    /** A contribution that must be added to a buffer already holding another (fan-out). */
    private Buffer contribution;
    /** The arg-max buffer of each max-pooling node, by node index. */
    private final Map<Integer, Buffer> poolArg = new java.util.HashMap<>();
    private final List<Buffer> batchBuffers = new ArrayList<>();
    private boolean closed;

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
        this.network = network;
        this.init = init;
        this.nodes = network.nodes();
        this.capacity = evenForThreads(be, (int) Math.max(1, Math.min(capacity,
                budgetFloats / floatsPerRow(network))));
        int n = nodes.size();
        this.dense = new LinearStep[n];
        this.rules = new Rule[n];
        this.src = sources(network);
        this.top = topNode(nodes, src, init);
        this.acts = new Buffer[n + 1];
        this.rel = new Buffer[n + 1];
        this.reached = new boolean[n + 1];
        this.fanOut = new int[n + 1];
        reached[top + 1] = true;
        for (int k = top; k >= 0; k--) {
            if (reached[k + 1]) {
                for (int o : src[k]) {
                    reached[o] = true;
                    fanOut[o]++;
                }
            }
        }
        try {
            List<Rule> assigned = composite.rules(network);
            boolean zennitBias = composite.convBias() == ConvBias.ZENNIT;
            int maxOut = network.inputSize();
            for (int k = 0; k < n; k++) {
                maxOut = Math.max(maxOut, nodes.get(k).outputSize());
                Node node = nodes.get(k);
                Rule rule = assigned.get(k);
                rules[k] = rule;
                if (node.layer() instanceof Dense d) {
                    dense[k] = new DenseStep(be, node.name(), d, rule);
                    maxOut = Math.max(maxOut, d.out());
                } else if (node.layer() instanceof org.gpulrp.model.Conv2d c) {
                    dense[k] = new ConvStep(be, node.name(), c, rule, zennitBias);
                } else if (node.layer() instanceof org.gpulrp.model.AvgPool2d ap) {
                    dense[k] = averagePool(node.name(), ap.geometry());
                } else if (node.layer() instanceof org.gpulrp.model.BatchNorm bn) {
                    dense[k] = batchNorm(node.name(), bn);
                } else if (!(rule instanceof Pass) && node.kind() != LayerKind.MERGE
                        && node.kind() != LayerKind.POOL) {
                    throw new InvalidArgumentException("composite", "layer '" + node.name() + "' ("
                            + node.kind() + ") can only take the pass rule, not " + rule.describe());
                }
            }
            plusShortcuts(true);
            allocateBatchBuffers(maxOut);
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

    /**
     * An upper bound of the per-batch floats one row needs: every node's output and relevance, the input, the
     * scratch buffers (the stacked shortcut's one of two widths included) and the pooling indices.
     */
    static long floatsPerRow(Network network) {
        long widths = network.inputSize();
        long max = network.inputSize();
        for (Node node : network.nodes()) {
            widths += node.outputSize();
            max = Math.max(max, node.outputSize());
        }
        return 3 * widths + 7 * max;
    }

    /** Average pooling as a depthwise convolution with weights 1 / (kH kW), explained with the epsilon formula. */
    private LinearStep averagePool(String name, org.gpulrp.model.PoolGeometry p) {
        org.gpulrp.model.ConvGeometry g = new org.gpulrp.model.ConvGeometry(p.channels(), p.inH(), p.inW(),
                p.channels(), p.kernelH(), p.kernelW(), p.strideH(), p.strideW(), p.padH(), p.padW(), 1, 1,
                p.channels());
        float[] w = new float[g.weightSize()];
        java.util.Arrays.fill(w, 1f / (p.kernelH() * p.kernelW()));
        return new ConvStep(be, name, g, w, new float[p.channels()], new org.gpulrp.rules.Epsilon());
    }

    /**
     * A standalone batch norm (one not folded into a linear layer) as a depthwise 1x1 convolution with weight
     * {@code s = gamma / sqrt(var + eps)} and bias {@code beta - mean * s}, for the forward pass only: the relevance
     * passes through it unchanged, as Zennit's composites do for a BatchNorm its canonizer did not merge
     * ({@code layer_map_base}: BatchNorm gets Pass), whatever rule the composite names.
     */
    private LinearStep batchNorm(String name, org.gpulrp.model.BatchNorm bn) {
        org.gpulrp.model.ConvGeometry g = new org.gpulrp.model.ConvGeometry(bn.channels(), bn.height(),
                bn.width(), bn.channels(), 1, 1, 1, 1, 0, 0, 1, 1, bn.channels());
        return new ConvStep(be, name, g, bn.foldedWeight(), bn.foldedBias(), new org.gpulrp.rules.Epsilon());
    }

    /**
     * Which outputs are non-negative by construction, decided from the graph alone: a ReLU's output
     * ({@code x > 0 ? x : 0}, never -0), and max pooling, average pooling, identities (flatten, dropout), additions
     * and concatenations whose inputs all are. The network input is not. Indexed like {@link #acts}.
     */
    static boolean[] nonNegativeOutputs(List<Node> nodes, int[][] src) {
        boolean[] nonNeg = new boolean[nodes.size() + 1];
        for (int k = 0; k < nodes.size(); k++) {
            org.gpulrp.model.Layer layer = nodes.get(k).layer();
            if (layer instanceof Activation a) {
                nonNeg[k + 1] = a.function() == Activation.Function.RELU;
            } else if (layer instanceof org.gpulrp.model.MaxPool2d || layer instanceof org.gpulrp.model.AvgPool2d
                    || layer instanceof org.gpulrp.model.Identity || layer instanceof org.gpulrp.model.Add
                    || layer instanceof org.gpulrp.model.Concat) {
                boolean all = true;
                for (int o : src[k]) {
                    all &= nonNeg[o];
                }
                nonNeg[k + 1] = all;
            }
        }
        return nonNeg;
    }

    /**
     * Lets each linear step know whether its input is non-negative by construction ({@code enabled}), or tells none
     * of them (false: every step keeps the general sign-split kernels; tests compare the two).
     */
    void plusShortcuts(boolean enabled) {
        boolean[] nonNeg = nonNegativeOutputs(nodes, src);
        for (int k = 0; k < nodes.size(); k++) {
            if (dense[k] != null) {
                dense[k].inputNonNegative(enabled && nonNeg[src[k][0]]);
            }
        }
    }

    /** Whether node k's relevance pass takes the non-negative-input shortcut of {@link LinearStep} (for tests). */
    boolean plusShortcut(int k) {
        return dense[k] != null && dense[k].plusShortcut();
    }

    /** Whether node k's relevance pass takes the stacked two-sided shortcut of {@link LinearStep} (for tests). */
    boolean stackShortcut(int k) {
        return dense[k] != null && dense[k].stackShortcut();
    }

    /** Each node's inputs as output numbers (0 = the network input, k + 1 = node k). */
    private static int[][] sources(Network network) {
        List<Node> nodes = network.nodes();
        Map<String, Integer> index = new java.util.HashMap<>();
        index.put(Network.INPUT, 0);
        int[][] src = new int[nodes.size()][];
        for (int k = 0; k < nodes.size(); k++) {
            List<String> names = nodes.get(k).sources();
            src[k] = new int[names.size()];
            for (int i = 0; i < names.size(); i++) {
                src[k][i] = index.get(names.get(i));
            }
            index.put(nodes.get(k).name(), k + 1);
        }
        return src;
    }

    /**
     * The node whose output receives the initial relevance: the last one, or for LOGIT the one below the final
     * activation (looking past trailing identities such as dropout at inference).
     */
    private static int topNode(List<Node> nodes, int[][] src, InitialRelevance init) {
        int last = nodes.size() - 1;
        if (init != InitialRelevance.LOGIT) {
            return last;
        }
        int k = last;
        while (nodes.get(k).kind() == LayerKind.IDENTITY && src[k][0] > 0) {
            k = src[k][0] - 1;
        }
        return nodes.get(k).kind() == LayerKind.ACTIVATION && src[k][0] > 0 ? src[k][0] - 1 : last;
    }

    private Buffer batch(int floatsPerRow) {
        Buffer b = be.allocate(Math.multiplyExact(capacity, Math.max(1, floatsPerRow)));
        batchBuffers.add(b);
        return b;
    }

    private void allocateBatchBuffers(int maxOut) {
        acts[0] = batch(network.inputSize());
        for (int k = 0; k < nodes.size(); k++) {
            Node node = nodes.get(k);
            acts[k + 1] = node.layer() instanceof org.gpulrp.model.Identity ? acts[src[k][0]] : batch(node.outputSize());
        }
        // Relevance at each reached output, from the top down; a pass-through node that is its input's only
        // consumer shares its own buffer with that input (no copy).
        rel[top + 1] = batch(nodes.get(top).outputSize());
        for (int k = top; k >= 0; k--) {
            if (!reached[k + 1]) {
                continue;
            }
            for (int o : src[k]) {
                if (rel[o] == null) {
                    boolean pass = dense[k] == null && nodes.get(k).kind() != LayerKind.MERGE
                            && nodes.get(k).kind() != LayerKind.POOL;
                    rel[o] = pass && fanOut[o] == 1 ? rel[k + 1] : batch(width(o));
                }
            }
        }
        for (int k = 0; k < nodes.size(); k++) {
            if (nodes.get(k).layer() instanceof org.gpulrp.model.MaxPool2d) {
                poolArg.put(k, batch(nodes.get(k).outputSize()));
            }
        }
        scratch.signal = batch(maxOut);
        scratch.signalNeg = batch(maxOut);
        scratch.denominator = batch(maxOut);
        scratch.denominatorNeg = batch(maxOut);
        for (LinearStep d : dense) {
            if (d != null && d.stackShortcut() && scratch.stackedSignal == null) {
                scratch.stackedSignal = batch(2 * maxOut);
            }
        }
        contribution = batch(maxOut);
    }

    /** Features of output o. */
    private int width(int o) {
        return o == 0 ? network.inputSize() : nodes.get(o - 1).outputSize();
    }

    public int capacity() {
        return capacity;
    }

    public Network network() {
        return network;
    }

    /** The rule each node gets, in node order. */
    public List<Rule> rules() {
        return List.of(rules);
    }

    /**
     * Explains rows {@code [row0, row0 + rows)} of {@code x} ({@code [batch, inputSize]}), {@code rows <= capacity},
     * writing every result straight into {@code out} at the same rows. Checks the rows' values first.
     *
     * @param targetOf maps this chunk's network outputs ({@code [rows, outputs]}) to one class per row
     */
    public void run(float[] x, int row0, int rows, TargetResolver targetOf, Batch out) {
        if (closed) {
            throw new org.gpulrp.ClosedException("prepared model");
        }
        InvalidArgumentException.check(rows > 0 && rows <= capacity, "rows", "must be in 1.." + capacity);
        int in = network.inputSize();
        if (rejectNonFinite) {
            checkFinite(x, row0, rows, in);
        }
        be.write(acts[0], x, row0 * in, rows * in);
        forward(rows);
        int outSize = network.outputSize();
        be.read(acts[nodes.size()], out.outputs, row0 * outSize, rows * outSize);
        float[] chunkOutputs = java.util.Arrays.copyOfRange(out.outputs, row0 * outSize, (row0 + rows) * outSize);
        int width = nodes.get(top).outputSize();
        float[] topValues = chunkOutputs;
        if (top != nodes.size() - 1) {
            topValues = new float[rows * width];
            be.read(acts[top + 1], topValues, 0, topValues.length);
        }
        int[] targets = targetOf.resolve(chunkOutputs, rows, outSize);
        float[] r0 = new float[rows * width];
        for (int b = 0; b < rows; b++) {
            int t = targets[b];
            r0[b * width + t] = init == InitialRelevance.ONEHOT ? 1f : topValues[b * width + t];
            out.targets[row0 + b] = t;
            out.scores[row0 + b] = r0[b * width + t];
        }
        be.write(rel[top + 1], r0, 0, r0.length);
        backward(rows, row0, out);
        be.read(rel[0], out.relevance, row0 * in, rows * in);
        if (out.health != null) {
            long[] c = new long[3];
            Health.sums(out.relevance, row0, rows, in, c);
            out.health.count(0, c);
        }
        // Per-sample sums for the conservation report: ascending order in double, on the lane's own thread.
        for (int b = row0; b < row0 + rows; b++) {
            double sum = 0;
            for (int i = 0; i < in; i++) {
                sum += out.relevance[b * in + i];
            }
            out.sums[b] = sum;
        }
    }

    /**
     * The relevance pass, nodes from the top down. A node's output relevance is complete when it is reached (all its
     * consumers come later in the node order); contributions to an output with several consumers are added in the
     * order the consumers are processed (descending node index), the same order on every backend.
     */
    private void backward(int rows, int row0, Batch out) {
        this.row0 = row0;
        int[] received = new int[rel.length];
        for (int k = top; k >= 0; k--) {
            if (!reached[k + 1]) {
                continue;
            }
            Node node = nodes.get(k);
            if (out.layers != null) {
                int w = node.outputSize();
                be.read(rel[k + 1], out.layers.get(node.name()), row0 * w, rows * w);
            }
            if (out.health != null) {
                long[] c = new long[3];
                Health.add(out.health.entering[k], sampleSums(rel[k + 1], rows, node.outputSize(), c), row0);
                out.health.count(k + 1, c);
            }
            Buffer r = rel[k + 1];
            if (dense[k] != null && !(node.layer() instanceof org.gpulrp.model.BatchNorm)) {
                int o = src[k][0];
                dense[k].backward(acts[o], acts[k + 1], r, target(o, received), scratch, rows);
                if (out.health != null) {
                    dense[k].stabilizerShare(acts[k + 1], scratch, rows, out.health.stabilizer[k], row0);
                }
                accumulate(k, o, received, rows, out);
            } else if (node.layer() instanceof org.gpulrp.model.MaxPool2d mp) {
                int o = src[k][0];
                be.maxPoolRoute(r, poolArg.get(k), target(o, received), rows, mp.geometry());
                accumulate(k, o, received, rows, out);
            } else if (node.layer() instanceof org.gpulrp.model.Add) {
                int w = node.outputSize();
                be.normalize(r, acts[k + 1], w, org.gpulrp.rules.Rule.DEFAULT_EPSILON, scratch.signal, rows, w);
                if (out.health != null) {
                    // The stabilizer's share at an addition (epsilon on its own map).
                    Health.addStabilizer(be, scratch.signal, acts[k + 1], w, rows, w,
                            org.gpulrp.rules.Rule.DEFAULT_EPSILON, out.health.stabilizer[k], row0);
                }
                for (int o : src[k]) {
                    be.mul(acts[o], scratch.signal, target(o, received), rows * w);
                    accumulate(k, o, received, rows, out);
                }
            } else if (node.layer() instanceof org.gpulrp.model.Concat) {
                int w = node.outputSize();
                int offset = 0;
                for (int o : src[k]) {
                    int wi = width(o);
                    be.copyRows(r, w, offset, target(o, received), wi, 0, wi, rows);
                    accumulate(k, o, received, rows, out);
                    offset += wi;
                }
            } else {
                int o = src[k][0];
                if (rel[o] != r) {
                    be.copyRows(r, width(o), 0, target(o, received), width(o), 0, width(o), rows);
                }
                accumulate(k, o, received, rows, out);
            }
        }
    }

    /** Whether {@link #run} refuses NaN and infinite inputs (the default) or lets them through. */
    private volatile boolean rejectNonFinite = true;

    /** Sets the non-finite input policy: true refuses them (naming the sample), false explains them anyway. */
    public void rejectNonFinite(boolean reject) {
        this.rejectNonFinite = reject;
    }

    /** The first row of the chunk being explained (for the health report's per-sample sums). */
    private int row0;

    /**
     * Per-row sums (double, ascending) of {@code buf}'s first {@code rows * width} values; counts NaN, infinite and
     * subnormal values into {@code counts} when given.
     */
    private double[] sampleSums(Buffer buf, int rows, int width, long[] counts) {
        float[] h = new float[rows * width];
        be.read(buf, h, 0, h.length);
        return Health.sums(h, 0, rows, width, counts);
    }

    /** Where the next contribution to output o goes: its buffer when it is the first, else the scratch. */
    private Buffer target(int o, int[] received) {
        return received[o] == 0 ? rel[o] : contribution;
    }

    /**
     * Counts node k's contribution to output o, adding it to what o already holds when it was not the first; with a
     * health report, first sums it per sample (the relevance node k passed down).
     */
    private void accumulate(int k, int o, int[] received, int rows, Batch out) {
        if (out.health != null) {
            Health.add(out.health.leaving[k], sampleSums(target(o, received), rows, width(o), null), row0);
        }
        if (received[o] > 0) {
            be.add(rel[o], contribution, rel[o], rows * width(o));
        }
        received[o]++;
    }

    private static void checkFinite(float[] x, int row0, int rows, int in) {
        for (int k = row0 * in; k < (row0 + rows) * in; k++) {
            if (!Float.isFinite(x[k])) {
                int b = k / in;
                throw new org.gpulrp.InvalidInputException("sample " + b + " feature " + (k % in) + " is " + x[k]
                        + "; LRP needs finite inputs", b, k % in);
            }
        }
    }

    /** Where the results of a whole batch go; chunks fill their own rows. */
    public static final class Batch {
        public final float[] relevance;
        public final float[] outputs;
        public final int[] targets;
        public final float[] scores;
        public final double[] sums;
        /** Relevance at each node's output, top first; null unless layer relevances are kept. */
        public final Map<String, float[]> layers;
        /** Where relevance went, per node and sample; null unless asked for. */
        public final Health health;

        public Batch(Engine e, int rows, boolean keepLayers) {
            this(e, rows, keepLayers, false);
        }

        public Batch(Engine e, int rows, boolean keepLayers, boolean health) {
            this.health = health ? new Health(e.nodes.size(), rows) : null;
            Network n = e.network;
            this.relevance = new float[rows * n.inputSize()];
            this.outputs = new float[rows * n.outputSize()];
            this.targets = new int[rows];
            this.scores = new float[rows];
            this.sums = new double[rows];
            if (keepLayers) {
                layers = new LinkedHashMap<>();
                for (int k = e.top; k >= 0; k--) {
                    if (e.reached[k + 1]) {
                        Node node = e.nodes.get(k);
                        layers.put(node.name(), new float[rows * node.outputSize()]);
                    }
                }
            } else {
                layers = null;
            }
        }
    }

    private void forward(int rows) {
        for (int k = 0; k < nodes.size(); k++) {
            Node node = nodes.get(k);
            int count = rows * node.outputSize();
            Buffer x = acts[src[k][0]];
            if (dense[k] != null) {
                dense[k].forward(x, acts[k + 1], rows);
            } else if (node.layer() instanceof Activation a) {
                switch (a.function()) {
                    case RELU -> be.relu(x, acts[k + 1], count);
                    case SIGMOID, SOFTMAX -> {
                        float[] h = new float[count];
                        be.read(x, h, 0, count);
                        if (a.function() == Activation.Function.SIGMOID) {
                            HostMath.sigmoid(h, h, count);
                        } else {
                            HostMath.softmax(h, h, rows, node.outputSize());
                        }
                        be.write(acts[k + 1], h, 0, count);
                    }
                    default -> throw new IllegalStateException("unhandled activation " + a.function());
                }
            } else if (node.layer() instanceof org.gpulrp.model.MaxPool2d mp) {
                be.maxPool(x, acts[k + 1], poolArg.get(k), rows, mp.geometry());
            } else if (node.layer() instanceof org.gpulrp.model.Add) {
                // Summed in input order, each add rounded: ((a + b) + c) ...
                be.add(acts[src[k][0]], acts[src[k][1]], acts[k + 1], count);
                for (int i = 2; i < src[k].length; i++) {
                    be.add(acts[k + 1], acts[src[k][i]], acts[k + 1], count);
                }
            } else if (node.layer() instanceof org.gpulrp.model.Concat) {
                int w = node.outputSize();
                int offset = 0;
                for (int o : src[k]) {
                    be.copyRows(acts[o], width(o), 0, acts[k + 1], w, offset, width(o), rows);
                    offset += width(o);
                }
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
        for (LinearStep d : dense) {
            if (d != null) {
                d.close();
            }
        }
        for (Buffer b : batchBuffers) {
            b.close();
        }
        batchBuffers.clear();
    }
}
