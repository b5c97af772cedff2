package org.gpulrp.backend.cpu;

/**
 * Detects the {@code jdk.incubator.vector} module without touching its classes, so the library still loads and runs
 * (on the scalar kernels) where the module is not enabled.
 */
final class VectorSupport {
    private static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !Boolean.getBoolean("gpulrp.noVector");

    private VectorSupport() {
    }

    static boolean available() {
        return AVAILABLE;
    }

    static CpuKernels newKernels() {
        return new VectorKernels();
    }

    static ConvKernels newConvKernels() {
        return new VectorConv();
    }

    static String describe() {
        return VectorKernels.describe();
    }
}
