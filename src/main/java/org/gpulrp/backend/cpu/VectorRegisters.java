package org.gpulrp.backend.cpu;

import java.util.Locale;

/**
 * How many vector registers the Vector API kernels plan their register tiles for: 16 on x86 without AVX-512 (AVX2
 * has 16 ymm registers; a tile of 24 accumulators there spills to the stack and runs at half speed or worse), 32
 * elsewhere (AVX-512's 32 zmm, AArch64's 32 NEON/SVE registers). The JVM's preferred species tells the two x86
 * cases apart: it is 512 bits wide only where C2 uses AVX-512. {@code -Dgpulrp.cpu.vectorRegisters=16|32} overrides
 * the guess. Tile shapes change speed, never bits (docs/DESIGN.md section 3, rule 1): every output keeps its one
 * chain in ascending order whatever the tile.
 */
final class VectorRegisters {
    private VectorRegisters() {
    }

    /**
     * The count the kernels use by default: the property where set (read at each call, so a bad value fails the
     * backend being built with a clear message, not a class initializer), else the guess from the machine.
     */
    static int count() {
        String forced = System.getProperty("gpulrp.cpu.vectorRegisters");
        if (forced != null) {
            return checked(forced.trim());
        }
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        boolean x86 = arch.equals("amd64") || arch.equals("x86_64") || arch.equals("x86") || arch.equals("i386");
        int bits = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
        return x86 && bits < 512 ? 16 : 32;
    }

    /**
     * Whether kernels for {@code registers} vector registers take the wide register tiles (dense 6 rows x 4 vectors,
     * convolution 4 pixels x 4 vectors: 21-29 live vectors) rather than their two-vector forms: with 32.
     */
    static boolean wide(int registers) {
        return registers >= 32;
    }

    /** The count a user forced, or a clear refusal of anything but 16 and 32. */
    static int checked(String value) {
        return switch (value) {
            case "16" -> 16;
            case "32" -> 32;
            default -> throw new org.gpulrp.InvalidArgumentException("gpulrp.cpu.vectorRegisters",
                    "must be 16 or 32, got '" + value + "'");
        };
    }
}
