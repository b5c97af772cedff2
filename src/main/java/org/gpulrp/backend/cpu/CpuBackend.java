package org.gpulrp.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Logger;
import org.gpulrp.ClosedException;
import org.gpulrp.LrpException;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.backend.Buffer;

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
            this.kernelName = "Vector API " + VectorSupport.describe();
        } else {
            if (which == Kernels.AUTO && !scalarNoticeGiven) {
                scalarNoticeGiven = true;
                LOG.info("gpulrp: module jdk.incubator.vector is not enabled; the CPU path uses scalar fma loops "
                        + "(same results, slower). Add --add-modules jdk.incubator.vector to speed it up.");
            }
            this.kernels = new ScalarKernels();
            this.kernelName = "scalar fma";
        }
        this.threads = threads;
        this.pool = threads > 1 ? Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "gpulrp-cpu");
            t.setDaemon(true);
            return t;
        }) : null;
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

    @Override
    public void linear(Buffer x, Buffer wt, Buffer bias, Buffer z, int rows, int in, int out) {
        float[] xa = a(x), wa = a(wt), ba = a(bias), za = a(z);
        parallelRows(rows, (long) in * out, (r0, r1) -> kernels.linear(xa, wa, ba, za, r0, r1, in, out));
    }

    @Override
    public void linearSigned(Buffer x, Buffer ut, Buffer vt, Buffer biasP, Buffer biasN, Buffer outP, Buffer outN,
                             int rows, int in, int out) {
        float[] xa = a(x), ua = a(ut), va = a(vt), bp = a(biasP), bn = a(biasN), op = a(outP), on = a(outN);
        parallelRows(rows, 2L * in * out, (r0, r1) -> kernels.linearSigned(xa, ua, va, bp, bn, op, on, r0, r1, in,
                out));
    }

    @Override
    public void linearZBox(Buffer x, Buffer wt, Buffer low, Buffer high, Buffer d, int rows, int in, int out) {
        float[] xa = a(x), wa = a(wt), lo = a(low), hi = a(high), da = a(d);
        parallelRows(rows, (long) in * out, (r0, r1) -> kernels.linearZBox(xa, wa, lo, hi, da, r0, r1, in, out));
    }

    @Override
    public void relu(Buffer in, Buffer out, int length) {
        float[] s = a(in), d = a(out);
        parallelRows(length, 1, (k0, k1) -> kernels.relu(s, d, k0, k1));
    }

    @Override
    public void splitSign(Buffer w, Buffer pos, Buffer neg, int length) {
        checkOpen();
        float[] s = a(w), p = a(pos), n = a(neg);
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
        for (int k = 0; k < length; k++) {
            float v = s[k];
            p[k] = v > 0 ? Math.fma(gamma, v, v) : v;
            n[k] = v < 0 ? Math.fma(gamma, v, v) : v;
        }
    }

    @Override
    public void normalize(Buffer r, Buffer d, int dRowStride, float eps, Buffer g, int rows, int out) {
        float[] ra = a(r), da = a(d), ga = a(g);
        parallelRows(rows, out, (r0, r1) -> kernels.normalize(ra, da, dRowStride, eps, ga, r0, r1, out));
    }

    @Override
    public void normalizeSigned(Buffer r, Buffer z, Buffer p, Buffer n, float eps, float scaleP, float scaleN,
                                boolean gammaMask, Buffer hp, Buffer hn, int rows, int out) {
        float[] ra = a(r), za = a(z), pa = a(p), na = a(n), hpa = a(hp), hna = a(hn);
        parallelRows(rows, out, (r0, r1) -> kernels.normalizeSigned(ra, za, pa, na, eps, scaleP, scaleN, gammaMask,
                hpa, hna, r0 * out, r1 * out));
    }

    @Override
    public void backproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, int out, int in) {
        float[] ga = a(g), wa = a(w), xa = a(x), ra = a(r);
        parallelRows(rows, (long) in * out, (r0, r1) -> kernels.backproject(ga, wa, xa, ra, r0, r1, out, in));
    }

    @Override
    public void backprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r, int rows, int out,
                                  int in) {
        float[] hpa = a(hp), hna = a(hn), ua = a(u), va = a(v), xa = a(x), ra = a(r);
        parallelRows(rows, 4L * in * out, (r0, r1) -> kernels.backprojectSigned(hpa, hna, ua, va, xa, ra, r0, r1,
                out, in));
    }

    @Override
    public void backprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low, Buffer high,
                                Buffer r, int rows, int out, int in) {
        float[] ga = a(g), wa = a(w), pa = a(wpos), na = a(wneg), xa = a(x), lo = a(low), hi = a(high), ra = a(r);
        parallelRows(rows, 3L * in * out, (r0, r1) -> kernels.backprojectZBox(ga, wa, pa, na, xa, lo, hi, ra, r0,
                r1, out, in));
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
