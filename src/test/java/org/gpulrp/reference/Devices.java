package org.gpulrp.reference;

import java.util.EnumMap;
import java.util.Map;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.testing.OpenClTestSupport;

/**
 * The backends the reference tests run on. OpenCL backends are opened once per test class (kernels build once) and
 * shared by its explainers; where no OpenCL platform exists their tests are skipped loudly, unless {@code CI=true}
 * or {@code GPULRP_REQUIRE_OPENCL=1}, where they fail ({@link OpenClTestSupport}).
 */
enum Devices {
    /** The Vector API CPU path, as users get it ({@link BackendChoice#CPU}). */
    CPU(null),
    /** Scalar {@code Math.fma} loops on one thread: the contract's plainest form. */
    CPU_SCALAR(null),
    /** OpenCL with the kernels chosen for the device (VECTOR on PoCL, TILED on GPUs). */
    OPENCL(OpenClBackend.Variant.AUTO),
    /** OpenCL, one work-item per output. */
    OPENCL_SIMPLE(OpenClBackend.Variant.SIMPLE),
    /** OpenCL, local-memory tiles (the GPU shape; slow on PoCL). */
    OPENCL_TILED(OpenClBackend.Variant.TILED);

    final OpenClBackend.Variant variant;

    Devices(OpenClBackend.Variant variant) {
        this.variant = variant;
    }

    boolean isOpenCl() {
        return variant != null;
    }

    /** Points the builder at this backend; {@code shared} owns the backend and closes it. */
    Explainer.Builder apply(Explainer.Builder b, Shared shared) {
        return switch (this) {
            case CPU -> b.backend(BackendChoice.CPU);
            case CPU_SCALAR -> b.backend(shared.scalar());
            default -> b.backend(shared.openClOrSkip(variant));
        };
    }

    /** Backends shared by the tests of one class; close it in {@code @AfterAll}. */
    static final class Shared implements AutoCloseable {
        private final Map<OpenClBackend.Variant, OpenClBackend> openCl = new EnumMap<>(OpenClBackend.Variant.class);
        private CpuBackend scalar;
        private org.opentest4j.TestAbortedException skipped;

        synchronized CpuBackend scalar() {
            if (scalar == null) {
                scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1);
            }
            return scalar;
        }

        /** The OpenCL backend with the default kernels, or a (loud) skip of the calling test. */
        Backend openClOrSkip() {
            return openClOrSkip(OpenClBackend.Variant.AUTO);
        }

        /** The OpenCL backend with these kernels, or a (loud) skip of the calling test. */
        synchronized OpenClBackend openClOrSkip(OpenClBackend.Variant v) {
            if (skipped != null) {
                throw skipped; // said loudly once per class already
            }
            OpenClBackend be = openCl.get(v);
            if (be == null) {
                try {
                    be = OpenClTestSupport.openOrSkip(v);
                } catch (org.opentest4j.TestAbortedException e) {
                    skipped = e;
                    throw e;
                }
                openCl.put(v, be);
            }
            return be;
        }

        @Override
        public synchronized void close() {
            for (OpenClBackend be : openCl.values()) {
                be.close();
            }
            openCl.clear();
            if (scalar != null) {
                scalar.close();
                scalar = null;
            }
        }
    }
}
