package org.gpulrp.testing;

import java.util.Optional;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Opens OpenCL for tests. Where this machine has no OpenCL platform the calling test is skipped LOUDLY (a line on
 * stderr, then a failed assumption) - unless {@code CI=true} or {@code GPULRP_REQUIRE_OPENCL=1}, where it fails, so a
 * CI job that should exercise OpenCL cannot pass by skipping. Any other OpenCL failure (a kernel that does not build,
 * a call that fails) always fails the test. The device can be chosen with {@code -Dgpulrp.opencl.device=NAME}.
 */
public final class OpenClTestSupport {

    private OpenClTestSupport() {
    }

    /** Whether a missing OpenCL platform must fail instead of skip. */
    public static boolean openClRequired() {
        return "true".equalsIgnoreCase(System.getenv("CI")) || "1".equals(System.getenv("GPULRP_REQUIRE_OPENCL"));
    }

    /** Skips (or, where required, fails) the calling test unless an OpenCL device exists. */
    public static void assumeOpenCl() {
        Optional<String> why = OpenClBackend.unavailableReason();
        if (why.isEmpty()) {
            return;
        }
        if (openClRequired()) {
            Assertions.fail("OpenCL is required here (CI=true or GPULRP_REQUIRE_OPENCL=1) but unavailable: "
                    + why.get());
        }
        System.err.println("[gpulrp tests] SKIPPING OpenCL tests: " + why.get());
        Assumptions.assumeTrue(false, "no OpenCL platform: " + why.get());
    }

    /** The default OpenCL device (kernels chosen per device type), or a skip as {@link #assumeOpenCl()} says. */
    public static OpenClBackend openOrSkip() {
        return openOrSkip(OpenClBackend.Variant.AUTO);
    }

    /** As {@link #openOrSkip()}, with the dense kernels' variant forced. */
    public static OpenClBackend openOrSkip(OpenClBackend.Variant variant) {
        assumeOpenCl();
        return OpenClBackend.open(null, variant);
    }
}
