package org.gpulrp.backend.cpu;

/**
 * The CPU path's dense primitives over a range of batch rows {@code [r0, r1)}. Implementations must agree bit for
 * bit with each other and with the contract in {@link org.gpulrp.backend.Backend}; threads split the batch by rows.
 */
interface CpuKernels {

    void linear(float[] x, float[] wt, float[] bias, float[] z, int r0, int r1, int in, int out);

    void linearSigned(float[] x, float[] ut, float[] vt, float[] biasP, float[] biasN, float[] outP, float[] outN,
                      int r0, int r1, int in, int out);

    void linearZBox(float[] x, float[] wt, float[] low, float[] high, float[] d, int r0, int r1, int in, int out);

    void backproject(float[] g, float[] w, float[] x, float[] r, int r0, int r1, int out, int in);

    void backprojectSigned(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0, int r1,
                           int out, int in);

    void backprojectZBox(float[] g, float[] w, float[] wpos, float[] wneg, float[] x, float[] low, float[] high,
                         float[] r, int r0, int r1, int out, int in);
}
