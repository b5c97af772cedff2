package org.gpulrp.backend.opencl;

import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpulrp.LrpException;
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
 * One device's OpenCL context, its in-order queue and its programs (every file of {@link ClPrograms#PROGRAMS}, built
 * once with the tuning's {@code #define}s): the room that talks to the driver for {@link OpenClBackend}. It makes
 * kernels by name, memory objects (counted in {@link #liveMemObjects()}), and enqueues launches; it knows nothing of
 * the primitives. Not thread-safe: the backend serializes its calls.
 */
final class ClContext {

    /** Every cl_mem alive across all contexts in this JVM (buffers and internal ones): a leak check for tests. */
    private static final AtomicInteger LIVE_MEM_OBJECTS = new AtomicInteger();

    /** A built kernel, its name, and the largest work-group the device allows for it. */
    record Kernel(String name, cl_kernel kernel, long maxWorkGroup) {
    }

    final String deviceName;
    private final cl_device_id deviceId;
    private cl_context context;
    private cl_command_queue queue;
    private final List<cl_program> programs = new ArrayList<>();
    private final Map<String, cl_program> programByKernel = new HashMap<>();

    /**
     * Creates the context and queue and builds every program with {@code defines}; on failure releases what it made
     * and throws.
     */
    ClContext(cl_device_id deviceId, String deviceName, String version, Map<String, Integer> defines) {
        this.deviceId = deviceId;
        this.deviceName = deviceName;
        try {
            int[] err = new int[1];
            FaultInjection.before(FaultInjection.Point.CONTEXT, "clCreateContext", deviceName);
            context = CL.clCreateContext(null, 1, new cl_device_id[] {deviceId}, null, null, err);
            ClErrors.check(err[0], "clCreateContext", deviceName);
            queue = createQueue(context, deviceId, version, err);
            ClErrors.check(err[0], "clCreateCommandQueue", deviceName);
            for (String file : ClPrograms.PROGRAMS) {
                cl_program p = ClPrograms.build(context, deviceId, deviceName, file,
                        ClPrograms.source(file, defines));
                programs.add(p);
                for (String k : kernelNames(p)) {
                    programByKernel.put(k, p);
                }
            }
        } catch (CLException e) {
            release();
            throw ClErrors.wrap(e, "backend setup", deviceName);
        } catch (RuntimeException | Error e) {
            release();
            throw e;
        }
    }

    static int liveMemObjects() {
        return LIVE_MEM_OBJECTS.get();
    }

    cl_command_queue queue() {
        return queue;
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

    /** Creates kernel {@code name} from the program that defines it; the caller releases it. */
    Kernel kernel(String name) {
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
        return new Kernel(name, k, wg[0]);
    }

    /**
     * A new memory object of {@code bytes} (at least 4), holding {@code data} where it is not null; counted until
     * {@link #releaseMem}. {@code what} names the call in errors and fault injection.
     */
    cl_mem createBuffer(long bytes, float[] data, String what) {
        return createBuffer(bytes, data != null && data.length > 0 ? Pointer.to(data) : null, what);
    }

    /** As {@link #createBuffer(long, float[], String)}, holding the ints {@code data}. */
    cl_mem createBuffer(int[] data, String what) {
        return createBuffer(4L * data.length, data.length > 0 ? Pointer.to(data) : null, what);
    }

    private cl_mem createBuffer(long bytes, Pointer data, String what) {
        boolean copy = data != null;
        int[] err = new int[1];
        cl_mem mem;
        FaultInjection.before(FaultInjection.Point.ALLOCATE, what, deviceName);
        try {
            mem = CL.clCreateBuffer(context, CL_MEM_READ_WRITE | (copy ? CL_MEM_COPY_HOST_PTR : 0),
                    Math.max(4L, bytes), data, err);
        } catch (CLException e) {
            throw ClErrors.wrap(e, what, deviceName);
        }
        ClErrors.check(err[0], what, deviceName);
        LIVE_MEM_OBJECTS.incrementAndGet();
        return mem;
    }

    /**
     * Sets {@code args} ({@code cl_mem}, {@code Integer} or {@code Float}, in order) on kernel {@code k} and enqueues
     * it over {@code global} with work-groups of {@code local}.
     */
    void enqueue(Kernel k, Object[] args, long[] global, long[] local) {
        try {
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                int s;
                if (a instanceof cl_mem m) {
                    s = CL.clSetKernelArg(k.kernel(), i, Sizeof.cl_mem, Pointer.to(m));
                } else if (a instanceof Integer v) {
                    s = CL.clSetKernelArg(k.kernel(), i, Sizeof.cl_int, Pointer.to(new int[] {v}));
                } else if (a instanceof Float v) {
                    s = CL.clSetKernelArg(k.kernel(), i, Sizeof.cl_float, Pointer.to(new float[] {v}));
                } else {
                    throw new IllegalStateException("kernel argument " + i + " of " + k.name() + ": " + a);
                }
                ClErrors.check(s, "clSetKernelArg(" + k.name() + ", " + i + ")", deviceName);
            }
            FaultInjection.before(FaultInjection.Point.LAUNCH, "clEnqueueNDRangeKernel(" + k.name() + ")",
                    deviceName);
            ClErrors.check(CL.clEnqueueNDRangeKernel(queue, k.kernel(), global.length, null, global, local, 0, null,
                    null), "clEnqueueNDRangeKernel(" + k.name() + ")", deviceName);
        } catch (CLException e) {
            throw ClErrors.wrap(e, "kernel " + k.name(), deviceName);
        }
    }

    /** Waits until every queued command has finished. */
    void finish() {
        FaultInjection.before(FaultInjection.Point.FINISH, "clFinish", deviceName);
        try {
            ClErrors.check(CL.clFinish(queue), "clFinish", deviceName);
        } catch (CLException e) {
            throw ClErrors.wrap(e, "clFinish", deviceName);
        }
    }

    /** Waits for the queue where the device still answers; never throws. */
    void finishQuietly() {
        try {
            if (queue != null) {
                CL.clFinish(queue);
            }
        } catch (CLException | LinkageError e) {
            // the device may already be lost; release what we can
        }
    }

    /** Releases the programs, the queue and the context; idempotent, never throws. */
    void release() {
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

    static void releaseMem(cl_mem m) {
        try {
            CL.clReleaseMemObject(m);
        } catch (CLException | LinkageError e) {
            // best effort
        }
        LIVE_MEM_OBJECTS.decrementAndGet();
    }

    static void releaseKernel(cl_kernel k) {
        try {
            CL.clReleaseKernel(k);
        } catch (CLException | LinkageError e) {
            // best effort
        }
    }
}
