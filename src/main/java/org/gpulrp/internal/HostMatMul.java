package org.gpulrp.internal;

/**
 * The product of two activations, batched ({@link org.gpulrp.model.MatMul}: {@code a [units, m, k]} times
 * {@code b [units, k, n]}, a unit being one matrix of one sample), and its relevance, on the host in double for every
 * backend (docs/DESIGN.md section 2.9). Each output is one double sum in ascending order of its index, rounded to
 * float once; the loops run over contiguous rows (an {@code axpy} per term, which the JIT vectorizes without
 * changing any output's order) and the units run in parallel ({@link HostParallel}), so the bits do not depend on
 * the thread count.
 */
final class HostMatMul {
    private HostMatMul() {
    }

    /** {@code z[u,i,j] = sum_k a[u,i,k] b[u,k,j]}, k ascending. */
    static void forward(float[] a, float[] b, float[] z, int units, int m, int k, int n) {
        HostParallel.forEach(units, (long) m * k * n, u -> {
            double[] bd = toDouble(b, u * k * n, k * n);
            double[] acc = new double[n];
            int ao = u * m * k;
            int zo = u * m * n;
            for (int i = 0; i < m; i++) {
                java.util.Arrays.fill(acc, 0.0);
                for (int kk = 0; kk < k; kk++) {
                    double aik = a[ao + i * k + kk];
                    int bo = kk * n;
                    for (int j = 0; j < n; j++) {
                        acc[j] += aik * bd[bo + j];
                    }
                }
                for (int j = 0; j < n; j++) {
                    z[zo + i * n + j] = (float) acc[j];
                }
            }
        });
    }

    /**
     * The epsilon rule on the products, then a share of each product to each operand: with
     * {@code s[i,j] = r[i,j] / stab(z[i,j])} (0 where {@code stab} is 0), {@code ra[i,k] = wa a[i,k] sum_j b[k,j]
     * s[i,j]} (j ascending) and {@code rb[k,j] = wb b[k,j] sum_i a[i,k] s[i,j]} (i ascending), each rounded once.
     * {@code wa = wb = 1/2} is AttnLRP's uniform rule; CP-LRP gives 1 to one operand and 0 to the other. An operand
     * whose weight is 0 is not computed ({@code ra} or {@code rb} may then be null).
     *
     * @param share null, or per unit the stabilizer's share {@code eps sum_ij s[i,j] sign(z[i,j])}
     */
    static void relevance(float[] a, float[] b, float[] z, float[] r, float[] ra, float[] rb, int units, int m,
                          int k, int n, double wa, double wb, double eps, double[] share) {
        HostParallel.forEach(units, 2L * m * k * n, u -> {
            int ao = u * m * k;
            int bo = u * k * n;
            int zo = u * m * n;
            double[] s = new double[m * n];
            double stabilizer = 0;
            for (int q = 0; q < m * n; q++) {
                double zq = z[zo + q];
                double d = zq + (zq >= 0 ? eps : -eps);
                s[q] = d == 0 ? 0.0 : r[zo + q] / d;
                stabilizer += s[q] * (zq >= 0 ? 1 : -1);
            }
            if (share != null) {
                share[u] = eps * stabilizer;
            }
            if (wa != 0) {
                double[] bt = new double[n * k];
                for (int kk = 0; kk < k; kk++) {
                    for (int j = 0; j < n; j++) {
                        bt[j * k + kk] = b[bo + kk * n + j];
                    }
                }
                double[] acc = new double[k];
                for (int i = 0; i < m; i++) {
                    java.util.Arrays.fill(acc, 0.0);
                    for (int j = 0; j < n; j++) {
                        double sij = s[i * n + j];
                        int to = j * k;
                        for (int kk = 0; kk < k; kk++) {
                            acc[kk] += sij * bt[to + kk];
                        }
                    }
                    for (int kk = 0; kk < k; kk++) {
                        ra[ao + i * k + kk] = (float) (wa * a[ao + i * k + kk] * acc[kk]);
                    }
                }
            }
            if (wb != 0) {
                double[] acc = new double[k * n];
                for (int i = 0; i < m; i++) {
                    int so = i * n;
                    for (int kk = 0; kk < k; kk++) {
                        double aik = a[ao + i * k + kk];
                        int to = kk * n;
                        for (int j = 0; j < n; j++) {
                            acc[to + j] += aik * s[so + j];
                        }
                    }
                }
                for (int q = 0; q < k * n; q++) {
                    rb[bo + q] = (float) (wb * b[bo + q] * acc[q]);
                }
            }
        });
    }

    private static double[] toDouble(float[] f, int from, int count) {
        double[] d = new double[count];
        for (int i = 0; i < count; i++) {
            d[i] = f[from + i];
        }
        return d;
    }
}
