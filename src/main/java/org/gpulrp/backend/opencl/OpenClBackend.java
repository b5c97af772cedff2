package org.gpulrp.backend.opencl;

import static org.jocl.CL.CL_TRUE;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gpulrp.ClosedException;
import org.gpulrp.DeviceException;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.DenseChain;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.backend.Op;
import org.gpulrp.model.PoolGeometry;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_mem;

/**
 * The {@link Backend} primitives as OpenCL kernels on one device: one context, one in-order queue, the programs
 * built once (with exactly {@code -cl-fp32-correctly-rounded-divide-sqrt}) and their kernels reused. On a device whose
 * {@code CL_DEVICE_SINGLE_FP_CONFIG} has fma, denormals and correctly rounded division, the results equal the CPU
 * backend's bit for bit; on another device it still runs, and {@link #info()} says it is not exact and why.
 *
 * <p>The dense kernels come in three {@link Variant}s with the same bits. Which one runs, and its tile sizes, is data:
 * {@link KernelTuning} resolves them per device type and vendor from {@code kernels/tuning.properties}
 * ({@link Variant#VECTOR} on CPU devices such as PoCL, {@link Variant#TILED} on GPUs, {@link Variant#SIMPLE}
 * elsewhere), overridable by system properties ({@value #VARIANT_PROPERTY}, {@code gpulrp.opencl.tuning.KEY}) and
 * by {@link #open(String, Map)}.
 *
 * <p>The class holds the primitives (argument checks and kernel arguments); {@link ClContext} holds the context, queue
 * and programs, {@link ClLaunches} which kernel each {@link Op} runs and its work sizes.
 *
 * <p>Methods are {@code synchronized}; the backend is meant to be driven by one thread at a time. {@link #close()}
 * releases every buffer the backend made that is still open.
 */
public final class OpenClBackend implements Backend {

    /** Kernel shapes for the dense primitives; every variant keeps each output's ascending fma chain. */
    public enum Variant {
        /** What {@code kernels/tuning.properties} gives the device: {@code VECTOR} on CPUs, {@code TILED} on GPUs. */
        AUTO,
        /** One work-item per output: the plain statement of the contract. */
        SIMPLE,
        /** float16 register tiles, several rows by 32 columns per work-item: fast on CPU devices (PoCL). */
        VECTOR,
        /** Local-memory tiles, 64x64 outputs per 16x16 work-group: the shape for GPUs (slow on PoCL). */
        TILED
    }

    /** System property that forces a {@link Variant} (by name, any case) when the caller asks for AUTO. */
    public static final String VARIANT_PROPERTY = "gpulrp.opencl.variant";
    /** System property with a device-name substring, used when the caller names no device. */
    public static final String DEVICE_PROPERTY = "gpulrp.opencl.device";

    private final DeviceDescription device;
    private final String deviceName;
    private final Variant variant;
    /** The kernels' tuning on this device (from kernels/tuning.properties and overrides); variant as run. */
    private final KernelTuning tuning;
    private ClContext cl;
    private ClLaunches launches;
    private final Set<ClBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private final String fallbackNote;
    private cl_mem dummy;
    private volatile boolean closed;

    /** Opens the default device (a GPU where there is one), or the one {@value #DEVICE_PROPERTY} names. */
    public static OpenClBackend open() {
        return open(null, Variant.AUTO);
    }

    /**
     * Opens the first device whose name contains {@code deviceNameOrNull} (ignoring case); null picks the default
     * device (a GPU where there is one).
     *
     * @throws DeviceException where there is no OpenCL platform, no matching device, or a call fails
     */
    public static OpenClBackend open(String deviceNameOrNull) {
        return open(deviceNameOrNull, Variant.AUTO);
    }

    /** As {@link #open(String)}, with the dense kernels' {@link Variant} forced ({@code AUTO} picks per device). */
    public static OpenClBackend open(String deviceNameOrNull, Variant variant) {
        if (variant == null) {
            throw new InvalidArgumentException("variant", "must not be null; use Variant.AUTO");
        }
        return open(deviceNameOrNull, variant == Variant.AUTO ? Map.of()
                : Map.of("variant", variant.name().toLowerCase(Locale.ROOT)));
    }

    /**
     * As {@link #open(String)}, with kernel tuning overrides: keys of {@code kernels/tuning.properties} without their
     * device scope ({@code variant}, {@code vec.rows}, {@code tile.w}, ...). They change speed, never bits.
     */
    public static OpenClBackend open(String deviceNameOrNull, Map<String, String> tuningOverrides) {
        String name = deviceNameOrNull != null ? deviceNameOrNull : System.getProperty(DEVICE_PROPERTY);
        return open(ClDevices.select(name), tuningOverrides);
    }

    /** A backend on {@code found} with the table's tuning for it and {@code tuningOverrides} on top. */
    private static OpenClBackend open(ClDevices.Found found, Map<String, String> tuningOverrides) {
        DeviceDescription d = found.description();
        return new OpenClBackend(found, KernelTuning.resolve(d.type(), d.platform() + " " + d.name(),
                d.floatWidth(), tuningOverrides));
    }

    /**
     * Opens every OpenCL device that keeps the reproducibility contract, each as its own backend (the caller closes
     * them), in platform order. Inexact devices are left out: they would change the bits of the rows they run.
     *
     * @throws DeviceException where there is no OpenCL device, or none is bit-exact
     */
    public static List<OpenClBackend> openAllExact() {
        List<OpenClBackend> out = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        try {
            for (ClDevices.Found f : ClDevices.enumerate()) {
                if (f.description().exact()) {
                    out.add(open(f, Map.of()));
                } else {
                    skipped.add(f.description().name());
                }
            }
        } catch (RuntimeException e) {
            out.forEach(OpenClBackend::close);
            throw e;
        }
        if (out.isEmpty()) {
            throw new DeviceException("no bit-exact OpenCL device; inexact devices: " + skipped, null,
                    CL.CL_DEVICE_NOT_FOUND, null);
        }
        return List.copyOf(out);
    }

    /** Whether this JVM can reach at least one OpenCL device. */
    public static boolean isAvailable() {
        return unavailableReason().isEmpty();
    }

    /** Why no OpenCL device can be used (no loader, no platform, no device), or empty where one can. */
    public static Optional<String> unavailableReason() {
        return ClDevices.unavailableReason();
    }

    /** Every OpenCL device on every platform; empty where there is no OpenCL (see {@link #unavailableReason()}). */
    public static List<DeviceDescription> listDevices() {
        return ClDevices.descriptions();
    }

    private OpenClBackend(ClDevices.Found found, KernelTuning requested) {
        this.device = found.description();
        this.deviceName = device.name();
        KernelTuning t = requested;
        boolean tiledFits = found.maxWorkGroupSize() >= (long) t.tileT() * t.tileT()
                && found.localMemBytes() >= t.tiledLocalBytes();
        String note = "";
        if (t.variant() == Variant.TILED && !tiledFits) {
            t = t.withVariant(Variant.SIMPLE);
            note = "simple kernels: the tiled ones need " + requested.tileT() * requested.tileT()
                    + "-item work-groups and " + requested.tiledLocalBytes() + " bytes of local memory";
        }
        if (t.convVariant() == Variant.TILED && (found.maxWorkGroupSize() < t.convTileP()
                || found.localMemBytes() < t.convTiledLocalBytes())) {
            t = t.withConvVariant(Variant.SIMPLE);
            String n = "simple conv kernels: the tiled ones need " + requested.convTileP()
                    + "-item work-groups and " + requested.convTiledLocalBytes() + " bytes of local memory";
            note = note.isEmpty() ? n : note + "; " + n;
        }
        this.variant = t.variant();
        this.tuning = t;
        try {
            cl = new ClContext(found.device(), deviceName, device.version(), tuning.defines());
            launches = new ClLaunches(cl, tuning, device.maxAllocBytes());
            List<String> fellBack = launches.fellBack();
            if (!fellBack.isEmpty()) {
                String n = "simple kernels for " + String.join(", ", fellBack) + " (tiled work-group too large here)";
                note = note.isEmpty() ? n : note + "; " + n;
            }
            // Stands in for an absent optional buffer (OpenCL cannot portably take a NULL cl_mem argument); the
            // kernels read a has_* flag and never touch it.
            dummy = cl.createBuffer(4, null, "clCreateBuffer(dummy)");
        } catch (CLException e) {
            releaseAll();
            throw ClErrors.wrap(e, "backend setup", deviceName);
        } catch (RuntimeException | Error e) {
            releaseAll();
            throw e;
        }
        String chaining = SignalChaining.note();
        this.fallbackNote = chaining.isEmpty() ? note : note.isEmpty() ? chaining : note + "; " + chaining;
    }

    // ------------------------------------------------------------------------------------------------ facts

    @Override
    public BackendInfo info() {
        String what = deviceName + " (" + device.type() + ", " + device.platform() + "), " + kernelsName()
                + " kernels";
        String note = device.note();
        if (!fallbackNote.isEmpty()) {
            note = note.isEmpty() ? fallbackNote : note + "; " + fallbackNote;
        }
        return new BackendInfo("opencl", what, device.exact(), note);
    }

    private String kernelsName() {
        return variant.name().toLowerCase(Locale.ROOT);
    }

    /** The device this backend runs on. */
    public DeviceDescription device() {
        return device;
    }

    @Override
    public long globalMemoryBytes() {
        return device.globalMemBytes();
    }

    @Override
    public long maxAllocationBytes() {
        return device.maxAllocBytes();
    }

    /** The kernels' tuning on this device, as run (after any fallback). */
    public KernelTuning tuning() {
        return tuning;
    }

    /** The dense kernels' variant this backend runs (never {@code AUTO}). */
    public Variant variant() {
        return variant;
    }

    /** Buffers this backend made that are not yet closed. */
    public synchronized int liveBuffers() {
        return live.size();
    }

    /** Every OpenCL memory object alive in this JVM (all backends' buffers and internal ones). */
    public static int liveMemObjects() {
        return ClContext.liveMemObjects();
    }


    /** Waits until every queued command has finished (for timing; {@link #read} already waits). */
    public synchronized void finish() {
        checkOpen();
        cl.finish();
    }

    // ------------------------------------------------------------------------------------------------ buffers

    @Override
    public synchronized Buffer allocate(int length) {
        checkOpen();
        InvalidArgumentException.check(length >= 0, "length", "must be >= 0, got " + length);
        return newBuffer(length, null);
    }

    @Override
    public synchronized Buffer upload(float[] data) {
        checkOpen();
        if (data == null) {
            throw new InvalidArgumentException("data", "must not be null");
        }
        return newBuffer(data.length, data);
    }

    private ClBuffer newBuffer(int length, float[] data) {
        long bytes = 4L * Math.max(1, length);
        if (bytes > device.maxAllocBytes()) {
            throw new DeviceException("a buffer of " + (bytes >> 20) + " MiB exceeds the largest allocation device '"
                    + deviceName + "' allows (" + (device.maxAllocBytes() >> 20) + " MiB); use a smaller batch",
                    deviceName, CL.CL_INVALID_BUFFER_SIZE, null);
        }
        cl_mem mem = cl.createBuffer(bytes, length > 0 ? data : null, "clCreateBuffer(" + length + " floats)");
        ClBuffer b = new ClBuffer(this, mem, length);
        live.add(b);
        return b;
    }


    /** Called by {@link ClBuffer#close()}: idempotent, never throws. */
    synchronized void release(ClBuffer b) {
        if (b.mem == null) {
            return;
        }
        releaseDevice(b);
        live.remove(b);
    }

    /** Releases {@code b}'s device memory, its strips and the arranged copies it is part of. */
    private static void releaseDevice(ClBuffer b) {
        releaseArranged(b);
        if (b.strips != null) {
            ClContext.releaseMem(b.strips.mem());
            b.strips = null;
        }
        ClContext.releaseMem(b.mem);
        b.mem = null;
    }

    /** Releases the arranged copies {@code b} is part of, and drops them from their other weights. */
    private static void releaseArranged(ClBuffer b) {
        for (ClBuffer.Arranged a : List.copyOf(b.arranged)) {
            if (a.mem != null) {
                ClContext.releaseMem(a.mem);
                a.mem = null;
            }
            for (ClBuffer w : a.ws) {
                w.arranged.remove(a);
            }
        }
    }

    @Override
    public synchronized void write(Buffer dst, float[] src, int srcOff, int length) {
        checkOpen();
        checkRange(src, srcOff, length, "src");
        cl_mem d = out(dst, "dst", length);
        if (length == 0) {
            return;
        }
        FaultInjection.before(FaultInjection.Point.WRITE, "clEnqueueWriteBuffer", deviceName);
        try {
            ClErrors.check(CL.clEnqueueWriteBuffer(cl.queue(), d, CL_TRUE, 0, 4L * length,
                    Pointer.to(src).withByteOffset(4L * srcOff), 0, null, null), "clEnqueueWriteBuffer", deviceName);
        } catch (CLException e) {
            throw ClErrors.wrap(e, "clEnqueueWriteBuffer", deviceName);
        }
    }

    @Override
    public synchronized void read(Buffer src, float[] dst, int dstOff, int length) {
        checkOpen();
        checkRange(dst, dstOff, length, "dst");
        cl_mem s = buf(src, "src", length);
        if (length == 0) {
            return;
        }
        FaultInjection.before(FaultInjection.Point.READ, "clEnqueueReadBuffer", deviceName);
        try {
            ClErrors.check(CL.clEnqueueReadBuffer(cl.queue(), s, CL_TRUE, 0, 4L * length,
                    Pointer.to(dst).withByteOffset(4L * dstOff), 0, null, null), "clEnqueueReadBuffer", deviceName);
        } catch (CLException e) {
            throw ClErrors.wrap(e, "clEnqueueReadBuffer", deviceName);
        }
    }

    private static void checkRange(float[] array, int off, int length, String name) {
        if (array == null) {
            throw new InvalidArgumentException(name, "must not be null");
        }
        if (off < 0 || length < 0 || (long) off + length > array.length) {
            throw new InvalidArgumentException(name, "range [" + off + ", " + ((long) off + length)
                    + ") is outside the array of length " + array.length);
        }
    }

    // ------------------------------------------------------------------------------------------------ dense

    @Override
    public synchronized void linear(Buffer x, Buffer wt, Buffer bias, Buffer z, int rows, int in, int out) {
        checkOpen();
        dims(rows, in, out);
        Object[] args = {buf(x, "x", (long) rows * in), buf(wt, "wt", (long) in * out), opt(bias, "bias", out),
            flag(bias), out(z, "z", (long) rows * out), rows, in, out};
        launches.dense(Op.LINEAR, rows, out, args, (ClBuffer) wt, in, out);
    }

    @Override
    public synchronized void linearSigned(Buffer x, Buffer ut, Buffer vt, Buffer biasP, Buffer biasN, Buffer outP,
                                          Buffer outN, int rows, int in, int out) {
        checkOpen();
        dims(rows, in, out);
        Object xb = buf(x, "x", (long) rows * in);
        Object ub = buf(ut, "ut", (long) in * out);
        Object vb = buf(vt, "vt", (long) in * out);
        Object bp = opt(biasP, "biasP", out);
        Object op = out(outP, "outP", (long) rows * out);
        if (outN == null) {
            launches.dense(Op.LINEAR_SIGNED_P, rows, out,
                    new Object[] {xb, ub, vb, bp, flag(biasP), op, rows, in, out});
        } else {
            Object bn = opt(biasN, "biasN", out);
            Object on = out(outN, "outN", (long) rows * out);
            launches.dense(Op.LINEAR_SIGNED, rows, out, new Object[] {xb, ub, vb, bp, flag(biasP), bn, flag(biasN),
                op, on, rows, in, out});
        }
    }

    @Override
    public synchronized void linearZBox(Buffer x, Buffer wt, Buffer low, Buffer high, Buffer d, int rows, int in,
                                        int out) {
        checkOpen();
        dims(rows, in, out);
        launches.dense(Op.LINEAR_ZBOX, rows, out, new Object[] {buf(x, "x", (long) rows * in),
            buf(wt, "wt", (long) in * out), buf(low, "low", in), buf(high, "high", in), out(d, "d", (long) rows * out),
            rows, in, out});
    }

    @Override
    public synchronized void backproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, int out, int in) {
        checkOpen();
        dims(rows, in, out);
        Object[] args = {buf(g, "g", (long) rows * out), buf(w, "w", (long) out * in), opt(x, "x", (long) rows * in),
            flag(x), out(r, "r", (long) rows * in), rows, out, in};
        launches.dense(Op.BACKPROJECT, rows, in, args, (ClBuffer) w, out, in);
    }

    /**
     * Where the VECTOR dense kernels run, packs {@code m}'s column strips on the device once ({@link ClBuffer#strips},
     * released with {@code m}): their walk over the weights is then contiguous, where the plain layout strides a
     * chain step by a whole row (the MLP on PoCL 1.6x). Seals {@code m}, as {@link #prepareConv} does. The same bits
     * either way.
     */
    @Override
    public synchronized void prepareDense(Buffer m, int p, int q) {
        checkOpen();
        dims(1, p, q);
        cl_mem mem = buf(m, "weights", (long) p * q);
        ClBuffer b = (ClBuffer) m;
        if (b.strips == null) {
            cl_mem s = launches.denseStrips(mem, p, q);
            b.strips = s == null ? null : new ClBuffer.Strips(s, p, q);
        }
        b.sealed = true;
    }

    @Override
    public synchronized void backprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r,
                                               int rows, int out, int in) {
        checkOpen();
        dims(rows, in, out);
        Object pb = buf(hp, "hp", (long) rows * out);
        Object ub = buf(u, "u", (long) out * in);
        Object vb = buf(v, "v", (long) out * in);
        Object xb = buf(x, "x", (long) rows * in);
        Object rb = out(r, "r", (long) rows * in);
        if (hn == null) {
            launches.dense(Op.BACKPROJECT_SIGNED_P, rows, in, new Object[] {pb, ub, vb, xb, rb, rows, out, in});
        } else {
            launches.dense(Op.BACKPROJECT_SIGNED, rows, in, new Object[] {pb, buf(hn, "hn", (long) rows * out), ub, vb,
                xb, rb, rows, out, in});
        }
    }

    @Override
    public synchronized void backprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low,
                                             Buffer high, Buffer r, int rows, int out, int in) {
        checkOpen();
        dims(rows, in, out);
        long wl = (long) out * in;
        launches.dense(Op.BACKPROJECT_ZBOX, rows, in, new Object[] {buf(g, "g", (long) rows * out), buf(w, "w", wl),
            buf(wpos, "wpos", wl), buf(wneg, "wneg", wl), buf(x, "x", (long) rows * in), buf(low, "low", in),
            buf(high, "high", in), out(r, "r", (long) rows * in), rows, out, in});
    }

    // ------------------------------------------------------------------------------------------------ dense chains

    @Override
    public synchronized DenseChain denseChain(List<DenseChain.Layer> layers) {
        checkOpen();
        return layers != null && DenseChain.fits(layers) ? new ClDenseChain(this, layers) : null;
    }

    /** {@link ClDenseChain#forward}: kernels/dense_chain.cl's chain_forward. */
    synchronized void chainForward(ClDenseChain c, Buffer x, Buffer zTop, int rows) {
        checkOpen();
        count(rows, "rows");
        launches.chain(false, rows, new Object[] {buf(x, "x", (long) rows * c.in), buf(c.params, "params", 0),
            c.layers, out(zTop, "zTop", (long) rows * c.out), rows});
    }

    /** {@link ClDenseChain#backward}: kernels/dense_chain.cl's chain_backward. */
    synchronized void chainBackward(ClDenseChain c, Buffer x, Buffer rTop, Buffer rIn, int rows) {
        checkOpen();
        count(rows, "rows");
        launches.chain(true, rows, new Object[] {buf(x, "x", (long) rows * c.in), buf(c.params, "params", 0),
            c.layers, buf(rTop, "rTop", (long) rows * c.out), out(rIn, "rIn", (long) rows * c.in), rows});
    }

    // ------------------------------------------------------------------------------------------------ elementwise

    @Override
    public synchronized void relu(Buffer in, Buffer out, int length) {
        checkOpen();
        count(length, "length");
        launches.elementwise(Op.RELU, length, new Object[] {buf(in, "in", length), out(out, "out", length), length});
    }

    @Override
    public synchronized void splitSign(Buffer w, Buffer pos, Buffer neg, int length) {
        checkOpen();
        count(length, "length");
        launches.elementwise(Op.SPLIT_SIGN, length, new Object[] {buf(w, "w", length), out(pos, "pos", length),
            out(neg, "neg", length), length});
    }

    @Override
    public synchronized void gammaWeights(Buffer w, float gamma, Buffer wp, Buffer wn, int length) {
        checkOpen();
        count(length, "length");
        launches.elementwise(Op.GAMMA_WEIGHTS, length, new Object[] {buf(w, "w", length), gamma, out(wp, "wp", length),
            out(wn, "wn", length), length});
    }

    @Override
    public synchronized void normalize(Buffer r, Buffer d, int dRowStride, float eps, Buffer g, int rows, int out) {
        checkOpen();
        count(rows, "rows");
        count(out, "out");
        count(dRowStride, "dRowStride");
        long n = (long) rows * out;
        long dNeed = rows == 0 || out == 0 ? 0 : (long) (rows - 1) * dRowStride + out;
        launches.elementwise(Op.NORMALIZE, n, new Object[] {buf(r, "r", n), buf(d, "d", dNeed), dRowStride, eps,
            out(g, "g", n), rows, out});
    }

    @Override
    public synchronized void normalizeSigned(Buffer r, Buffer z, Buffer p, Buffer n, float eps, float scaleP,
                                             float scaleN, boolean gammaMask, Buffer hp, Buffer hn, int rows,
                                             int out) {
        checkOpen();
        count(rows, "rows");
        count(out, "out");
        long len = (long) rows * out;
        Object zb = gammaMask ? buf(z, "z", len) : opt(z, "z", 0);
        Object nb = opt(n, "n", len);
        Object hnb = n == null ? opt(hn, "hn", 0) : out(hn, "hn", len);
        launches.elementwise(Op.NORMALIZE_SIGNED, len, new Object[] {buf(r, "r", len), zb, buf(p, "p", len), nb,
            flag(n), eps, scaleP, scaleN, gammaMask ? 1 : 0, out(hp, "hp", len), hnb, (int) len});
    }

    // ------------------------------------------------------------------------------------------------ conv, pool

    private static void geometryOk(Object g, String name) {
        if (g == null) {
            throw new InvalidArgumentException(name, "must not be null");
        }
    }

    @Override
    public synchronized void conv(Buffer x, Buffer w, Buffer bias, Buffer z, int rows, ConvGeometry g) {
        checkOpen();
        count(rows, "rows");
        geometryOk(g, "g");
        Object[] args = {buf(x, "x", (long) rows * g.inSize()), buf(w, "w", g.weightSize()),
            opt(bias, "bias", g.outChannels()), flag(bias), out(z, "z", (long) rows * g.outSize()), rows};
        plain(Op.CONV, g, rows, args, w);
    }

    /**
     * The plain conv or backprojection {@code op} of g: on its stride grid where g is a strided 1x1 layer whose grid
     * the products take ({@link ClLaunches#grid}), else as it is; {@code args} as {@link ClLaunches#conv}'s.
     */
    private void plain(Op op, ConvGeometry g, int rows, Object[] args, Buffer w) {
        ConvGeometry grid = launches.grid(op, g);
        if (grid != null && rows > 0) {
            launches.convOnGrid(op, g, grid, rows, args, arranged(op, grid, w), dummy);
        } else {
            launches.conv(op, g, rows, args, 1, 1, arranged(op, g, w));
        }
    }

    @Override
    public synchronized void convSigned(Buffer x, Buffer u, Buffer v, Buffer biasP, Buffer biasN, Buffer outP,
                                        Buffer outN, int rows, ConvGeometry g) {
        checkOpen();
        count(rows, "rows");
        geometryOk(g, "g");
        long o = (long) rows * g.outSize();
        Object[] args = {buf(x, "x", (long) rows * g.inSize()), buf(u, "u", g.weightSize()),
            buf(v, "v", g.weightSize()), opt(biasP, "biasP", g.outChannels()), flag(biasP),
            opt(biasN, "biasN", g.outChannels()), flag(biasN), out(outP, "outP", o), optOut(outN, "outN", o),
            flag(outN), rows};
        // Without outN, one chain per output: the vector variant has a kernel with wider channel blocks.
        launches.conv(outN == null ? Op.CONV_SIGNED_P : Op.CONV_SIGNED, g, rows, args, 1, 2,
                arranged(Op.CONV_SIGNED, g, u, v));
    }

    @Override
    public synchronized void convZBox(Buffer x, Buffer w, Buffer low, Buffer high, Buffer d, int rows,
                                      ConvGeometry g) {
        checkOpen();
        count(rows, "rows");
        geometryOk(g, "g");
        Object[] args = {buf(x, "x", (long) rows * g.inSize()), buf(w, "w", g.weightSize()),
            buf(low, "low", g.inSize()), buf(high, "high", g.inSize()), out(d, "d", (long) rows * g.outSize()),
            rows};
        launches.conv(Op.CONV_ZBOX, g, rows, args, 1, 1, arranged(Op.CONV_ZBOX, g, w));
    }

    @Override
    public synchronized void convBackproject(Buffer gr, Buffer w, Buffer x, Buffer r, int rows, ConvGeometry g) {
        checkOpen();
        count(rows, "rows");
        geometryOk(g, "g");
        long in = (long) rows * g.inSize();
        Object[] args = {buf(gr, "g", (long) rows * g.outSize()), buf(w, "w", g.weightSize()), opt(x, "x", in),
            flag(x), out(r, "r", in), rows};
        plain(Op.CONV_BACKPROJECT, g, rows, args, w);
    }

    @Override
    public synchronized void convBackprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r,
                                                   int rows, ConvGeometry g) {
        checkOpen();
        count(rows, "rows");
        geometryOk(g, "g");
        long in = (long) rows * g.inSize();
        long out = (long) rows * g.outSize();
        Object[] args = {buf(hp, "hp", out), opt(hn, "hn", out), flag(hn), buf(u, "u", g.weightSize()),
            buf(v, "v", g.weightSize()), buf(x, "x", in), out(r, "r", in), rows};
        launches.conv(Op.CONV_BACKPROJECT_SIGNED, g, rows, args, 3, 2, arranged(Op.CONV_BACKPROJECT_SIGNED, g, u, v));
    }

    @Override
    public synchronized void convBackprojectZBox(Buffer gr, Buffer w, Buffer wpos, Buffer wneg, Buffer x,
                                                 Buffer low, Buffer high, Buffer r, int rows, ConvGeometry g) {
        checkOpen();
        count(rows, "rows");
        geometryOk(g, "g");
        long in = (long) rows * g.inSize();
        Object[] args = {buf(gr, "g", (long) rows * g.outSize()), buf(w, "w", g.weightSize()),
            buf(wpos, "wpos", g.weightSize()), buf(wneg, "wneg", g.weightSize()), buf(x, "x", in),
            buf(low, "low", g.inSize()), buf(high, "high", g.inSize()), out(r, "r", in), rows};
        launches.conv(Op.CONV_BACKPROJECT_ZBOX, g, rows, args, 1, 3,
                arranged(Op.CONV_BACKPROJECT_ZBOX, g, w, wpos, wneg));
    }

    /**
     * Arranges the weights, where {@code op} runs a VECTOR kernel for {@code g}, into one device buffer kept with
     * them (per distinct combination: the kernels of the several-weight ops read all their weights from one buffer
     * with a stride, so {@code (u, v)} and {@code (w, wpos, wneg)} are arranged together, as the call will pass
     * them), and seals them. Preparing the same combination, direction and geometry again adds nothing.
     */
    @Override
    public synchronized void prepareConv(Op op, ConvGeometry g, Buffer... weights) {
        checkOpen();
        Backend.checkPrepareConv(op, g, weights);
        ClBuffer[] ws = new ClBuffer[weights.length];
        cl_mem[] mems = new cl_mem[weights.length];
        for (int k = 0; k < ws.length; k++) {
            mems[k] = buf(weights[k], "weights", g.weightSize());
            ws[k] = (ClBuffer) weights[k];
        }
        ConvGeometry grid = launches.grid(op, g);
        if (grid != null) {
            g = grid; // a strided 1x1 layer runs on its stride grid: its panels are the grid's
        }
        if (launches.arranges(op, g) && arranged(op, g, weights) == null) {
            ClBuffer.Arranged a = new ClBuffer.Arranged(op.direction() == Op.Direction.BACKPROJECTION,
                    launches.panels(op, g), g, ws, launches.arrange(op, g, mems));
            for (ClBuffer w : ws) {
                if (!w.arranged.contains(a)) {
                    w.arranged.add(a);
                }
            }
        }
        for (ClBuffer w : ws) {
            w.sealed = true;
        }
    }

    /** The kernels' launches (the tests ask them which kernel a call runs). */
    ClLaunches launches() {
        return launches;
    }

    /** The arranged copy prepared for exactly these weights as op's kernel for g reads them, or null. */
    private cl_mem arranged(Op op, ConvGeometry g, Buffer... weights) {
        ClBuffer first = (ClBuffer) weights[0];
        if (first.arranged.isEmpty()) {
            return null;
        }
        ClBuffer[] ws = new ClBuffer[weights.length];
        for (int k = 0; k < ws.length; k++) {
            ws[k] = (ClBuffer) weights[k];
        }
        for (ClBuffer.Arranged a : first.arranged) {
            if (a.of(op.direction() == Op.Direction.BACKPROJECTION, launches.panels(op, g), g, ws)) {
                return a.mem;
            }
        }
        return null;
    }

    @Override
    public synchronized void maxPool(Buffer x, Buffer y, Buffer arg, int rows, PoolGeometry p) {
        checkOpen();
        count(rows, "rows");
        geometryOk(p, "p");
        long out = (long) rows * p.outSize();
        Object[] args = {buf(x, "x", (long) rows * p.inSize()), out(y, "y", out), out(arg, "arg", out), rows};
        launches.maxPool(p, rows, args);
    }

    @Override
    public synchronized void maxPoolRoute(Buffer r, Buffer arg, Buffer rIn, int rows, PoolGeometry p) {
        checkOpen();
        count(rows, "rows");
        geometryOk(p, "p");
        long out = (long) rows * p.outSize();
        Object[] args = {buf(r, "r", out), buf(arg, "arg", out), out(rIn, "rIn", (long) rows * p.inSize()), rows};
        launches.maxPoolRoute(p, rows, args);
    }

    @Override
    public synchronized void add(Buffer a, Buffer b, Buffer out, int n) {
        checkOpen();
        count(n, "n");
        launches.elementwise(Op.ADD, n, new Object[] {buf(a, "a", n), buf(b, "b", n), out(out, "out", n), n});
    }

    @Override
    public synchronized void mul(Buffer a, Buffer b, Buffer out, int n) {
        checkOpen();
        count(n, "n");
        launches.elementwise(Op.MUL, n, new Object[] {buf(a, "a", n), buf(b, "b", n), out(out, "out", n), n});
    }

    @Override
    public synchronized void copyRows(Buffer src, int srcWidth, int srcOffset, Buffer dst, int dstWidth,
                                      int dstOffset, int width, int rows) {
        checkOpen();
        Backend.checkCopyRows(srcWidth, srcOffset, dstWidth, dstOffset, width, rows);
        if (rows == 0 || width == 0) {
            return;
        }
        Object[] args = {buf(src, "src", (long) (rows - 1) * srcWidth + srcOffset + width), srcWidth, srcOffset,
            out(dst, "dst", (long) (rows - 1) * dstWidth + dstOffset + width), dstWidth, dstOffset, width, rows};
        launches.perSample(Op.COPY_ROWS, width, rows, args);
    }

    // ------------------------------------------------------------------------------------------------ checks

    private void checkOpen() {
        if (closed) {
            throw new ClosedException("OpenCL backend on '" + deviceName + "'");
        }
    }

    private static void dims(int rows, int in, int out) {
        count(rows, "rows");
        count(in, "in");
        count(out, "out");
    }

    private static void count(int v, String name) {
        InvalidArgumentException.check(v >= 0, name, "must be >= 0, got " + v);
    }

    /** The cl_mem of a required buffer of at least {@code need} floats made by this backend. */
    private cl_mem buf(Buffer b, String name, long need) {
        if (b == null) {
            throw new InvalidArgumentException(name, "must not be null");
        }
        return mem(b, name, need);
    }

    /** As {@link #buf}, or the dummy buffer where {@code b} is null (the kernel reads a flag instead). */
    private cl_mem opt(Buffer b, String name, long need) {
        return b == null ? dummy : mem(b, name, need);
    }

    /** As {@link #buf} for a buffer about to be written: refuses a sealed one (a prepared weight buffer). */
    private cl_mem out(Buffer b, String name, long need) {
        cl_mem m = buf(b, name, need);
        if (((ClBuffer) b).sealed) {
            throw new InvalidArgumentException(name, "is a prepared weight buffer (sealed by prepareConv or "
                    + "prepareDense): it cannot be written");
        }
        return m;
    }

    /** As {@link #out}, or the dummy buffer where {@code b} is null. */
    private cl_mem optOut(Buffer b, String name, long need) {
        return b == null ? dummy : out(b, name, need);
    }

    private static int flag(Buffer b) {
        return b == null ? 0 : 1;
    }

    private cl_mem mem(Buffer b, String name, long need) {
        if (!(b instanceof ClBuffer c) || c.owner != this) {
            throw new InvalidArgumentException(name, "is not a buffer of this OpenCL backend (" + b + ")");
        }
        if (c.mem == null) {
            throw new ClosedException("OpenCL buffer '" + name + "'");
        }
        if (c.length() < need) {
            throw new ShapeMismatchException(name, "at least " + need + " floats", c.length() + " floats");
        }
        return c.mem;
    }

    // ------------------------------------------------------------------------------------------------ release

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (cl != null) {
            cl.finishQuietly();
        }
        releaseAll();
    }

    private void releaseAll() {
        for (ClBuffer b : new ArrayList<>(live)) {
            releaseDevice(b);
        }
        live.clear();
        if (dummy != null) {
            ClContext.releaseMem(dummy);
            dummy = null;
        }
        if (launches != null) {
            launches.release();
        }
        if (cl != null) {
            cl.release();
        }
    }

    /** For tests: the arranged copies kept with weight buffer {@code w} ({@link #prepareConv}). */
    synchronized int arrangedCopies(Buffer w) {
        return ((ClBuffer) w).arranged.size();
    }

    /** For tests: fills the arranged copies kept with {@code w} with {@code value}, to show that calls read them. */
    synchronized void fillArranged(Buffer w, float value) {
        for (ClBuffer.Arranged a : ((ClBuffer) w).arranged) {
            fill(a.mem, value);
        }
    }

    /** For tests: whether dense weight buffer {@code w} keeps column strips ({@link #prepareDense}). */
    synchronized boolean hasStrips(Buffer w) {
        return ((ClBuffer) w).strips != null;
    }

    /** For tests: fills the column strips kept with {@code w} with {@code value}, to show that calls read them. */
    synchronized void fillStrips(Buffer w, float value) {
        fill(((ClBuffer) w).strips.mem(), value);
    }

    private void fill(cl_mem m, float value) {
        long[] size = new long[1];
        CL.clGetMemObjectInfo(m, CL.CL_MEM_SIZE, org.jocl.Sizeof.size_t, Pointer.to(size), null);
        float[] fill = new float[(int) (size[0] / 4)];
        java.util.Arrays.fill(fill, value);
        CL.clEnqueueWriteBuffer(cl.queue(), m, CL_TRUE, 0, size[0], Pointer.to(fill), 0, null, null);
    }

    /** The name of the kernel conv op {@code op} runs for {@code g} on this backend: for tests and reports. */
    synchronized String convKernel(Op op, ConvGeometry g) {
        return launches.convKernel(op, g);
    }

    /** The kernels maxPool and maxPoolRoute run for {@code p} on this backend, as "POOL ROUTE": for tests. */
    synchronized String poolKernels(PoolGeometry p) {
        return launches.poolKernels(p);
    }

    @Override
    public String toString() {
        return "OpenClBackend[" + info() + (closed ? ", closed" : "") + "]";
    }
}
