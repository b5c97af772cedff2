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
import org.gpulrp.composite.LayerContext;
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
    private final DenseStep[] dense;
    private final Rule[] rules;
    /** Index of the node whose output receives the initial relevance. */
    private final int top;
    private final int capacity;
    /** acts[k] = input of node k; acts[n] = network output. Entries alias where a node passes values through. */
    private final Buffer[] acts;
    private final Buffer[] rel;
    private final DenseStep.Scratch scratch = new DenseStep.Scratch();
    private final List<Buffer> batchBuffers = new ArrayList<>();
    private boolean closed;

    public Engine(Backend be, Network network, Composite composite, InitialRelevance init, int capacity) {
        InvalidArgumentException.check(capacity > 0, "capacity", "must be > 0, got " + capacity);
        this.be = be;
        this.network = network;
        this.init = init;
        this.nodes = network.nodes();
        this.capacity = capacity;
        int n = nodes.size();
        this.dense = new DenseStep[n];
        this.rules = new Rule[n];
        this.top = topNode(nodes, init);
        this.acts = new Buffer[n + 1];
        this.rel = new Buffer[n + 1];
        try {
            int linearCount = network.linearNodes().size();
            int li = 0;
            int maxOut = 1;
            for (int k = 0; k < n; k++) {
                Node node = nodes.get(k);
                LayerContext ctx = new LayerContext(node.name(), node.kind(), node.kind().isLinear() ? li : -1,
                        linearCount, node.inputSize());
                Rule rule = composite.ruleFor(ctx);
                rules[k] = rule;
                if (node.layer() instanceof Dense d) {
                    li++;
                    dense[k] = new DenseStep(be, node.name(), d, rule);
                    maxOut = Math.max(maxOut, d.out());
                } else if (!(rule instanceof Pass)) {
                    throw new InvalidArgumentException("composite", "layer '" + node.name() + "' ("
                            + node.kind() + ") can only take the pass rule, not " + rule.describe());
                }
            }
            allocateBatchBuffers(maxOut);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * The node whose output receives the initial relevance: the last one, or for LOGIT the one below the final
     * activation (looking past trailing identities such as dropout at inference).
     */
    private static int topNode(List<Node> nodes, InitialRelevance init) {
        int k = nodes.size() - 1;
        if (init != InitialRelevance.LOGIT) {
            return k;
        }
        while (k > 0 && nodes.get(k).kind() == LayerKind.IDENTITY) {
            k--;
        }
        return nodes.get(k).kind() == LayerKind.ACTIVATION && k > 0 ? k - 1 : nodes.size() - 1;
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
            acts[k + 1] = node.layer() instanceof org.gpulrp.model.Identity ? acts[k] : batch(node.outputSize());
        }
        // Relevance at each boundary: pass-through nodes share the buffer above them.
        rel[top + 1] = batch(nodes.get(top).outputSize());
        for (int k = top; k >= 0; k--) {
            rel[k] = dense[k] != null ? batch(nodes.get(k).inputSize()) : rel[k + 1];
        }
        scratch.a = batch(maxOut);
        scratch.b = batch(maxOut);
        scratch.c = batch(maxOut);
        scratch.d = batch(maxOut);
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
        checkFinite(x, row0, rows, in);
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
        if (out.layers != null) {
            System.arraycopy(r0, 0, out.layers.get(nodes.get(top).name()), row0 * width, r0.length);
        }
        for (int k = top; k >= 0; k--) {
            if (dense[k] != null) {
                dense[k].backward(acts[k], acts[k + 1], rel[k + 1], rel[k], scratch, rows);
            }
            if (out.layers != null && k > 0) {
                Node below = nodes.get(k - 1);
                int w = below.outputSize();
                be.read(rel[k], out.layers.get(below.name()), row0 * w, rows * w);
            }
        }
        be.read(rel[0], out.relevance, row0 * in, rows * in);
        // Per-sample sums for the conservation report: ascending order in double, on the lane's own thread.
        for (int b = row0; b < row0 + rows; b++) {
            double sum = 0;
            for (int i = 0; i < in; i++) {
                sum += out.relevance[b * in + i];
            }
            out.sums[b] = sum;
        }
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

        public Batch(Engine e, int rows, boolean keepLayers) {
            Network n = e.network;
            this.relevance = new float[rows * n.inputSize()];
            this.outputs = new float[rows * n.outputSize()];
            this.targets = new int[rows];
            this.scores = new float[rows];
            this.sums = new double[rows];
            if (keepLayers) {
                layers = new LinkedHashMap<>();
                for (int k = e.top; k >= 0; k--) {
                    Node node = e.nodes.get(k);
                    layers.put(node.name(), new float[rows * node.outputSize()]);
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
            if (dense[k] != null) {
                dense[k].forward(acts[k], acts[k + 1], rows);
            } else if (node.layer() instanceof Activation a) {
                switch (a.function()) {
                    case RELU -> be.relu(acts[k], acts[k + 1], count);
                    case SIGMOID, SOFTMAX -> {
                        float[] h = new float[count];
                        be.read(acts[k], h, 0, count);
                        if (a.function() == Activation.Function.SIGMOID) {
                            HostMath.sigmoid(h, h, count);
                        } else {
                            HostMath.softmax(h, h, rows, node.outputSize());
                        }
                        be.write(acts[k + 1], h, 0, count);
                    }
                    default -> throw new IllegalStateException("unhandled activation " + a.function());
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
        for (DenseStep d : dense) {
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
