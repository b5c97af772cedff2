package org.gpulrp;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.internal.Backends;
import org.gpulrp.internal.Engine;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.rules.Rule;

/**
 * A network prepared for explaining: kernels compiled, weights and their rule variants on the backend, batch buffers
 * allocated, once. Explain as many batches as you like, then {@link #close()} to release the device memory. Calls
 * are serialized: one explainer may be shared by threads, which then take turns.
 */
public final class Explainer implements AutoCloseable {
    private final Network network;
    private final Composite composite;
    private final Backend backend;
    private final boolean ownsBackend;
    private final boolean keepLayers;
    private final Engine engine;
    private final BackendInfo info;
    private boolean closed;

    private Explainer(Builder b) {
        this.network = b.network;
        this.composite = b.composite;
        this.keepLayers = b.keepLayers;
        Backends.Opened opened = b.backend != null ? new Backends.Opened(b.backend, false, "")
                : Backends.open(b.choice, b.device);
        this.backend = opened.backend();
        this.ownsBackend = opened.owned();
        BackendInfo bi = backend.info();
        this.info = opened.note().isEmpty() ? bi
                : new BackendInfo(bi.kind(), bi.device(), bi.exact(), join(bi.note(), opened.note()));
        try {
            this.engine = new Engine(backend, network, composite, b.init, b.chunkRows);
        } catch (RuntimeException e) {
            if (ownsBackend) {
                backend.close();
            }
            throw e;
        }
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : a + "; " + b;
    }

    public static Builder builder(Network network) {
        return new Builder(network);
    }

    /** Which backend runs this explainer, on what device, and whether it is bit-exact. */
    public BackendInfo backend() {
        return info;
    }

    public Network network() {
        return network;
    }

    public Composite composite() {
        return composite;
    }

    /** The rule each node gets, by node name, in forward order. */
    public Map<String, Rule> rules() {
        Map<String, Rule> m = new LinkedHashMap<>();
        List<Rule> r = engine.rules();
        List<Node> nodes = network.nodes();
        for (int k = 0; k < nodes.size(); k++) {
            m.put(nodes.get(k).name(), r.get(k));
        }
        return m;
    }

    /** Explains each row of {@code inputs} ({@code [batch][features]}). */
    public Explanation explain(float[][] inputs, Target target) {
        return explain(Tensor.ofRows(checkRows(inputs)), target);
    }

    private float[][] checkRows(float[][] inputs) {
        InvalidArgumentException.check(inputs != null, "inputs", "must not be null");
        for (int b = 0; b < inputs.length; b++) {
            if (inputs[b] == null || inputs[b].length != network.inputSize()) {
                throw new ShapeMismatchException("input features of sample " + b, network.inputSize() + " values",
                        inputs[b] == null ? "null" : inputs[b].length + " values");
            }
        }
        return inputs;
    }

    /** Explains a batch given as a tensor whose first dimension is the batch. */
    public synchronized Explanation explain(Tensor inputs, Target target) {
        if (closed) {
            throw new ClosedException("explainer");
        }
        InvalidArgumentException.check(target != null, "target", "must not be null");
        InvalidArgumentException.check(inputs != null, "inputs", "must not be null");
        int rows = inputs.rows();
        InvalidArgumentException.check(rows > 0, "inputs", "the batch is empty; pass at least one sample");
        int in = network.inputSize();
        if (inputs.rowSize() != in) {
            throw new ShapeMismatchException("input features", in + " per sample", inputs.rowSize()
                    + " per sample");
        }
        float[] x = inputs.view();
        for (int k = 0; k < x.length; k++) {
            if (!Float.isFinite(x[k])) {
                int b = k / in;
                throw new InvalidInputException("sample " + b + " feature " + (k % in) + " is " + x[k]
                        + "; LRP needs finite inputs", b, k % in);
            }
        }
        int outSize = network.outputSize();
        float[] rel = new float[rows * in];
        float[] outputs = new float[rows * outSize];
        int[] targets = new int[rows];
        float[] scores = new float[rows];
        Map<String, float[]> layers = new LinkedHashMap<>();
        int cap = engine.capacity();
        for (int r0 = 0; r0 < rows; r0 += cap) {
            int n = Math.min(cap, rows - r0);
            float[] chunk = r0 == 0 && n == rows ? x : java.util.Arrays.copyOfRange(x, r0 * in, (r0 + n) * in);
            int off = r0;
            Engine.ChunkResult c = engine.run(chunk, n, (o, rr, classes) -> slice(target, rows, off, rr)
                    .resolve(o, rr, classes), keepLayers);
            System.arraycopy(c.inputRelevance(), 0, rel, r0 * in, n * in);
            System.arraycopy(c.outputs(), 0, outputs, r0 * outSize, n * outSize);
            System.arraycopy(c.targets(), 0, targets, r0, n);
            int width = c.initial().length / n;
            for (int b = 0; b < n; b++) {
                scores[r0 + b] = c.initial()[b * width + targets[r0 + b]];
            }
            if (keepLayers) {
                for (Map.Entry<String, float[]> e : c.layerRelevance().entrySet()) {
                    int w = e.getValue().length / n;
                    float[] all = layers.computeIfAbsent(e.getKey(), k -> new float[rows * w]);
                    System.arraycopy(e.getValue(), 0, all, r0 * w, n * w);
                }
            }
        }
        Map<String, Tensor> layerTensors = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : layers.entrySet()) {
            layerTensors.put(e.getKey(), Tensor.wrap(e.getValue(), rows, e.getValue().length / rows));
        }
        int[] shape = inputs.shape();
        return new Explanation(Tensor.wrap(rel, shape), Tensor.wrap(outputs, rows, outSize), targets, scores,
                layerTensors, info);
    }

    private static Target slice(Target t, int rows, int off, int n) {
        if (t instanceof Target.PerSample p) {
            int[] all = p.indices();
            InvalidArgumentException.check(all.length == rows, "target", "got " + all.length
                    + " per-sample indices for a batch of " + rows);
            return new Target.PerSample(java.util.Arrays.copyOfRange(all, off, off + n));
        }
        return t;
    }

    /** Releases the prepared weights, the batch buffers and, when the explainer opened it, the backend. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        engine.close();
        if (ownsBackend) {
            backend.close();
        }
    }

    /** Configures an explainer; {@link #build()} prepares it. */
    public static final class Builder {
        private final Network network;
        private Composite composite = Composites.epsilon();
        private InitialRelevance init = InitialRelevance.OUTPUT;
        private BackendChoice choice = BackendChoice.AUTO;
        private String device;
        private Backend backend;
        private boolean keepLayers;
        private int chunkRows = 4096;

        private Builder(Network network) {
            InvalidArgumentException.check(network != null, "network", "must not be null");
            this.network = network;
        }

        public Builder composite(Composite c) {
            InvalidArgumentException.check(c != null, "composite", "must not be null");
            this.composite = c;
            return this;
        }

        /** The same rule on every linear layer. */
        public Builder rule(Rule r) {
            InvalidArgumentException.check(r != null, "rule", "must not be null");
            return composite(Composite.uniform(r));
        }

        public Builder initialRelevance(InitialRelevance i) {
            InvalidArgumentException.check(i != null, "initialRelevance", "must not be null");
            this.init = i;
            return this;
        }

        public Builder backend(BackendChoice c) {
            InvalidArgumentException.check(c != null, "backend", "must not be null");
            this.choice = c;
            return this;
        }

        /** A backend the caller owns (and closes); overrides {@link #backend(BackendChoice)}. */
        public Builder backend(Backend b) {
            this.backend = b;
            return this;
        }

        /** OpenCL device whose name contains this text (case-insensitive). */
        public Builder device(String nameContains) {
            this.device = nameContains;
            return this;
        }

        /** Keep the relevance at every layer (costs one [batch, width] array per layer). */
        public Builder keepLayerRelevances(boolean keep) {
            this.keepLayers = keep;
            return this;
        }

        /** Rows per device pass; larger batches are split into chunks of this size (results are the same). */
        public Builder chunkRows(int rows) {
            InvalidArgumentException.check(rows > 0, "chunkRows", "must be > 0, got " + rows);
            this.chunkRows = rows;
            return this;
        }

        public Explainer build() {
            return new Explainer(this);
        }
    }
}
