package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The micro-kernels of {@link ChannelConv}: each runs one flat loop over a tap table ({@link ChannelTaps}) with its
 * vector accumulators in registers and stores them once at the end, for a tile of four pixels or one pixel by one,
 * two or four channel vectors. One flat loop per kernel, and no vector crossing a method boundary, keeps C2's vector
 * boxes eliminated; the loops are the contract's fma chains, in table order.
 *
 * <p>With 16 vector registers (AVX2) a four-vector block runs as two {@link #plain4x2k} halves ({@link #block4}): the
 * 21 live vectors of {@link #plain4x4} spill there. The four-pixel sign-split kernels run with either count: two-pixel
 * variants that keep their live vectors under 16 measured slower on AVX2 (each weight load then serves two pixels,
 * not four).
 */
final class ChannelKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private ChannelKernels() {
    }

    /*
     * The plain kernels below (plain4, plain4x2, plain4x2k, plain4x4, plain1, plain1x2, plain1x4) serve the forward
     * map (input x, forward weight layout, pixel step sw) and the backprojection alike (relevance g, backprojection
     * layout, step 1): fma(x, w, c) and fma(w, x, c) are the same rounded value.
     */

    /** Four interior pixels {@code xb, xb+sw, ...}, plain map; accumulators to {@code out[k*L ..]}. */
    static void plain4(float[] x, float[] up, int xb, int sw, int[] xoff, int[] woff, int nt, int ob,
                         float[] out) {
        FloatVector p0 = FloatVector.zero(S), p1 = FloatVector.zero(S);
        FloatVector p2 = FloatVector.zero(S), p3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int xi = xb + xoff[t];
            FloatVector wu = FloatVector.fromArray(S, up, woff[t] + ob);
            p0 = FloatVector.broadcast(S, x[xi]).fma(wu, p0);
            p1 = FloatVector.broadcast(S, x[xi + sw]).fma(wu, p1);
            p2 = FloatVector.broadcast(S, x[xi + 2 * sw]).fma(wu, p2);
            p3 = FloatVector.broadcast(S, x[xi + 3 * sw]).fma(wu, p3);
        }
        p0.intoArray(out, 0);
        p1.intoArray(out, L);
        p2.intoArray(out, 2 * L);
        p3.intoArray(out, 3 * L);
    }

    /** Four interior pixels, sign-split pair. */
    static void forwardSigned4(float[] x, float[] up, float[] vp, int xb, int sw, int[] xoff, int[] woff,
                               int nt, int ob, float[] outP, float[] outN) {
        FloatVector p0 = FloatVector.zero(S), p1 = FloatVector.zero(S);
        FloatVector p2 = FloatVector.zero(S), p3 = FloatVector.zero(S);
        FloatVector n0 = FloatVector.zero(S), n1 = FloatVector.zero(S);
        FloatVector n2 = FloatVector.zero(S), n3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int xi = xb + xoff[t];
            int wo = woff[t] + ob;
            FloatVector wu = FloatVector.fromArray(S, up, wo);
            FloatVector wv = FloatVector.fromArray(S, vp, wo);
            FloatVector b0 = FloatVector.broadcast(S, x[xi]);
            FloatVector b1 = FloatVector.broadcast(S, x[xi + sw]);
            FloatVector b2 = FloatVector.broadcast(S, x[xi + 2 * sw]);
            FloatVector b3 = FloatVector.broadcast(S, x[xi + 3 * sw]);
            VectorMask<Float> m0 = b0.compare(VectorOperators.GT, 0f);
            VectorMask<Float> m1 = b1.compare(VectorOperators.GT, 0f);
            VectorMask<Float> m2 = b2.compare(VectorOperators.GT, 0f);
            VectorMask<Float> m3 = b3.compare(VectorOperators.GT, 0f);
            p0 = b0.fma(wv.blend(wu, m0), p0);
            n0 = b0.fma(wu.blend(wv, m0), n0);
            p1 = b1.fma(wv.blend(wu, m1), p1);
            n1 = b1.fma(wu.blend(wv, m1), n1);
            p2 = b2.fma(wv.blend(wu, m2), p2);
            n2 = b2.fma(wu.blend(wv, m2), n2);
            p3 = b3.fma(wv.blend(wu, m3), p3);
            n3 = b3.fma(wu.blend(wv, m3), n3);
        }
        p0.intoArray(outP, 0);
        p1.intoArray(outP, L);
        p2.intoArray(outP, 2 * L);
        p3.intoArray(outP, 3 * L);
        n0.intoArray(outN, 0);
        n1.intoArray(outN, L);
        n2.intoArray(outN, 2 * L);
        n3.intoArray(outN, 3 * L);
    }

    /**
     * Four interior pixels by two channel vectors, plain map; tile {@code k} (pixel {@code k % 4}, channels
     * {@code ob + k / 4 * L ..}) to {@code out[k*L ..]}.
     */
    static void plain4x2(float[] x, float[] up, int xb, int sw, int[] xoff, int[] woff, int nt, int ob,
                           float[] out) {
        FloatVector p0 = FloatVector.zero(S), p1 = FloatVector.zero(S);
        FloatVector p2 = FloatVector.zero(S), p3 = FloatVector.zero(S);
        FloatVector q0 = FloatVector.zero(S), q1 = FloatVector.zero(S);
        FloatVector q2 = FloatVector.zero(S), q3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int xi = xb + xoff[t];
            int wo = woff[t] + ob;
            FloatVector w0 = FloatVector.fromArray(S, up, wo);
            FloatVector w1 = FloatVector.fromArray(S, up, wo + L);
            FloatVector b0 = FloatVector.broadcast(S, x[xi]);
            p0 = b0.fma(w0, p0);
            q0 = b0.fma(w1, q0);
            FloatVector b1 = FloatVector.broadcast(S, x[xi + sw]);
            p1 = b1.fma(w0, p1);
            q1 = b1.fma(w1, q1);
            FloatVector b2 = FloatVector.broadcast(S, x[xi + 2 * sw]);
            p2 = b2.fma(w0, p2);
            q2 = b2.fma(w1, q2);
            FloatVector b3 = FloatVector.broadcast(S, x[xi + 3 * sw]);
            p3 = b3.fma(w0, p3);
            q3 = b3.fma(w1, q3);
        }
        p0.intoArray(out, 0);
        p1.intoArray(out, L);
        p2.intoArray(out, 2 * L);
        p3.intoArray(out, 3 * L);
        q0.intoArray(out, 4 * L);
        q1.intoArray(out, 5 * L);
        q2.intoArray(out, 6 * L);
        q3.intoArray(out, 7 * L);
    }

    /**
     * Four pixels by two channel vectors, plain map, taps {@code [t0,t1)}: as {@link #plain4x4} with the weights at
     * {@code up[woff[t] + ob]} and {@code + L}, accumulators from and back to {@code acc} at
     * {@code ao + h*vs + p*ps}: the K-blocked form of {@link #plain4x2}, whose ten live vectors (eight chains, two
     * weights, a broadcast) fit 16 vector registers; {@link #block4} runs a four-vector block as two of them.
     */
    static void plain4x2k(float[] x, float[] up, int xb, int sw, int[] xoff, int[] woff, int t0, int t1, int ob,
                         float[] acc, int ao, int vs, int ps) {
        FloatVector p0 = FloatVector.fromArray(S, acc, ao);
        FloatVector p1 = FloatVector.fromArray(S, acc, ao + ps);
        FloatVector p2 = FloatVector.fromArray(S, acc, ao + 2 * ps);
        FloatVector p3 = FloatVector.fromArray(S, acc, ao + 3 * ps);
        FloatVector q0 = FloatVector.fromArray(S, acc, ao + vs);
        FloatVector q1 = FloatVector.fromArray(S, acc, ao + vs + ps);
        FloatVector q2 = FloatVector.fromArray(S, acc, ao + vs + 2 * ps);
        FloatVector q3 = FloatVector.fromArray(S, acc, ao + vs + 3 * ps);
        for (int t = t0; t < t1; t++) {
            int xi = xb + xoff[t];
            int wo = woff[t] + ob;
            FloatVector w0 = FloatVector.fromArray(S, up, wo);
            FloatVector w1 = FloatVector.fromArray(S, up, wo + L);
            FloatVector b0 = FloatVector.broadcast(S, x[xi]);
            p0 = b0.fma(w0, p0);
            q0 = b0.fma(w1, q0);
            FloatVector b1 = FloatVector.broadcast(S, x[xi + sw]);
            p1 = b1.fma(w0, p1);
            q1 = b1.fma(w1, q1);
            FloatVector b2 = FloatVector.broadcast(S, x[xi + 2 * sw]);
            p2 = b2.fma(w0, p2);
            q2 = b2.fma(w1, q2);
            FloatVector b3 = FloatVector.broadcast(S, x[xi + 3 * sw]);
            p3 = b3.fma(w0, p3);
            q3 = b3.fma(w1, q3);
        }
        p0.intoArray(acc, ao);
        p1.intoArray(acc, ao + ps);
        p2.intoArray(acc, ao + 2 * ps);
        p3.intoArray(acc, ao + 3 * ps);
        q0.intoArray(acc, ao + vs);
        q1.intoArray(acc, ao + vs + ps);
        q2.intoArray(acc, ao + vs + 2 * ps);
        q3.intoArray(acc, ao + vs + 3 * ps);
    }

    /**
     * Four pixels by four channel vectors, taps {@code [t0,t1)}, arguments as {@link #plain4x4}: with 32 vector
     * registers ({@code wide}) that kernel's 21 live vectors; with 16, where they spill, two passes of
     * {@link #plain4x2k} over the halves of the block (vectors 0-1, then 2-3), each chain continued in {@code acc}.
     * Each output keeps its one chain in table order either way (docs/DESIGN.md section 3): only the tiling changes.
     */
    static void block4(boolean wide, float[] x, float[] up, int xb, int sw, int[] xoff, int[] woff, int t0, int t1,
                       int ob, float[] acc, int ao, int vs, int ps) {
        if (wide) {
            plain4x4(x, up, xb, sw, xoff, woff, t0, t1, ob, acc, ao, vs, ps);
        } else {
            plain4x2k(x, up, xb, sw, xoff, woff, t0, t1, ob, acc, ao, vs, ps);
            plain4x2k(x, up, xb, sw, xoff, woff, t0, t1, ob + 2 * L, acc, ao + 2 * vs, vs, ps);
        }
    }

    /** Four interior input pixels, sign-split without hn terms: {@code c1 = u hp}, {@code c2 = v hp}. */
    static void backwardSignedP4(float[] hp, float[] ub, float[] vb, int gb, int[] goff, int[] woff, int nt,
                                 int cb, float[] o1, float[] o2) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector d0 = FloatVector.zero(S), d1 = FloatVector.zero(S);
        FloatVector d2 = FloatVector.zero(S), d3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int gi = gb + goff[t];
            int wo = woff[t] + cb;
            FloatVector wu = FloatVector.fromArray(S, ub, wo);
            FloatVector wv = FloatVector.fromArray(S, vb, wo);
            FloatVector g0 = FloatVector.broadcast(S, hp[gi]);
            FloatVector g1 = FloatVector.broadcast(S, hp[gi + 1]);
            FloatVector g2 = FloatVector.broadcast(S, hp[gi + 2]);
            FloatVector g3 = FloatVector.broadcast(S, hp[gi + 3]);
            a0 = wu.fma(g0, a0);
            d0 = wv.fma(g0, d0);
            a1 = wu.fma(g1, a1);
            d1 = wv.fma(g1, d1);
            a2 = wu.fma(g2, a2);
            d2 = wv.fma(g2, d2);
            a3 = wu.fma(g3, a3);
            d3 = wv.fma(g3, d3);
        }
        a0.intoArray(o1, 0);
        a1.intoArray(o1, L);
        a2.intoArray(o1, 2 * L);
        a3.intoArray(o1, 3 * L);
        d0.intoArray(o2, 0);
        d1.intoArray(o2, L);
        d2.intoArray(o2, 2 * L);
        d3.intoArray(o2, 3 * L);
    }

    /** Four interior input pixels, sign-split with hn terms, each tap {@code c1 += u hp; c1 += v hn} and likewise. */
    static void backwardSigned4(float[] hp, float[] hn, float[] ub, float[] vb, int gb, int[] goff,
                                int[] woff, int nt, int cb, float[] o1, float[] o2) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector d0 = FloatVector.zero(S), d1 = FloatVector.zero(S);
        FloatVector d2 = FloatVector.zero(S), d3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int gi = gb + goff[t];
            int wo = woff[t] + cb;
            FloatVector wu = FloatVector.fromArray(S, ub, wo);
            FloatVector wv = FloatVector.fromArray(S, vb, wo);
            {
                FloatVector g0 = FloatVector.broadcast(S, hp[gi]);
                FloatVector g1 = FloatVector.broadcast(S, hp[gi + 1]);
                FloatVector g2 = FloatVector.broadcast(S, hp[gi + 2]);
                FloatVector g3 = FloatVector.broadcast(S, hp[gi + 3]);
                FloatVector n0 = FloatVector.broadcast(S, hn[gi]);
                FloatVector n1 = FloatVector.broadcast(S, hn[gi + 1]);
                FloatVector n2 = FloatVector.broadcast(S, hn[gi + 2]);
                FloatVector n3 = FloatVector.broadcast(S, hn[gi + 3]);
                a0 = wv.fma(n0, wu.fma(g0, a0));
                d0 = wu.fma(n0, wv.fma(g0, d0));
                a1 = wv.fma(n1, wu.fma(g1, a1));
                d1 = wu.fma(n1, wv.fma(g1, d1));
                a2 = wv.fma(n2, wu.fma(g2, a2));
                d2 = wu.fma(n2, wv.fma(g2, d2));
                a3 = wv.fma(n3, wu.fma(g3, a3));
                d3 = wu.fma(n3, wv.fma(g3, d3));
            }
        }
        a0.intoArray(o1, 0);
        a1.intoArray(o1, L);
        a2.intoArray(o1, 2 * L);
        a3.intoArray(o1, 3 * L);
        d0.intoArray(o2, 0);
        d1.intoArray(o2, L);
        d2.intoArray(o2, 2 * L);
        d3.intoArray(o2, 3 * L);
    }

    /** One output pixel (first input column {@code xb}) through its own tap table, plain map: L lanes to tmp. */
    static void plain1(float[] x, float[] up, int xb, int[] xoff, int[] woff, int nt, int ob,
                         float[] tmp) {
        FloatVector p = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            p = FloatVector.broadcast(S, x[xb + xoff[t]]).fma(FloatVector.fromArray(S, up, woff[t] + ob), p);
        }
        p.intoArray(tmp, 0);
    }

    /**
     * Four pixels by four channel vectors, plain map, taps {@code [t0,t1)}: pixel p reads {@code x[xb + p*sw +
     * xoff[t]]}, the weights are at {@code up[woff[t] + ob]}; accumulators come from and go back to {@code acc} at
     * {@code ao + h*vs + p*ps} (vector h).
     */
    static void plain4x4(float[] x, float[] up, int xb, int sw, int[] xoff, int[] woff, int t0, int t1,
                           int ob, float[] acc, int ao, int vs, int ps) {
        FloatVector a0 = FloatVector.fromArray(S, acc, ao);
        FloatVector a1 = FloatVector.fromArray(S, acc, ao + ps);
        FloatVector a2 = FloatVector.fromArray(S, acc, ao + 2 * ps);
        FloatVector a3 = FloatVector.fromArray(S, acc, ao + 3 * ps);
        FloatVector b0 = FloatVector.fromArray(S, acc, ao + vs);
        FloatVector b1 = FloatVector.fromArray(S, acc, ao + vs + ps);
        FloatVector b2 = FloatVector.fromArray(S, acc, ao + vs + 2 * ps);
        FloatVector b3 = FloatVector.fromArray(S, acc, ao + vs + 3 * ps);
        FloatVector c0 = FloatVector.fromArray(S, acc, ao + 2 * vs);
        FloatVector c1 = FloatVector.fromArray(S, acc, ao + 2 * vs + ps);
        FloatVector c2 = FloatVector.fromArray(S, acc, ao + 2 * vs + 2 * ps);
        FloatVector c3 = FloatVector.fromArray(S, acc, ao + 2 * vs + 3 * ps);
        FloatVector d0 = FloatVector.fromArray(S, acc, ao + 3 * vs);
        FloatVector d1 = FloatVector.fromArray(S, acc, ao + 3 * vs + ps);
        FloatVector d2 = FloatVector.fromArray(S, acc, ao + 3 * vs + 2 * ps);
        FloatVector d3 = FloatVector.fromArray(S, acc, ao + 3 * vs + 3 * ps);
        for (int t = t0; t < t1; t++) {
            int xi = xb + xoff[t];
            int wo = woff[t] + ob;
            FloatVector w0 = FloatVector.fromArray(S, up, wo);
            FloatVector w1 = FloatVector.fromArray(S, up, wo + L);
            FloatVector w2 = FloatVector.fromArray(S, up, wo + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, up, wo + 3 * L);
            FloatVector e = FloatVector.broadcast(S, x[xi]);
            a0 = e.fma(w0, a0);
            b0 = e.fma(w1, b0);
            c0 = e.fma(w2, c0);
            d0 = e.fma(w3, d0);
            e = FloatVector.broadcast(S, x[xi + sw]);
            a1 = e.fma(w0, a1);
            b1 = e.fma(w1, b1);
            c1 = e.fma(w2, c1);
            d1 = e.fma(w3, d1);
            e = FloatVector.broadcast(S, x[xi + 2 * sw]);
            a2 = e.fma(w0, a2);
            b2 = e.fma(w1, b2);
            c2 = e.fma(w2, c2);
            d2 = e.fma(w3, d2);
            e = FloatVector.broadcast(S, x[xi + 3 * sw]);
            a3 = e.fma(w0, a3);
            b3 = e.fma(w1, b3);
            c3 = e.fma(w2, c3);
            d3 = e.fma(w3, d3);
        }
        a0.intoArray(acc, ao);
        a1.intoArray(acc, ao + ps);
        a2.intoArray(acc, ao + 2 * ps);
        a3.intoArray(acc, ao + 3 * ps);
        b0.intoArray(acc, ao + vs);
        b1.intoArray(acc, ao + vs + ps);
        b2.intoArray(acc, ao + vs + 2 * ps);
        b3.intoArray(acc, ao + vs + 3 * ps);
        c0.intoArray(acc, ao + 2 * vs);
        c1.intoArray(acc, ao + 2 * vs + ps);
        c2.intoArray(acc, ao + 2 * vs + 2 * ps);
        c3.intoArray(acc, ao + 2 * vs + 3 * ps);
        d0.intoArray(acc, ao + 3 * vs);
        d1.intoArray(acc, ao + 3 * vs + ps);
        d2.intoArray(acc, ao + 3 * vs + 2 * ps);
        d3.intoArray(acc, ao + 3 * vs + 3 * ps);
    }

    /** One output pixel, plain map, two channel vectors from {@code ob}. */
    static void plain1x2(float[] x, float[] up, int xb, int[] xoff, int[] woff, int nt, int ob,
                           float[] tmp) {
        FloatVector p0 = FloatVector.zero(S), p1 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int wo = woff[t] + ob;
            FloatVector xv = FloatVector.broadcast(S, x[xb + xoff[t]]);
            p0 = xv.fma(FloatVector.fromArray(S, up, wo), p0);
            p1 = xv.fma(FloatVector.fromArray(S, up, wo + L), p1);
        }
        p0.intoArray(tmp, 0);
        p1.intoArray(tmp, L);
    }

    /** One output pixel, plain map, four channel vectors from {@code ob}: four chains at a time. */
    static void plain1x4(float[] x, float[] up, int xb, int[] xoff, int[] woff, int t0, int t1,
                           int ob, float[] acc, int ao) {
        FloatVector p0 = FloatVector.fromArray(S, acc, ao + 0 * L);
        FloatVector p1 = FloatVector.fromArray(S, acc, ao + 1 * L);
        FloatVector p2 = FloatVector.fromArray(S, acc, ao + 2 * L);
        FloatVector p3 = FloatVector.fromArray(S, acc, ao + 3 * L);
        for (int t = t0; t < t1; t++) {
            int wo = woff[t] + ob;
            FloatVector xv = FloatVector.broadcast(S, x[xb + xoff[t]]);
            p0 = xv.fma(FloatVector.fromArray(S, up, wo), p0);
            p1 = xv.fma(FloatVector.fromArray(S, up, wo + L), p1);
            p2 = xv.fma(FloatVector.fromArray(S, up, wo + 2 * L), p2);
            p3 = xv.fma(FloatVector.fromArray(S, up, wo + 3 * L), p3);
        }
        p0.intoArray(acc, ao + 0 * L);
        p1.intoArray(acc, ao + 1 * L);
        p2.intoArray(acc, ao + 2 * L);
        p3.intoArray(acc, ao + 3 * L);
    }

    /** One output pixel through its own tap table, sign-split pair. */
    static void forwardSigned1(float[] x, float[] up, float[] vp, int xb, int[] xoff, int[] woff, int nt,
                               int ob, float[] tp, float[] tn) {
        FloatVector p = FloatVector.zero(S);
        FloatVector n = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int wo = woff[t] + ob;
            FloatVector wu = FloatVector.fromArray(S, up, wo);
            FloatVector wv = FloatVector.fromArray(S, vp, wo);
            FloatVector xv = FloatVector.broadcast(S, x[xb + xoff[t]]);
            VectorMask<Float> pos = xv.compare(VectorOperators.GT, 0f);
            p = xv.fma(wv.blend(wu, pos), p);
            n = xv.fma(wu.blend(wv, pos), n);
        }
        p.intoArray(tp, 0);
        n.intoArray(tn, 0);
    }

    /** One input pixel through its own tap table, sign-split; {@code hn == null} drops the hn terms. */
    static void backwardSigned1(float[] hp, float[] hn, float[] ub, float[] vb, int go, int[] goff,
                                int[] woff, int nt, int cb, float[] t1, float[] t2) {
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        if (hn != null) {
            for (int t = 0; t < nt; t++) {
                int wo = woff[t] + cb;
                FloatVector wu = FloatVector.fromArray(S, ub, wo);
                FloatVector wv = FloatVector.fromArray(S, vb, wo);
                FloatVector gp = FloatVector.broadcast(S, hp[go + goff[t]]);
                FloatVector gn = FloatVector.broadcast(S, hn[go + goff[t]]);
                c1 = wv.fma(gn, wu.fma(gp, c1));
                c2 = wu.fma(gn, wv.fma(gp, c2));
            }
        } else {
            for (int t = 0; t < nt; t++) {
                int wo = woff[t] + cb;
                FloatVector gp = FloatVector.broadcast(S, hp[go + goff[t]]);
                c1 = FloatVector.fromArray(S, ub, wo).fma(gp, c1);
                c2 = FloatVector.fromArray(S, vb, wo).fma(gp, c2);
            }
        }
        c1.intoArray(t1, 0);
        c2.intoArray(t2, 0);
    }
}
