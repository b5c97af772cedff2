package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/** The register count the CPU kernels tile for: the property overrides the guess, and a bad value is named. */
@Isolated
class VectorRegistersTest {
    private static final String KEY = "gpulrp.cpu.vectorRegisters";

    @Test
    void propertyOverridesAndBadValuesAreRefused() {
        String before = System.getProperty(KEY);
        try {
            System.setProperty(KEY, "16");
            assertEquals(16, VectorRegisters.count());
            System.setProperty(KEY, " 32 ");
            assertEquals(32, VectorRegisters.count());
            System.setProperty(KEY, "24");
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, VectorKernels::new);
            assertTrue(e.getMessage().contains(KEY) && e.getMessage().contains("24"), e.getMessage());
            System.clearProperty(KEY);
            int guess = VectorRegisters.count();
            assertTrue(guess == 16 || guess == 32, "guess " + guess);
        } finally {
            if (before == null) {
                System.clearProperty(KEY);
            } else {
                System.setProperty(KEY, before);
            }
        }
    }
}
