package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The check that tells whether the JDK's signal-chaining library keeps the JVM's handlers ahead of the driver's. */
class SignalChainingTest {

    @Test
    void detectsThePreloadedChainingLibrary() {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "no /proc: the check does not apply");
        String preload = System.getenv("LD_PRELOAD");
        boolean preloaded = preload != null && preload.contains("libjsig") && Files.exists(Path.of(preload.split(":")[0]));
        assertEquals(preloaded, SignalChaining.active(), "LD_PRELOAD=" + preload);
        // The build preloads it for the tests (pom.xml, surefire environmentVariables).
        assertTrue(preloaded, "the surefire configuration should preload libjsig; LD_PRELOAD=" + preload);
        assertEquals("", SignalChaining.note());
    }
}
