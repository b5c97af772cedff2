package org.gpulrp.internal;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.model.Dense;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;

/**
 * A dense layer prepared for one rule: the weight and the variants the rule needs live on the backend for the life
 * of the prepared model. Variants that are exact functions of W (sign parts, gamma-modified weights) are derived on
 * the backend from the uploaded W; input-independent denominators (WSquare, Flat) are computed once on the host.
 */
final class DenseStep {
    final String name;
    final int in;
    final int out;
    final Rule rule;
    private final Backend be;
    private final List<Buffer> owned = new ArrayList<>();

    /** W [out,in] and its transpose Wt [in,out]; bias [out]. */
    private final Buffer w;
    private final Buffer wt;
    private final Buffer bias;
    /** Rule variants: u/v (sign parts or gamma weights) in both layouts, biases, ZBox bounds, fixed denominators. */
    private Buffer u;
    private Buffer v;
    private Buffer ut;
    private Buffer vt;
    private Buffer biasP;
    private Buffer biasN;
    private Buffer low;
    private Buffer high;
    private Buffer fixedW;
    private Buffer fixedD;
    private float scaleP = 1f;
    private float scaleN;
    private boolean twoSided;
    private final float eps;

    DenseStep(Backend be, String name, Dense layer, Rule rule) {
        this.be = be;
        this.name = name;
        this.in = layer.in();
        this.out = layer.out();
        this.rule = rule;
        checkApplicable(rule, name, in);
        float[] wf = layer.weight();
        float[] bf = layer.bias();
        try {
            this.w = keep(be.upload(wf));
            this.wt = keep(be.upload(transpose(wf, out, in)));
            this.bias = keep(be.upload(bf));
            this.eps = prepareRule(wf, bf);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Refuses, before anything is allocated, a rule that cannot run on this layer. */
    private static void checkApplicable(Rule rule, String name, int in) {
        if (rule instanceof ZBox zb && zb.boundCount() != 1 && zb.boundCount() != in) {
            throw new org.gpulrp.ShapeMismatchException("zbox bounds for layer '" + name + "'", "1 or " + in
                    + " values", zb.boundCount() + " values");
        }
        if (rule instanceof org.gpulrp.rules.Pass) {
            throw new org.gpulrp.InvalidArgumentException("rule", "pass cannot be applied to dense layer '" + name
                    + "': a linear layer needs an LRP rule (epsilon, zplus, ...)");
        }
    }

    private Buffer keep(Buffer b) {
        owned.add(b);
        return b;
    }

    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }

    private void splitSigns() {
        int n = in * out;
        u = keep(be.allocate(n));
        v = keep(be.allocate(n));
        ut = keep(be.allocate(n));
        vt = keep(be.allocate(n));
        be.splitSign(w, u, v, n);
        be.splitSign(wt, ut, vt, n);
    }

    private float prepareRule(float[] wf, float[] bf) {
        if (rule instanceof Epsilon e) {
            return e.epsilon();
        } else if (rule instanceof ZPlus z) {
            splitSigns();
            biasP = keep(be.allocate(out));
            biasN = keep(be.allocate(out));
            be.splitSign(bias, biasP, biasN, out);
            return z.epsilon();
        } else if (rule instanceof AlphaBeta ab) {
            splitSigns();
            biasP = keep(be.allocate(out));
            biasN = keep(be.allocate(out));
            be.splitSign(bias, biasP, biasN, out);
            scaleP = ab.alpha();
            scaleN = -ab.beta();
            twoSided = ab.beta() != 0f;
            return ab.epsilon();
        } else if (rule instanceof Gamma g) {
            int n = in * out;
            u = keep(be.allocate(n));
            v = keep(be.allocate(n));
            ut = keep(be.allocate(n));
            vt = keep(be.allocate(n));
            be.gammaWeights(w, g.gamma(), u, v, n);
            be.gammaWeights(wt, g.gamma(), ut, vt, n);
            biasP = keep(be.allocate(out));
            biasN = keep(be.allocate(out));
            be.gammaWeights(bias, g.gamma(), biasP, biasN, out);
            twoSided = true;
            return g.epsilon();
        } else if (rule instanceof ZBox zb) {
            int n = in * out;
            u = keep(be.allocate(n));
            v = keep(be.allocate(n));
            be.splitSign(w, u, v, n);
            float[] lo = new float[in];
            float[] hi = new float[in];
            for (int i = 0; i < in; i++) {
                lo[i] = zb.low(i);
                hi[i] = zb.high(i);
            }
            low = keep(be.upload(lo));
            high = keep(be.upload(hi));
            return zb.epsilon();
        } else if (rule instanceof WSquare ws) {
            float[] w2 = new float[wf.length];
            float[] d = new float[out];
            for (int j = 0; j < out; j++) {
                float acc = 0f;
                for (int i = 0; i < in; i++) {
                    float x = wf[j * in + i];
                    w2[j * in + i] = x * x;
                    acc = Math.fma(x, x, acc);
                }
                d[j] = acc + bf[j] * bf[j];
            }
            fixedW = keep(be.upload(w2));
            fixedD = keep(be.upload(d));
            return ws.epsilon();
        } else if (rule instanceof Flat f) {
            float[] ones = new float[wf.length];
            java.util.Arrays.fill(ones, 1f);
            float[] d = new float[out];
            java.util.Arrays.fill(d, (float) in);
            fixedW = keep(be.upload(ones));
            fixedD = keep(be.upload(d));
            return f.epsilon();
        }
        throw new org.gpulrp.InvalidArgumentException("rule", rule.describe() + " cannot be applied to dense layer '"
                + name + "'");
    }

    /** Forward: {@code z = x Wt + b}. */
    void forward(Buffer x, Buffer z, int rows) {
        be.linear(x, wt, bias, z, rows, in, out);
    }

    /**
     * Relevance from this layer's output ({@code r}, [rows,out]) to its input ({@code rIn}, [rows,in]); {@code x}
     * is the layer's input, {@code z} its forward output; {@code s1..s4} are [rows,out] scratch buffers.
     */
    void backward(Buffer x, Buffer z, Buffer r, Buffer rIn, Scratch s, int rows) {
        if (rule instanceof Epsilon) {
            be.normalize(r, z, out, eps, s.a, rows, out);
            be.backproject(s.a, w, x, rIn, rows, out, in);
        } else if (rule instanceof ZPlus || rule instanceof AlphaBeta || rule instanceof Gamma) {
            Buffer n = twoSided ? s.d : null;
            Buffer hn = twoSided ? s.b : null;
            be.linearSigned(x, ut, vt, biasP, biasN, s.c, n, rows, in, out);
            be.normalizeSigned(r, z, s.c, n, eps, scaleP, scaleN, rule instanceof Gamma, s.a, hn, rows, out);
            be.backprojectSigned(s.a, hn, u, v, x, rIn, rows, out, in);
        } else if (rule instanceof ZBox) {
            be.linearZBox(x, wt, low, high, s.c, rows, in, out);
            be.normalize(r, s.c, out, eps, s.a, rows, out);
            be.backprojectZBox(s.a, w, u, v, x, low, high, rIn, rows, out, in);
        } else {
            be.normalize(r, fixedD, 0, eps, s.a, rows, out);
            be.backproject(s.a, fixedW, null, rIn, rows, out, in);
        }
    }

    /** Weight floats held on the backend, for memory estimates. */
    long deviceFloats() {
        long n = 0;
        for (Buffer b : owned) {
            n += b.length();
        }
        return n;
    }

    void close() {
        for (Buffer b : owned) {
            b.close();
        }
        owned.clear();
    }

    /** Per-batch scratch buffers of [rows, maxOut], shared by all layers. */
    static final class Scratch {
        Buffer a;
        Buffer b;
        Buffer c;
        Buffer d;
    }
}
