package org.gpulrp;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.backend.Backends;
import org.gpulrp.internal.ChunkSizing;
import org.gpulrp.internal.Engine;
import org.gpulrp.model.Network;
import org.gpulrp.rules.Rule;

/**
 * A network prepared for explaining: kernels compiled, weights and their rule variants on the backend, batch buffers
 * allocated, once. Explain as many batches as you like, then {@link #close()} to release the device memory.
 *
 * <p>Thread-safe: one explainer serves many threads at once. Every call is split into chunks that go to one FIFO
 * queue; each lane (one prepared engine on one backend) takes the next chunk when it is free, so concurrent small
 * calls keep all lanes busy. Each row's result depends only on that row, so results are bit-identical however the
 * calls interleave and whichever lane (CPU or OpenCL device) ran a chunk.
 */
public final class Explainer implements AutoCloseable {
    private final Network network;
    private final Composite composite;
    /** Backends this explainer opened (and closes); the caller's own backends are not in it. */
    private final List<Backend> owned;
    private final BackendInfo info;
    /** The engines, one per lane, and the queue of chunks they share. */
    private final LaneScheduler lanes;
    private boolean closed;

    private Explainer(Builder b) {
        this.network = b.network;
        this.composite = b.composite;
        List<Backend> laneBackends = new ArrayList<>();
        List<Backend> opened = new ArrayList<>();
        BackendInfo primary;
        try {
            if (b.backends != null) {
                laneBackends.addAll(b.backends);
                primary = null;
            } else if (b.backend != null) {
                laneBackends.add(b.backend);
                primary = b.backend.info();
            } else {
                Backends.Opened o = b.allDevices ? Backends.allExactDevices()
                        : Backends.open(b.choice, b.device, b.cpuThreads, ChunkSizing.oneCpuLane(network,
                        b.cpuThreads, Runtime.getRuntime().maxMemory(), b.memoryBytes));
                laneBackends.addAll(o.backends());
                opened.addAll(o.backends());
                primary = o.info();
            }
            for (int k = 0; k < b.extraCpuLanes; k++) {
                Backend cpu = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
                opened.add(cpu);
                laneBackends.add(cpu);
            }
        } catch (RuntimeException e) {
            opened.forEach(Backend::close);
            throw e;
        }
        this.owned = List.copyOf(opened);
        this.info = primary != null && b.extraCpuLanes == 0 ? primary
                : Backends.withNote(Backends.combinedInfo(laneBackends), primary);
        List<Engine> engines = new ArrayList<>();
        try {
            Map<String, Integer> perDevice = new HashMap<>();
            for (Backend be : laneBackends) {
                perDevice.merge(be.info().device(), 1, Integer::sum);
            }
            long userBudget = b.memoryBytes / Float.BYTES / laneBackends.size();
            for (Backend be : laneBackends) {
                ChunkSizing.DeviceLimits limits = ChunkSizing.limitsOf(be, perDevice.get(be.info().device()));
                int asked = b.chunkRows > 0 ? b.chunkRows : ChunkSizing.defaultRows(network, be);
                Engine e = new Engine(be, network, composite, b.init, ChunkSizing.rows(network, asked, limits),
                        ChunkSizing.budgetFloats(network, userBudget, limits));
                engines.add(e);
                e.rejectNonFinite(b.nonFinite != NonFinitePolicy.PROPAGATE);
            }
        } catch (RuntimeException e) {
            engines.forEach(Engine::close);
            owned.forEach(Backend::close);
            throw e;
        }
        this.lanes = new LaneScheduler(engines, new LaneScheduler.Settings(network, composite, b.init, b.keepLayers,
                b.health, b.fallbackToCpu, Math.max(1 << 18, b.memoryBytes / Float.BYTES / 4), info));
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

    /** How many lanes run chunks in parallel (CPU threads plus devices). */
    public int laneCount() {
        return lanes.laneCount();
    }

    /**
     * The most rows one lane explains in one pass: {@link Builder#chunkRows}, lowered to fit the memory budget and
     * each device's allocation and global-memory limits. Larger batches are split; the results are the same.
     */
    public int rowsPerPass() {
        return lanes.rowsPerPass();
    }

    /** The rule each node gets, by node name, in forward order. */
    public Map<String, Rule> rules() {
        return lanes.rules();
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

    /**
     * Explains a batch given as a tensor whose first dimension is the batch; blocks until done. Safe to call from
     * many threads at once.
     */
    public Explanation explain(Tensor inputs, Target target) {
        return join(explainAsync(inputs, target));
    }

    /**
     * As {@link #explain(Tensor, Target)}, writing the results into the arrays of {@code reuse}, an earlier explanation
     * from this explainer or another of the same network, instead of new ones: for a stream of batches, where the
     * new arrays of every call cost time of their own (Java zeroes them; the 10-input sample model at batch 65536
     * ran 1.17-1.20x faster reusing them). The same bits as {@code explain}. {@code reuse} is spent by the call, even
     * one that fails: its relevance, outputs, targets, scores and conservation then throw
     * {@link IllegalStateException}, and a tensor taken from it before shows the new call's values, so read or copy
     * what you keep first. Where its arrays do not fit (another batch size or network) or it is null, new arrays are
     * made and {@code reuse} is left as it is.
     *
     * @throws IllegalStateException when {@code reuse} was passed to a call already
     */
    public Explanation explain(Tensor inputs, Target target, Explanation reuse) {
        return join(lanes.submit(inputs, target, reuse));
    }

    /** Waits for a call, rethrowing its error as it was thrown. */
    private static <T> T join(CompletableFuture<T> call) {
        try {
            return call.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new LrpException("call failed: " + c, c);
        }
    }

    /**
     * Starts explaining a batch and returns at once. The future completes with the explanation, or exceptionally
     * with the error {@link #explain(Tensor, Target)} would throw (bad arguments included; for a batch with several
     * bad samples, the first one's). Dependent stages added without an executor run on a lane thread: keep them
     * short, and do not wait there for another call of this explainer (use the {@code ...Async} variants).
     */
    public CompletableFuture<Explanation> explainAsync(Tensor inputs, Target target) {
        return lanes.submit(inputs, target);
    }

    /**
     * The forward pass alone: each row's explained score, the model output at {@code targets[row]} (a flat output
     * index, as {@link Explanation#targets()} gives it; the logit with {@link InitialRelevance#LOGIT}), computed on
     * this explainer's own lanes and backends, in the same chunks as {@link #explain}, the same bits on every
     * backend (and, with {@code OUTPUT} or {@code LOGIT} initial relevance, the same bits as an explanation's
     * {@link Explanation#scores()}). For scoring many perturbed copies of a batch (docs/DESIGN.md section 2.10);
     * blocks until done, safe to call from many threads at once.
     */
    public float[] score(Tensor inputs, int[] targets) {
        return join(scoreAsync(inputs, targets));
    }

    /** As {@link #score}, returning at once; the future fails with the error {@link #score} would throw. */
    public CompletableFuture<float[]> scoreAsync(Tensor inputs, int[] targets) {
        return lanes.submitScores(inputs, targets);
    }

    /**
     * Explains a stream of batches in order with at most {@code window} batches in flight: the source is pulled only
     * as the consumer takes results, so memory stays bounded and a slow consumer slows the producer. A failed batch
     * throws when its turn comes, naming its position in the stream; the batches after it are not explained.
     *
     * @param target for every batch ({@link Target#perSample} must match each batch's size)
     * @param window the most batches submitted but not yet taken, >= 1 (2 or the lane count keeps lanes busy)
     */
    public Iterator<Explanation> explainStream(Iterator<Tensor> batches, Target target, int window) {
        return explainStream(batches, (first, rows) -> target, window);
    }

    /** The target of one batch of a stream, given the stream position of its first sample and its size. */
    @FunctionalInterface
    public interface StreamTarget {
        Target of(long firstSample, int rows);
    }

    /**
     * As {@link #explainStream(Iterator, Target, int)}, with each batch's target chosen by its place in the stream
     * (e.g. a slice of per-sample class indices for the whole stream).
     */
    public Iterator<Explanation> explainStream(Iterator<Tensor> batches, StreamTarget targets, int window) {
        InvalidArgumentException.check(batches != null, "batches", "must not be null");
        InvalidArgumentException.check(targets != null, "targets", "must not be null");
        InvalidArgumentException.check(window >= 1, "window", "must be >= 1, got " + window);
        return new StreamPipeline(batches, targets, window, this::explainAsync);
    }

    /** As {@link #explainStream(Iterator, Target, int)} over a {@link Stream} (sequential, ordered). */
    public Stream<Explanation> explainStream(Stream<Tensor> batches, Target target, int window) {
        InvalidArgumentException.check(batches != null, "batches", "must not be null");
        Iterator<Explanation> it = explainStream(batches.sequential().iterator(), target, window);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED
                | Spliterator.NONNULL), false).onClose(batches::close);
    }

    /**
     * Releases the prepared weights, the batch buffers and the backends the explainer opened. Calls in flight either
     * finish or fail with {@link ClosedException}: chunks already running complete, queued ones are dropped. Safe to
     * call from any thread, a dependent stage of {@link #explainAsync} included; idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            lanes.close();
        } finally {
            owned.forEach(Backend::close);
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
        private List<Backend> backends;
        private int extraCpuLanes;
        private boolean allDevices;
        private boolean keepLayers;
        private boolean health;
        private boolean fallbackToCpu;
        private NonFinitePolicy nonFinite = NonFinitePolicy.REJECT;
        /** The user's rows per pass, or 0: each lane's default ({@link ChunkSizing#defaultRows}). */
        private int chunkRows;
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

        /**
         * Several backends the caller owns (and closes), one lane each, sharing every batch: e.g. several OpenCL
         * devices, or an OpenCL device and CPU backends. Every backend that keeps the reproducibility contract gives
         * the same bits, so the results equal a single-backend call. Overrides {@link #backend(Backend)} and
         * {@link #backend(BackendChoice)}.
         */
        public Builder backends(List<? extends Backend> lanes) {
            InvalidArgumentException.check(lanes != null && !lanes.isEmpty(), "backends",
                    "must name at least one backend");
            for (int k = 0; k < lanes.size(); k++) {
                InvalidArgumentException.check(lanes.get(k) != null, "backends", "entry " + k + " is null");
            }
            InvalidArgumentException.check(lanes.stream().distinct().count() == lanes.size(), "backends",
                    "the same backend is named twice; a backend serves one lane");
            this.backends = List.copyOf(lanes);
            return this;
        }

        /**
         * Adds {@code n} single-threaded CPU lanes (opened and closed by the explainer) beside the chosen backend,
         * so that the CPU helps an OpenCL device with large batches; 0 (default) adds none.
         */
        public Builder extraCpuLanes(int n) {
            InvalidArgumentException.check(n >= 0, "extraCpuLanes", "must be >= 0, got " + n);
            this.extraCpuLanes = n;
            return this;
        }

        /**
         * One lane per bit-exact OpenCL device (GPUs, CPUs, accelerators), all sharing every batch; inexact devices
         * are left out, as they would change the bits. Overrides {@link #backend(BackendChoice)} and
         * {@link #device(String)}; fails at {@link #build()} with a {@code DeviceException} where there is none.
         */
        public Builder allOpenClDevices() {
            this.allDevices = true;
            return this;
        }

        /**
         * OpenCL device whose name contains this text (case-insensitive), or {@code "#N"} for the N-th device (from 0)
         * in platform order, as {@code gpulrp devices} lists them (tells identical GPUs apart).
         */
        public Builder device(String nameContains) {
            this.device = nameContains;
            return this;
        }

        /**
         * Account for where relevance went ({@link Explanation#health()}): per layer, what entered, what was passed
         * down, the stabilizer's and the biases' shares, and NaN/infinite/subnormal counts. Costs one download and
         * one host pass per layer and chunk; the relevance itself is unchanged, bit for bit.
         */
        public Builder healthReport(boolean on) {
            this.health = on;
            return this;
        }

        /** What to do with NaN or infinite inputs (default {@link NonFinitePolicy#REJECT}). */
        public Builder nonFinite(NonFinitePolicy policy) {
            InvalidArgumentException.check(policy != null, "nonFinite", "must not be null");
            this.nonFinite = policy;
            return this;
        }

        /**
         * When a device fails in the middle of a call ({@link DeviceException}: out of memory, a failed launch, a
         * device that disappeared), run the failed chunk again on the CPU path instead of failing the call. The
         * results are the same bits (every backend is bit-identical); the explanation's {@code backend().note()} says
         * which device error it fell back from. Off by default: the error is thrown.
         */
        public Builder fallbackToCpu(boolean on) {
            this.fallbackToCpu = on;
            return this;
        }

        /** Keep the relevance at every layer (costs one [batch, width] array per layer). */
        public Builder keepLayerRelevances(boolean keep) {
            this.keepLayers = keep;
            return this;
        }

        /**
         * Rows per device pass; larger batches are split into chunks of this size (results are the same). Lowered
         * where a device's memory limits or the memory budget need it. Default: 65536 on OpenCL devices (each pass
         * launches every kernel once); on the CPU path as many as keep the largest layer's pass in a core's L2 cache,
         * between 16 and 4096 (a small dense network gets 4096, the 1x28x28 CNN 16).
         */
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
