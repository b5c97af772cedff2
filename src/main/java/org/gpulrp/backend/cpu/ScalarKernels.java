package org.gpulrp.backend.cpu;

/**
 * Plain {@code Math.fma} loops: the readable statement of the contract, the fallback where the Vector API module is
 * not enabled, and the oracle the vector kernels are tested against.
 */
final class ScalarKernels implements CpuKernels {

    static float stab(float d, float eps) {
        return d + (d >= 0 ? eps : -eps);
    }

    static float safeDiv(float r, float s) {
        return s == 0 ? 0f : r / s;
    }

    @Override
    public void relu(float[] in, float[] out, int k0, int k1) {
        for (int k = k0; k < k1; k++) {
            out[k] = in[k] > 0 ? in[k] : 0f;
        }
    }

    @Override
    public void normalize(float[] r, float[] d, int dRowStride, float eps, float[] g, int r0, int r1, int out) {
        for (int b = r0; b < r1; b++) {
            for (int j = 0; j < out; j++) {
                g[b * out + j] = safeDiv(r[b * out + j], stab(d[b * dRowStride + j], eps));
            }
        }
    }

    @Override
    public void normalizeSigned(float[] r, float[] z, float[] p, float[] n, float eps, float scaleP, float scaleN,
                                boolean gammaMask, float[] hp, float[] hn, int k0, int k1) {
        for (int k = k0; k < k1; k++) {
            float gp = safeDiv(r[k], stab(p[k], eps));
            hp[k] = gammaMask ? (z[k] > 0 ? gp : 0f) : scaleP * gp;
            if (n != null) {
                float gn = safeDiv(r[k], stab(n[k], eps));
                hn[k] = gammaMask ? (z[k] < 0 ? gn : 0f) : scaleN * gn;
            }
        }
    }

    @Override
    public void linear(float[] x, float[] wt, float[] bias, float[] z, int r0, int r1, int in, int out, int c0,
                       int c1) {
        for (int b = r0; b < r1; b++) {
            for (int j = c0; j < c1; j++) {
                float acc = 0f;
                for (int i = 0; i < in; i++) {
                    acc = Math.fma(x[b * in + i], wt[i * out + j], acc);
                }
                z[b * out + j] = bias == null ? acc : acc + bias[j];
            }
        }
    }

    @Override
    public void linearSigned(float[] x, float[] ut, float[] vt, float[] biasP, float[] biasN, float[] outP,
                             float[] outN, int r0, int r1, int in, int out) {
        for (int b = r0; b < r1; b++) {
            for (int j = 0; j < out; j++) {
                float p = 0f;
                float n = 0f;
                for (int i = 0; i < in; i++) {
                    float xi = x[b * in + i];
                    float u = ut[i * out + j];
                    float v = vt[i * out + j];
                    if (xi > 0) {
                        p = Math.fma(xi, u, p);
                        n = Math.fma(xi, v, n);
                    } else {
                        p = Math.fma(xi, v, p);
                        n = Math.fma(xi, u, n);
                    }
                }
                outP[b * out + j] = p + biasP[j];
                if (outN != null) {
                    outN[b * out + j] = n + biasN[j];
                }
            }
        }
    }

    @Override
    public void linearZBox(float[] x, float[] wt, float[] low, float[] high, float[] d, int r0, int r1, int in,
                           int out) {
        for (int b = r0; b < r1; b++) {
            for (int j = 0; j < out; j++) {
                float acc = 0f;
                for (int i = 0; i < in; i++) {
                    float w = wt[i * out + j];
                    float xi = x[b * in + i];
                    float t = w > 0 ? xi - low[i] : xi - high[i];
                    acc = Math.fma(t, w, acc);
                }
                d[b * out + j] = acc;
            }
        }
    }

    @Override
    public void backproject(float[] g, float[] w, float[] x, float[] r, int r0, int r1, int out, int in, int c0,
                            int c1) {
        for (int b = r0; b < r1; b++) {
            for (int i = c0; i < c1; i++) {
                float c = 0f;
                for (int j = 0; j < out; j++) {
                    c = Math.fma(w[j * in + i], g[b * out + j], c);
                }
                r[b * in + i] = x == null ? c : x[b * in + i] * c;
            }
        }
    }

    @Override
    public void backprojectSigned(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0,
                                  int r1, int out, int in) {
        for (int b = r0; b < r1; b++) {
            for (int i = 0; i < in; i++) {
                float c1 = 0f;
                float c2 = 0f;
                for (int j = 0; j < out; j++) {
                    float uu = u[j * in + i];
                    float vv = v[j * in + i];
                    float gp = hp[b * out + j];
                    c1 = Math.fma(uu, gp, c1);
                    c2 = Math.fma(vv, gp, c2);
                    if (hn != null) {
                        float gn = hn[b * out + j];
                        c1 = Math.fma(vv, gn, c1);
                        c2 = Math.fma(uu, gn, c2);
                    }
                }
                float xi = x[b * in + i];
                r[b * in + i] = xi * (xi > 0 ? c1 : c2);
            }
        }
    }

    @Override
    public void backprojectZBox(float[] g, float[] w, float[] wpos, float[] wneg, float[] x, float[] low,
                                float[] high, float[] r, int r0, int r1, int out, int in) {
        for (int b = r0; b < r1; b++) {
            for (int i = 0; i < in; i++) {
                float c0 = 0f;
                float cp = 0f;
                float cm = 0f;
                for (int j = 0; j < out; j++) {
                    float gj = g[b * out + j];
                    c0 = Math.fma(w[j * in + i], gj, c0);
                    cp = Math.fma(wpos[j * in + i], gj, cp);
                    cm = Math.fma(wneg[j * in + i], gj, cm);
                }
                r[b * in + i] = (x[b * in + i] * c0 - low[i] * cp) - high[i] * cm;
            }
        }
    }
}
