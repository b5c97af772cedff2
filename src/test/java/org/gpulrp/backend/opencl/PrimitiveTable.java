package org.gpulrp.backend.opencl;

import static org.gpulrp.backend.opencl.ClTestData.matrix;
import static org.gpulrp.backend.opencl.ClTestData.vector;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.gpulrp.backend.ConvCases;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.backend.Op;
import org.gpulrp.model.PoolGeometry;
import org.gpulrp.backend.cpu.CpuBackend;

/**
 * The test side of the op table ({@link Op}): for every op, calls of it with seeded inputs over awkward shapes (1,
 * 15-17, 31-33, odd sizes, chains of 4096, batches up to 300, empty dimensions; {@link ConvCases} for convolutions
 * and pooling), with every combination of null optional buffers the op's form allows. The bit-identity tests run
 * every case on every backend; the {@code switch} below has no default, so an op without cases does not compile.
 */
final class PrimitiveTable {

    /** One call: a description, its inputs (null stays null), its outputs' lengths (-1: null), and the call. */
    record Case(String what, ConvGeometry g, float[][] in, int[] out, ClTestData.Call call) {
        Case(String what, float[][] in, int[] out, ClTestData.Call call) {
            this(what, null, in, out, call);
        }
    }

    /** (rows, in, out); for backprojection the chain runs over {@code out} and the outputs are {@code in} wide. */
    static final int[][] DENSE = {
        {1, 1, 1}, {1, 15, 17}, {2, 16, 16}, {3, 17, 15}, {4, 31, 33}, {5, 32, 32}, {7, 33, 31}, {16, 1, 64},
        {17, 64, 1}, {9, 49, 50}, {33, 100, 47}, {64, 48, 96}, {129, 37, 65}, {300, 75, 130}, {3, 4096, 33},
        {2, 33, 4096}, {2, 0, 5}, {0, 4, 5}, {3, 5, 0},
    };
    static final int[] LENGTHS = {0, 1, 15, 16, 17, 255, 256, 257, 1000, 4099};

    private PrimitiveTable() {
    }

    /** Every case of {@code op}, with data from a seed of its own. */
    static List<Case> cases(Op op) {
        Random r = new Random(1000 + op.ordinal());
        List<Case> c = new ArrayList<>();
        switch (op) {
            case RELU -> {
                for (int n : LENGTHS) {
                    c.add(new Case("relu n=" + n, new float[][] {elements(r, n)}, new int[] {n},
                            (be, i, o) -> be.relu(i[0], o[0], n)));
                }
            }
            case SPLIT_SIGN -> {
                for (int n : LENGTHS) {
                    c.add(new Case("splitSign n=" + n, new float[][] {elements(r, n)}, new int[] {n, n},
                            (be, i, o) -> be.splitSign(i[0], o[0], o[1], n)));
                }
            }
            case GAMMA_WEIGHTS -> {
                for (float gamma : new float[] {0.25f, 0f, 1e-3f, 3f}) {
                    for (int n : LENGTHS) {
                        c.add(new Case("gammaWeights gamma=" + gamma + " n=" + n, new float[][] {elements(r, n)},
                                new int[] {n, n}, (be, i, o) -> be.gammaWeights(i[0], gamma, o[0], o[1], n)));
                    }
                }
            }
            case NORMALIZE -> normalize(r, c);
            case NORMALIZE_SIGNED -> normalizeSigned(r, c);
            case ADD, MUL -> {
                for (int n : new int[] {0, 1, 15, 16, 17, 257, 1000, 4099}) {
                    float[][] ins = {vector(r, n), vector(r, n)};
                    c.add(op == Op.ADD
                            ? new Case("add n=" + n, ins, new int[] {n}, (be, i, o) -> be.add(i[0], i[1], o[0], n))
                            : new Case("mul n=" + n, ins, new int[] {n}, (be, i, o) -> be.mul(i[0], i[1], o[0], n)));
                }
            }
            case COPY_ROWS -> {
                // {rows, srcWidth, srcOffset, dstWidth, dstOffset, width}
                int[][] copies = {{1, 5, 0, 5, 0, 5}, {3, 7, 2, 10, 3, 4}, {5, 16, 15, 33, 0, 1},
                    {4, 20, 3, 17, 17, 0}, {2, 300, 1, 600, 299, 299}};
                for (int[] s : copies) {
                    int rows = s[0];
                    c.add(new Case("copyRows " + Arrays.toString(s), new float[][] {matrix(r, rows, s[1])},
                            new int[] {rows * s[3]},
                            (be, i, o) -> be.copyRows(i[0], s[1], s[2], o[0], s[3], s[4], s[5], rows)));
                }
            }
            case LINEAR, LINEAR_SIGNED, LINEAR_SIGNED_P, LINEAR_ZBOX, BACKPROJECT, BACKPROJECT_SIGNED,
                 BACKPROJECT_SIGNED_P, BACKPROJECT_ZBOX -> {
                for (int[] s : DENSE) {
                    dense(op, r, s[0], s[1], s[2], c);
                }
            }
            case CONV, CONV_SIGNED, CONV_SIGNED_P, CONV_ZBOX -> {
                for (ConvCases.Conv k : ConvCases.conv()) {
                    convForward(op, r, k, c);
                }
            }
            case CONV_BACKPROJECT, CONV_BACKPROJECT_SIGNED, CONV_BACKPROJECT_ZBOX -> {
                for (ConvCases.Conv k : ConvCases.conv()) {
                    convBackward(op, r, k, c);
                }
            }
            case MAX_POOL, MAX_POOL_ROUTE -> pool(op, r, c);
        }
        return c;
    }

    private static String shape(Op op, int rows, int in, int out) {
        return op + " rows=" + rows + " in=" + in + " out=" + out;
    }

    private static void dense(Op op, Random r, int rows, int in, int out, List<Case> c) {
        String s = shape(op, rows, in, out);
        switch (op) {
            case LINEAR -> {
                float[][] data = {matrix(r, rows, in), matrix(r, in, out), vector(r, out)};
                for (boolean bias : new boolean[] {true, false}) {
                    c.add(new Case(s + " bias=" + bias, new float[][] {data[0], data[1], bias ? data[2] : null},
                            new int[] {rows * out}, (be, i, o) -> be.linear(i[0], i[1], i[2], o[0], rows, in, out)));
                }
            }
            case LINEAR_SIGNED -> c.add(new Case(s, new float[][] {matrix(r, rows, in), matrix(r, in, out),
                matrix(r, in, out), vector(r, out), vector(r, out)}, new int[] {rows * out, rows * out},
                    (be, i, o) -> be.linearSigned(i[0], i[1], i[2], i[3], i[4], o[0], o[1], rows, in, out)));
            case LINEAR_SIGNED_P -> c.add(new Case(s + " outN=null", new float[][] {matrix(r, rows, in),
                matrix(r, in, out), matrix(r, in, out), vector(r, out)}, new int[] {rows * out, -1},
                    (be, i, o) -> be.linearSigned(i[0], i[1], i[2], i[3], null, o[0], null, rows, in, out)));
            case LINEAR_ZBOX -> c.add(new Case(s, new float[][] {matrix(r, rows, in), matrix(r, in, out),
                vector(r, in), vector(r, in)}, new int[] {rows * out},
                    (be, i, o) -> be.linearZBox(i[0], i[1], i[2], i[3], o[0], rows, in, out)));
            case BACKPROJECT -> {
                float[][] data = {matrix(r, rows, out), matrix(r, out, in), matrix(r, rows, in)};
                for (boolean x : new boolean[] {true, false}) {
                    c.add(new Case(s + " x=" + x, new float[][] {data[0], data[1], x ? data[2] : null},
                            new int[] {rows * in}, (be, i, o) -> be.backproject(i[0], i[1], i[2], o[0], rows, out,
                                    in)));
                }
            }
            case BACKPROJECT_SIGNED -> c.add(new Case(s, new float[][] {matrix(r, rows, out), matrix(r, rows, out),
                matrix(r, out, in), matrix(r, out, in), matrix(r, rows, in)}, new int[] {rows * in},
                    (be, i, o) -> be.backprojectSigned(i[0], i[1], i[2], i[3], i[4], o[0], rows, out, in)));
            case BACKPROJECT_SIGNED_P -> c.add(new Case(s + " hn=null", new float[][] {matrix(r, rows, out),
                matrix(r, out, in), matrix(r, out, in), matrix(r, rows, in)}, new int[] {rows * in},
                    (be, i, o) -> be.backprojectSigned(i[0], null, i[1], i[2], i[3], o[0], rows, out, in)));
            case BACKPROJECT_ZBOX -> c.add(new Case(s, new float[][] {matrix(r, rows, out), matrix(r, out, in),
                matrix(r, out, in), matrix(r, out, in), matrix(r, rows, in), vector(r, in), vector(r, in)},
                    new int[] {rows * in},
                    (be, i, o) -> be.backprojectZBox(i[0], i[1], i[2], i[3], i[4], i[5], i[6], o[0], rows, out, in)));
            default -> throw new IllegalArgumentException(op + " is not dense");
        }
    }

    private static void convForward(Op op, Random r, ConvCases.Conv k, List<Case> c) {
        ConvGeometry g = k.g();
        int rows = k.rows();
        int n = rows * g.outSize();
        int wr = g.outChannels();
        int wc = g.weightSize() / wr;
        float[][] ins = {matrix(r, rows, g.inSize()), matrix(r, wr, wc), matrix(r, wr, wc), vector(r, wr),
            vector(r, wr), vector(r, g.inSize()), vector(r, g.inSize())};
        String s = op + " " + k;
        switch (op) {
            case CONV -> {
                for (boolean bias : new boolean[] {true, false}) {
                    c.add(new Case(s + " bias=" + bias, g, ins, new int[] {n},
                            (be, i, o) -> be.conv(i[0], i[1], bias ? i[3] : null, o[0], rows, g)));
                }
            }
            case CONV_SIGNED -> {
                c.add(new Case(s + " both biases", g, ins, new int[] {n, n},
                        (be, i, o) -> be.convSigned(i[0], i[1], i[2], i[3], i[4], o[0], o[1], rows, g)));
                c.add(new Case(s + " biasP only", g, ins, new int[] {n, n},
                        (be, i, o) -> be.convSigned(i[0], i[1], i[2], i[3], null, o[0], o[1], rows, g)));
            }
            case CONV_SIGNED_P -> {
                c.add(new Case(s + " outN=null, no biases", g, ins, new int[] {n, -1},
                        (be, i, o) -> be.convSigned(i[0], i[1], i[2], null, null, o[0], null, rows, g)));
                c.add(new Case(s + " outN=null, biasP", g, ins, new int[] {n, -1},
                        (be, i, o) -> be.convSigned(i[0], i[1], i[2], i[3], null, o[0], null, rows, g)));
            }
            case CONV_ZBOX -> c.add(new Case(s, g, ins, new int[] {n},
                    (be, i, o) -> be.convZBox(i[0], i[1], i[5], i[6], o[0], rows, g)));
            default -> throw new IllegalArgumentException(op + " is not a forward convolution");
        }
    }

    private static void convBackward(Op op, Random r, ConvCases.Conv k, List<Case> c) {
        ConvGeometry g = k.g();
        int rows = k.rows();
        int n = rows * g.inSize();
        int wr = g.outChannels();
        int wc = g.weightSize() / wr;
        float[][] ins = {matrix(r, rows, g.outSize()), matrix(r, rows, g.outSize()), matrix(r, wr, wc),
            matrix(r, wr, wc), matrix(r, wr, wc), matrix(r, rows, g.inSize()), vector(r, g.inSize()),
            vector(r, g.inSize())};
        String s = op + " " + k;
        switch (op) {
            case CONV_BACKPROJECT -> {
                for (boolean mulX : new boolean[] {true, false}) {
                    c.add(new Case(s + " x=" + mulX, g, ins, new int[] {n},
                            (be, i, o) -> be.convBackproject(i[0], i[2], mulX ? i[5] : null, o[0], rows, g)));
                }
            }
            case CONV_BACKPROJECT_SIGNED -> {
                for (boolean both : new boolean[] {true, false}) {
                    c.add(new Case(s + " hn=" + both, g, ins, new int[] {n},
                            (be, i, o) -> be.convBackprojectSigned(i[0], both ? i[1] : null, i[3], i[4], i[5], o[0],
                                    rows, g)));
                }
            }
            case CONV_BACKPROJECT_ZBOX -> c.add(new Case(s, g, ins, new int[] {n},
                    (be, i, o) -> be.convBackprojectZBox(i[0], i[2], i[3], i[4], i[5], i[6], i[7], o[0], rows, g)));
            default -> throw new IllegalArgumentException(op + " is not a convolution backprojection");
        }
    }

    private static void pool(Op op, Random r, List<Case> c) {
        for (ConvCases.Pool k : ConvCases.pool()) {
            PoolGeometry p = k.p();
            int rows = k.rows();
            int out = rows * p.outSize();
            float[] x = matrix(r, rows, p.inSize());
            // Quantized values make ties common, so the first-maximum rule is exercised.
            for (int j = 0; j < x.length; j += 2) {
                x[j] = Math.round(x[j]);
            }
            float[][] pooled = {x};
            if (op == Op.MAX_POOL) {
                c.add(new Case("maxPool " + k, pooled, new int[] {out, out},
                        (be, i, o) -> be.maxPool(i[0], o[0], o[1], rows, p)));
                continue;
            }
            // The routing reads the arg maxPool wrote (on the scalar CPU backend, the reference).
            float[] arg;
            try (CpuBackend scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1)) {
                arg = Arrays.copyOf(ClTestData.run(scalar, pooled, new int[] {out, out},
                        (be, i, o) -> be.maxPool(i[0], o[0], o[1], rows, p))[1], out);
            }
            c.add(new Case("maxPoolRoute " + k, new float[][] {matrix(r, rows, p.outSize()), arg},
                    new int[] {rows * p.inSize()}, (be, i, o) -> be.maxPoolRoute(i[0], i[1], o[0], rows, p)));
        }
    }

    private static void normalize(Random r, List<Case> c) {
        for (float eps : new float[] {1e-6f, 0f, 0.25f}) {
            for (int[] s : new int[][] {{1, 1}, {3, 17}, {16, 33}, {300, 10}, {7, 1000}, {0, 5}, {4, 0}}) {
                int rows = s[0], out = s[1];
                float[] rel = matrix(r, rows, out);
                c.add(new Case("normalize per-sample eps=" + eps + " " + rows + "x" + out,
                        new float[][] {rel, denominators(r, rows * out, eps)}, new int[] {rows * out},
                        (be, i, o) -> be.normalize(i[0], i[1], out, eps, o[0], rows, out)));
                c.add(new Case("normalize shared eps=" + eps + " " + rows + "x" + out,
                        new float[][] {rel, denominators(r, out, eps)}, new int[] {rows * out},
                        (be, i, o) -> be.normalize(i[0], i[1], 0, eps, o[0], rows, out)));
            }
        }
    }

    private static void normalizeSigned(Random r, List<Case> c) {
        for (float eps : new float[] {1e-6f, 0f}) {
            for (int[] s : new int[][] {{1, 1}, {3, 17}, {16, 33}, {300, 10}, {0, 3}}) {
                int rows = s[0], out = s[1], len = rows * out;
                float[][] ins = {matrix(r, rows, out), matrix(r, rows, out), denominators(r, len, eps),
                    denominators(r, len, eps)};
                for (boolean mask : new boolean[] {true, false}) {
                    String what = "normalizeSigned eps=" + eps + " mask=" + mask + " " + rows + "x" + out;
                    c.add(new Case(what + " both", ins, new int[] {len, len},
                            (be, i, o) -> be.normalizeSigned(i[0], i[1], i[2], i[3], eps, 2f, -1f, mask, o[0], o[1],
                                    rows, out)));
                    c.add(new Case(what + " n=null", ins, new int[] {len, -1},
                            (be, i, o) -> be.normalizeSigned(i[0], mask ? i[1] : null, i[2], null, eps, 1.5f, 0.5f,
                                    mask, o[0], null, rows, out)));
                }
            }
        }
    }

    /** Elementwise data: the dense values plus NaN and infinities (clamps must agree on them too). */
    private static float[] elements(Random r, int n) {
        float[] a = matrix(r, 1, n);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
            -Float.MIN_VALUE};
        for (int k = 0; k < n; k += 13) {
            a[k] = special[(k / 13) % special.length];
        }
        return a;
    }

    /** Denominators hitting the stabilizer's edges: 0, -0.0, +-eps, tiny, and ordinary values. */
    private static float[] denominators(Random r, int n, float eps) {
        float[] d = matrix(r, 1, n);
        float[] edge = {0f, -0f, eps, -eps, -eps / 2, 1e-40f, -1e-40f};
        for (int k = 0; k < n; k += 5) {
            d[k] = edge[(k / 5) % edge.length];
        }
        return d;
    }
}
