package org.gpulrp.backend.opencl;

import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_LOCAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT;
import static org.jocl.CL.CL_DEVICE_SINGLE_FP_CONFIG;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_CUSTOM;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT;
import static org.jocl.CL.CL_FP_DENORM;
import static org.jocl.CL.CL_FP_FMA;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_SUCCESS;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.gpulrp.DeviceException;
import org.gpulrp.LrpException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/** Enumerates OpenCL platforms and devices, describes them, and picks the one a backend should use. */
final class ClDevices {

    /** A device with its platform and the facts the backend needs. */
    record Found(cl_platform_id platform, cl_device_id device, DeviceDescription description, long typeBits,
                 long maxWorkGroupSize, long localMemBytes) {
        boolean isGpu() {
            return (typeBits & CL_DEVICE_TYPE_GPU) != 0;
        }
    }

    private ClDevices() {
    }

    /** Why no OpenCL device can be used (no loader, no platform, no device), or empty where one can. */
    static Optional<String> unavailableReason() {
        try {
            enumerate();
            return Optional.empty();
        } catch (LrpException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** Every device on every platform; empty where there is no OpenCL platform at all. */
    static List<DeviceDescription> descriptions() {
        List<DeviceDescription> out = new ArrayList<>();
        try {
            for (Found f : enumerate()) {
                out.add(f.description());
            }
        } catch (DeviceException e) {
            if (!e.getMessage().startsWith(ClErrors.NO_PLATFORM)) {
                throw e;
            }
        }
        return List.copyOf(out);
    }

    /**
     * Every device of every platform, in platform order. Throws a {@link DeviceException} with
     * {@link ClErrors#NO_PLATFORM} where there is no OpenCL loader, no platform, or no device at all.
     */
    static List<Found> enumerate() {
        try {
            int[] count = new int[1];
            int status = CL.clGetPlatformIDs(0, null, count);
            if (status != CL_SUCCESS || count[0] == 0) {
                throw new DeviceException(ClErrors.NO_PLATFORM, null, status, null);
            }
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            ClErrors.check(CL.clGetPlatformIDs(platforms.length, platforms, null), "clGetPlatformIDs", null);
            List<Found> found = new ArrayList<>();
            for (cl_platform_id p : platforms) {
                int[] n = new int[1];
                int s;
                try {
                    s = CL.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
                } catch (CLException e) {
                    s = e.getStatus();
                }
                if (s != CL_SUCCESS || n[0] == 0) {
                    continue; // a platform without devices (CL_DEVICE_NOT_FOUND) is not an error
                }
                cl_device_id[] devices = new cl_device_id[n[0]];
                ClErrors.check(CL.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, devices.length, devices, null),
                        "clGetDeviceIDs", null);
                String platformName = platformString(p, CL_PLATFORM_NAME);
                for (cl_device_id d : devices) {
                    found.add(describe(p, platformName, d));
                }
            }
            if (found.isEmpty()) {
                throw new DeviceException(ClErrors.NO_PLATFORM + " (the OpenCL platforms have no devices)", null,
                        CL.CL_DEVICE_NOT_FOUND, null);
            }
            return found;
        } catch (LinkageError e) {
            throw new DeviceException(ClErrors.NO_PLATFORM + " (" + e.getMessage() + ")", null, 0, e);
        } catch (CLException e) {
            if (e.getStatus() == CL.CL_PLATFORM_NOT_FOUND_KHR) {
                throw new DeviceException(ClErrors.NO_PLATFORM, null, e.getStatus(), e);
            }
            throw ClErrors.wrap(e, "device enumeration", null);
        }
    }

    /**
     * The device to use: the first whose name contains {@code nameOrNull} (ignoring case) when given; otherwise a
     * GPU before any other type, and within a type a bit-exact device before an inexact one.
     */
    static Found select(String nameOrNull) {
        List<Found> all = enumerate();
        if (nameOrNull != null && nameOrNull.trim().matches("#\\d+")) {
            // "#N": the N-th device (from 0) in platform order, as `gpulrp devices` lists them; tells identical
            // GPUs apart (e.g. the one a cluster manager assigned to this executor).
            int index = Integer.parseInt(nameOrNull.trim().substring(1));
            if (index >= all.size()) {
                throw new DeviceException("no OpenCL device " + nameOrNull.trim() + ": there are " + all.size()
                        + " (#0..#" + (all.size() - 1) + ")", null, CL.CL_DEVICE_NOT_FOUND, null);
            }
            return all.get(index);
        }
        if (nameOrNull != null && !nameOrNull.isBlank()) {
            String want = nameOrNull.toLowerCase(Locale.ROOT);
            for (Found f : all) {
                if (f.description().name().toLowerCase(Locale.ROOT).contains(want)) {
                    return f;
                }
            }
            StringBuilder names = new StringBuilder();
            for (Found f : all) {
                names.append(names.length() == 0 ? "" : ", ").append('\'').append(f.description().name()).append('\'');
            }
            throw new DeviceException("no OpenCL device name contains '" + nameOrNull + "'; the devices are: "
                    + names, null, CL.CL_DEVICE_NOT_FOUND, null);
        }
        Found best = null;
        for (Found f : all) {
            if (best == null || rank(f) > rank(best)) {
                best = f;
            }
        }
        return best;
    }

    private static int rank(Found f) {
        return (f.isGpu() ? 2 : 0) + (f.description().exact() ? 1 : 0);
    }

    private static Found describe(cl_platform_id p, String platformName, cl_device_id d) {
        long type = deviceLong(d, CL_DEVICE_TYPE);
        long fp = deviceLong(d, CL_DEVICE_SINGLE_FP_CONFIG);
        List<String> missing = new ArrayList<>();
        if ((fp & CL_FP_FMA) == 0) {
            missing.add("CL_FP_FMA");
        }
        if ((fp & CL_FP_DENORM) == 0) {
            missing.add("CL_FP_DENORM");
        }
        if ((fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) == 0) {
            missing.add("CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT");
        }
        String note = missing.isEmpty() ? "" : "CL_DEVICE_SINGLE_FP_CONFIG lacks " + String.join(", ", missing);
        DeviceDescription desc = new DeviceDescription(platformName, deviceString(d, CL_DEVICE_NAME),
                typeName(type), deviceString(d, CL_DEVICE_VERSION), deviceLong(d, CL_DEVICE_GLOBAL_MEM_SIZE),
                deviceLong(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE), deviceInt(d, CL_DEVICE_MAX_COMPUTE_UNITS),
                deviceInt(d, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT), missing.isEmpty(), note);
        return new Found(p, d, desc, type, deviceSizeT(d, CL_DEVICE_MAX_WORK_GROUP_SIZE),
                deviceLong(d, CL_DEVICE_LOCAL_MEM_SIZE));
    }

    static String typeName(long type) {
        if ((type & CL_DEVICE_TYPE_GPU) != 0) {
            return "GPU";
        }
        if ((type & CL_DEVICE_TYPE_CPU) != 0) {
            return "CPU";
        }
        if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) {
            return "ACCELERATOR";
        }
        if ((type & CL_DEVICE_TYPE_CUSTOM) != 0) {
            return "CUSTOM";
        }
        return "OTHER";
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        ClErrors.check(CL.clGetPlatformInfo(p, param, 0, null, size), "clGetPlatformInfo", null);
        byte[] bytes = new byte[(int) size[0]];
        ClErrors.check(CL.clGetPlatformInfo(p, param, bytes.length, Pointer.to(bytes), null), "clGetPlatformInfo",
                null);
        return cString(bytes);
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        ClErrors.check(CL.clGetDeviceInfo(d, param, 0, null, size), "clGetDeviceInfo", null);
        byte[] bytes = new byte[(int) size[0]];
        ClErrors.check(CL.clGetDeviceInfo(d, param, bytes.length, Pointer.to(bytes), null), "clGetDeviceInfo", null);
        return cString(bytes);
    }

    /** A {@code cl_ulong} or {@code cl_bitfield} property. */
    static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        ClErrors.check(CL.clGetDeviceInfo(d, param, Sizeof.cl_long, Pointer.to(v), null), "clGetDeviceInfo", null);
        return v[0];
    }

    /** A {@code size_t} property. */
    static long deviceSizeT(cl_device_id d, int param) {
        long[] v = new long[1];
        ClErrors.check(CL.clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null), "clGetDeviceInfo", null);
        return v[0];
    }

    static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        ClErrors.check(CL.clGetDeviceInfo(d, param, Sizeof.cl_int, Pointer.to(v), null), "clGetDeviceInfo", null);
        return v[0];
    }

    static String cString(byte[] bytes) {
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8).trim();
    }
}
