package org.gpulrp.reference;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.InitialRelevance;
import org.gpulrp.Target;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.LayerContext;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Identity;
import org.gpulrp.model.LayerKind;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Pass;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;

/**
 * An independent float64 LRP, written from the formulas of docs/DESIGN.md section 2 as plain matrix algebra on
 * {@code double[][]}: the oracle the float32 backends are checked against. It shares nothing with the engine but
 * the configuration (which rule each layer gets, via {@link Composite#ruleFor}); no fused primitives, no sign-split
 * one-pass tricks: each rule is the textbook sum of matrix products.
 *
 * <p>Conventions (the library's): {@code stab(d) = d + eps * (d >= 0 ? 1 : -1)}; {@code g = R / stab(D)} and
 * {@code g = 0} where {@code stab(D) == 0}; activations pass relevance unchanged; initial relevance OUTPUT =
 * output at the target, ONEHOT = 1, LOGIT = value at the target of the network without its final activation.
 */
public final class Float64Lrp {

    /**
     * @param outputs        network outputs {@code [batch][outputs]} (after any final activation)
     * @param targets        explained class per sample
     * @param scores         initial relevance at each sample's target
     * @param relevance      input relevance {@code [batch][features]}
     * @param layers         relevance at the output of each node, top node first (as the library keys it)
     * @param rules          rule per node name, forward order
     */
    public record Result(double[][] outputs, int[] targets, double[] scores, double[][] relevance,
                         Map<String, double[][]> layers, Map<String, Rule> rules) {
    }

    private Float64Lrp() {
    }

    /** Explains each row of {@code x}. */
    public static Result explain(Network net, Composite composite, InitialRelevance init, Target target,
                                 float[][] x) {
        List<Node> nodes = net.nodes();
        int n = nodes.size();
        int batch = x.length;

        // The rule of each node, as the library's composite assigns it (configuration, not math).
        Map<String, Rule> rules = new LinkedHashMap<>();
        List<Rule> assigned = composite.rules(net);
        for (int k = 0; k < nodes.size(); k++) {
            rules.put(nodes.get(k).name(), assigned.get(k));
        }

        // Forward: acts.get(k) = input of node k (per sample), acts.get(n) = network output.
        List<double[][]> acts = new ArrayList<>();
        double[][] a = new double[batch][];
        for (int b = 0; b < batch; b++) {
            a[b] = toDouble(x[b]);
        }
        acts.add(a);
        for (Node node : nodes) {
            double[][] next = new double[batch][];
            for (int b = 0; b < batch; b++) {
                next[b] = forward(node, a[b]);
            }
            acts.add(next);
            a = next;
        }
        double[][] outputs = a;

        // Targets are chosen on the full network's outputs, whatever the initial relevance mode.
        float[] outFlat = new float[batch * net.outputSize()];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < net.outputSize(); j++) {
                outFlat[b * net.outputSize() + j] = (float) outputs[b][j];
            }
        }
        int[] targets = target.resolve(outFlat, batch, net.outputSize());

        // LOGIT explains the network without its final activation.
        int top = n - 1;
        if (init == InitialRelevance.LOGIT && n > 1 && nodes.get(n - 1).kind() == LayerKind.ACTIVATION) {
            top = n - 2;
        }
        double[][] topValues = acts.get(top + 1);
        int width = nodes.get(top).outputSize();
        double[][] r = new double[batch][width];
        double[] scores = new double[batch];
        for (int b = 0; b < batch; b++) {
            int t = targets[b];
            scores[b] = init == InitialRelevance.ONEHOT ? 1.0 : topValues[b][t];
            r[b][t] = scores[b];
        }

        Map<String, double[][]> layers = new LinkedHashMap<>();
        layers.put(nodes.get(top).name(), copy(r));
        for (int k = top; k >= 0; k--) {
            Node node = nodes.get(k);
            if (node.layer() instanceof Dense d) {
                Rule rule = rules.get(node.name());
                double[][] lower = new double[batch][];
                for (int b = 0; b < batch; b++) {
                    lower[b] = denseRelevance(d, rule, acts.get(k)[b], acts.get(k + 1)[b], r[b]);
                }
                r = lower;
            } else if (!(rules.get(node.name()) instanceof Pass)) {
                throw new IllegalArgumentException("non-linear node " + node.name() + " got " + rules.get(node.name()));
            }
            // Activations and identity: relevance passes unchanged.
            if (k > 0) {
                layers.put(nodes.get(k - 1).name(), copy(r));
            }
        }
        return new Result(outputs, targets, scores, r, layers, rules);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Forward

    static double[] forward(Node node, double[] x) {
        if (node.layer() instanceof Dense d) {
            return add(matVec(weight(d), x), toDouble(d.bias()));
        } else if (node.layer() instanceof Identity) {
            return x.clone();
        } else if (node.layer() instanceof Activation act) {
            double[] y = new double[x.length];
            switch (act.function()) {
                case RELU -> {
                    for (int i = 0; i < x.length; i++) {
                        y[i] = Math.max(x[i], 0);
                    }
                }
                case SIGMOID -> {
                    for (int i = 0; i < x.length; i++) {
                        y[i] = 1 / (1 + Math.exp(-x[i]));
                    }
                }
                case SOFTMAX -> {
                    double max = Double.NEGATIVE_INFINITY;
                    for (double v : x) {
                        max = Math.max(max, v);
                    }
                    double sum = 0;
                    for (int i = 0; i < x.length; i++) {
                        y[i] = Math.exp(x[i] - max);
                        sum += y[i];
                    }
                    for (int i = 0; i < x.length; i++) {
                        y[i] /= sum;
                    }
                }
                default -> throw new IllegalStateException("activation " + act.function());
            }
            return y;
        }
        throw new IllegalStateException("layer " + node.layer());
    }

    // ---------------------------------------------------------------------------------------------------------
    // The rules, one per formula of docs/DESIGN.md section 2. x: layer input, z: forward output, r: upper relevance.

    static double[] denseRelevance(Dense d, Rule rule, double[] x, double[] z, double[] r) {
        double[][] w = weight(d);            // [out][in]
        double[] bias = toDouble(d.bias());
        double[][] wp = pos(w);
        double[][] wn = neg(w);
        double[] xp = pos(x);
        double[] xn = neg(x);
        if (rule instanceof Epsilon e) {
            double[] den = add(matVec(w, x), bias);
            double[] g = divide(r, den, e.epsilon());
            return mul(x, matTVec(w, g));
        } else if (rule instanceof ZPlus zp) {
            double[] den = add(add(matVec(wp, xp), matVec(wn, xn)), pos(bias));
            double[] g = divide(r, den, zp.epsilon());
            return add(mul(xp, matTVec(wp, g)), mul(xn, matTVec(wn, g)));
        } else if (rule instanceof AlphaBeta ab) {
            double alpha = ab.alpha();
            double beta = ab.beta();
            double[] p = add(add(matVec(wp, xp), matVec(wn, xn)), pos(bias));
            double[] q = add(add(matVec(wn, xp), matVec(wp, xn)), neg(bias));
            double[] gp = divide(r, p, ab.epsilon());
            double[] gq = divide(r, q, ab.epsilon());
            double[] act = add(mul(xp, matTVec(wp, gp)), mul(xn, matTVec(wn, gp)));
            double[] inh = add(mul(xp, matTVec(wn, gq)), mul(xn, matTVec(wp, gq)));
            return sub(scale(alpha, act), scale(beta, inh));
        } else if (rule instanceof Gamma gm) {
            double gamma = gm.gamma();
            double[][] wPlus = addM(w, scaleM(gamma, wp));    // W + g W+
            double[][] wMinus = addM(w, scaleM(gamma, wn));   // W + g W-
            double[] bPlus = add(bias, scale(gamma, pos(bias)));
            double[] bMinus = add(bias, scale(gamma, neg(bias)));
            double[] p = add(add(matVec(wPlus, xp), matVec(wMinus, xn)), bPlus);
            double[] q = add(add(matVec(wMinus, xp), matVec(wPlus, xn)), bMinus);
            double[] gp = divide(r, p, gm.epsilon());
            double[] gq = divide(r, q, gm.epsilon());
            for (int j = 0; j < z.length; j++) {
                gp[j] = z[j] > 0 ? gp[j] : 0;
                gq[j] = z[j] < 0 ? gq[j] : 0;
            }
            return add(add(mul(xp, matTVec(wPlus, gp)), mul(xn, matTVec(wMinus, gp))),
                    add(mul(xp, matTVec(wMinus, gq)), mul(xn, matTVec(wPlus, gq))));
        } else if (rule instanceof ZBox zb) {
            int in = x.length;
            double[] low = new double[in];
            double[] high = new double[in];
            for (int i = 0; i < in; i++) {
                low[i] = zb.low(zb.boundCount() == 1 ? 0 : i);
                high[i] = zb.high(zb.boundCount() == 1 ? 0 : i);
            }
            double[] den = sub(sub(matVec(w, x), matVec(wp, low)), matVec(wn, high));
            double[] g = divide(r, den, zb.epsilon());
            return sub(sub(mul(x, matTVec(w, g)), mul(low, matTVec(wp, g))), mul(high, matTVec(wn, g)));
        } else if (rule instanceof WSquare ws) {
            double[][] w2 = square(w);
            double[] den = add(matVec(w2, ones(x.length)), square(bias));
            double[] g = divide(r, den, ws.epsilon());
            return matTVec(w2, g);
        } else if (rule instanceof Flat f) {
            double[][] one = new double[w.length][x.length];
            for (double[] row : one) {
                java.util.Arrays.fill(row, 1.0);
            }
            double[] den = matVec(one, ones(x.length));
            double[] g = divide(r, den, f.epsilon());
            return matTVec(one, g);
        }
        throw new IllegalArgumentException("no reference for rule " + rule + " on a dense layer");
    }

    /** {@code g = r / stab(d)}, 0 where {@code stab(d) == 0}. */
    static double[] divide(double[] r, double[] d, double eps) {
        double[] g = new double[r.length];
        for (int j = 0; j < r.length; j++) {
            double s = d[j] + eps * (d[j] >= 0 ? 1 : -1);
            g[j] = s == 0 ? 0 : r[j] / s;
        }
        return g;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Plain double linear algebra

    /** {@code w[j][i] = weight[j*in + i]} (PyTorch layout). */
    static double[][] weight(Dense d) {
        float[] f = d.weight();
        double[][] w = new double[d.out()][d.in()];
        for (int j = 0; j < d.out(); j++) {
            for (int i = 0; i < d.in(); i++) {
                w[j][i] = f[j * d.in() + i];
            }
        }
        return w;
    }

    /** {@code (W x)_j = sum_i w[j][i] x_i}. */
    static double[] matVec(double[][] w, double[] x) {
        double[] y = new double[w.length];
        for (int j = 0; j < w.length; j++) {
            double s = 0;
            for (int i = 0; i < x.length; i++) {
                s += w[j][i] * x[i];
            }
            y[j] = s;
        }
        return y;
    }

    /** {@code (W^T g)_i = sum_j w[j][i] g_j}. */
    static double[] matTVec(double[][] w, double[] g) {
        int in = w.length == 0 ? 0 : w[0].length;
        double[] y = new double[in];
        for (int j = 0; j < w.length; j++) {
            for (int i = 0; i < in; i++) {
                y[i] += w[j][i] * g[j];
            }
        }
        return y;
    }

    static double[] pos(double[] a) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = a[i] > 0 ? a[i] : 0;
        }
        return o;
    }

    static double[] neg(double[] a) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = a[i] < 0 ? a[i] : 0;
        }
        return o;
    }

    static double[][] pos(double[][] a) {
        double[][] o = new double[a.length][];
        for (int j = 0; j < a.length; j++) {
            o[j] = pos(a[j]);
        }
        return o;
    }

    static double[][] neg(double[][] a) {
        double[][] o = new double[a.length][];
        for (int j = 0; j < a.length; j++) {
            o[j] = neg(a[j]);
        }
        return o;
    }

    static double[] add(double[] a, double[] b) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = a[i] + b[i];
        }
        return o;
    }

    static double[] sub(double[] a, double[] b) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = a[i] - b[i];
        }
        return o;
    }

    /** Elementwise product. */
    static double[] mul(double[] a, double[] b) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = a[i] * b[i];
        }
        return o;
    }

    static double[] scale(double s, double[] a) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = s * a[i];
        }
        return o;
    }

    static double[][] addM(double[][] a, double[][] b) {
        double[][] o = new double[a.length][];
        for (int j = 0; j < a.length; j++) {
            o[j] = add(a[j], b[j]);
        }
        return o;
    }

    static double[][] scaleM(double s, double[][] a) {
        double[][] o = new double[a.length][];
        for (int j = 0; j < a.length; j++) {
            o[j] = scale(s, a[j]);
        }
        return o;
    }

    static double[] square(double[] a) {
        return mul(a, a);
    }

    static double[][] square(double[][] a) {
        double[][] o = new double[a.length][];
        for (int j = 0; j < a.length; j++) {
            o[j] = square(a[j]);
        }
        return o;
    }

    static double[] ones(int n) {
        double[] o = new double[n];
        java.util.Arrays.fill(o, 1.0);
        return o;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    static double[][] copy(double[][] a) {
        double[][] o = new double[a.length][];
        for (int b = 0; b < a.length; b++) {
            o[b] = a[b].clone();
        }
        return o;
    }
}
