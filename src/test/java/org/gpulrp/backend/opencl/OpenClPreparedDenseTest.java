package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Prepared dense weights on OpenCL ({@link OpenClBackend#prepareDense}): where the VECTOR dense kernels run, the
 * weights' column strips are packed once on the device; the plain forward map and backprojection read them for whole
 * strips and the weights themselves for the columns after, with the CPU's bits, prepared or not, at widths below,
 * at and between whole strips; prepared buffers refuse writes, and closing one releases its strips.
 */
class OpenClPreparedDenseTest {
    /** Column counts (out for the forward map, in for the backprojection) around the strip widths 16 and 32. */
    private static final int[] WIDTHS = {1, 10, 15, 16, 32, 40, 48, 70, 100};
    private static final int ROWS = 13;
    private static OpenClBackend tableTuned;
    private static OpenClBackend wide;
    private static OpenClBackend narrow;

    @BeforeAll
    static void open() {
        tableTuned = OpenClTestSupport.openOrSkip();
        wide = OpenClBackend.open(null, Map.of("variant", "vector", "vec.colv", "2"));
        narrow = OpenClBackend.open(null, Map.of("variant", "vector", "vec.colv", "1", "vec.rows", "3"));
    }

    @AfterAll
    static void close() {
        for (OpenClBackend be : new OpenClBackend[] {tableTuned, wide, narrow}) {
            if (be != null) {
                be.close();
            }
        }
    }

    /** The forward map (with a bias) and the backprojection (times x) of one layer; outputs in order. */
    private static float[][] both(Backend be, int in, int out, float[] xf, float[] wtf, float[] wf, float[] bf,
                                  float[] gf, boolean prepare) {
        Buffer x = be.upload(xf);
        Buffer wt = be.upload(wtf);
        Buffer w = be.upload(wf);
        Buffer bias = be.upload(bf);
        Buffer g = be.upload(gf);
        if (prepare) {
            be.prepareDense(wt, in, out);
            be.prepareDense(w, out, in);
        }
        Buffer z = be.allocate(ROWS * out);
        Buffer r = be.allocate(ROWS * in);
        be.linear(x, wt, bias, z, ROWS, in, out);
        be.backproject(g, w, x, r, ROWS, out, in);
        float[][] result = {ClTestData.read(be, z), ClTestData.read(be, r)};
        for (Buffer b : new Buffer[] {x, wt, w, bias, g, z, r}) {
            b.close();
        }
        return result;
    }

    @Test
    void preparedAndUnpreparedWeightsGiveTheCpuBits() {
        Random rnd = new Random(31);
        for (int in : WIDTHS) {
            for (int out : WIDTHS) {
                float[] x = ClTestData.data(rnd, ROWS * in);
                float[] wt = ClTestData.data(rnd, in * out);
                float[] w = ClTestData.data(rnd, out * in);
                float[] bias = ClTestData.data(rnd, out);
                float[] g = ClTestData.data(rnd, ROWS * out);
                float[][] e;
                try (CpuBackend scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1)) {
                    e = both(scalar, in, out, x, wt, w, bias, g, false);
                }
                for (OpenClBackend be : new OpenClBackend[] {tableTuned, wide, narrow}) {
                    for (boolean prepare : new boolean[] {false, true}) {
                        float[][] a = both(be, in, out, x, wt, w, bias, g, prepare);
                        ClTestData.assertSameBits(be + " " + in + " -> " + out + (prepare ? " prepared" : ""), e, a);
                    }
                }
            }
        }
    }

    @Test
    void callsReadTheStripsForWholeStripsOnly() {
        Random rnd = new Random(32);
        int in = 8;
        int out = 40; // one whole strip of 32 columns, then 8 read from the weights
        Buffer x = wide.upload(ClTestData.data(rnd, ROWS * in));
        Buffer wt = wide.upload(ClTestData.data(rnd, in * out));
        Buffer z = wide.allocate(ROWS * out);
        wide.prepareDense(wt, in, out);
        assertTrue(wide.hasStrips(wt));
        wide.fillStrips(wt, 0f);
        wide.linear(x, wt, null, z, ROWS, in, out);
        float[] zf = ClTestData.read(wide, z);
        for (int b = 0; b < ROWS; b++) {
            for (int j = 0; j < out; j++) {
                float v = zf[b * out + j];
                if (j < 32) {
                    assertEquals(0f, Math.abs(v), "column " + j + " reads the strips");
                } else {
                    assertTrue(v != 0f, "column " + j + " reads the weights (" + v + ")");
                }
            }
        }
        Buffer between = wide.upload(ClTestData.data(rnd, in * 20));
        wide.prepareDense(between, in, 20);
        assertFalse(wide.hasStrips(between), "16 columns or more, fewer than a strip: no strips");
        // Fewer than 16 columns: one zero-padded strip, read by a narrow block for all of them.
        int few = 10;
        Buffer narrow = wide.upload(ClTestData.data(rnd, in * few));
        Buffer zn = wide.allocate(ROWS * few);
        wide.prepareDense(narrow, in, few);
        assertTrue(wide.hasStrips(narrow), "fewer than 16 columns: a padded strip");
        wide.linear(x, narrow, null, zn, ROWS, in, few);
        float[] before = ClTestData.read(wide, zn);
        assertTrue(IntStream.range(0, before.length).anyMatch(k -> before[k] != 0f), "the padded strip holds weights");
        wide.fillStrips(narrow, 0f);
        wide.linear(x, narrow, null, zn, ROWS, in, few);
        for (float v : ClTestData.read(wide, zn)) {
            assertEquals(0f, Math.abs(v), "the narrow block reads the padded strip");
        }
        for (Buffer b : new Buffer[] {x, wt, z, between, narrow, zn}) {
            b.close();
        }
    }

    @Test
    void preparedBuffersAreSealedAndClosingReleasesTheirStrips() {
        Random rnd = new Random(33);
        float[] wf = ClTestData.data(rnd, 64 * 64);
        int mems = OpenClBackend.liveMemObjects();
        Buffer w = wide.upload(wf);
        wide.prepareDense(w, 64, 64);
        assertTrue(wide.hasStrips(w));
        assertEquals(mems + 2, OpenClBackend.liveMemObjects(), "the weights and their strips");
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> wide.write(w, wf, 0, wf.length));
        assertTrue(e.getMessage().contains("prepareDense"), e.getMessage());
        w.close();
        assertFalse(wide.hasStrips(w));
        assertEquals(mems, OpenClBackend.liveMemObjects(), "closing the weights releases their strips");
        // No strips where the VECTOR kernels do not run: still sealed.
        try (OpenClBackend simple = OpenClBackend.open(null, Map.of("variant", "simple"))) {
            Buffer s = simple.upload(wf);
            simple.prepareDense(s, 64, 64);
            assertFalse(simple.hasStrips(s));
            assertThrows(InvalidArgumentException.class, () -> simple.write(s, wf, 0, wf.length));
        }
    }
}
