package org.gpulrp.internal;

/**
 * The product of two activations, batched ({@link org.gpulrp.model.MatMul}: {@code a [units, m, k]} times
 * {@code b [units, k, n]}, a unit being one matrix of one sample), and its relevance, on the host in float32 for
 * every backend (docs/DESIGN.md section 2.9). Every sum is one float {@code fma} chain in ascending order of its
 * index starting from {@code +0.0f} (section 3, rule 1), computed by {@link #chains}: the Vector API form
 * ({@link HostMatMulVector}, lanes over an output row's contiguous columns) where the module is enabled, else the
 * plain {@code Math.fma} loop, with the same bits. The units run in parallel ({@link HostParallel}) and each output
 * keeps its chain, so the bits depend neither on the thread count nor on the vector width.
 */
final class HostMatMul {
    /** Whether {@link #chains} runs the Vector API form (tests switch it off to compare). */
    static volatile boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !Boolean.getBoolean("gpulrp.noVector");

    private HostMatMul() {
    }

    /** {@code z[u,i,j] = chain_k fma(a[u,i,k], b[u,k,j])}, k ascending. */
    static void forward(float[] a, float[] b, float[] z, int units, int m, int k, int n) {
        HostParallel.forEach(units, (long) m * k * n,
                u -> chains(a, u * m * k, k, 1, b, u * k * n, z, u * m * n, m, k, n));
    }

    /**
     * The epsilon rule on the products, then a share of each product to each operand, in float: with
     * {@code s[i,j] = safeDiv(r[i,j], stab(z[i,j]))} ({@code stab(d) = d + (d >= 0 ? eps : -eps)}, as the
     * backends' {@code normalize}), {@code ca[i,k] = chain_j fma(s[i,j], b[k,j])} (j ascending) and
     * {@code cb[k,j] = chain_i fma(a[i,k], s[i,j])} (i ascending), the shares are {@code ra[i,k] = wa * (a[i,k] *
     * ca[i,k])} and {@code rb[k,j] = wb * (b[k,j] * cb[k,j])}, each product rounded. {@code wa = wb = 1/2} is
     * AttnLRP's uniform rule; CP-LRP gives 1 to one operand and 0 to the other. An operand whose weight is 0 is not
     * computed ({@code ra} or {@code rb} may then be null).
     *
     * @param share null, or per unit the stabilizer's share {@code eps sum_ij s[i,j] sign(z[i,j])} (double,
     *              ascending; a report, not a result)
     */
    static void relevance(float[] a, float[] b, float[] z, float[] r, float[] ra, float[] rb, int units, int m,
                          int k, int n, float wa, float wb, float eps, double[] share) {
        HostParallel.forEach(units, 2L * m * k * n, u -> {
            int ao = u * m * k;
            int bo = u * k * n;
            int zo = u * m * n;
            float[] s = WORK.floats(0, m * n);
            for (int q = vector ? HostVectors.signals(z, r, zo, eps, s, m * n) : 0; q < m * n; q++) {
                float zq = z[zo + q];
                float d = zq + (zq >= 0 ? eps : -eps);
                s[q] = d == 0 ? 0f : r[zo + q] / d;
            }
            if (share != null) {
                // A report only, and a chain of dependent double adds as long as the products: only when asked.
                double stabilizer = 0;
                for (int q = 0; q < m * n; q++) {
                    stabilizer += z[zo + q] >= 0 ? s[q] : -(double) s[q];
                }
                share[u] = eps * stabilizer;
            }
            if (wa != 0) {
                float[] bt = WORK.floats(1, n * k);
                for (int kk = 0; kk < k; kk++) {
                    for (int j = 0; j < n; j++) {
                        bt[j * k + kk] = b[bo + kk * n + j];
                    }
                }
                float[] c = WORK.floats(2, m * k);
                chains(s, 0, n, 1, bt, 0, c, 0, m, n, k);
                weigh(wa, a, ao, c, ra, m * k);
            }
            if (wb != 0) {
                float[] c = WORK.floats(2, k * n);
                chains(a, ao, 1, k, s, 0, c, 0, k, m, n);
                weigh(wb, b, bo, c, rb, k * n);
            }
        });
    }

    /**
     * Each thread's work arrays for {@link #relevance}: the signals, b transposed and the chains' sums, every value
     * written before it is read (new arrays for every unit were zeroed for nothing).
     */
    private static final WorkArrays WORK = new WorkArrays(3);

    /** {@code out[o + q] = w * (x[o + q] * c[q])}. */
    private static void weigh(float w, float[] x, int o, float[] c, float[] out, int count) {
        for (int q = 0; q < count; q++) {
            out[o + q] = w * (x[o + q] * c[q]);
        }
    }

    /**
     * {@code c[co + p * q + j] = chain_t fma(x[xo + p * xRow + t * xStep], y[yo + t * q + j])} for
     * {@code p < rows}, {@code j < q}, t ascending from {@code +0.0f} up to {@code terms}: a row-major {@code y}
     * {@code [terms, q]}, and {@code x} read with any strides (so {@code a} or its transpose).
     */
    static void chains(float[] x, int xo, int xRow, int xStep, float[] y, int yo, float[] c, int co, int rows,
                       int terms, int q) {
        int j0 = vector ? HostMatMulVector.chains(x, xo, xRow, xStep, y, yo, c, co, rows, terms, q) : 0;
        scalarChains(x, xo, xRow, xStep, y, yo, c, co, rows, terms, q, j0);
    }

    /** {@link #chains} for the columns {@code j0 .. q - 1}: the plain form (the vector form computes them all). */
    static void scalarChains(float[] x, int xo, int xRow, int xStep, float[] y, int yo, float[] c, int co, int rows,
                             int terms, int q, int j0) {
        for (int p = 0; p < rows; p++) {
            int xp = xo + p * xRow;
            for (int j = j0; j < q; j++) {
                float acc = 0f;
                for (int t = 0; t < terms; t++) {
                    acc = Math.fma(x[xp + t * xStep], y[yo + t * q + j], acc);
                }
                c[co + p * q + j] = acc;
            }
        }
    }
}
