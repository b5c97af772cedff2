package org.gpulrp;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
    /** Backends this explainer opened (and closes); empty when the caller passed its own. */
    private final List<Backend> owned;
    private final boolean keepLayers;
    /** One engine per parallel lane; each runs the whole network on the chunks it is given. */
    private final List<Engine> engines = new ArrayList<>();
    private final ExecutorService pool;
    private final BackendInfo info;
    private boolean closed;

    private Explainer(Builder b) {
        this.network = b.network;
        this.composite = b.composite;
        this.keepLayers = b.keepLayers;
        List<Backend> lanes;
        if (b.backend != null) {
            lanes = List.of(b.backend);
            this.owned = List.of();
            this.info = b.backend.info();
        } else {
            Backends.Opened opened = Backends.open(b.choice, b.device, b.cpuThreads);
            lanes = opened.backends();
            this.owned = lanes;
            this.info = opened.info();
        }
        try {
            for (Backend be : lanes) {
                engines.add(new Engine(be, network, composite, b.init, b.chunkRows,
                        b.memoryBytes / Float.BYTES / lanes.size()));
            }
        } catch (RuntimeException e) {
            engines.forEach(Engine::close);
            owned.forEach(Backend::close);
            throw e;
        }
        this.pool = engines.size() > 1 ? Executors.newFixedThreadPool(engines.size(), r -> {
            Thread t = new Thread(r, "gpulrp-explain");
            t.setDaemon(true);
            return t;
        }) : null;
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
        List<Rule> r = engines.get(0).rules();
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
        int outSize = network.outputSize();
        if (!(target instanceof Target.Argmax)) {
            target.resolve(null, rows, outSize); // checks ranges and lengths before any work starts
        }
        Engine.Batch out = new Engine.Batch(engines.get(0), rows, keepLayers);
        // Chunks no larger than an engine's buffers, and at least one per lane when the batch allows.
        int lanes = engines.size();
        int chunk = Math.min(engines.get(0).capacity(), Math.max(1, (rows + lanes - 1) / lanes));
        int chunks = (rows + chunk - 1) / chunk;
        runLanes(chunks, (lane, c) -> {
            int r0 = c * chunk;
            int n = Math.min(chunk, rows - r0);
            engines.get(lane).run(x, r0, n, (o, rr, classes) -> slice(target, rows, r0, rr).resolve(o, rr, classes),
                    out);
        });
        Map<String, Tensor> layerTensors = new LinkedHashMap<>();
        if (out.layers != null) {
            for (Map.Entry<String, float[]> e : out.layers.entrySet()) {
                layerTensors.put(e.getKey(), Tensor.wrap(e.getValue(), rows, e.getValue().length / rows));
            }
        }
        return new Explanation(Tensor.wrap(out.relevance, inputs.shape()), Tensor.wrap(out.outputs, rows, outSize),
                out.targets, out.scores, out.sums, layerTensors, info);
    }

    /** A unit of work: chunk {@code c} on engine {@code lane}. */
    private interface ChunkTask {
        void run(int lane, int c);
    }

    /**
     * Runs chunks on the lanes: lane l takes chunks l, l + lanes, ... and stops at its first error. The error of the
     * lowest failing chunk is thrown, so a bad sample is reported as the first one in the batch.
     */
    private void runLanes(int chunks, ChunkTask task) {
        int lanes = Math.min(engines.size(), chunks);
        RuntimeException[] errors = new RuntimeException[chunks];
        List<Future<?>> fs = new ArrayList<>(lanes);
        for (int l = 0; l < lanes; l++) {
            int lane = l;
            Runnable body = () -> {
                for (int c = lane; c < chunks; c += lanes) {
                    try {
                        task.run(lane, c);
                    } catch (RuntimeException e) {
                        errors[c] = e;
                        return;
                    }
                }
            };
            if (lanes == 1) {
                body.run();
            } else {
                fs.add(pool.submit(body));
            }
        }
        for (Future<?> f : fs) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LrpException("interrupted while explaining", e);
            } catch (ExecutionException e) {
                throw new LrpException("explain failed: " + e.getCause(), e.getCause());
            }
        }
        for (RuntimeException e : errors) {
            if (e != null) {
                throw e;
            }
        }
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
        if (pool != null) {
            pool.shutdownNow();
        }
        engines.forEach(Engine::close);
        owned.forEach(Backend::close);
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
        private int cpuThreads = Runtime.getRuntime().availableProcessors();
        /** Per-batch buffers of all lanes together: a quarter of the heap by default, at most 4 GiB. */
        private long memoryBytes = Math.min(4L << 30, Runtime.getRuntime().maxMemory() / 4);

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

        /**
         * The most bytes the per-batch buffers may take (all lanes together); larger networks then explain fewer rows
         * per pass, with the same results. Weights are not counted.
         */
        public Builder memoryBudget(long bytes) {
            InvalidArgumentException.check(bytes >= 1 << 20, "memoryBudget", "must be at least 1 MiB, got " + bytes);
            this.memoryBytes = bytes;
            return this;
        }

        /** Threads for the CPU path (default: one per available processor). */
        public Builder cpuThreads(int threads) {
            InvalidArgumentException.check(threads > 0, "cpuThreads", "must be > 0, got " + threads);
            this.cpuThreads = threads;
            return this;
        }

        public Explainer build() {
            return new Explainer(this);
        }
    }
}
