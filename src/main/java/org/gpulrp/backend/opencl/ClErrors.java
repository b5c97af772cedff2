package org.gpulrp.backend.opencl;

import org.gpulrp.DeviceException;
import org.jocl.CL;
import org.jocl.CLException;

/** Maps OpenCL status codes to their names and to {@link DeviceException}s that name the call and the device. */
final class ClErrors {
    /** What to tell a user whose machine has no OpenCL at all. */
    static final String NO_PLATFORM = "no OpenCL platform found; install an OpenCL driver, e.g. "
            + "apt-get install ocl-icd-opencl-dev pocl-opencl-icd";

    private ClErrors() {
    }

    /** The status's {@code CL_...} name, e.g. {@code CL_OUT_OF_RESOURCES}. */
    static String name(int status) {
        try {
            return CL.stringFor_errorCode(status);
        } catch (LinkageError e) {
            return "CL status " + status;
        }
    }

    /** Throws a {@link DeviceException} unless {@code status} is {@code CL_SUCCESS}. */
    static void check(int status, String call, String device) {
        if (status != CL.CL_SUCCESS) {
            throw failure(call, device, status, null);
        }
    }

    static DeviceException failure(String call, String device, int status, Throwable cause) {
        String on = device == null ? "" : " on device '" + device + "'";
        return new DeviceException("OpenCL call " + call + " failed" + on + ": " + name(status) + " (" + status + ")"
                + hint(status), device, status, cause);
    }

    /** Converts a JOCL exception (thrown where some code enabled {@code CL.setExceptionsEnabled}). */
    static DeviceException wrap(CLException e, String call, String device) {
        return failure(call, device, e.getStatus(), e);
    }

    private static String hint(int status) {
        return switch (status) {
            case CL.CL_MEM_OBJECT_ALLOCATION_FAILURE, CL.CL_OUT_OF_RESOURCES, CL.CL_OUT_OF_HOST_MEMORY ->
                    "; the device ran out of memory or resources: use a smaller batch";
            case CL.CL_PLATFORM_NOT_FOUND_KHR -> "; " + NO_PLATFORM;
            default -> "";
        };
    }
}
