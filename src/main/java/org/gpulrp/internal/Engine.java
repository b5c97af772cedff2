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

    /** What one chunk of rows produced, as plain arrays. */
    public record ChunkResult(float[] inputRelevance, float[] outputs, int[] targets, float[] initial,
                              double[] inputSums, Map<String, float[]> layerRelevance) {
    }

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
     * Explains {@code rows <= capacity} samples from {@code x} ({@code [rows, inputSize]}, already validated).
     *
     * @param targetOf maps the forward outputs ({@code [rows, outputs]} of the node receiving the initial relevance
     *                 and of the network) to one class per row
     */
    public ChunkResult run(float[] x, int rows, TargetResolver targetOf, boolean keepLayers) {
        if (closed) {
            throw new org.gpulrp.ClosedException("prepared model");
        }
        InvalidArgumentException.check(rows > 0 && rows <= capacity, "rows", "must be in 1.." + capacity);
        be.write(acts[0], x, 0, rows * network.inputSize());
        forward(rows);
        int outSize = network.outputSize();
        float[] outputs = new float[rows * outSize];
        be.read(acts[nodes.size()], outputs, 0, outputs.length);
        int width = nodes.get(top).outputSize();
        float[] topValues = outputs;
        if (top != nodes.size() - 1) {
            topValues = new float[rows * width];
            be.read(acts[top + 1], topValues, 0, topValues.length);
        }
        int[] targets = targetOf.resolve(outputs, rows, outSize);
        float[] r0 = new float[rows * width];
        for (int b = 0; b < rows; b++) {
            int t = targets[b];
            r0[b * width + t] = init == InitialRelevance.ONEHOT ? 1f : topValues[b * width + t];
        }
        be.write(rel[top + 1], r0, 0, r0.length);
        Map<String, float[]> layers = keepLayers ? new LinkedHashMap<>() : null;
        if (keepLayers) {
            layers.put(nodes.get(top).name(), r0);
        }
        for (int k = top; k >= 0; k--) {
            if (dense[k] != null) {
                dense[k].backward(acts[k], acts[k + 1], rel[k + 1], rel[k], scratch, rows);
            }
            if (keepLayers && k > 0) {
                Node below = nodes.get(k - 1);
                float[] r = new float[rows * below.outputSize()];
                be.read(rel[k], r, 0, r.length);
                layers.put(below.name(), r);
            }
        }
        float[] rin = new float[rows * network.inputSize()];
        be.read(rel[0], rin, 0, rin.length);
        // Per-sample sums for the conservation report: ascending order in double, on the lane's own thread.
        int in = network.inputSize();
        double[] sums = new double[rows];
        for (int b = 0; b < rows; b++) {
            double sum = 0;
            for (int i = 0; i < in; i++) {
                sum += rin[b * in + i];
            }
            sums[b] = sum;
        }
        return new ChunkResult(rin, outputs, targets, r0, sums, layers);
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
