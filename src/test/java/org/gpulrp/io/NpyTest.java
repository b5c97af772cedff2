package org.gpulrp.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.gpulrp.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** NumPy files made by numpy ({@code scripts/make_npy_fixtures.py}) read back exactly; ours round-trip. */
class NpyTest {
    private static final Path DIR = Path.of("src/test/resources/npy");

    /** The generator's values: {@code (arange(12) - 5.5) * 0.75}. */
    private static float[] base() {
        float[] v = new float[12];
        for (int k = 0; k < 12; k++) {
            v[k] = (float) ((k - 5.5) * 0.75);
        }
        return v;
    }

    static Stream<Arguments> floatFixtures() {
        return Stream.of(Arguments.of("f4_3x4.npy", new int[] {3, 4}), Arguments.of("f8_3x4.npy", new int[] {3, 4}),
                Arguments.of("f4_big_endian.npy", new int[] {3, 4}), Arguments.of("f4_v2.npy", new int[] {2, 3, 2}),
                Arguments.of("f4_v3.npy", new int[] {12}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("floatFixtures")
    void readsNumpyFloatFiles(String name, int[] shape) {
        Npy.Array a = Npy.read(DIR.resolve(name));
        assertArrayEquals(shape, a.shape());
        assertArrayEquals(base(), a.data());
    }

    @Test
    void readsIntegersAndScalars() {
        float[] ints = new float[12];
        for (int k = 0; k < 12; k++) {
            ints[k] = k - 6;
        }
        assertArrayEquals(ints, Npy.read(DIR.resolve("i4_12.npy")).data());
        Npy.Array i8 = Npy.read(DIR.resolve("i8_2x6.npy"));
        assertArrayEquals(new int[] {2, 6}, i8.shape());
        assertArrayEquals(ints, i8.data());
        Npy.Array scalar = Npy.read(DIR.resolve("f4_scalar.npy"));
        assertEquals(0, scalar.shape().length);
        assertArrayEquals(new float[] {2.5f}, scalar.data());
    }

    @Test
    void refusesWhatItCannotReadExactly() {
        assertTrue(assertThrows(FormatException.class, () -> Npy.read(DIR.resolve("fortran.npy"))).getMessage()
                .contains("Fortran"));
        assertTrue(assertThrows(FormatException.class, () -> Npy.read(DIR.resolve("bool.npy"))).getMessage()
                .contains("'|b1'"));
        assertTrue(assertThrows(FormatException.class, () -> Npy.read(DIR.resolve("i8_too_big.npy"))).getMessage()
                .contains("1099511627776"));
        FormatException t = assertThrows(FormatException.class, () -> Npy.read(DIR.resolve("truncated.npy")));
        assertTrue(t.getMessage().contains("truncated") && t.getMessage().contains("truncated.npy"), t.getMessage());
    }

    @Test
    void refusesGarbageAndHugeClaims(@TempDir Path dir) throws IOException {
        Path junk = dir.resolve("junk.npy");
        Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        assertTrue(assertThrows(FormatException.class, () -> Npy.read(junk)).getMessage().contains("magic"));
        // Headers claiming shapes far larger than the file must fail before anything is allocated.
        Path huge = claim(dir, "(20000, 20000)");
        FormatException e = assertThrows(FormatException.class, () -> Npy.read(huge));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("1600000000 bytes"),
                e.getMessage());
        Path enormous = claim(dir, "(100000, 100000)");
        FormatException e2 = assertThrows(FormatException.class, () -> Npy.read(enormous));
        assertTrue(e2.getMessage().contains("too large"), e2.getMessage());
    }

    private static Path claim(Path dir, String shape) throws IOException {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        String header = dict + " ".repeat(63 - (10 + dict.length()) % 64) + "\n";
        byte[] head = header.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] file = new byte[10 + head.length + 16];
        byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) head.length, (byte) (head.length >> 8)};
        System.arraycopy(magic, 0, file, 0, 10);
        System.arraycopy(head, 0, file, 10, head.length);
        Path f = dir.resolve("claim" + shape.length() + ".npy");
        Files.write(f, file);
        return f;
    }

    @Test
    void everyWritableTypeRoundTrips(@TempDir Path dir) {
        float[] ints = {-3, 0, 7, 16777216, -16777216, 42};
        for (Npy.DType t : Npy.DType.values()) {
            Path f = dir.resolve(t + ".npy");
            float[] data = t == Npy.DType.FLOAT32 || t == Npy.DType.FLOAT64 ? base() : ints;
            int[] shape = data.length == 12 ? new int[] {2, 6} : new int[] {6};
            Npy.write(f, data, t, shape);
            Npy.Array back = Npy.read(f);
            assertArrayEquals(shape, back.shape(), t.toString());
            assertArrayEquals(data, back.data(), t.toString());
        }
        Path scalar = dir.resolve("scalar.npy");
        Npy.write(scalar, new float[] {-0f});
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(Npy.read(scalar).data()[0]));
    }

    @Test
    void integerTypesRefuseFractionsInsteadOfRounding(@TempDir Path dir) {
        Path f = dir.resolve("bad.npy");
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> Npy.write(f, new float[] {1f, 2.5f}, Npy.DType.INT32, 2));
        assertTrue(e.getMessage().contains("2.5") && e.getMessage().contains("index 1"), e.getMessage());
        assertFalse(Files.exists(f), "nothing is written when a value is refused");
    }

    @Test
    void headerIsPaddedToSixtyFourBytes(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("x.npy");
        Npy.write(f, new float[6], 2, 3);
        byte[] b = Files.readAllBytes(f);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLen) % 64);
        assertEquals(10 + headerLen + 24, b.length);
        assertEquals('\n', b[10 + headerLen - 1]);
    }
}
