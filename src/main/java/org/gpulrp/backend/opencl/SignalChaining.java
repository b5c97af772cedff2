package org.gpulrp.backend.opencl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * LLVM-based OpenCL drivers (PoCL, Mesa, ROCm) install SIGSEGV/SIGBUS/SIGILL handlers over the JVM's when they first
 * compile a kernel. The JVM relies on those signals internally (null checks, safepoints), so it then dies at random
 * with exit code 139 and no error report. The JDK's signal-chaining library, preloaded, keeps the JVM's handlers first.
 * This class tells whether it is loaded, and warns once when it is not.
 */
final class SignalChaining {
    private static final Logger LOG = Logger.getLogger(SignalChaining.class.getName());
    static final String ADVICE = "start java with LD_PRELOAD=$JAVA_HOME/lib/libjsig.so (bin/gpulrp does), or an "
            + "LLVM-based OpenCL driver such as PoCL may replace the JVM's signal handlers and crash it";
    private static volatile boolean warned;

    private SignalChaining() {
    }

    /** True where the JDK's libjsig is loaded, or where the check does not apply (not Linux). */
    static boolean active() {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return true;
        }
        try {
            return Files.readString(maps).contains("libjsig");
        } catch (IOException e) {
            return true;
        }
    }

    /** The note for {@code info()}: empty when chaining is active; warns once per JVM when it is not. */
    static String note() {
        if (active()) {
            return "";
        }
        if (!warned) {
            warned = true;
            LOG.warning("gpulrp: " + ADVICE);
        }
        return ADVICE;
    }
}
