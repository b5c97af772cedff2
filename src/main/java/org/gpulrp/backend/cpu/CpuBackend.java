package org.gpulrp.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Logger;
import org.gpulrp.ClosedException;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.LrpException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.StrideGrid;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.PoolGeometry;

/**
 * The CPU path: Vector API kernels where the {@code jdk.incubator.vector} module is enabled, else scalar
 * {@code Math.fma} loops with the same bits; the batch is split by rows over a fixed thread pool.
 */
public final class CpuBackend implements Backend {
    private static final Logger LOG = Logger.getLogger(CpuBackend.class.getName());
    private static volatile boolean scalarNoticeGiven;

    /** Which CPU kernels to run. */
    public enum Kernels {
        /** Vector API when available, else scalar. */
        AUTO,
        /** Vector API; fails when the module is not enabled. */
        VECTOR,
        /** Scalar {@code Math.fma} loops. */
        SCALAR
    }

    /** Rows below which a primitive runs on the calling thread (thread hand-off would cost more than it saves). */
    private static final long MIN_WORK_PER_THREAD = 1L << 16;

    private final CpuKernels kernels;
    private final ConvKernels conv;
    private final String kernelName;
    private final int threads;
    private final ExecutorService pool;
    private volatile boolean closed;

    public CpuBackend() {
        this(Kernels.AUTO, Runtime.getRuntime().availableProcessors());
    }

    public CpuBackend(Kernels which, int threads) {
        if (threads < 1) {
            throw new org.gpulrp.InvalidArgumentException("threads", "must be >= 1, got " + threads);
        }
        boolean vectorOk = VectorSupport.available();
        if (which == Kernels.VECTOR && !vectorOk) {
            throw new LrpException("the Vector API kernels were asked for but module jdk.incubator.vector is not "
                    + "enabled; run java with --add-modules jdk.incubator.vector");
        }
        if (which != Kernels.SCALAR && vectorOk) {
            this.kernels = VectorSupport.newKernels();
            this.conv = VectorSupport.newConvKernels();
            this.kernelName = "Vector API " + VectorSupport.describe();
        } else {
            if (which == Kernels.AUTO && !scalarNoticeGiven) {
                scalarNoticeGiven = true;
                LOG.info("gpulrp: module jdk.incubator.vector is not enabled; the CPU path uses scalar fma loops "
                        + "(same results, slower). Add --add-modules jdk.incubator.vector to speed it up.");
            }
            this.kernels = new ScalarKernels();
            this.conv = new ScalarConv();
            this.kernelName = "scalar fma";
        }
        this.threads = threads;
        this.pool = threads > 1 ? Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "gpulrp-cpu");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    /** Threads a primitive's rows are split over. */
    public int threads() {
        return threads;
    }

    @Override
    public int rowParallelism() {
        return threads;
    }

    /** The per-core L2 ({@link CacheSize}). */
    @Override
    public long passCacheBytes() {
        return CacheSize.l2();
    }

    @Override
    public BackendInfo info() {
        return new BackendInfo("cpu", kernelName + ", " + threads + " thread" + (threads == 1 ? "" : "s"), true, "");
    }

    private void checkOpen() {
        if (closed) {
            throw new ClosedException("CPU backend");
        }
    }

    private static float[] a(Buffer b) {
        return b == null ? null : ((CpuBuffer) b).data;
    }

    /**
     * Checks that buffers about to be written (by {@code write} or as a primitive's output) are not sealed: a
     * prepared buffer's layouts ({@link #prepareConv}) must stay those of its contents.
     */
    private static void writes(Buffer... outs) {
        for (Buffer o : outs) {
            if (o instanceof CpuBuffer c && c.sealed()) {
                throw new InvalidArgumentException("output", "the buffer is a prepared weight buffer (sealed by "
                        + "prepareConv or prepareDense): it cannot be written");
            }
        }
    }

    /**
     * Makes, once, the packed layouts the convolution kernels read for {@code op}, {@code g} and these weights (none
     * for the scalar kernels, nor for geometries the channel-lane kernels do not run), keeps them with the buffers
     * until they are closed, and seals the buffers.
     */
    @Override
    public void prepareConv(Op op, ConvGeometry g, Buffer... weights) {
        checkOpen();
        Backend.checkPrepareConv(op, g, weights);
        ConvWeights[] ws = new ConvWeights[weights.length];
        for (int k = 0; k < ws.length; k++) {
            need(weights[k], "weights", g.weightSize());
            ws[k] = ConvWeights.of((CpuBuffer) weights[k]);
        }
        conv.prepare(op, g, ws);
        for (int k = 0; k < ws.length; k++) {
            ((CpuBuffer) weights[k]).prepare(ws[k].made());
        }
    }

    /** A convolution call's view of weight buffer {@code b} (named {@code name}), checked as {@link #need} does. */
    private static ConvWeights cw(Buffer b, String name, ConvGeometry g) {
        need(b, name, g.weightSize());
        return ConvWeights.of((CpuBuffer) b);
    }

    private static ConvWeights cw(Buffer w, ConvGeometry g) {
        return cw(w, "w", g);
    }

    @Override
    public Buffer allocate(int length) {
        checkOpen();
        return new CpuBuffer(new float[length]);
    }

    @Override
    public Buffer upload(float[] data) {
        checkOpen();
        return new CpuBuffer(data.clone());
    }

    @Override
    public void write(Buffer dst, float[] src, int srcOff, int length) {
        checkOpen();
        writes(dst);
        System.arraycopy(src, srcOff, a(dst), 0, length);
    }

    @Override
    public void read(Buffer src, float[] dst, int dstOff, int length) {
        checkOpen();
        System.arraycopy(a(src), 0, dst, dstOff, length);
    }

    /** A body over a row range. */
    private interface RowTask {
        void run(int r0, int r1);
    }

    /** Splits rows over the pool in contiguous blocks; each output element is computed by exactly one thread. */
    private void parallelRows(int rows, long workPerRow, RowTask task) {
        checkOpen();
        int parts = pool == null ? 1 : (int) Math.min(threads, Math.max(1, rows * workPerRow / MIN_WORK_PER_THREAD));
        parts = Math.min(parts, rows);
        if (parts <= 1) {
            task.run(0, rows);
            return;
        }
        List<Future<?>> fs = new ArrayList<>(parts);
        for (int p = 1; p < parts; p++) {
            int r0 = (int) ((long) rows * p / parts);
            int r1 = (int) ((long) rows * (p + 1) / parts);
            fs.add(pool.submit(() -> task.run(r0, r1)));
        }
        task.run(0, (int) ((long) rows / parts));
        await(fs);
    }

    /**
     * Splits {@code total} pixels over the pool in ranges of whole strips of {@code strip} (the last one short), by
     * {@link #parallelRows} over the strips: a pass of fewer rows than threads (one image) still keeps every thread
     * busy.
     */
    private void parallelPixels(int total, int strip, long workPerPixel, RowTask task) {
        int strips = (total + strip - 1) / strip;
        parallelRows(strips, workPerPixel * strip, (s0, s1) -> task.run(s0 * strip, Math.min(total, s1 * strip)));
    }

    private static void await(List<Future<?>> fs) {
        for (Future<?> f : fs) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LrpException("interrupted while computing on the CPU", e);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException re) {
                    throw re;
                }
                throw new LrpException("CPU kernel failed: " + c, c);
            }
        }
    }

    /** A body over a row range and a column range. */
    private interface BlockTask {
        void run(int r0, int r1, int c0, int c1);
    }

    /** Column ranges are whole multiples of this many features (the Vector API kernels' widest strip). */
    private static final int COLUMN_ALIGN = 64;

    /**
     * A plain map of {@code cols} outputs per row, each a chain of {@code taps}: split by rows, or, when the pass
     * has too few rows to give every thread enough for the packed dense kernels ({@link DenseProduct#PACK_MIN_ROWS}),
     * by column ranges, so each thread reads its part of the weights once, from their packed strips, instead of all
     * of them in place (a batch of 8 through VGG-16's 25088 x 4096 layer is bound by that read: split by rows, four
     * rows a thread, each thread streamed all 411 MB of the weights at 3.7 GB/s).
     */
    private void parallelRowsOrColumns(int rows, int cols, int taps, BlockTask task) {
        checkOpen();
        int parts = pool == null ? 1 : Math.min(threads, cols / COLUMN_ALIGN);
        if (rows >= DenseProduct.PACK_MIN_ROWS * threads || parts <= 1
                || (long) rows * cols * taps < MIN_WORK_PER_THREAD * threads) {
            parallelRows(rows, (long) cols * taps, (r0, r1) -> task.run(r0, r1, 0, cols));
            return;
        }
        int blocks = cols / COLUMN_ALIGN;
        List<Future<?>> fs = new ArrayList<>(parts);
        for (int p = 1; p < parts; p++) {
            int c0 = (int) ((long) blocks * p / parts) * COLUMN_ALIGN;
            int c1 = p + 1 == parts ? cols : (int) ((long) blocks * (p + 1) / parts) * COLUMN_ALIGN;
            fs.add(pool.submit(() -> task.run(0, rows, c0, c1)));
        }
        task.run(0, rows, 0, (int) ((long) blocks / parts) * COLUMN_ALIGN);
        await(fs);
    }

    @Override
    public void linear(Buffer x, Buffer wt, Buffer bias, Buffer z, int rows, int in, int out) {
        float[] xa = a(x), wa = a(wt), ba = a(bias), za = a(z);
        float[] strips = strips(wt, in, out);
        writes(z);
        parallelRowsOrColumns(rows, out, in, (r0, r1, c0, c1) -> kernels.linear(xa, wa, strips, ba, za, r0, r1, in,
                out, c0, c1));
    }

    /** The key of a dense weight's packed strips ({@link CpuKernels#denseStrips}) read as [p, q]. */
    private record DenseStrips(int p, int q) {
    }

    /**
     * Packs, once, the strips the dense kernels read {@code m} in as a [p, q] matrix, keeps them with the buffer
     * until it is closed, and seals it (docs/DESIGN.md section 4.1, "prepared weights"); a call with an unprepared
     * buffer packs per call, with the same bits.
     */
    @Override
    public void prepareDense(Buffer m, int p, int q) {
        checkOpen();
        need(m, "weights", (long) p * q);
        float[] strips = kernels.denseStrips(a(m), p, q);
        ((CpuBuffer) m).prepare(strips == null ? Map.of() : Map.of(new DenseStrips(p, q), strips));
    }

    /** {@code m}'s prepared strips as [p, q], or null. */
    private static float[] strips(Buffer m, int p, int q) {
        return ((CpuBuffer) m).layouts().get(new DenseStrips(p, q));
    }

    @Override
    public void linearSigned(Buffer x, Buffer ut, Buffer vt, Buffer biasP, Buffer biasN, Buffer outP, Buffer outN,
                             int rows, int in, int out) {
        float[] xa = a(x), ua = a(ut), va = a(vt), bp = a(biasP), bn = a(biasN), op = a(outP), on = a(outN);
        writes(outP, outN);
        parallelRows(rows, 2L * in * out, (r0, r1) -> kernels.linearSigned(xa, ua, va, bp, bn, op, on, r0, r1, in,
                out));
    }

    @Override
    public void linearZBox(Buffer x, Buffer wt, Buffer low, Buffer high, Buffer d, int rows, int in, int out) {
        float[] xa = a(x), wa = a(wt), lo = a(low), hi = a(high), da = a(d);
        writes(d);
        parallelRows(rows, (long) in * out, (r0, r1) -> kernels.linearZBox(xa, wa, lo, hi, da, r0, r1, in, out));
    }

    @Override
    public void relu(Buffer in, Buffer out, int length) {
        float[] s = a(in), d = a(out);
        writes(out);
        parallelRows(length, 1, (k0, k1) -> kernels.relu(s, d, k0, k1));
    }

    @Override
    public void splitSign(Buffer w, Buffer pos, Buffer neg, int length) {
        checkOpen();
        float[] s = a(w), p = a(pos), n = a(neg);
        writes(pos, neg);
        for (int k = 0; k < length; k++) {
            float v = s[k];
            p[k] = v > 0 ? v : 0f;
            n[k] = v < 0 ? v : 0f;
        }
    }

    @Override
    public void gammaWeights(Buffer w, float gamma, Buffer wp, Buffer wn, int length) {
        checkOpen();
        float[] s = a(w), p = a(wp), n = a(wn);
        writes(wp, wn);
        for (int k = 0; k < length; k++) {
            float v = s[k];
            p[k] = v > 0 ? Math.fma(gamma, v, v) : v;
            n[k] = v < 0 ? Math.fma(gamma, v, v) : v;
        }
    }

    @Override
    public void normalize(Buffer r, Buffer d, int dRowStride, float eps, Buffer g, int rows, int out) {
        float[] ra = a(r), da = a(d), ga = a(g);
        writes(g);
        parallelRows(rows, out, (r0, r1) -> kernels.normalize(ra, da, dRowStride, eps, ga, r0, r1, out));
    }

    @Override
    public void normalizeSigned(Buffer r, Buffer z, Buffer p, Buffer n, float eps, float scaleP, float scaleN,
                                boolean gammaMask, Buffer hp, Buffer hn, int rows, int out) {
        float[] ra = a(r), za = a(z), pa = a(p), na = a(n), hpa = a(hp), hna = a(hn);
        writes(hp, hn);
        parallelRows(rows, out, (r0, r1) -> kernels.normalizeSigned(ra, za, pa, na, eps, scaleP, scaleN, gammaMask,
                hpa, hna, r0 * out, r1 * out));
    }

    @Override
    public void backproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, int out, int in) {
        float[] ga = a(g), wa = a(w), xa = a(x), ra = a(r);
        float[] strips = strips(w, out, in);
        writes(r);
        parallelRowsOrColumns(rows, in, out, (r0, r1, c0, c1) -> kernels.backproject(ga, wa, strips, xa, ra, r0, r1,
                out, in, c0, c1));
    }

    @Override
    public void backprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r, int rows, int out,
                                  int in) {
        float[] hpa = a(hp), hna = a(hn), ua = a(u), va = a(v), xa = a(x), ra = a(r);
        writes(r);
        parallelRows(rows, 4L * in * out, (r0, r1) -> kernels.backprojectSigned(hpa, hna, ua, va, xa, ra, r0, r1,
                out, in));
    }

    @Override
    public void backprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low, Buffer high,
                                Buffer r, int rows, int out, int in) {
        float[] ga = a(g), wa = a(w), pa = a(wpos), na = a(wneg), xa = a(x), lo = a(low), hi = a(high), ra = a(r);
        writes(r);
        parallelRows(rows, 3L * in * out, (r0, r1) -> kernels.backprojectZBox(ga, wa, pa, na, xa, lo, hi, ra, r0,
                r1, out, in));
    }

    // ------------------------------------------------------------------------------------------------ conv, pool

    /** The array of a required buffer of at least {@code need} floats (a short one would fail mid-way). */
    private static float[] need(Buffer b, String name, long need) {
        if (b == null) {
            throw new InvalidArgumentException(name, "must not be null");
        }
        float[] d = a(b);
        if (d.length < need) {
            throw new ShapeMismatchException(name, "at least " + need + " floats", d.length + " floats");
        }
        return d;
    }

    /** As {@link #need}, or null where {@code b} is null. */
    private static float[] opt(Buffer b, String name, long need) {
        return b == null ? null : need(b, name, need);
    }

    private static void rowsOk(int rows) {
        InvalidArgumentException.check(rows >= 0, "rows", "must be >= 0, got " + rows);
    }

    @Override
    public void conv(Buffer x, Buffer w, Buffer bias, Buffer z, int rows, ConvGeometry g) {
        rowsOk(rows);
        float[] xa = need(x, "x", (long) rows * g.inSize());
        ConvWeights cw = cw(w, g);
        float[] ba = opt(bias, "bias", g.outChannels()), za = need(z, "z", (long) rows * g.outSize());
        writes(z);
        ConvGeometry grid = StrideGrid.of(g);
        int gridStrip = grid == null ? 0 : conv.pixelStrip(grid, cw, false);
        if (gridStrip > 0) {
            float[] xs = new float[rows * grid.inSize()];
            parallelRows(rows, grid.inSize(), (r0, r1) -> Subsampled.gather(xa, xs, r0, r1, g));
            parallelPixels(rows * grid.outH() * grid.outW(), gridStrip, (long) grid.outChannels() * grid.taps(),
                    (q0, q1) -> conv.convPixels(xs, cw, ba, za, q0, q1, grid));
            return;
        }
        int strip = conv.pixelStrip(g, cw, false);
        if (strip > 0) {
            parallelPixels(rows * g.outH() * g.outW(), strip, (long) g.outChannels() * g.taps(),
                    (q0, q1) -> conv.convPixels(xa, cw, ba, za, q0, q1, g));
            return;
        }
        parallelRows(rows, (long) g.outSize() * g.taps(), (r0, r1) -> conv.conv(xa, cw, ba, za, r0, r1, g));
    }

    @Override
    public void convSigned(Buffer x, Buffer u, Buffer v, Buffer biasP, Buffer biasN, Buffer outP, Buffer outN,
                           int rows, ConvGeometry g) {
        rowsOk(rows);
        long o = (long) rows * g.outSize();
        float[] xa = need(x, "x", (long) rows * g.inSize());
        ConvWeights cu = cw(u, "u", g), cv = cw(v, "v", g);
        float[] bp = opt(biasP, "biasP", g.outChannels());
        float[] bn = opt(biasN, "biasN", g.outChannels()), op = need(outP, "outP", o), on = opt(outN, "outN", o);
        writes(outP, outN);
        parallelRows(rows, 2L * g.outSize() * g.taps(), (r0, r1) -> conv.convSigned(xa, cu, cv, bp, bn, op, on, r0,
                r1, g));
    }

    @Override
    public void convZBox(Buffer x, Buffer w, Buffer low, Buffer high, Buffer d, int rows, ConvGeometry g) {
        rowsOk(rows);
        float[] xa = need(x, "x", (long) rows * g.inSize()), wa = need(w, "w", g.weightSize());
        float[] lo = need(low, "low", g.inSize()), hi = need(high, "high", g.inSize());
        float[] da = need(d, "d", (long) rows * g.outSize());
        writes(d);
        parallelRows(rows, (long) g.outSize() * g.taps(), (r0, r1) -> conv.convZBox(xa, wa, lo, hi, da, r0, r1, g));
    }

    @Override
    public void convBackproject(Buffer gr, Buffer w, Buffer x, Buffer r, int rows, ConvGeometry g) {
        rowsOk(rows);
        long in = (long) rows * g.inSize();
        float[] ga = need(gr, "g", (long) rows * g.outSize());
        ConvWeights cw = cw(w, g);
        float[] xa = opt(x, "x", in), ra = need(r, "r", in);
        writes(r);
        ConvGeometry grid = StrideGrid.of(g);
        int gridStrip = grid == null ? 0 : conv.pixelStrip(grid, cw, true);
        if (gridStrip > 0) {
            float[] cs = new float[rows * grid.inSize()];
            parallelPixels(rows * grid.inH() * grid.inW(), gridStrip, (long) grid.outChannels() * grid.taps(),
                    (q0, q1) -> conv.convBackprojectPixels(ga, cw, null, cs, q0, q1, grid));
            parallelRows(rows, g.inSize(), (r0, r1) -> Subsampled.scatter(cs, xa, ra, r0, r1, g));
            return;
        }
        int strip = conv.pixelStrip(g, cw, true);
        if (strip > 0) {
            parallelPixels(rows * g.inH() * g.inW(), strip, (long) g.outSize() * g.taps() / (g.inH() * g.inW()),
                    (q0, q1) -> conv.convBackprojectPixels(ga, cw, xa, ra, q0, q1, g));
            return;
        }
        parallelRows(rows, (long) g.outSize() * g.taps(), (r0, r1) -> conv.convBackproject(ga, cw, xa, ra, r0, r1,
                g));
    }

    @Override
    public void convBackprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r, int rows,
                                      ConvGeometry g) {
        rowsOk(rows);
        long in = (long) rows * g.inSize();
        long out = (long) rows * g.outSize();
        float[] hpa = need(hp, "hp", out), hna = opt(hn, "hn", out);
        ConvWeights cu = cw(u, "u", g), cv = cw(v, "v", g);
        float[] xa = need(x, "x", in), ra = need(r, "r", in);
        writes(r);
        parallelRows(rows, 4L * g.outSize() * g.taps(), (r0, r1) -> conv.convBackprojectSigned(hpa, hna, cu, cv, xa,
                ra, r0, r1, g));
    }

    @Override
    public void convBackprojectZBox(Buffer gr, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low,
                                    Buffer high, Buffer r, int rows, ConvGeometry g) {
        rowsOk(rows);
        long in = (long) rows * g.inSize();
        float[] ga = need(gr, "g", (long) rows * g.outSize()), wa = need(w, "w", g.weightSize());
        float[] pa = need(wpos, "wpos", g.weightSize()), na = need(wneg, "wneg", g.weightSize());
        float[] xa = need(x, "x", in), lo = need(low, "low", g.inSize()), hi = need(high, "high", g.inSize());
        float[] ra = need(r, "r", in);
        writes(r);
        parallelRows(rows, 3L * g.outSize() * g.taps(), (r0, r1) -> conv.convBackprojectZBox(ga, wa, pa, na, xa, lo,
                hi, ra, r0, r1, g));
    }

    @Override
    public void maxPool(Buffer x, Buffer y, Buffer arg, int rows, PoolGeometry p) {
        rowsOk(rows);
        long out = (long) rows * p.outSize();
        float[] xa = need(x, "x", (long) rows * p.inSize()), ya = need(y, "y", out), aa = need(arg, "arg", out);
        writes(y, arg);
        boolean gather = !(kernels instanceof ScalarKernels) && VectorPool.applies(p);
        parallelRows(rows, (long) p.outSize() * p.kernelH() * p.kernelW(), (r0, r1) -> {
            if (gather) {
                VectorPool.maxPool2x2(xa, ya, aa, r0, r1, p);
            } else {
                PoolKernels.maxPool(xa, ya, aa, r0, r1, p);
            }
        });
    }

    @Override
    public void maxPoolRoute(Buffer r, Buffer arg, Buffer rIn, int rows, PoolGeometry p) {
        rowsOk(rows);
        long out = (long) rows * p.outSize();
        float[] ra = need(r, "r", out), aa = need(arg, "arg", out), ia = need(rIn, "rIn", (long) rows * p.inSize());
        writes(rIn);
        parallelRows(rows, p.inSize() + p.outSize(), (r0, r1) -> PoolKernels.maxPoolRoute(ra, aa, ia, r0, r1, p));
    }

    @Override
    public void add(Buffer a, Buffer b, Buffer out, int n) {
        InvalidArgumentException.check(n >= 0, "n", "must be >= 0, got " + n);
        float[] x = need(a, "a", n), y = need(b, "b", n), o = need(out, "out", n);
        writes(out);
        parallelRows(n, 1, (k0, k1) -> {
            for (int k = k0; k < k1; k++) {
                o[k] = x[k] + y[k];
            }
        });
    }

    @Override
    public void mul(Buffer a, Buffer b, Buffer out, int n) {
        InvalidArgumentException.check(n >= 0, "n", "must be >= 0, got " + n);
        float[] x = need(a, "a", n), y = need(b, "b", n), o = need(out, "out", n);
        writes(out);
        parallelRows(n, 1, (k0, k1) -> {
            for (int k = k0; k < k1; k++) {
                o[k] = x[k] * y[k];
            }
        });
    }

    @Override
    public void copyRows(Buffer src, int srcWidth, int srcOffset, Buffer dst, int dstWidth, int dstOffset,
                         int width, int rows) {
        Backend.checkCopyRows(srcWidth, srcOffset, dstWidth, dstOffset, width, rows);
        if (rows == 0 || width == 0) {
            checkOpen();
            return;
        }
        float[] s = need(src, "src", (long) (rows - 1) * srcWidth + srcOffset + width);
        float[] d = need(dst, "dst", (long) (rows - 1) * dstWidth + dstOffset + width);
        writes(dst);
        checkOpen();
        for (int b = 0; b < rows; b++) {
            System.arraycopy(s, b * srcWidth + srcOffset, d, b * dstWidth + dstOffset, width);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
