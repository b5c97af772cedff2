package org.gpulrp.backend.opencl;

import static org.gpulrp.backend.opencl.ClTestData.assertSameBits;
import static org.gpulrp.backend.opencl.ClTestData.matrix;
import static org.gpulrp.backend.opencl.ClTestData.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every dense, elementwise and per-sample op of the table ({@link PrimitiveTable}) on every kernel variant gives the
 * CPU backends' bits (scalar and Vector API), over awkward shapes (1, 15-17, 31-33, odd sizes, chains of 4096, batches
 * up to 300, empty dimensions) and null optional buffers.
 */
class OpenClBitIdentityTest {

    /**
     * Backends under test: each variant with the table's tuning for this device, and each with odd tuning values
     * (tile and register-block sizes that divide nothing, odd work-group sizes): tuning must change speed only.
     */
    enum Config {
        SIMPLE(Map.of("variant", "simple")),
        VECTOR(Map.of("variant", "vector")),
        TILED(Map.of("variant", "tiled")),
        SIMPLE_ODD(Map.of("variant", "simple", "simple.local.x", "7", "simple.local.y", "3", "element.local", "100",
                "sample.local", "24")),
        VECTOR_ODD(Map.of("variant", "vector", "vec.rows", "3", "vec.colv", "1", "vec.colv2", "2", "vec.colv3", "2",
                "vec.local.rows", "2")),
        TILED_ODD(Map.of("variant", "tiled", "tile.t", "8", "tile.w", "3", "tile.k", "5"));

        final Map<String, String> tuning;

        Config(Map<String, String> tuning) {
            this.tuning = tuning;
        }
    }

    private static final Map<Config, OpenClBackend> OPENCL = new EnumMap<>(Config.class);
    private static CpuBackend scalar;
    private static CpuBackend vector;

    @BeforeAll
    static void open() {
        OpenClTestSupport.assumeOpenCl();
        for (Config c : Config.values()) {
            OPENCL.put(c, OpenClBackend.open(null, c.tuning));
        }
        scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1);
        vector = new CpuBackend();
    }

    @AfterAll
    static void close() {
        OPENCL.values().forEach(OpenClBackend::close);
        OPENCL.clear();
        if (scalar != null) {
            scalar.close();
            vector.close();
        }
    }

    /** Runs the call on both CPU backends and on {@code v}'s OpenCL backend; all three must agree bit for bit. */
    private static float[][] check(String what, Config v, float[][] in, int[] outLengths, ClTestData.Call call) {
        float[][] ref = run(scalar, in, outLengths, call);
        assertSameBits(what + ": CPU vector vs CPU scalar", ref, run(vector, in, outLengths, call));
        OpenClBackend cl = OPENCL.get(v);
        assertSameBits(what + ": OpenCL " + v + " vs CPU scalar", ref, run(cl, in, outLengths, call));
        assertEquals(0, cl.liveBuffers(), "buffers left open");
        return ref;
    }

    /** Elementwise and per-sample kernels: the table's tuning and odd work-group sizes. */
    private static float[][] checkEach(String what, float[][] in, int[] outLengths, ClTestData.Call call) {
        check(what, Config.SIMPLE_ODD, in, outLengths, call);
        return check(what, Config.VECTOR, in, outLengths, call);
    }

    /** Every dense op of the table on every config. */
    static Stream<Arguments> denseOps() {
        return Stream.of(Config.values()).flatMap(c -> Op.of(Op.Family.DENSE).stream().map(op -> Arguments.of(c, op)));
    }

    @ParameterizedTest
    @MethodSource("denseOps")
    void dense(Config v, Op op) {
        for (PrimitiveTable.Case c : PrimitiveTable.cases(op)) {
            check(c.what(), v, c.in(), c.out(), c.call());
        }
    }

    /** Every elementwise and per-sample op of the table (the tensor helpers and the copies among them). */
    static Stream<Op> elementwiseOps() {
        return Stream.concat(Op.of(Op.Family.ELEMENTWISE).stream(), Op.of(Op.Family.PER_SAMPLE).stream());
    }

    @ParameterizedTest
    @MethodSource("elementwiseOps")
    void elementwise(Op op) {
        for (PrimitiveTable.Case c : PrimitiveTable.cases(op)) {
            checkEach(c.what(), c.in(), c.out(), c.call());
        }
    }

    /**
     * The comparison can fail: on this data a chain in another order, or without fma, gives other bits, and some
     * results are subnormal (so flushing denormals would show).
     */
    @Test
    void dataDistinguishesContractBreaks() {
        Random r = new Random(22);
        int rows = 8, in = 4096, out = 33;
        float[] x = matrix(r, rows, in);
        float[] wt = matrix(r, in, out);
        float[] z = run(OPENCL.get(Config.VECTOR), new float[][] {x, wt}, new int[] {rows * out},
                (be, i, o) -> be.linear(i[0], i[1], null, o[0], rows, in, out))[0];
        int reversedDiffers = 0;
        int unfusedDiffers = 0;
        int subnormal = 0;
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < out; j++) {
                float rev = 0f;
                float mul = 0f;
                for (int i = 0; i < in; i++) {
                    rev = Math.fma(x[b * in + in - 1 - i], wt[(in - 1 - i) * out + j], rev);
                    mul = mul + x[b * in + i] * wt[i * out + j];
                }
                float got = z[b * out + j];
                reversedDiffers += Float.floatToRawIntBits(rev) != Float.floatToRawIntBits(got) ? 1 : 0;
                unfusedDiffers += Float.floatToRawIntBits(mul) != Float.floatToRawIntBits(got) ? 1 : 0;
                subnormal += got != 0f && Math.abs(got) < Float.MIN_NORMAL ? 1 : 0;
            }
        }
        assertTrue(reversedDiffers > rows * out / 2, "a reversed chain differs in most outputs: " + reversedDiffers);
        assertTrue(unfusedDiffers > rows * out / 2, "an unfused chain differs in most outputs: " + unfusedDiffers);
        assertTrue(subnormal > 0, "some outputs are subnormal");
    }
}
