package org.gpulrp.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.gpulrp.Explanation;
import org.gpulrp.Tensor;

/** Assertions that compare float32 results with the float64 reference, or two float32 results bit for bit. */
final class Compare {
    private Compare() {
    }

    /**
     * Every value of each sample within {@code rel * max|ref|} of that sample's reference row. Reports the first
     * offending (sample, index) and how many values are off.
     */
    static void closeRows(String what, double[][] ref, Tensor got, double rel) {
        closeRows(what, ref, got, rel, rowMax(ref));
    }

    /** Per sample, the largest |value| of its row. */
    static double[] rowMax(double[][] a) {
        double[] m = new double[a.length];
        for (int b = 0; b < a.length; b++) {
            for (double v : a[b]) {
                m[b] = Math.max(m[b], Math.abs(v));
            }
        }
        return m;
    }

    /** Every value of sample b within {@code rel * scale[b]} of the reference. */
    static void closeRows(String what, double[][] ref, Tensor got, double rel, double[] scale) {
        assertEquals(ref.length, got.rows(), what + ": batch size");
        float[][] g = got.toRows();
        int bad = 0;
        String first = null;
        for (int b = 0; b < ref.length; b++) {
            assertEquals(ref[b].length, g[b].length, what + ": width of sample " + b);
            double tol = rel * scale[b];
            for (int i = 0; i < ref[b].length; i++) {
                double err = Math.abs(g[b][i] - ref[b][i]);
                if (!(err <= tol)) {
                    bad++;
                    if (first == null) {
                        first = String.format("%s: sample %d, index %d: float64 reference %.9g, got %.9g "
                                        + "(|error| %.3g > %.1g * max|R| = %.3g)", what, b, i, ref[b][i], g[b][i],
                                err, rel, tol);
                    }
                }
            }
        }
        if (bad > 0) {
            fail(first + "; " + bad + " value(s) off in all");
        }
    }

    /**
     * Each value within {@code rel * max(|ref|, max|ref row|)}: relative to the sample's largest value (a float32
     * dot product near 0 has an error relative to its terms, not to itself), and to itself where it is larger.
     */
    static void closeRelative(String what, double[][] ref, Tensor got, double rel) {
        float[][] g = got.toRows();
        assertEquals(ref.length, g.length, what + ": batch size");
        for (int b = 0; b < ref.length; b++) {
            double max = 0;
            for (double v : ref[b]) {
                max = Math.max(max, Math.abs(v));
            }
            for (int i = 0; i < ref[b].length; i++) {
                double tol = rel * Math.max(Math.abs(ref[b][i]), max);
                double err = Math.abs(g[b][i] - ref[b][i]);
                if (!(err <= tol)) {
                    fail(String.format("%s: sample %d, index %d: float64 reference %.9g, got %.9g (|error| %.3g > "
                            + "%.3g)", what, b, i, ref[b][i], g[b][i], err, tol));
                }
            }
        }
    }

    /**
     * The whole explanation against the reference: outputs, targets, scores, input and per-layer relevance. The
     * relevance tolerance is {@code 1e-5 * max|R|} of the sample, the max taken over every layer of that sample
     * (input and kept layers): an error made high up travels down, and a lower layer whose values cancel (Flat
     * sums relevance of both signs) is only as precise as the relevance it was computed from.
     */
    static void explanation(String what, Float64Lrp.Result ref, Explanation got, boolean layers) {
        closeRelative(what + ", outputs", ref.outputs(), got.outputs(), 1e-5);
        assertArrayEquals(ref.targets(), got.targets(), what + ": targets");
        double[][] scores = new double[ref.scores().length][1];
        float[] s = got.scores();
        float[] flat = new float[s.length];
        for (int b = 0; b < s.length; b++) {
            scores[b][0] = ref.scores()[b];
            flat[b] = s[b];
        }
        closeRelative(what + ", scores", scores, new Tensor(flat, s.length, 1), 1e-5);
        double[] scale = rowMax(ref.relevance());
        for (double[][] l : ref.layers().values()) {
            double[] m = rowMax(l);
            for (int b = 0; b < scale.length; b++) {
                scale[b] = Math.max(scale[b], m[b]);
            }
        }
        closeRows(what + ", input relevance", ref.relevance(), got.relevance(), 1e-5, scale);
        if (layers) {
            assertEquals(new ArrayList<>(ref.layers().keySet()), new ArrayList<>(got.layerRelevances().keySet()),
                    what + ": per-layer relevance keys (top node first)");
            for (Map.Entry<String, double[][]> e : ref.layers().entrySet()) {
                closeRows(what + ", relevance at output of '" + e.getKey() + "'", e.getValue(),
                        got.layerRelevance(e.getKey()), 1e-5, scale);
            }
        }
    }

    /** Raw bits of every value equal; names the first differing sample and index. */
    static void sameBits(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.toArray();
        float[] a = actual.toArray();
        int w = expected.rowSize();
        int bad = 0;
        String first = null;
        for (int k = 0; k < e.length; k++) {
            if (Float.floatToRawIntBits(e[k]) != Float.floatToRawIntBits(a[k])) {
                bad++;
                if (first == null) {
                    first = String.format("%s: sample %d, index %d: %s (0x%08x) vs %s (0x%08x)", what, k / w,
                            k % w, e[k], Float.floatToRawIntBits(e[k]), a[k], Float.floatToRawIntBits(a[k]));
                }
            }
        }
        if (bad > 0) {
            fail(first + "; " + bad + " of " + e.length + " values differ in their bits");
        }
    }

    /** Two explanations bit for bit: input relevance, outputs, scores, targets and every per-layer relevance. */
    static void sameBits(String what, Explanation expected, Explanation actual) {
        sameBits(what + ", outputs", expected.outputs(), actual.outputs());
        assertArrayEquals(expected.targets(), actual.targets(), what + ": targets");
        float[] es = expected.scores();
        float[] as = actual.scores();
        sameBits(what + ", scores", new Tensor(es, es.length, 1), new Tensor(as, as.length, 1));
        sameBits(what + ", input relevance", expected.relevance(), actual.relevance());
        List<String> keys = new ArrayList<>(expected.layerRelevances().keySet());
        assertEquals(keys, new ArrayList<>(actual.layerRelevances().keySet()), what + ": per-layer keys");
        for (String k : keys) {
            sameBits(what + ", relevance at output of '" + k + "'", expected.layerRelevance(k),
                    actual.layerRelevance(k));
        }
    }

    /**
     * {@code got} within {@code rel * max|R|} of {@code factor[b] * expected} (factor null: 1), for the input
     * relevance and every kept layer; max|R| is taken over all layers of the sample, as in
     * {@link #explanation}.
     */
    static void closeScaled(String what, Explanation expected, float[] factor, Explanation got, double rel) {
        java.util.Map<String, Tensor> all = new java.util.LinkedHashMap<>(expected.layerRelevances());
        all.put("(input)", expected.relevance());
        java.util.Map<String, double[][]> want = new java.util.LinkedHashMap<>();
        double[] scale = new double[expected.batchSize()];
        for (java.util.Map.Entry<String, Tensor> e : all.entrySet()) {
            float[][] r = e.getValue().toRows();
            double[][] d = new double[r.length][];
            for (int b = 0; b < r.length; b++) {
                d[b] = new double[r[b].length];
                for (int i = 0; i < r[b].length; i++) {
                    d[b][i] = (double) r[b][i] * (factor == null ? 1f : factor[b]);
                    scale[b] = Math.max(scale[b], Math.abs(d[b][i]));
                }
            }
            want.put(e.getKey(), d);
        }
        assertEquals(new ArrayList<>(expected.layerRelevances().keySet()),
                new ArrayList<>(got.layerRelevances().keySet()), what + ": per-layer keys");
        for (java.util.Map.Entry<String, double[][]> e : want.entrySet()) {
            Tensor g = e.getKey().equals("(input)") ? got.relevance() : got.layerRelevance(e.getKey());
            closeRows(what + ", " + (e.getKey().equals("(input)") ? "input relevance" : "at output of '"
                    + e.getKey() + "'"), e.getValue(), g, rel, scale);
        }
    }
}
