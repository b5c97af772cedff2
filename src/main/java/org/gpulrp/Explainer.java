package org.gpulrp;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.gpulrp.model.Node;
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
    private final boolean keepLayers;
    private final boolean health;
    private final boolean fallbackToCpu;
    private final InitialRelevance init;
    private final long fallbackBudgetFloats;
    /** The CPU engine that reruns a chunk whose device failed (created on first need, used by one lane at a time). */
    private Engine fallback;
    private Backend fallbackBackend;
    /** One engine per parallel lane; each runs the whole network on the chunks it is given. */
    private final List<Engine> engines = new ArrayList<>();
    /** Engines not running a chunk now; a lane thread takes one per chunk (never waits: threads <= engines). */
    private final BlockingQueue<Engine> idle;
    /** The lane threads and the FIFO queue of chunks they share. */
    private final ThreadPoolExecutor lanes;
    /** The most rows one chunk may hold: the smallest lane capacity. */
    private final int rowsPerPass;
    private final BackendInfo info;
    /** Guards {@link #closed} and {@link #active}; close waits on it for running chunks. */
    private final Object lock = new Object();
    private boolean closed;
    private int active;

    private Explainer(Builder b) {
        this.network = b.network;
        this.composite = b.composite;
        this.keepLayers = b.keepLayers;
        this.health = b.health;
        this.fallbackToCpu = b.fallbackToCpu;
        this.init = b.init;
        this.fallbackBudgetFloats = Math.max(1 << 18, b.memoryBytes / Float.BYTES / 4);
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
                        : Backends.open(b.choice, b.device, b.cpuThreads);
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
        this.info = primary != null && b.extraCpuLanes == 0 ? primary : withNote(combined(laneBackends), primary);
        try {
            Map<String, Integer> perDevice = new HashMap<>();
            for (Backend be : laneBackends) {
                perDevice.merge(be.info().device(), 1, Integer::sum);
            }
            long userBudget = b.memoryBytes / Float.BYTES / laneBackends.size();
            for (Backend be : laneBackends) {
                ChunkSizing.DeviceLimits limits = ChunkSizing.limitsOf(be, perDevice.get(be.info().device()));
                engines.add(new Engine(be, network, composite, b.init, ChunkSizing.rows(network, b.chunkRows,
                        limits), ChunkSizing.budgetFloats(network, userBudget, limits)));
            }
        } catch (RuntimeException e) {
            engines.forEach(Engine::close);
            owned.forEach(Backend::close);
            throw e;
        }
        this.rowsPerPass = engines.stream().mapToInt(Engine::capacity).min().orElseThrow();
        if (b.nonFinite == NonFinitePolicy.PROPAGATE) {
            engines.forEach(e -> e.rejectNonFinite(false));
        }
        this.idle = new ArrayBlockingQueue<>(engines.size(), false, engines);
        this.lanes = new ThreadPoolExecutor(engines.size(), engines.size(), 2, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "gpulrp-lane");
                    t.setDaemon(true);
                    return t;
                });
        lanes.allowCoreThreadTimeOut(true);
    }

    /** {@code info} with the note of {@code opened} (e.g. why AUTO fell back to the CPU) in front. */
    private static BackendInfo withNote(BackendInfo info, BackendInfo opened) {
        if (opened == null || opened.note().isEmpty() || info.note().contains(opened.note())) {
            return info;
        }
        return new BackendInfo(info.kind(), info.device(), info.exact(), info.note().isEmpty() ? opened.note()
                : opened.note() + "; " + info.note());
    }

    /** What several lanes on different backends report together: kinds and devices joined, exact when all are. */
    private static BackendInfo combined(List<Backend> backends) {
        Map<String, Integer> devices = new LinkedHashMap<>();
        List<String> kinds = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        boolean exact = true;
        for (Backend be : backends) {
            BackendInfo i = be.info();
            devices.merge(i.kind() + " [" + i.device() + "]", 1, Integer::sum);
            if (!kinds.contains(i.kind())) {
                kinds.add(i.kind());
            }
            if (!i.note().isEmpty() && !notes.contains(i.note())) {
                notes.add(i.note());
            }
            exact &= i.exact();
        }
        if (devices.size() == 1 && backends.size() == 1) {
            return backends.get(0).info();
        }
        List<String> parts = new ArrayList<>();
        devices.forEach((d, n) -> parts.add(n == 1 ? d : n + " x " + d));
        return new BackendInfo(String.join("+", kinds), backends.size() + " lanes: " + String.join(", ", parts),
                exact, String.join("; ", notes));
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
        return engines.size();
    }

    /**
     * The most rows one lane explains in one pass: {@link Builder#chunkRows}, lowered to fit the memory budget and
     * each device's allocation and global-memory limits. Larger batches are split; the results are the same.
     */
    public int rowsPerPass() {
        return rowsPerPass;
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

    /**
     * Explains a batch given as a tensor whose first dimension is the batch; blocks until done. Safe to call from
     * many threads at once.
     */
    public Explanation explain(Tensor inputs, Target target) {
        try {
            return explainAsync(inputs, target).join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new LrpException("explain failed: " + c, c);
        }
    }

    /**
     * Starts explaining a batch and returns at once. The future completes with the explanation, or exceptionally
     * with the error {@link #explain(Tensor, Target)} would throw (bad arguments included; for a batch with several
     * bad samples, the first one's). Dependent stages added without an executor run on a lane thread: keep them
     * short, and do not wait there for another call of this explainer (use the {@code ...Async} variants).
     */
    public CompletableFuture<Explanation> explainAsync(Tensor inputs, Target target) {
        Call call;
        try {
            call = prepareCall(inputs, target);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        synchronized (lock) {
            if (closed) {
                return CompletableFuture.failedFuture(new ClosedException("explainer"));
            }
            for (int c = 0; c < call.chunks; c++) {
                lanes.execute(new Chunk(call, c));
            }
        }
        return call.future;
    }

    private Call prepareCall(Tensor inputs, Target target) {
        InvalidArgumentException.check(target != null, "target", "must not be null");
        InvalidArgumentException.check(inputs != null, "inputs", "must not be null");
        int rows = inputs.rows();
        InvalidArgumentException.check(rows > 0, "inputs", "the batch is empty; pass at least one sample");
        int in = network.inputSize();
        if (inputs.rowSize() != in) {
            throw new ShapeMismatchException("input features", in + " per sample", inputs.rowSize()
                    + " per sample");
        }
        if (!(target instanceof Target.Argmax)) {
            target.resolve(null, rows, network.outputSize()); // checks ranges and lengths before any work starts
        }
        // Chunks no larger than a lane's buffers, as many as the lanes or a multiple (every lane gets the same
        // number), all of about the same size: 8 rows on two lanes that take 3 rows a pass go 2+2+2+2, not 3+3+2,
        // where one lane idles while the other runs the last chunk (VGG-16: 4.0 s instead of 3.2 s).
        int lanes = engines.size();
        int passes = (rows + rowsPerPass - 1) / rowsPerPass;
        passes = Math.min(rows, (passes + lanes - 1) / lanes * lanes);
        int chunk = (rows + passes - 1) / passes;
        return new Call(inputs, target, chunk);
    }

    /** One explain call in flight: its inputs, its result arrays (chunks fill their own rows), its future. */
    private final class Call {
        final Tensor inputs;
        final float[] x;
        final Target target;
        final int rows;
        final int chunk;
        final int chunks;
        final Engine.Batch out;
        final CompletableFuture<Explanation> future = new CompletableFuture<>();
        final AtomicInteger remaining;
        /** The error of each failed chunk; the lowest is reported (the first bad sample of the batch). */
        final Throwable[] errors;
        volatile boolean failed;

        Call(Tensor inputs, Target target, int chunk) {
            this.inputs = inputs;
            this.x = inputs.view();
            this.target = target;
            this.rows = inputs.rows();
            this.chunk = chunk;
            this.chunks = (rows + chunk - 1) / chunk;
            this.out = new Engine.Batch(engines.get(0), rows, keepLayers, health);
            this.remaining = new AtomicInteger(chunks);
            this.errors = new Throwable[chunks];
        }

        void run(Engine e, int c) {
            int r0 = c * chunk;
            int n = Math.min(chunk, rows - r0);
            try {
                e.run(x, r0, n, (o, rr, classes) -> slice(target, rows, r0, rr).resolve(o, rr, classes), out);
            } catch (DeviceException d) {
                if (!fallbackToCpu) {
                    throw d;
                }
                // Every backend gives the same bits, so the chunk's rows come out as the device would have made them.
                Engine cpu = fallbackEngine();
                synchronized (cpu) {
                    cpu.run(x, r0, n, (o, rr, classes) -> slice(target, rows, r0, rr).resolve(o, rr, classes), out);
                }
                String why = d.getMessage() == null ? d.toString() : d.getMessage().lines().findFirst().orElse("");
                fellBack.compareAndSet(null, why);
            }
        }

        /** The first device error a chunk of this call fell back from, or null. */
        final java.util.concurrent.atomic.AtomicReference<String> fellBack =
                new java.util.concurrent.atomic.AtomicReference<>();

        /** Records chunk c's outcome; the last chunk to finish completes the future. */
        void done(int c, Throwable error) {
            if (error != null) {
                errors[c] = error;
                failed = true;
            }
            if (remaining.decrementAndGet() > 0) {
                return;
            }
            for (Throwable t : errors) {
                if (t != null) {
                    future.completeExceptionally(t);
                    return;
                }
            }
            try {
                future.complete(result());
            } catch (RuntimeException ex) {
                future.completeExceptionally(ex);
            }
        }

        private Explanation result() {
            Map<String, Tensor> layerTensors = new LinkedHashMap<>();
            if (out.layers != null) {
                for (Map.Entry<String, float[]> e : out.layers.entrySet()) {
                    layerTensors.put(e.getKey(), Tensor.wrap(e.getValue(), rows, e.getValue().length / rows));
                }
            }
            BackendInfo ran = info;
            String why = fellBack.get();
            if (why != null) {
                ran = new BackendInfo(info.kind(), info.device(), info.exact(), (info.note().isEmpty() ? ""
                        : info.note() + "; ") + "some chunks ran on the CPU path after a device error: " + why);
            }
            HealthReport report = null;
            if (out.health != null) {
                List<String> names = new ArrayList<>();
                for (Node n : network.nodes()) {
                    names.add(n.name());
                }
                report = HealthReport.of(names, rules(), out.health);
            }
            return new Explanation(Tensor.wrap(out.relevance, inputs.shape()), Tensor.wrap(out.outputs, rows,
                    network.outputSize()), out.targets, out.scores, out.sums, layerTensors, ran, report);
        }
    }

    /** Chunk c of a call, queued for the next free lane. */
    private final class Chunk implements Runnable {
        final Call call;
        final int index;

        Chunk(Call call, int index) {
            this.call = call;
            this.index = index;
        }

        @Override
        public void run() {
            boolean refused;
            synchronized (lock) {
                refused = closed;
                if (!refused) {
                    active++;
                }
            }
            if (refused) {
                call.done(index, new ClosedException("explainer")); // outside the lock: it may run user callbacks
                return;
            }
            Throwable error = null;
            Engine e = idle.poll();
            try {
                if (e == null) {
                    throw new IllegalStateException("no idle lane for a lane thread");
                }
                // After a failed chunk the rest of its call is skipped: only the first error is reported.
                if (!call.failed) {
                    call.run(e, index);
                }
            } catch (RuntimeException | Error t) {
                error = t;
            } finally {
                if (e != null) {
                    idle.add(e);
                }
                synchronized (lock) {
                    active--;
                    lock.notifyAll();
                }
            }
            call.done(index, error);
        }

        void fail(Throwable t) {
            call.done(index, t);
        }
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
        return new Pipeline(batches, targets, window);
    }

    /** As {@link #explainStream(Iterator, Target, int)} over a {@link Stream} (sequential, ordered). */
    public Stream<Explanation> explainStream(Stream<Tensor> batches, Target target, int window) {
        InvalidArgumentException.check(batches != null, "batches", "must not be null");
        Iterator<Explanation> it = explainStream(batches.sequential().iterator(), target, window);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED
                | Spliterator.NONNULL), false).onClose(batches::close);
    }

    /** The in-order window behind {@link #explainStream}. */
    private final class Pipeline implements Iterator<Explanation> {
        private final Iterator<Tensor> source;
        private final StreamTarget target;
        private final int window;
        private final ArrayDeque<CompletableFuture<Explanation>> inFlight = new ArrayDeque<>();
        /** Stream position and first sample of each batch in flight, parallel to {@link #inFlight}. */
        private final ArrayDeque<long[]> positions = new ArrayDeque<>();
        private long submitted;
        private long samples;
        private boolean failed;

        Pipeline(Iterator<Tensor> source, StreamTarget target, int window) {
            this.source = source;
            this.target = target;
            this.window = window;
        }

        private void fill() {
            while (!failed && inFlight.size() < window && source.hasNext()) {
                Tensor t = source.next();
                CompletableFuture<Explanation> f;
                try {
                    f = explainAsync(t, t == null ? null : target.of(samples, t.rows()));
                } catch (RuntimeException e) {
                    f = CompletableFuture.failedFuture(e);
                }
                inFlight.add(f);
                positions.add(new long[] {submitted++, samples});
                samples += t == null ? 0 : t.rows();
            }
        }

        @Override
        public boolean hasNext() {
            fill();
            return !inFlight.isEmpty();
        }

        @Override
        public Explanation next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            CompletableFuture<Explanation> f = inFlight.poll();
            long[] pos = positions.poll();
            try {
                return f.join();
            } catch (CompletionException e) {
                failed = true;
                inFlight.forEach(g -> g.cancel(false));
                inFlight.clear();
                positions.clear();
                throw atPosition(e.getCause(), pos[0], pos[1]);
            }
        }
    }

    /** The error of stream batch {@code index} (first sample {@code first}), saying where in the stream it was. */
    private static RuntimeException atPosition(Throwable cause, long index, long first) {
        String where = "stream batch " + index;
        if (cause instanceof InvalidInputException bad && bad.sample() >= 0) {
            return new InvalidInputException(where + ", sample " + (first + bad.sample()) + " of the stream: "
                    + bad.getMessage(), bad.sample(), bad.feature());
        }
        if (cause instanceof ClosedException c) {
            return c;
        }
        return new LrpException(where + " (from sample " + first + " of the stream): " + cause.getMessage(), cause);
    }

    private static Target slice(Target t, int rows, int off, int n) {
        if (t instanceof Target.PerSample p) {
            int[] all = p.indices();
            InvalidArgumentException.check(all.length == rows, "target", "got " + all.length
                    + " per-sample indices for a batch of " + rows);
            return new Target.PerSample(Arrays.copyOfRange(all, off, off + n));
        }
        return t;
    }

    /**
     * Releases the prepared weights, the batch buffers and the backends the explainer opened. Calls in flight either
     * finish or fail with {@link ClosedException}: chunks already running complete, queued ones are dropped. Safe to
     * call from any thread, a dependent stage of {@link #explainAsync} included; idempotent.
     */
    @Override
    public void close() {
        List<Runnable> queued = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lanes.getQueue().drainTo(queued);
        }
        for (Runnable r : queued) {
            ((Chunk) r).fail(new ClosedException("explainer"));
        }
        lanes.shutdown();
        boolean interrupted = false;
        synchronized (lock) {
            while (active > 0) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        engines.forEach(Engine::close);
        owned.forEach(Backend::close);
        synchronized (this) {
            if (fallback != null) {
                fallback.close();
                fallbackBackend.close();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The CPU engine for chunks whose device failed, prepared on first need. */
    private synchronized Engine fallbackEngine() {
        if (fallback == null) {
            Backend be = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
            try {
                fallback = new Engine(be, network, composite, init, rowsPerPass, fallbackBudgetFloats);
            } catch (RuntimeException e) {
                be.close();
                throw e;
            }
            fallbackBackend = be;
        }
        return fallback;
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
         * Rows per device pass (default 4096); larger batches are split into chunks of this size (results are the
         * same). Lowered where a device's memory limits or the memory budget need it.
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
