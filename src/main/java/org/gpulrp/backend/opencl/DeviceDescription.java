package org.gpulrp.backend.opencl;

/**
 * One OpenCL device as {@link OpenClBackend#listDevices()} reports it.
 *
 * @param platform       the platform's name, e.g. {@code Portable Computing Language}
 * @param name           the device's name; {@link OpenClBackend#open(String)} matches a substring of it
 * @param type           {@code GPU}, {@code CPU}, {@code ACCELERATOR}, {@code CUSTOM} or {@code OTHER}
 * @param version        the device's OpenCL version string
 * @param globalMemBytes global memory size
 * @param maxAllocBytes  the largest single buffer the device allows
 * @param computeUnits   parallel compute units (cores or multiprocessors)
 * @param floatWidth     {@code CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT}: floats per native vector register (a CPU
 *                       device: 8 with AVX2, 16 with AVX-512); the kernel tuning's {@code simd} scope
 * @param exact          whether the device meets the bit-exactness contract: its {@code CL_DEVICE_SINGLE_FP_CONFIG}
 *                       has {@code CL_FP_FMA}, {@code CL_FP_DENORM} and {@code CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT}
 * @param note           which of those flags are missing; empty when exact
 */
public record DeviceDescription(String platform, String name, String type, String version, long globalMemBytes,
                                long maxAllocBytes, int computeUnits, int floatWidth, boolean exact, String note) {

    /** One line for a device listing. */
    @Override
    public String toString() {
        return String.format("%s [%s, %s] on %s: %d compute units, %d MiB global memory, %d MiB max buffer%s",
                name, type, version, platform, computeUnits, globalMemBytes >> 20, maxAllocBytes >> 20,
                exact ? ", bit-exact" : ", NOT bit-exact (" + note + ")");
    }
}
