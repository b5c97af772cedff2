package org.gpulrp.backend.opencl;

import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_TRUE;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.atomic.AtomicInteger;
import org.gpulrp.ClosedException;
import org.gpulrp.DeviceException;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.LrpException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.ConvGeometry;
import org.gpulrp.backend.PoolGeometry;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;
import org.jocl.cl_queue_properties;

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

    private static final String[] ELEMENTWISE = {"relu", "split_sign", "gamma_weights", "normalize_relevance",
        "normalize_signed", "add_elements", "mul_elements"};
    /** Kernels over (element of a sample, batch row): one work-item per output element. */
    private static final String[] PER_SAMPLE = {"conv_fwd", "conv_signed", "conv_zbox", "conv_back",
        "conv_back_signed", "conv_back_zbox", "max_pool", "max_pool_route", "copy_rows"};
    /** The convolution primitives; each has a simple (PER_SAMPLE), a _vec and a _tiled kernel. */
    private static final String[] CONV = {"conv_fwd", "conv_signed", "conv_zbox", "conv_back", "conv_back_signed",
        "conv_back_zbox"};
    private static final String[] DENSE = {"linear", "linear_signed", "linear_signed_p", "linear_zbox",
        "backproject", "backproject_signed", "backproject_signed_p", "backproject_zbox"};

    /** Every cl_mem alive across all backends in this JVM (buffers and internal dummies): a leak check for tests. */
    private static final AtomicInteger LIVE_MEM_OBJECTS = new AtomicInteger();

    /** How a kernel is launched. */
    private enum Shape { ELEMENTWISE, PER_SAMPLE, SIMPLE, VECTOR, TILED, CONV_VECTOR, CONV_PIXELS, CONV_TILED }

    /**
     * A built kernel, how to launch it, and the largest work-group the device allows for it; {@code vecCols} is the
     * number of columns one VECTOR work-item computes.
     */
    private record Launch(String name, cl_kernel kernel, Shape shape, long maxWorkGroup, int vecCols) {
    }

    private final DeviceDescription device;
    private final String deviceName;
    private final cl_device_id deviceId;
    private final Variant variant;
    /** The kernels' tuning on this device (from kernels/tuning.properties and overrides); variant as run. */
    private final KernelTuning tuning;
    private cl_context context;
    private cl_command_queue queue;
    private final List<cl_program> programs = new ArrayList<>();
    private final Map<String, cl_program> programByKernel = new HashMap<>();
    private final Map<String, Launch> launches = new HashMap<>();
    /** The conv primitives' VECTOR or TILED kernels by primitive name; absent: the simple kernel runs. */
    private final Map<String, Launch> convLaunches = new HashMap<>();
    /** VECTOR: the backprojections' pixel-lane kernels, for few input channels per group and unit column stride. */
    private final Map<String, Launch> convPixelLaunches = new HashMap<>();
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
        ClDevices.Found found = ClDevices.select(name);
        DeviceDescription d = found.description();
        return new OpenClBackend(found, KernelTuning.resolve(d.type(), d.platform() + " " + d.name(),
                tuningOverrides));
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
                    DeviceDescription d = f.description();
                    out.add(new OpenClBackend(f, KernelTuning.resolve(d.type(), d.platform() + " " + d.name(),
                            Map.of())));
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
        try {
            ClDevices.enumerate();
            return Optional.empty();
        } catch (LrpException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** Every OpenCL device on every platform; empty where there is no OpenCL (see {@link #unavailableReason()}). */
    public static List<DeviceDescription> listDevices() {
        List<DeviceDescription> out = new ArrayList<>();
        try {
            for (ClDevices.Found f : ClDevices.enumerate()) {
                out.add(f.description());
            }
        } catch (DeviceException e) {
            if (!e.getMessage().startsWith(ClErrors.NO_PLATFORM)) {
                throw e;
            }
        }
        return List.copyOf(out);
    }

    private OpenClBackend(ClDevices.Found found, KernelTuning requested) {
        this.device = found.description();
        this.deviceName = device.name();
        this.deviceId = found.device();
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
            int[] err = new int[1];
            FaultInjection.before(FaultInjection.Point.CONTEXT, "clCreateContext", deviceName);
            context = CL.clCreateContext(null, 1, new cl_device_id[] {deviceId}, null, null, err);
            ClErrors.check(err[0], "clCreateContext", deviceName);
            queue = createQueue(context, deviceId, device.version(), err);
            ClErrors.check(err[0], "clCreateCommandQueue", deviceName);
            Map<String, Integer> defines = tuning.defines();
            for (String file : ClPrograms.PROGRAMS) {
                cl_program p = ClPrograms.build(context, deviceId, deviceName, file,
                        ClPrograms.source(file, defines));
                programs.add(p);
                for (String k : kernelNames(p)) {
                    programByKernel.put(k, p);
                }
            }
            for (String op : ELEMENTWISE) {
                launches.put(op, launch(op, Shape.ELEMENTWISE));
            }
            for (String op : PER_SAMPLE) {
                launches.put(op, launch(op, Shape.PER_SAMPLE));
            }
            List<String> fellBack = new ArrayList<>();
            for (String op : DENSE) {
                Launch l = switch (variant) {
                    case VECTOR -> launch(op + "_vec", Shape.VECTOR);
                    case TILED -> launch(op + "_tiled", Shape.TILED);
                    default -> launch(op + "_simple", Shape.SIMPLE);
                };
                if (l.shape() == Shape.TILED && l.maxWorkGroup() < (long) tuning.tileT() * tuning.tileT()) {
                    // The compiled kernel needs too many registers for a full work-group here: keep the contract,
                    // lose the tiling.
                    fellBack.add(op);
                    releaseKernel(l.kernel());
                    l = launch(op + "_simple", Shape.SIMPLE);
                }
                launches.put(op, l);
            }
            if (tuning.convVariant() == Variant.VECTOR) {
                launches.put("conv_arrange", launch("conv_arrange", Shape.ELEMENTWISE));
            }
            for (String op : CONV) {
                if (tuning.convVariant() == Variant.VECTOR) {
                    convLaunches.put(op, launch(op + "_vec", Shape.CONV_VECTOR));
                    if (op.startsWith("conv_back")) {
                        convPixelLaunches.put(op, launch(op + "_px", Shape.CONV_PIXELS));
                    }
                    if (op.equals("conv_signed")) {
                        convLaunches.put("conv_signed_p", launch("conv_signed_p_vec", Shape.CONV_VECTOR));
                    }
                } else if (tuning.convVariant() == Variant.TILED) {
                    Launch l = launch(op + "_tiled", Shape.CONV_TILED);
                    if (l.maxWorkGroup() < tuning.convTileP()) {
                        fellBack.add(op);
                        releaseKernel(l.kernel());
                    } else {
                        convLaunches.put(op, l);
                    }
                }
            }
            if (!fellBack.isEmpty()) {
                String n = "simple kernels for " + String.join(", ", fellBack) + " (tiled work-group too large here)";
                note = note.isEmpty() ? n : note + "; " + n;
            }
            // Stands in for an absent optional buffer (OpenCL cannot portably take a NULL cl_mem argument); the
            // kernels read a has_* flag and never touch it.
            int[] e = new int[1];
            FaultInjection.before(FaultInjection.Point.ALLOCATE, "clCreateBuffer(dummy)", deviceName);
            cl_mem d = CL.clCreateBuffer(context, CL_MEM_READ_WRITE, Sizeof.cl_float, null, e);
            ClErrors.check(e[0], "clCreateBuffer(dummy)", deviceName);
            LIVE_MEM_OBJECTS.incrementAndGet();
            dummy = d;
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

    /** An in-order queue: the OpenCL 2.0 call where the device has it, else the 1.x one. */
    @SuppressWarnings("deprecation")
    private static cl_command_queue createQueue(cl_context context, cl_device_id device, String version, int[] err) {
        if (openClMajor(version) >= 2) {
            return CL.clCreateCommandQueueWithProperties(context, device, new cl_queue_properties(), err);
        }
        return CL.clCreateCommandQueue(context, device, 0, err);
    }

    /** The major version in a {@code CL_DEVICE_VERSION} string ({@code OpenCL 3.0 ...}); 1 where unreadable. */
    static int openClMajor(String version) {
        Matcher m = Pattern.compile("OpenCL (\\d+)\\.").matcher(version);
        return m.lookingAt() ? Integer.parseInt(m.group(1)) : 1;
    }

    private List<String> kernelNames(cl_program p) {
        long[] size = new long[1];
        ClErrors.check(CL.clGetProgramInfo(p, CL.CL_PROGRAM_KERNEL_NAMES, 0, null, size), "clGetProgramInfo",
                deviceName);
        byte[] bytes = new byte[(int) size[0]];
        ClErrors.check(CL.clGetProgramInfo(p, CL.CL_PROGRAM_KERNEL_NAMES, bytes.length, Pointer.to(bytes), null),
                "clGetProgramInfo", deviceName);
        List<String> names = new ArrayList<>();
        for (String n : ClDevices.cString(bytes).split(";")) {
            if (!n.isBlank()) {
                names.add(n.trim());
            }
        }
        return names;
    }

    private Launch launch(String name, Shape shape) {
        cl_program p = programByKernel.get(name);
        if (p == null) {
            throw new LrpException("kernel " + name + " is missing from the kernel sources");
        }
        int[] err = new int[1];
        cl_kernel k = CL.clCreateKernel(p, name, err);
        ClErrors.check(err[0], "clCreateKernel(" + name + ")", deviceName);
        long[] wg = new long[1];
        int s = CL.clGetKernelWorkGroupInfo(k, deviceId, CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(wg),
                null);
        if (s != CL.CL_SUCCESS) {
            releaseKernel(k);
            throw ClErrors.failure("clGetKernelWorkGroupInfo(" + name + ")", deviceName, s, null);
        }
        return new Launch(name, k, shape, wg[0], 16 * vecColumnBlocks(name));
    }

    /** The float16 column blocks per work-item of a VECTOR kernel: fewer where each output has several chains. */
    private int vecColumnBlocks(String kernel) {
        return switch (kernel) {
            case "linear_signed_vec", "backproject_signed_vec", "backproject_signed_p_vec" -> tuning.vecColv2();
            case "backproject_zbox_vec" -> tuning.vecColv3();
            default -> tuning.vecColv();
        };
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
        return LIVE_MEM_OBJECTS.get();
    }

    /** Waits until every queued command has finished (for timing; {@link #read} already waits). */
    public synchronized void finish() {
        checkOpen();
        FaultInjection.before(FaultInjection.Point.FINISH, "clFinish", deviceName);
        try {
            ClErrors.check(CL.clFinish(queue), "clFinish", deviceName);
        } catch (CLException e) {
            throw ClErrors.wrap(e, "clFinish", deviceName);
        }
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
        boolean copy = data != null && length > 0;
        int[] err = new int[1];
        cl_mem mem;
        FaultInjection.before(FaultInjection.Point.ALLOCATE, "clCreateBuffer(" + length + " floats)", deviceName);
        try {
            mem = CL.clCreateBuffer(context, CL_MEM_READ_WRITE | (copy ? CL_MEM_COPY_HOST_PTR : 0), bytes,
                    copy ? Pointer.to(data) : null, err);
        } catch (CLException e) {
            throw ClErrors.wrap(e, "clCreateBuffer(" + length + " floats)", deviceName);
        }
        ClErrors.check(err[0], "clCreateBuffer(" + length + " floats)", deviceName);
        LIVE_MEM_OBJECTS.incrementAndGet();
        ClBuffer b = new ClBuffer(this, mem, length);
        live.add(b);
        return b;
    }

    /** Called by {@link ClBuffer#close()}: idempotent, never throws. */
    synchronized void release(ClBuffer b) {
        if (b.mem == null) {
            return;
        }
        releaseMem(b.mem);
        b.mem = null;
        live.remove(b);
    }

    @Override
    public synchronized void write(Buffer dst, float[] src, int srcOff, int length) {
        checkOpen();
        checkRange(src, srcOff, length, "src");
        cl_mem d = buf(dst, "dst", length);
        if (length == 0) {
            return;
        }
        FaultInjection.before(FaultInjection.Point.WRITE, "clEnqueueWriteBuffer", deviceName);
        try {
            ClErrors.check(CL.clEnqueueWriteBuffer(queue, d, CL_TRUE, 0, 4L * length,
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
            ClErrors.check(CL.clEnqueueReadBuffer(queue, s, CL_TRUE, 0, 4L * length,
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
            flag(bias), buf(z, "z", (long) rows * out), rows, in, out};
        dense("linear", rows, out, args);
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
        Object op = buf(outP, "outP", (long) rows * out);
        if (outN == null) {
            dense("linear_signed_p", rows, out, new Object[] {xb, ub, vb, bp, flag(biasP), op, rows, in, out});
        } else {
            Object bn = opt(biasN, "biasN", out);
            Object on = buf(outN, "outN", (long) rows * out);
            dense("linear_signed", rows, out, new Object[] {xb, ub, vb, bp, flag(biasP), bn, flag(biasN), op, on,
                rows, in, out});
        }
    }

    @Override
    public synchronized void linearZBox(Buffer x, Buffer wt, Buffer low, Buffer high, Buffer d, int rows, int in,
                                        int out) {
        checkOpen();
        dims(rows, in, out);
        dense("linear_zbox", rows, out, new Object[] {buf(x, "x", (long) rows * in), buf(wt, "wt", (long) in * out),
            buf(low, "low", in), buf(high, "high", in), buf(d, "d", (long) rows * out), rows, in, out});
    }

    @Override
    public synchronized void backproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, int out, int in) {
        checkOpen();
        dims(rows, in, out);
        dense("backproject", rows, in, new Object[] {buf(g, "g", (long) rows * out), buf(w, "w", (long) out * in),
            opt(x, "x", (long) rows * in), flag(x), buf(r, "r", (long) rows * in), rows, out, in});
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
        Object rb = buf(r, "r", (long) rows * in);
        if (hn == null) {
            dense("backproject_signed_p", rows, in, new Object[] {pb, ub, vb, xb, rb, rows, out, in});
        } else {
            dense("backproject_signed", rows, in, new Object[] {pb, buf(hn, "hn", (long) rows * out), ub, vb, xb, rb,
                rows, out, in});
        }
    }

    @Override
    public synchronized void backprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low,
                                             Buffer high, Buffer r, int rows, int out, int in) {
        checkOpen();
        dims(rows, in, out);
        long wl = (long) out * in;
        dense("backproject_zbox", rows, in, new Object[] {buf(g, "g", (long) rows * out), buf(w, "w", wl),
            buf(wpos, "wpos", wl), buf(wneg, "wneg", wl), buf(x, "x", (long) rows * in), buf(low, "low", in),
            buf(high, "high", in), buf(r, "r", (long) rows * in), rows, out, in});
    }

    // ------------------------------------------------------------------------------------------------ elementwise

    @Override
    public synchronized void relu(Buffer in, Buffer out, int length) {
        checkOpen();
        count(length, "length");
        elementwise("relu", length, new Object[] {buf(in, "in", length), buf(out, "out", length), length});
    }

    @Override
    public synchronized void splitSign(Buffer w, Buffer pos, Buffer neg, int length) {
        checkOpen();
        count(length, "length");
        elementwise("split_sign", length, new Object[] {buf(w, "w", length), buf(pos, "pos", length),
            buf(neg, "neg", length), length});
    }

    @Override
    public synchronized void gammaWeights(Buffer w, float gamma, Buffer wp, Buffer wn, int length) {
        checkOpen();
        count(length, "length");
        elementwise("gamma_weights", length, new Object[] {buf(w, "w", length), gamma, buf(wp, "wp", length),
            buf(wn, "wn", length), length});
    }

    @Override
    public synchronized void normalize(Buffer r, Buffer d, int dRowStride, float eps, Buffer g, int rows, int out) {
        checkOpen();
        count(rows, "rows");
        count(out, "out");
        count(dRowStride, "dRowStride");
        long n = (long) rows * out;
        long dNeed = rows == 0 || out == 0 ? 0 : (long) (rows - 1) * dRowStride + out;
        elementwise("normalize_relevance", n, new Object[] {buf(r, "r", n), buf(d, "d", dNeed), dRowStride, eps,
            buf(g, "g", n), rows, out});
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
        Object hnb = n == null ? opt(hn, "hn", 0) : buf(hn, "hn", len);
        elementwise("normalize_signed", len, new Object[] {buf(r, "r", len), zb, buf(p, "p", len), nb, flag(n), eps,
            scaleP, scaleN, gammaMask ? 1 : 0, buf(hp, "hp", len), hnb, (int) len});
    }

    // ------------------------------------------------------------------------------------------------ conv, pool

    /** The 13 geometry arguments every convolution kernel ends with, in the CONV_GEOMETRY order of kernels/conv_walk.h. */
    private static Object[] geometry(ConvGeometry g) {
        return new Object[] {g.inChannels(), g.inH(), g.inW(), g.outChannels(), g.kernelH(), g.kernelW(),
            g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilationH(), g.dilationW(), g.groups()};
    }

    private static Object[] geometry(PoolGeometry p) {
        return new Object[] {p.channels(), p.inH(), p.inW(), p.kernelH(), p.kernelW(), p.strideH(), p.strideW(),
            p.padH(), p.padW()};
    }

    private static Object[] concat(Object[] a, Object[] b) {
        Object[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

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
            opt(bias, "bias", g.outChannels()), flag(bias), buf(z, "z", (long) rows * g.outSize()), rows};
        convLaunch("conv_fwd", "conv_fwd", false, g, rows, args, 1, 1);
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
            opt(biasN, "biasN", g.outChannels()), flag(biasN), buf(outP, "outP", o), opt(outN, "outN", o),
            flag(outN), rows};
        // Without outN, one chain per output: the vector variant has a kernel with wider channel blocks.
        convLaunch("conv_signed", outN == null ? "conv_signed_p" : "conv_signed", false, g, rows, args, 1, 2);
    }

    @Override
    public synchronized void convZBox(Buffer x, Buffer w, Buffer low, Buffer high, Buffer d, int rows,
                                      ConvGeometry g) {
        checkOpen();
        count(rows, "rows");
        geometryOk(g, "g");
        Object[] args = {buf(x, "x", (long) rows * g.inSize()), buf(w, "w", g.weightSize()),
            buf(low, "low", g.inSize()), buf(high, "high", g.inSize()), buf(d, "d", (long) rows * g.outSize()),
            rows};
        convLaunch("conv_zbox", "conv_zbox", false, g, rows, args, 1, 1);
    }

    @Override
    public synchronized void convBackproject(Buffer gr, Buffer w, Buffer x, Buffer r, int rows, ConvGeometry g) {
        checkOpen();
        count(rows, "rows");
        geometryOk(g, "g");
        long in = (long) rows * g.inSize();
        Object[] args = {buf(gr, "g", (long) rows * g.outSize()), buf(w, "w", g.weightSize()), opt(x, "x", in),
            flag(x), buf(r, "r", in), rows};
        convLaunch("conv_back", "conv_back", true, g, rows, args, 1, 1);
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
            buf(v, "v", g.weightSize()), buf(x, "x", in), buf(r, "r", in), rows};
        convLaunch("conv_back_signed", "conv_back_signed", true, g, rows, args, 3, 2);
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
            buf(low, "low", g.inSize()), buf(high, "high", g.inSize()), buf(r, "r", in), rows};
        convLaunch("conv_back_zbox", "conv_back_zbox", true, g, rows, args, 1, 3);
    }

    @Override
    public synchronized void maxPool(Buffer x, Buffer y, Buffer arg, int rows, PoolGeometry p) {
        checkOpen();
        count(rows, "rows");
        geometryOk(p, "p");
        long out = (long) rows * p.outSize();
        Object[] args = {buf(x, "x", (long) rows * p.inSize()), buf(y, "y", out), buf(arg, "arg", out), rows};
        perSample("max_pool", p.outSize(), rows, concat(args, geometry(p)));
    }

    @Override
    public synchronized void maxPoolRoute(Buffer r, Buffer arg, Buffer rIn, int rows, PoolGeometry p) {
        checkOpen();
        count(rows, "rows");
        geometryOk(p, "p");
        long out = (long) rows * p.outSize();
        Object[] args = {buf(r, "r", out), buf(arg, "arg", out), buf(rIn, "rIn", (long) rows * p.inSize()), rows};
        perSample("max_pool_route", p.inSize(), rows, concat(args, geometry(p)));
    }

    @Override
    public synchronized void add(Buffer a, Buffer b, Buffer out, int n) {
        checkOpen();
        count(n, "n");
        elementwise("add_elements", n, new Object[] {buf(a, "a", n), buf(b, "b", n), buf(out, "out", n), n});
    }

    @Override
    public synchronized void mul(Buffer a, Buffer b, Buffer out, int n) {
        checkOpen();
        count(n, "n");
        elementwise("mul_elements", n, new Object[] {buf(a, "a", n), buf(b, "b", n), buf(out, "out", n), n});
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
            buf(dst, "dst", (long) (rows - 1) * dstWidth + dstOffset + width), dstWidth, dstOffset, width, rows};
        perSample("copy_rows", width, rows, args);
    }

    /**
     * The kernel conv primitive {@code op} ({@code conv_fwd}, {@code conv_signed}, {@code conv_zbox}, {@code conv_back},
     * {@code conv_back_signed}, {@code conv_back_zbox}) runs for {@code g} on this backend: for tests and reports.
     */
    synchronized String convKernel(String op, ConvGeometry g) {
        Launch l = convLaunch(op, g);
        if (l != null) {
            return l.name();
        }
        if (!launches.containsKey(op)) {
            throw new InvalidArgumentException("op", "is not a conv primitive: " + op);
        }
        return op;
    }

    /** Whether conv primitive {@code op} runs its VECTOR kernel for {@code g} (enough channels per group). */
    private boolean convVector(String op, ConvGeometry g) {
        Launch l = convLaunches.get(op);
        return l != null && l.shape() == Shape.CONV_VECTOR && channels(op, g) >= tuning.convVecMin();
    }

    /** The channels per group a conv kernel's lanes (VECTOR) or register tile (TILED) run over. */
    private static int channels(String op, ConvGeometry g) {
        return op.startsWith("conv_back") ? g.inChannels() / g.groups() : g.outChannels() / g.groups();
    }

    /** The floats one weight array takes arranged for channel lanes (conv_arrange in kernels/conv_vector.cl). */
    private int arrangedSize(boolean back, ConvGeometry g) {
        int cin = g.inChannels() / g.groups();
        int cout = g.outChannels() / g.groups();
        int block = 16 * tuning.convVecOcv();
        int lanes = ceilDivInt(back ? cin : cout, block) * block;
        return g.groups() * (back ? cout : cin) * g.kernelH() * g.kernelW() * lanes;
    }

    private static int ceilDivInt(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * Runs a convolution kernel. Where the vector variant runs, the {@code n} weight arguments from {@code first} are
     * first re-arranged into one scratch buffer (followed by its per-weight stride when {@code n > 1}), released
     * after the launch; {@code vecKernel} names the vector variant's kernel.
     */
    private void convLaunch(String kernel, String vecKernel, boolean back, ConvGeometry g, int rows, Object[] args,
                            int first, int n) {
        if (!convVector(kernel, g)) {
            convRun(kernel, g, rows, concat(args, geometry(g)));
            return;
        }
        cl_mem[] ws = new cl_mem[n];
        for (int k = 0; k < n; k++) {
            ws[k] = (cl_mem) args[first + k];
        }
        cl_mem wt = arrange(back, g, ws);
        try {
            List<Object> v = new ArrayList<>(Arrays.asList(args).subList(0, first));
            v.add(wt);
            if (n > 1) {
                v.add(arrangedSize(back, g));
            }
            v.addAll(Arrays.asList(args).subList(first + n, args.length));
            convRun(vecKernel, g, rows, concat(v.toArray(), geometry(g)));
        } finally {
            releaseMem(wt);
        }
    }

    /**
     * A scratch buffer holding the weight arrays {@code ws}, one after another, arranged for the VECTOR conv kernels'
     * channel lanes. The caller releases it after enqueueing its kernel (OpenCL keeps it until that kernel ran).
     */
    private cl_mem arrange(boolean back, ConvGeometry g, cl_mem... ws) {
        int size = arrangedSize(back, g);
        long bytes = 4L * size * ws.length;
        String what = "clCreateBuffer(conv scratch, " + size * (long) ws.length + " floats)";
        if (bytes > device.maxAllocBytes()) {
            throw new DeviceException("the convolution's re-arranged weights (" + (bytes >> 20) + " MiB) exceed the "
                    + "largest allocation device '" + deviceName + "' allows; set the tuning key conv.variant=simple",
                    deviceName, CL.CL_INVALID_BUFFER_SIZE, null);
        }
        FaultInjection.before(FaultInjection.Point.ALLOCATE, what, deviceName);
        int[] err = new int[1];
        cl_mem m;
        try {
            m = CL.clCreateBuffer(context, CL_MEM_READ_WRITE, Math.max(4L, bytes), null, err);
        } catch (CLException e) {
            throw ClErrors.wrap(e, what, deviceName);
        }
        ClErrors.check(err[0], what, deviceName);
        LIVE_MEM_OBJECTS.incrementAndGet();
        try {
            for (int k = 0; k < ws.length; k++) {
                elementwise("conv_arrange", size, new Object[] {ws[k], m, k * size, back ? 1 : 0, g.outChannels(),
                    g.inChannels() / g.groups(), g.kernelH() * g.kernelW(), g.groups()});
            }
        } catch (RuntimeException | Error e) {
            releaseMem(m);
            throw e;
        }
        return m;
    }

    /** The VECTOR, pixel-lane or TILED kernel conv primitive {@code op} runs for {@code g}; null: the simple one. */
    private Launch convLaunch(String op, ConvGeometry g) {
        Launch l = convLaunches.get(op);
        if (l == null || l.shape() == Shape.CONV_TILED || convVector(op, g)) {
            return l;
        }
        return g.strideW() == 1 ? convPixelLaunches.get(op) : null;
    }

    /** Launches conv primitive {@code op}: its VECTOR or TILED kernel where built and fit, else the simple one. */
    private void convRun(String op, ConvGeometry g, int rows, Object[] args) {
        int pixels = op.startsWith("conv_back") ? g.inH() * g.inW() : g.outSize() / g.outChannels();
        int ch = channels(op, g);
        Launch l = convLaunch(op, g);
        if (rows == 0 || pixels == 0 || ch == 0) {
            return;
        }
        if (l != null && l.shape() == Shape.CONV_PIXELS) {
            long lx = Math.max(1, Math.min(tuning.convVecLocal(), l.maxWorkGroup()));
            long tiles = ceilDiv(g.inH(), tuning.convVecPix()) * ceilDiv(g.inW(), 16);
            run(l, args, new long[] {roundUp(tiles, lx), g.inChannels(), rows}, new long[] {lx, 1, 1});
        } else if (l != null && l.shape() == Shape.CONV_VECTOR) {
            long lx = Math.max(1, Math.min(tuning.convVecLocal(), l.maxWorkGroup()));
            boolean wide = l.name().equals("conv_fwd_vec") || l.name().equals("conv_zbox_vec")
                    || l.name().equals("conv_back_vec") || l.name().equals("conv_signed_p_vec")
                    || l.name().equals("conv_back_signed_vec");
            int block = 16 * (wide ? tuning.convVecOcv() : 1);
            // conv_back_signed_vec keeps two chains: its tile trades pixels for channel blocks (CONV_PIX2).
            int pix = l.name().equals("conv_back_signed_vec") ? ceilDivInt(tuning.convVecPix(), tuning.convVecOcv())
                    : tuning.convVecPix();
            run(l, args, new long[] {roundUp(ceilDiv(pixels, pix), lx),
                (long) g.groups() * ceilDiv(ch, block), rows}, new long[] {lx, 1, 1});
        } else if (l != null && l.shape() == Shape.CONV_TILED) {
            long lx = tuning.convTileP();
            run(l, args, new long[] {roundUp(pixels, lx), (long) g.groups() * ceilDiv(ch, tuning.convTileC()), rows},
                    new long[] {lx, 1, 1});
        } else {
            perSample(op, op.startsWith("conv_back") ? g.inSize() : g.outSize(), rows, args);
        }
    }

    /** Launches a per-sample kernel over {@code perSample} elements of each of {@code rows} rows. */
    private void perSample(String op, int perSample, int rows, Object[] args) {
        if (rows == 0 || perSample == 0) {
            return;
        }
        Launch l = launches.get(op);
        long lx = Math.max(1, Math.min(tuning.sampleLocal(), l.maxWorkGroup()));
        run(l, args, new long[] {roundUp(perSample, lx), rows}, new long[] {lx, 1});
    }

    // ------------------------------------------------------------------------------------------------ launching

    private void dense(String op, int rows, int cols, Object[] args) {
        if (rows == 0 || cols == 0) {
            return;
        }
        Launch l = launches.get(op);
        long gx;
        long gy;
        long lx;
        long ly;
        switch (l.shape()) {
            case VECTOR -> {
                lx = 1;
                ly = Math.max(1, Math.min(tuning.vecLocalRows(), l.maxWorkGroup()));
                gx = ceilDiv(cols, l.vecCols());
                gy = roundUp(ceilDiv(rows, tuning.vecRows()), ly);
            }
            case TILED -> {
                lx = tuning.tileT();
                ly = tuning.tileT();
                gx = ceilDiv(cols, tuning.tileB()) * tuning.tileT();
                gy = ceilDiv(rows, tuning.tileB()) * tuning.tileT();
            }
            default -> {
                lx = Math.max(1, Math.min(tuning.simpleLocalX(), l.maxWorkGroup()));
                ly = Math.max(1, Math.min(tuning.simpleLocalY(), l.maxWorkGroup() / lx));
                gx = roundUp(cols, lx);
                gy = roundUp(rows, ly);
            }
        }
        run(l, args, new long[] {gx, gy}, new long[] {lx, ly});
    }

    private void elementwise(String op, long n, Object[] args) {
        if (n == 0) {
            return;
        }
        Launch l = launches.get(op);
        long lx = Math.max(1, Math.min(tuning.elementLocal(), l.maxWorkGroup()));
        run(l, args, new long[] {roundUp(n, lx)}, new long[] {lx});
    }

    private void run(Launch l, Object[] args, long[] global, long[] local) {
        try {
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                int s;
                if (a instanceof cl_mem m) {
                    s = CL.clSetKernelArg(l.kernel(), i, Sizeof.cl_mem, Pointer.to(m));
                } else if (a instanceof Integer v) {
                    s = CL.clSetKernelArg(l.kernel(), i, Sizeof.cl_int, Pointer.to(new int[] {v}));
                } else if (a instanceof Float v) {
                    s = CL.clSetKernelArg(l.kernel(), i, Sizeof.cl_float, Pointer.to(new float[] {v}));
                } else {
                    throw new IllegalStateException("kernel argument " + i + " of " + l.name() + ": " + a);
                }
                ClErrors.check(s, "clSetKernelArg(" + l.name() + ", " + i + ")", deviceName);
            }
            FaultInjection.before(FaultInjection.Point.LAUNCH, "clEnqueueNDRangeKernel(" + l.name() + ")",
                    deviceName);
            ClErrors.check(CL.clEnqueueNDRangeKernel(queue, l.kernel(), global.length, null, global, local, 0, null,
                    null), "clEnqueueNDRangeKernel(" + l.name() + ")", deviceName);
        } catch (CLException e) {
            throw ClErrors.wrap(e, "kernel " + l.name(), deviceName);
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static long roundUp(long a, long b) {
        return ceilDiv(a, b) * b;
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
        try {
            if (queue != null) {
                CL.clFinish(queue);
            }
        } catch (CLException | LinkageError e) {
            // the device may already be lost; release what we can
        }
        releaseAll();
    }

    private void releaseAll() {
        for (ClBuffer b : new ArrayList<>(live)) {
            releaseMem(b.mem);
            b.mem = null;
        }
        live.clear();
        if (dummy != null) {
            releaseMem(dummy);
            dummy = null;
        }
        for (Launch l : launches.values()) {
            releaseKernel(l.kernel());
        }
        launches.clear();
        for (Launch l : convLaunches.values()) {
            releaseKernel(l.kernel());
        }
        convLaunches.clear();
        for (Launch l : convPixelLaunches.values()) {
            releaseKernel(l.kernel());
        }
        convPixelLaunches.clear();
        for (cl_program p : programs) {
            ClPrograms.release(p);
        }
        programs.clear();
        programByKernel.clear();
        if (queue != null) {
            try {
                CL.clReleaseCommandQueue(queue);
            } catch (CLException | LinkageError e) {
                // best effort
            }
            queue = null;
        }
        if (context != null) {
            try {
                CL.clReleaseContext(context);
            } catch (CLException | LinkageError e) {
                // best effort
            }
            context = null;
        }
    }

    private static void releaseMem(cl_mem m) {
        try {
            CL.clReleaseMemObject(m);
        } catch (CLException | LinkageError e) {
            // best effort
        }
        LIVE_MEM_OBJECTS.decrementAndGet();
    }

    private static void releaseKernel(cl_kernel k) {
        try {
            CL.clReleaseKernel(k);
        } catch (CLException | LinkageError e) {
            // best effort
        }
    }

    @Override
    public String toString() {
        return "OpenClBackend[" + info() + (closed ? ", closed" : "") + "]";
    }
}
