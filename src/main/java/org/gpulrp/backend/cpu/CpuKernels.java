package org.gpulrp.backend.cpu;

/**
 * The CPU path's dense primitives over a range of batch rows {@code [r0, r1)}. Implementations must agree bit for
 * bit with each other and with the contract in {@link org.gpulrp.backend.Backend}; threads split the batch by rows (or, for the plain maps of a few rows, the features by column ranges).
 */
interface CpuKernels {

    /** {@code out[k] = in[k] > 0 ? in[k] : 0} for {@code k in [k0,k1)}. */
    void relu(float[] in, float[] out, int k0, int k1);

    /** {@code g[k] = safeDiv(r[k], stab(d[dOff(k)]))} for {@code k in [k0,k1)}; see the Backend contract. */
    void normalize(float[] r, float[] d, int dRowStride, float eps, float[] g, int r0, int r1, int out);

    void normalizeSigned(float[] r, float[] z, float[] p, float[] n, float eps, float scaleP, float scaleN,
                         boolean gammaMask, float[] hp, float[] hn, int k0, int k1);

    /** The forward map for rows {@code [r0,r1)} and output features {@code [c0,c1)}. */
    void linear(float[] x, float[] wt, float[] bias, float[] z, int r0, int r1, int in, int out, int c0, int c1);

    /**
     * {@link #linear} with {@code strips}: null, or {@link #denseStrips} of {@code wt} as [in, out], made once when
     * the weights were prepared, so the call need not pack them (the same bits either way).
     */
    default void linear(float[] x, float[] wt, float[] strips, float[] bias, float[] z, int r0, int r1, int in,
                        int out, int c0, int c1) {
        linear(x, wt, bias, z, r0, r1, in, out, c0, c1);
    }

    /** {@link #backproject} with {@code strips} of {@code w} as [out, in] (see {@link #linear(float[], float[],
     * float[], float[], float[], int, int, int, int, int, int)}). */
    default void backproject(float[] g, float[] w, float[] strips, float[] x, float[] r, int r0, int r1, int out,
                             int in, int c0, int c1) {
        backproject(g, w, x, r, r0, r1, out, in, c0, c1);
    }

    /**
     * The packed layout these kernels' dense maps read a [P, Q] matrix in, or null where they read it as it is (the
     * scalar kernels).
     */
    default float[] denseStrips(float[] m, int p, int q) {
        return null;
    }

    void linearSigned(float[] x, float[] ut, float[] vt, float[] biasP, float[] biasN, float[] outP, float[] outN,
                      int r0, int r1, int in, int out);

    void linearZBox(float[] x, float[] wt, float[] low, float[] high, float[] d, int r0, int r1, int in, int out);

    /** The backprojection for rows {@code [r0,r1)} and input features {@code [c0,c1)}. */
    void backproject(float[] g, float[] w, float[] x, float[] r, int r0, int r1, int out, int in, int c0, int c1);

    void backprojectSigned(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0, int r1,
                           int out, int in);

    void backprojectZBox(float[] g, float[] w, float[] wpos, float[] wneg, float[] x, float[] low, float[] high,
                         float[] r, int r0, int r1, int out, int in);
}
