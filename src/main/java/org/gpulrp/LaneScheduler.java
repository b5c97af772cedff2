package org.gpulrp;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.internal.Engine;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.rules.Rule;

/**
 * The lanes behind an {@link Explainer}: one prepared engine per lane, one FIFO queue of chunks they share, and the
 * CPU engine that reruns a chunk whose device failed. Every call is cut into chunks of about equal size; a lane
 * thread takes the next chunk when its engine is free, so concurrent small calls keep every lane busy. Each row's
 * result depends only on that row, so results are the same bits however calls interleave and whichever lane ran
 * a chunk. Owns and closes the engines; the backends belong to the explainer.
 */
final class LaneScheduler implements AutoCloseable {
    /** What the lanes need of the explainer's configuration. */
    record Settings(Network network, Composite composite, InitialRelevance init, boolean keepLayers, boolean health,
                    boolean fallbackToCpu, long fallbackBudgetFloats, BackendInfo info) {
    }

    private final Network network;
    private final Composite composite;
    private final InitialRelevance init;
    private final boolean keepLayers;
    private final boolean health;
    private final boolean fallbackToCpu;
    private final long fallbackBudgetFloats;
    private final BackendInfo info;
    /** One engine per parallel lane; each runs the whole network on the chunks it is given. */
    private final List<Engine> engines;
    /** Engines not running a chunk now; a lane thread takes one per chunk (never waits: threads <= engines). */
    private final BlockingQueue<Engine> idle;
    /** The lane threads and the FIFO queue of chunks they share. */
    private final ThreadPoolExecutor lanes;
    /** The most rows one chunk may hold: the smallest lane capacity. */
    private final int rowsPerPass;
    /** The CPU engine that reruns a chunk whose device failed (created on first need, used by one lane at a time). */
    private Engine fallback;
    private Backend fallbackBackend;
    /** Guards {@link #closed} and {@link #active}; close waits on it for running chunks. */
    private final Object lock = new Object();
    private boolean closed;
    private int active;

    LaneScheduler(List<Engine> engines, Settings s) {
        this.network = s.network();
        this.composite = s.composite();
        this.init = s.init();
        this.keepLayers = s.keepLayers();
        this.health = s.health();
        this.fallbackToCpu = s.fallbackToCpu();
        this.fallbackBudgetFloats = s.fallbackBudgetFloats();
        this.info = s.info();
        this.engines = List.copyOf(engines);
        this.rowsPerPass = engines.stream().mapToInt(Engine::capacity).min().orElseThrow();
        this.idle = new ArrayBlockingQueue<>(engines.size(), false, engines);
        this.lanes = new ThreadPoolExecutor(engines.size(), engines.size(), 2, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "gpulrp-lane");
                    t.setDaemon(true);
                    return t;
                });
        lanes.allowCoreThreadTimeOut(true);
    }

    int laneCount() {
        return engines.size();
    }

    int rowsPerPass() {
        return rowsPerPass;
    }

    /** The rule each node gets, by node name, in forward order. */
    Map<String, Rule> rules() {
        Map<String, Rule> m = new LinkedHashMap<>();
        List<Rule> r = engines.get(0).rules();
        List<Node> nodes = network.nodes();
        for (int k = 0; k < nodes.size(); k++) {
            m.put(nodes.get(k).name(), r.get(k));
        }
        return m;
    }

    /** Queues the chunks of one explain call; the future completes when the last one is done. */
    CompletableFuture<Explanation> submit(Tensor inputs, Target target) {
        return submit(inputs, target, null);
    }

    /** As {@link #submit(Tensor, Target)}, writing into the arrays of {@code reuse} where they fit (may be null). */
    CompletableFuture<Explanation> submit(Tensor inputs, Target target, Explanation reuse) {
        ExplainCall call;
        try {
            checkCall(inputs, target);
            Engine.Reuse buffers = reuse == null ? null : reuse.takeBuffers(network, inputs.rows());
            call = new ExplainCall(inputs, target, chunkRows(inputs.rows()), buffers);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return queue(call);
    }

    /**
     * Queues the chunks of one forward-only call: each row's explained score at its target (a flat output index),
     * on the same lanes and in the same chunks as an explanation.
     */
    CompletableFuture<float[]> submitScores(Tensor inputs, int[] targets) {
        ScoreCall call;
        try {
            checkCall(inputs, Target.argmax());
            InvalidArgumentException.check(targets != null && targets.length == inputs.rows(), "targets",
                    "needs one target per sample (" + inputs.rows() + "), got "
                    + (targets == null ? "null" : targets.length));
            call = new ScoreCall(inputs, targets.clone(), chunkRows(inputs.rows()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return queue(call);
    }

    private <T> CompletableFuture<T> queue(Call<T> call) {
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

    private void checkCall(Tensor inputs, Target target) {
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
    }

    /**
     * Rows per chunk: no larger than a lane's buffers, as many chunks as the lanes or a multiple (every lane gets the
     * same number), all of about the same size: 8 rows on two lanes that take 3 rows a pass go 2+2+2+2, not 3+3+2,
     * where one lane idles while the other runs the last chunk (VGG-16: 4.0 s instead of 3.2 s).
     */
    private int chunkRows(int rows) {
        int lanes = engines.size();
        int passes = (rows + rowsPerPass - 1) / rowsPerPass;
        passes = Math.min(rows, (passes + lanes - 1) / lanes * lanes);
        return (rows + passes - 1) / passes;
    }

    /** One call in flight: its inputs, its result (chunks fill their own rows), its future. */
    private abstract class Call<T> {
        final Tensor inputs;
        final float[] x;
        final int rows;
        final int chunk;
        final int chunks;
        final CompletableFuture<T> future = new CompletableFuture<>();
        final AtomicInteger remaining;
        /** The error of each failed chunk; the lowest is reported (the first bad sample of the batch). */
        final Throwable[] errors;
        /** The lowest chunk that failed so far ({@code chunks} while none has). */
        final AtomicInteger firstFailed;
        /** The first device error a chunk of this call fell back from, or null. */
        final java.util.concurrent.atomic.AtomicReference<String> fellBack =
                new java.util.concurrent.atomic.AtomicReference<>();

        Call(Tensor inputs, int chunk) {
            this.inputs = inputs;
            this.x = inputs.view();
            this.rows = inputs.rows();
            this.chunk = chunk;
            this.chunks = (rows + chunk - 1) / chunk;
            this.remaining = new AtomicInteger(chunks);
            this.errors = new Throwable[chunks];
            this.firstFailed = new AtomicInteger(chunks);
        }

        /** Runs rows {@code [r0, r0 + n)} on engine {@code e}. */
        abstract void rows(Engine e, int r0, int n);

        /** The call's result once every chunk is done. */
        abstract T result();

        void run(Engine e, int c) {
            int r0 = c * chunk;
            int n = Math.min(chunk, rows - r0);
            try {
                rows(e, r0, n);
            } catch (DeviceException d) {
                if (!fallbackToCpu) {
                    throw d;
                }
                // Every backend gives the same bits, so the chunk's rows come out as the device would have made them.
                Engine cpu = fallbackEngine();
                synchronized (cpu) {
                    rows(cpu, r0, n);
                }
                String why = d.getMessage() == null ? d.toString() : d.getMessage().lines().findFirst().orElse("");
                fellBack.compareAndSet(null, why);
            }
        }

        /** Records chunk c's outcome; the last chunk to finish completes the future. */
        void done(int c, Throwable error) {
            if (error != null) {
                errors[c] = error;
                firstFailed.accumulateAndGet(c, Math::min);
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
    }

    /** A forward-only call: the explained score of each row at its given target. */
    private final class ScoreCall extends Call<float[]> {
        final int[] targets;
        final float[] scores;

        ScoreCall(Tensor inputs, int[] targets, int chunk) {
            super(inputs, chunk);
            this.targets = targets;
            this.scores = new float[rows];
        }

        @Override
        void rows(Engine e, int r0, int n) {
            e.score(x, r0, n, targets, scores);
        }

        @Override
        float[] result() {
            return scores;
        }
    }

    /** One explain call in flight. */
    private final class ExplainCall extends Call<Explanation> {
        final Target target;
        final Engine.Batch out;

        ExplainCall(Tensor inputs, Target target, int chunk, Engine.Reuse buffers) {
            super(inputs, chunk);
            this.target = target;
            this.out = new Engine.Batch(engines.get(0), rows, keepLayers, health, buffers);
        }

        @Override
        void rows(Engine e, int r0, int n) {
            e.run(x, r0, n, (o, rr, classes) -> slice(target, rows, r0, rr).resolve(o, rr, classes), out);
        }

        @Override
        Explanation result() {
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
                    network.outputSize()), out.targets, out.scores, layerTensors, ran, report);
        }
    }

    /** Chunk c of a call, queued for the next free lane. */
    private final class Chunk implements Runnable {
        final Call<?> call;
        final int index;

        Chunk(Call<?> call, int index) {
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
                // The chunks after a failed one are skipped; those before it still run, as one of them may hold an
                // earlier bad sample, and the lowest chunk's error is the one reported.
                if (index < call.firstFailed.get()) {
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

    private static Target slice(Target t, int rows, int off, int n) {
        InvalidArgumentException.check(t.samples() < 0 || t.samples() == rows, "target", "got " + t.samples()
                + " per-sample targets for a batch of " + rows);
        return t.rows(off, n);
    }

    /**
     * Stops taking calls, fails the queued chunks with {@link ClosedException}, waits for the running ones, and
     * closes the engines (the prepared weights and batch buffers). Idempotent.
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

}
