package org.gpulrp.reference;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Supplier;
import org.gpulrp.BackendChoice;
import org.gpulrp.ClosedException;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.InvalidInputException;
import org.gpulrp.LrpException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Pass;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Layer 5 of the tests: bad inputs fail with the right exception type and a message that names the problem, and a
 * rejected call leaves the prepared model working (and, on OpenCL, leaks no device memory).
 */
class BadInputTest {
    private static final Devices.Shared SHARED = new Devices.Shared();
    private static final Network NET = RandomNets.net(701, 6).dense(8).relu().dense(3).softmax().build();

    @AfterAll
    static void closeBackends() {
        SHARED.close();
    }

    private static Explainer cpu() {
        return GpuLrp.explainer(NET).composite(Composites.epsilonPlusFlat()).backend(BackendChoice.CPU)
                .keepLayerRelevances(true).build();
    }

    private static <T extends Throwable> T fails(Class<T> type, String mustContain, org.junit.jupiter.api.function
            .Executable call) {
        T e = assertThrows(type, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains(mustContain), () -> "message should contain '"
                + mustContain + "': " + e.getMessage());
        return e;
    }

    private static float[][] good(int rows) {
        return RandomNets.inputs(702, rows, 6);
    }

    @Test
    void shortRowNamesTheSample() {
        try (Explainer e = cpu()) {
            float[][] x = good(5);
            x[3] = new float[5];
            ShapeMismatchException m = fails(ShapeMismatchException.class, "sample 3", () -> e.explain(x,
                    Target.argmax()));
            assertTrue(m.expected().contains("6") && m.actual().contains("5"), m.getMessage());
            x[3] = null;
            fails(ShapeMismatchException.class, "sample 3", () -> e.explain(x, Target.argmax()));
        }
    }

    @Test
    void tensorOfTheWrongWidth() {
        try (Explainer e = cpu()) {
            Tensor t = new Tensor(new float[4 * 7], 4, 7);
            ShapeMismatchException m = fails(ShapeMismatchException.class, "input features", () -> e.explain(t,
                    Target.argmax()));
            assertTrue(m.getMessage().contains("6") && m.getMessage().contains("7"), m.getMessage());
            Tensor flat = new Tensor(new float[12], 12);
            fails(ShapeMismatchException.class, "input features", () -> e.explain(flat, Target.argmax()));
        }
    }

    /** A rank-0 tensor has no batch dimension: it is refused where it is made, with a clear LrpException. */
    @Test
    void scalarTensorIsRejectedClearly() {
        ShapeMismatchException ex = assertThrows(ShapeMismatchException.class, () -> new Tensor(new float[] {1f}));
        assertTrue(ex.getMessage().contains("at least one dimension"), ex.getMessage());
        try (Explainer e = cpu()) {
            assertThrows(LrpException.class, () -> e.explain(new Tensor(new float[0], 0, 10), Target.argmax()));
        }
    }

    @Test
    void nanAndInfinityNameSampleAndFeature() {
        try (Explainer e = cpu()) {
            float[][] x = good(6);
            x[4][2] = Float.NaN;
            InvalidInputException nan = fails(InvalidInputException.class, "sample 4", () -> e.explain(x,
                    Target.argmax()));
            assertEquals(4, nan.sample());
            assertEquals(2, nan.feature());
            assertTrue(nan.getMessage().contains("feature 2") && nan.getMessage().contains("NaN"), nan.getMessage());

            float[][] y = good(6);
            y[0][5] = Float.POSITIVE_INFINITY;
            InvalidInputException inf = fails(InvalidInputException.class, "sample 0", () -> e.explain(y,
                    Target.argmax()));
            assertEquals(0, inf.sample());
            assertEquals(5, inf.feature());
            assertTrue(inf.getMessage().contains("Infinity"), inf.getMessage());

            Tensor t = new Tensor(RandomNets.flatten(y), 6, 6);
            assertEquals(0, assertThrows(InvalidInputException.class, () -> e.explain(t, Target.argmax())).sample());
        }
    }

    /**
     * The first bad value is named wherever it sits: early or late in a long batch, in the last partial vector, with
     * a later bad value in another lane's chunk (which may fail first: the scheduler must still run the chunks
     * before it; repeated, as that is a race).
     */
    @Test
    void firstNonFiniteValueIsNamedAnywhereInTheBatch() {
        try (Explainer e = cpu()) {
            int rows = 41; // 246 values: whole vectors of every width, then a partial one
            for (int rep = 0; rep < 6; rep++) {
                for (int[] at : new int[][] {{0, 0}, {17, 3}, {33, 1}, {40, 5}, {39, 0}}) {
                    for (float bad : new float[] {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY}) {
                        float[][] x = good(rows);
                        x[at[0]][at[1]] = bad;
                        if (at[0] + 1 < rows) {
                            x[rows - 1][5] = Float.NaN; // a later bad value must not be the one reported
                        }
                        InvalidInputException ex = assertThrows(InvalidInputException.class,
                                () -> e.explain(x, Target.argmax()));
                        assertEquals(at[0], ex.sample(), () -> "bad value " + bad + " at " + at[0] + "," + at[1]);
                        assertEquals(at[1], ex.feature());
                    }
                }
            }
            float[][] big = good(rows);
            big[40][5] = Float.MAX_VALUE; // finite extremes pass
            big[3][3] = -Float.MAX_VALUE;
            big[7][1] = Float.MIN_VALUE;
            assertEquals(rows, e.explain(big, Target.argmax()).batchSize());
        }
    }

    @Test
    void emptyBatch() {
        try (Explainer e = cpu()) {
            fails(InvalidArgumentException.class, "empty", () -> e.explain(new float[0][], Target.argmax()));
            fails(InvalidArgumentException.class, "empty", () -> e.explain(new Tensor(new float[0], 0, 6),
                    Target.argmax()));
            fails(InvalidArgumentException.class, "inputs", () -> e.explain((float[][]) null, Target.argmax()));
            fails(InvalidArgumentException.class, "target", () -> e.explain(good(2), null));
        }
    }

    @Test
    void invalidRuleParameters() {
        fails(InvalidArgumentException.class, "epsilon", () -> new Epsilon(-1f));
        fails(InvalidArgumentException.class, "epsilon", () -> new Epsilon(Float.NaN));
        fails(InvalidArgumentException.class, "epsilon", () -> new ZPlus(Float.POSITIVE_INFINITY));
        fails(InvalidArgumentException.class, "epsilon", () -> new Flat(-0.5f));
        fails(InvalidArgumentException.class, "epsilon", () -> new WSquare(Float.NaN));
        fails(InvalidArgumentException.class, "alpha - beta", () -> new AlphaBeta(1f, 1f));
        fails(InvalidArgumentException.class, "alpha", () -> new AlphaBeta(-1f, -2f));
        fails(InvalidArgumentException.class, "beta", () -> new AlphaBeta(0.5f, -0.5f));
        fails(InvalidArgumentException.class, "epsilon", () -> new AlphaBeta(2f, 1f, -1f));
        fails(InvalidArgumentException.class, "gamma", () -> new Gamma(-0.5f));
        fails(InvalidArgumentException.class, "gamma", () -> new Gamma(Float.NaN));
        fails(InvalidArgumentException.class, "epsilon", () -> new Gamma(0.25f, Float.NaN));
        fails(InvalidArgumentException.class, "low <= high", () -> new ZBox(1f, 0f));
        fails(InvalidArgumentException.class, "low", () -> new ZBox(Float.NaN, 0f));
        fails(InvalidArgumentException.class, "same non-zero length", () -> new ZBox(new float[2], new float[3],
                0f));
        fails(InvalidArgumentException.class, "at 1", () -> new ZBox(new float[] {0f, 2f}, new float[] {1f, 1f},
                0f));
    }

    @Test
    void rulesThatDoNotFitTheLayer() {
        // Pass is for activations; a dense layer cannot take it.
        fails(InvalidArgumentException.class, "pass", () -> GpuLrp.explainer(NET).rule(new Pass())
                .backend(BackendChoice.CPU).build());
        // Per-feature ZBox bounds must match the layer's inputs.
        ZBox wrong = new ZBox(new float[5], new float[] {1, 1, 1, 1, 1}, 0f);
        fails(ShapeMismatchException.class, "fc1", () -> GpuLrp.explainer(NET).composite(Composites.epsilon()
                .withFirst(wrong)).backend(BackendChoice.CPU).build());
    }

    @Test
    void targetsOutOfRange() {
        try (Explainer e = cpu()) {
            float[][] x = good(3);
            fails(InvalidArgumentException.class, "out of range", () -> e.explain(x, Target.classIndex(3)));
            fails(InvalidArgumentException.class, "3 outputs", () -> e.explain(x, Target.classIndex(7)));
            fails(InvalidArgumentException.class, "target", () -> Target.classIndex(-1));
            fails(InvalidArgumentException.class, "2 per-sample indices for a batch of 3", () -> e.explain(x,
                    Target.perSample(0, 1)));
            fails(InvalidArgumentException.class, "4 per-sample indices for a batch of 3", () -> e.explain(x,
                    Target.perSample(0, 1, 2, 0)));
            fails(InvalidArgumentException.class, "sample 1", () -> e.explain(x, Target.perSample(0, 3, 1)));
            fails(InvalidArgumentException.class, "sample 2", () -> e.explain(x, Target.perSample(0, 1, -1)));
        }
    }

    /** A per-sample target array of the wrong length is caught even when the batch is split into chunks. */
    @Test
    void perSampleTargetsOfTheWrongLengthWhenChunked() {
        try (Explainer e = GpuLrp.explainer(NET).backend(BackendChoice.CPU).chunkRows(2).build()) {
            fails(InvalidArgumentException.class, "4 per-sample indices for a batch of 5", () -> e.explain(good(5),
                    Target.perSample(0, 1, 2, 0)));
            fails(InvalidArgumentException.class, "6 per-sample indices for a batch of 5", () -> e.explain(good(5),
                    Target.perSample(0, 1, 2, 0, 1, 2)));
        }
    }

    @Test
    void malformedNetworks() {
        ShapeMismatchException w = fails(ShapeMismatchException.class, "weight", () -> Network.builder(4)
                .dense("fc1", 3, new float[11], null));
        assertTrue(w.expected().contains("12") && w.actual().contains("11"), w.getMessage());
        fails(ShapeMismatchException.class, "bias", () -> Network.builder(4).dense("fc1", 3, new float[12],
                new float[4]));
        float[] nanW = new float[12];
        nanW[7] = Float.NaN;
        fails(InvalidInputException.class, "weight", () -> Network.builder(4).dense("fc1", 3, nanW, null));
        fails(InvalidArgumentException.class, "'fc1' is used twice", () -> Network.builder(4)
                .dense("fc1", 3, new float[12], null).relu("fc1"));
        fails(InvalidArgumentException.class, "no layers", () -> Network.builder(4).build());
        fails(ShapeMismatchException.class, "input", () -> Network.builder(0));
        fails(InvalidArgumentException.class, "name", () -> Network.builder(4).relu(" "));
    }

    @Test
    void closedExplainer() {
        Explainer e = cpu();
        Explanation before = e.explain(good(2), Target.argmax());
        assertEquals(2, before.batchSize());
        e.close();
        fails(ClosedException.class, "closed", () -> e.explain(good(2), Target.argmax()));
        fails(ClosedException.class, "closed", () -> e.explain(new Tensor(new float[6], 1, 6), Target.argmax()));
        assertDoesNotThrow(e::close, "close() twice");
        assertDoesNotThrow(e::close, "close() three times");
    }

    /** A caller-owned backend that is closed is reported as closed; closing backends twice is fine. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Devices.class, names = {"CPU", "OPENCL"})
    void closedBackend(Devices d) {
        org.gpulrp.backend.Backend be = d == Devices.CPU ? new org.gpulrp.backend.cpu.CpuBackend()
                : org.gpulrp.testing.OpenClTestSupport.openOrSkip();
        Explainer e = GpuLrp.explainer(NET).backend(be).build();
        e.explain(good(2), Target.argmax());
        be.close();
        fails(ClosedException.class, "closed", () -> e.explain(good(2), Target.argmax()));
        fails(ClosedException.class, "closed", () -> GpuLrp.explainer(NET).backend(be).build());
        assertDoesNotThrow(be::close, "backend close() twice");
        assertDoesNotThrow(e::close, "explainer close() after its backend was closed");
        assertDoesNotThrow(e::close, "explainer close() twice");
    }

    /** One-shot explain releases what it opened and works twice in a row. */
    @Test
    void oneShotExplain() {
        Explanation a = GpuLrp.explain(NET, good(3), Target.argmax(), Composites.epsilon());
        Explanation b = GpuLrp.explain(NET, good(3), Target.argmax(), Composites.epsilon());
        Compare.sameBits("one-shot twice", a.relevance(), b.relevance());
    }

    /** Every rejected call of the tests above, run against one explainer. */
    private static void rejectedCalls(Explainer e) {
        float[][] shortRow = good(4);
        shortRow[2] = new float[3];
        assertThrows(ShapeMismatchException.class, () -> e.explain(shortRow, Target.argmax()));
        float[][] nan = good(4);
        nan[3][0] = Float.NaN;
        assertThrows(InvalidInputException.class, () -> e.explain(nan, Target.argmax()));
        assertThrows(InvalidArgumentException.class, () -> e.explain(good(4), Target.classIndex(3)));
        assertThrows(InvalidArgumentException.class, () -> e.explain(good(4), Target.perSample(0, 1)));
        assertThrows(InvalidArgumentException.class, () -> e.explain(new float[0][], Target.argmax()));
        assertThrows(ShapeMismatchException.class, () -> e.explain(new Tensor(new float[10], 2, 5),
                Target.argmax()));
    }

    /** A rejected call does not poison the prepared model: the next good call gives the same bits as before. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Devices.class, names = {"CPU", "OPENCL"})
    void rejectedCallsLeaveTheExplainerWorking(Devices d) {
        Supplier<Explainer> make = () -> d.apply(GpuLrp.explainer(NET).composite(Composites.epsilonGammaBox(-2f,
                2f)).keepLayerRelevances(true).chunkRows(3), SHARED).build();
        float[][] x = good(7);
        Explanation fresh;
        try (Explainer e = make.get()) {
            fresh = e.explain(x, Target.perSample(Cases.perSample(7, 3)));
        }
        try (Explainer e = make.get()) {
            rejectedCalls(e);
            Explanation after = e.explain(x, Target.perSample(Cases.perSample(7, 3)));
            Compare.sameBits(d + ": after rejected calls vs fresh", fresh, after);
        }
    }

    /**
     * On OpenCL nothing leaks: the backend's live-buffer count returns to its value before the explainer was built,
     * and rejected calls (and a rejected build) leave it unchanged.
     */
    @Test
    void openClReleasesEverything() {
        OpenClBackend be = (OpenClBackend) SHARED.openClOrSkip();
        int before = be.liveBuffers();
        try (Explainer e = GpuLrp.explainer(NET).composite(Composites.montavon2019(-2f, 2f)).backend(be).build()) {
            e.explain(good(5), Target.argmax());
            int prepared = be.liveBuffers();
            assertTrue(prepared > before, "a prepared explainer holds device buffers");
            rejectedCalls(e);
            assertEquals(prepared, be.liveBuffers(), "rejected calls must not leak buffers");
            e.explain(good(5), Target.argmax());
            assertEquals(prepared, be.liveBuffers(), "explain must not leak buffers");
        }
        assertEquals(before, be.liveBuffers(), "close() must release every buffer");
        // An explainer that opens its own backend closes it.
        try (Explainer e = GpuLrp.explainer(NET).backend(BackendChoice.OPENCL).build()) {
            e.explain(good(2), Target.argmax());
        }
        assertEquals(before, be.liveBuffers(), "another backend's explainer touches nothing here");
    }

    /**
     * Builds that fail half-way release what they had put on the device: ZBox bounds that do not fit fc2 (found
     * after the weights of fc1 and fc2 are uploaded), and the Pass rule on a dense layer.
     */
    @Test
    void openClFailedBuildsReleaseTheirBuffers() {
        OpenClBackend be = (OpenClBackend) SHARED.openClOrSkip();
        int before = be.liveBuffers();
        org.junit.jupiter.api.Assertions.assertAll(() -> {
            assertThrows(ShapeMismatchException.class, () -> GpuLrp.explainer(NET).composite(Composites.epsilon()
                    .withName("fc2", new ZBox(new float[5], new float[5], 0f))).backend(be).build());
            assertEquals(0, be.liveBuffers() - before, "buffers left by a build rejected for ZBox bounds");
        }, () -> {
            int start = be.liveBuffers();
            assertThrows(InvalidArgumentException.class, () -> GpuLrp.explainer(NET).composite(Composites.epsilon()
                    .withName("fc2", new Pass())).backend(be).build());
            assertEquals(0, be.liveBuffers() - start, "buffers left by a build rejected for the Pass rule");
        });
    }
}
