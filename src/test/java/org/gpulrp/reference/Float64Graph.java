package org.gpulrp.reference;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.composite.Attention;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Products;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Add;
import org.gpulrp.model.Concat;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Embedding;
import org.gpulrp.model.Identity;
import org.gpulrp.model.Index;
import org.gpulrp.model.Layer;
import org.gpulrp.model.LayerNorm;
import org.gpulrp.model.MatMul;
import org.gpulrp.model.Multiply;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.model.Offset;
import org.gpulrp.model.Permute;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Slice;
import org.gpulrp.model.Softmax;
import org.gpulrp.rules.Rule;

/**
 * An independent float64 LRP for graphs, transformers included, written from the formulas of docs/DESIGN.md
 * sections 2.5 and 2.9 as textbook algebra on one sample at a time: the oracle of the transformer tests. It shares
 * nothing with the engine but the configuration (the composite's rule per node, its products and attention modes);
 * dense layers use {@link Float64Lrp}'s rules at each position, a layer norm builds its matrix
 * {@code W_ji = gamma_j / sd (delta_ij - 1/N)} and applies the epsilon rule to it, a matrix product splits each
 * single product {@code a_ik b_kj}, GELU uses its own error function ({@link #erf}: a power series and a continued
 * fraction). Initial relevance: the network output at the target (OUTPUT).
 */
public final class Float64Graph {
    private static final double EPS = Rule.DEFAULT_EPSILON;

    /**
     * @param values    every node's output (and {@link Network#INPUT}), by name
     * @param relevance the relevance at every node's output (and the input relevance under {@link Network#INPUT})
     */
    public record Result(Map<String, double[]> values, Map<String, double[]> relevance) {
        /** The network input's relevance. */
        public double[] input() {
            return relevance.get(Network.INPUT);
        }
    }

    private Float64Graph() {
    }

    /** Explains one sample for the class {@code target}. */
    public static Result explain(Network net, Composite composite, float[] x, int target) {
        List<Node> nodes = net.nodes();
        List<Rule> rules = composite.rules(net);
        Map<String, double[]> val = new LinkedHashMap<>();
        double[] in = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            in[i] = x[i];
        }
        val.put(Network.INPUT, in);
        for (Node n : nodes) {
            val.put(n.name(), forward(n, inputs(n, val)));
        }
        Map<String, double[]> rel = new HashMap<>();
        Node last = nodes.get(nodes.size() - 1);
        double[] r0 = new double[last.outputSize()];
        r0[target] = val.get(last.name())[target];
        rel.put(last.name(), r0);
        Map<String, double[]> layers = new LinkedHashMap<>();
        for (int k = nodes.size() - 1; k >= 0; k--) {
            Node n = nodes.get(k);
            double[] r = rel.get(n.name());
            if (r == null) {
                continue;
            }
            layers.put(n.name(), r);
            double[][] ins = inputs(n, val);
            double[][] down = backward(n, net, rules.get(k), composite, ins, val.get(n.name()), r);
            for (int i = 0; i < down.length; i++) {
                String s = n.sources().get(i);
                double[] have = rel.get(s);
                if (have == null) {
                    rel.put(s, down[i].clone());
                } else {
                    for (int q = 0; q < have.length; q++) {
                        have[q] += down[i][q];
                    }
                }
            }
        }
        layers.put(Network.INPUT, rel.get(Network.INPUT));
        return new Result(val, layers);
    }

    private static double[][] inputs(Node n, Map<String, double[]> val) {
        List<String> s = n.sources();
        double[][] ins = new double[s.size()][];
        for (int i = 0; i < ins.length; i++) {
            ins[i] = val.get(s.get(i));
        }
        return ins;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Forward

    static double[] forward(Node n, double[][] ins) {
        Layer layer = n.layer() instanceof Conv2d conv ? unrolled(conv) : n.layer();
        double[] x = ins[0];
        double[] y = new double[n.outputSize()];
        if (layer instanceof Dense d) {
            double[][] w = Float64Lrp.weight(d);
            double[] b = Float64Lrp.toDouble(d.bias());
            for (int p = 0; p < d.positions(); p++) {
                double[] z = Float64Lrp.add(Float64Lrp.matVec(w, slice(x, p * d.in(), d.in())), b);
                System.arraycopy(z, 0, y, p * d.out(), d.out());
            }
        } else if (layer instanceof LayerNorm ln) {
            int h = ln.hidden();
            for (int p = 0; p < ln.positions(); p++) {
                double[] v = slice(x, p * h, h);
                double[] gamma = Float64Lrp.toDouble(ln.gamma());
                double[] beta = Float64Lrp.toDouble(ln.beta());
                double mean = ln.rms() ? 0 : mean(v);
                double norm = normalizer(v, mean, ln);
                for (int i = 0; i < h; i++) {
                    y[p * h + i] = (v[i] - mean) / norm * gamma[i] + beta[i];
                }
            }
        } else if (layer instanceof Softmax sm) {
            for (int o = 0; o < x.length; o += sm.length()) {
                softmax(x, y, o, sm.length());
            }
        } else if (layer instanceof MatMul mm) {
            forEachProduct(mm, (ia, ib, o) -> y[o] += x[ia] * ins[1][ib]);
        } else if (layer instanceof Index ix) {
            int[] index = ix.index();
            for (int i = 0; i < index.length; i++) {
                y[i] = index[i] < 0 ? 0 : x[index[i]];
            }
        } else if (layer instanceof Offset o) {
            float[] c = o.perFeature(x.length);
            for (int i = 0; i < x.length; i++) {
                y[i] = x[i] + c[i];
            }
        } else if (layer instanceof Embedding e) {
            float[] table = e.table();
            for (int t = 0; t < e.positions(); t++) {
                int id = (int) x[t];
                if (id != x[t] || id < 0 || id >= e.vocab()) {
                    throw new IllegalArgumentException("token id " + x[t] + " at position " + t);
                }
                for (int h = 0; h < e.hidden(); h++) {
                    y[t * e.hidden() + h] = table[id * e.hidden() + h];
                }
            }
        } else if (layer instanceof Activation a) {
            for (int i = 0; i < x.length; i++) {
                y[i] = activation(a.function(), x[i]);
            }
            if (a.function() == Activation.Function.SOFTMAX) {
                softmax(x, y, 0, x.length);
            }
        } else if (layer instanceof Add) {
            for (double[] in : ins) {
                for (int i = 0; i < y.length; i++) {
                    y[i] += in[i];
                }
            }
        } else if (layer instanceof Scale s) {
            float[] f = s.perFeature(x.length);
            for (int i = 0; i < x.length; i++) {
                y[i] = x[i] * f[i];
            }
        } else if (layer instanceof Multiply m) {
            for (int i = 0; i < y.length; i++) {
                y[i] = x[i] * ins[1][i / m.spatial()];
            }
        } else if (layer instanceof Slice s) {
            System.arraycopy(x, s.start(), y, 0, s.length());
        } else if (layer instanceof Permute p) {
            int[] index = p.index();
            for (int i = 0; i < y.length; i++) {
                y[i] = x[index[i]];
            }
        } else if (layer instanceof Concat) {
            int o = 0;
            for (double[] in : ins) {
                System.arraycopy(in, 0, y, o, in.length);
                o += in.length;
            }
        } else if (layer instanceof Identity) {
            System.arraycopy(x, 0, y, 0, x.length);
        } else {
            throw new IllegalArgumentException("no float64 reference for " + layer);
        }
        return y;
    }

    /**
     * A convolution as the dense layer of its matrix ({@code [outSize, inSize]}, zeros off its taps, the channel
     * bias at every position), for rules whose formula only reads weights and biases (not Flat's connection counts).
     */
    private static Dense unrolled(Conv2d c) {
        ConvGeometry g = c.geometry();
        float[] wf = c.weight();
        float[] bf = c.bias();
        int in = g.inSize();
        float[] w = new float[g.outSize() * in];
        float[] b = new float[g.outSize()];
        forEachTap(g, (o, i, k) -> w[o * in + i] = wf[k]);
        for (int o = 0; o < b.length; o++) {
            b[o] = bf[o / (g.outH() * g.outW())];
        }
        return new Dense(in, g.outSize(), w, b);
    }

    /** One tap of a convolution: output feature {@code out} reads input feature {@code in} through weight {@code w}. */
    @FunctionalInterface
    public interface Tap {
        void accept(int out, int in, int w);
    }

    /**
     * Every tap of a convolution as PyTorch defines it (taps that fall in the padding left out), output features in
     * order: output {@code (oc, oh, ow)} reads input {@code (ci, ih, iw)} with {@code ih = oh strideH - padH +
     * kh dilationH} (iw likewise), ci in oc's group, through {@code weight[oc, ci_local, kh, kw]}.
     */
    public static void forEachTap(ConvGeometry g, Tap tap) {
        int cinG = g.inChannels() / g.groups();
        int coutG = g.outChannels() / g.groups();
        for (int oc = 0; oc < g.outChannels(); oc++) {
            for (int oh = 0; oh < g.outH(); oh++) {
                for (int ow = 0; ow < g.outW(); ow++) {
                    int o = (oc * g.outH() + oh) * g.outW() + ow;
                    for (int cl = 0; cl < cinG; cl++) {
                        int ci = oc / coutG * cinG + cl;
                        for (int kh = 0; kh < g.kernelH(); kh++) {
                            for (int kw = 0; kw < g.kernelW(); kw++) {
                                int ih = oh * g.strideH() - g.padH() + kh * g.dilationH();
                                int iw = ow * g.strideW() - g.padW() + kw * g.dilationW();
                                if (ih >= 0 && ih < g.inH() && iw >= 0 && iw < g.inW()) {
                                    tap.accept(o, (ci * g.inH() + ih) * g.inW() + iw,
                                            ((oc * cinG + cl) * g.kernelH() + kh) * g.kernelW() + kw);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** An elementwise activation (the whole-sample softmax is done by the caller). */
    public static double activation(Activation.Function f, double x) {
        return switch (f) {
            case RELU -> Math.max(x, 0);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case SOFTMAX -> x;
            case RELU6 -> Math.min(Math.max(x, 0), 6);
            case HARDSIGMOID -> Math.min(Math.max(x + 3, 0), 6) / 6;
            case HARDSWISH -> x * Math.min(Math.max(x + 3, 0), 6) / 6;
            case SILU -> x / (1 + Math.exp(-x));
            case GELU -> 0.5 * x * erfc(-x / Math.sqrt(2));   // 1 + erf(x / sqrt 2), without cancellation
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case TANH -> Math.tanh(x);
        };
    }

    /**
     * The error function, independently of the engine's: the Maclaurin series {@code 2/sqrt(pi) sum (-1)^n
     * x^(2n+1) / (n! (2n+1))} below 3, above it {@code 1 - erfc} with erfc by its continued fraction
     * {@code exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))} evaluated from the tail. Near 3 the
     * series loses about three digits to cancellation (1e-13 relative).
     */
    public static double erf(double x) {
        double a = Math.abs(x);
        double r = a < 3 ? series(a) : 1 - continuedFraction(a);
        return x < 0 ? -r : r;
    }

    /** {@code 1 - erf(x)}, by its continued fraction from 3 on (where it is small and 1 - erf would cancel). */
    public static double erfc(double x) {
        return x < 3 ? 1 - erf(x) : continuedFraction(x);
    }

    private static double series(double a) {
        double term = a;
        double sum = a;
        for (int n = 1; n < 200 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
            term *= -a * a / n;
            sum += term / (2 * n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    private static double continuedFraction(double a) {
        double f = a;
        for (int n = 120; n >= 1; n--) {
            f = a + (n / 2.0) / f;
        }
        return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
    }

    /** The softmax of {@code x[o .. o + l)} into {@code y}. */
    private static void softmax(double[] x, double[] y, int o, int l) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < l; j++) {
            max = Math.max(max, x[o + j]);
        }
        double sum = 0;
        for (int j = 0; j < l; j++) {
            y[o + j] = Math.exp(x[o + j] - max);
            sum += y[o + j];
        }
        for (int j = 0; j < l; j++) {
            y[o + j] /= sum;
        }
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double e : v) {
            s += e;
        }
        return s / v.length;
    }

    /** {@code sqrt(var + eps)} for a layer norm (centered by {@code mean}), {@code sqrt(mean(x^2) + eps)} for RMS. */
    private static double normalizer(double[] v, double mean, LayerNorm ln) {
        double s = 0;
        for (double e : v) {
            s += (e - mean) * (e - mean);
        }
        return Math.sqrt(s / v.length + ln.epsilon());
    }

    private static double[] slice(double[] x, int from, int length) {
        double[] o = new double[length];
        System.arraycopy(x, from, o, 0, length);
        return o;
    }

    private static double stab(double d) {
        return d + (d >= 0 ? EPS : -EPS);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Relevance: the contribution of node n's output relevance r to each of its inputs

    static double[][] backward(Node n, Network net, Rule rule, Composite c, double[][] ins, double[] z, double[] r) {
        Layer layer = n.layer() instanceof Conv2d conv ? unrolled(conv) : n.layer();
        double[] x = ins[0];
        double[] rx = new double[x.length];
        if (layer instanceof Dense d) {
            for (int p = 0; p < d.positions(); p++) {
                double[] part = Float64Lrp.denseRelevance(d, rule, slice(x, p * d.in(), d.in()),
                        slice(z, p * d.out(), d.out()), slice(r, p * d.out(), d.out()));
                System.arraycopy(part, 0, rx, p * d.in(), d.in());
            }
        } else if (layer instanceof LayerNorm ln) {
            int h = ln.hidden();
            double[] gamma = Float64Lrp.toDouble(ln.gamma());
            for (int p = 0; p < ln.positions(); p++) {
                double[] v = slice(x, p * h, h);
                double norm = normalizer(v, ln.rms() ? 0 : mean(v), ln);
                double[][] w = new double[h][h];   // the normalization as a linear map, W[j][i]
                for (int j = 0; j < h; j++) {
                    for (int i = 0; i < h; i++) {
                        w[j][i] = gamma[j] / norm * ((i == j ? 1 : 0) - (ln.rms() ? 0 : 1.0 / h));
                    }
                }
                double[] g = Float64Lrp.divide(slice(r, p * h, h), slice(z, p * h, h), EPS);
                double[] part = Float64Lrp.mul(v, Float64Lrp.matTVec(w, g));
                System.arraycopy(part, 0, rx, p * h, h);
            }
        } else if (layer instanceof Softmax sm) {
            if (c.attention() == Attention.ATTNLRP) {
                int l = sm.length();
                for (int o = 0; o < x.length; o += l) {
                    for (int i = 0; i < l; i++) {
                        double grad = 0;   // sum_j (d s_j / d x_i) R_j / s_j = sum_j (delta_ij - s_i) R_j
                        for (int j = 0; j < l; j++) {
                            grad += ((i == j ? 1 : 0) - z[o + i]) * r[o + j];
                        }
                        rx[o + i] = x[o + i] * grad;
                    }
                }
            }
        } else if (layer instanceof MatMul mm) {
            return matMul(mm, net, n, c, x, ins[1], z, r);
        } else if (layer instanceof Index ix) {
            int[] index = ix.index();
            for (int i = 0; i < index.length; i++) {
                if (index[i] >= 0) {
                    rx[index[i]] += r[i];
                }
            }
        } else if (layer instanceof Offset) {
            for (int i = 0; i < x.length; i++) {
                rx[i] = x[i] * r[i] / stab(z[i]);
            }
        } else if (layer instanceof Scale s) {
            float[] f = s.perFeature(x.length);
            for (int i = 0; i < x.length; i++) {
                rx[i] = x[i] * f[i] * r[i] / stab(z[i]);
            }
        } else if (layer instanceof Embedding e) {
            for (int t = 0; t < e.positions(); t++) {
                for (int h = 0; h < e.hidden(); h++) {
                    rx[t] += r[t * e.hidden() + h];
                }
            }
        } else if (layer instanceof Add) {
            double[][] out = new double[ins.length][x.length];
            for (int k = 0; k < ins.length; k++) {
                for (int i = 0; i < x.length; i++) {
                    out[k][i] = ins[k][i] * r[i] / stab(z[i]);
                }
            }
            return out;
        } else if (layer instanceof Multiply m) {
            return product(m, c.products(), x, ins[1], z, r);
        } else if (layer instanceof Slice s) {
            System.arraycopy(r, 0, rx, s.start(), s.length());
        } else if (layer instanceof Permute p) {
            int[] index = p.index();
            for (int i = 0; i < r.length; i++) {
                rx[index[i]] = r[i];
            }
        } else if (layer instanceof Concat) {
            double[][] out = new double[ins.length][];
            int o = 0;
            for (int k = 0; k < ins.length; k++) {
                out[k] = slice(r, o, ins[k].length);
                o += ins[k].length;
            }
            return out;
        } else if (layer instanceof Activation || layer instanceof Identity) {
            rx = r.clone();
        } else {
            throw new IllegalArgumentException("no float64 reference for " + layer);
        }
        return new double[][] {rx};
    }

    /** Each product {@code a_ik b_kj} gets its epsilon share of {@code R_ij}, split between the operands. */
    private static double[][] matMul(MatMul mm, Network net, Node n, Composite c, double[] a, double[] b,
                                     double[] z, double[] r) {
        double wa = 0.5;
        double wb = 0.5;
        if (c.attention() == Attention.CP_LRP) {
            boolean ca = fromSoftmax(net, n.sources().get(0));
            boolean cb = fromSoftmax(net, n.sources().get(1));
            if (ca != cb) {
                wa = ca ? 0 : 1;
                wb = cb ? 0 : 1;
            }
        }
        double[] ra = new double[a.length];
        double[] rb = new double[b.length];
        double fa = wa;
        double fb = wb;
        forEachProduct(mm, (ia, ib, o) -> {
            double share = a[ia] * b[ib] * r[o] / stab(z[o]);
            ra[ia] += fa * share;
            rb[ib] += fb * share;
        });
        return new double[][] {ra, rb};
    }

    /** One product {@code a[ia] b[ib]} of a matrix product, a term of its output {@code o}. */
    @FunctionalInterface
    private interface Product {
        void accept(int ia, int ib, int o);
    }

    /** Every product {@code a_ik b_kj} of a batched matrix product, with its operands' and its output's indices. */
    private static void forEachProduct(MatMul mm, Product p) {
        int m = mm.m();
        int k = mm.k();
        int n = mm.n();
        for (int h = 0; h < mm.batch(); h++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    for (int q = 0; q < k; q++) {
                        p.accept((h * m + i) * k + q, (h * k + q) * n + j, (h * m + i) * n + j);
                    }
                }
            }
        }
    }

    /** Whether a node's output is a softmax's, looking back through nodes that only move or scale one input. */
    private static boolean fromSoftmax(Network net, String name) {
        while (!name.equals(Network.INPUT)) {
            Node node = net.node(name);
            Layer l = node.layer();
            if (l instanceof Softmax) {
                return true;
            }
            if (!(l instanceof Index || l instanceof Permute || l instanceof Slice || l instanceof Identity
                    || l instanceof Scale)) {
                return false;
            }
            name = node.sources().get(0);
        }
        return false;
    }

    private static double[][] product(Multiply m, Products mode, double[] a, double[] g, double[] z, double[] r) {
        double[] ra = new double[a.length];
        double[] rg = new double[g.length];
        for (int i = 0; i < a.length; i++) {
            int q = i / m.spatial();
            switch (mode) {
                case GRADIENT -> {
                    ra[i] = r[i] * g[q];
                    rg[q] += r[i] * a[i];
                }
                case CONSTANT_GATE -> ra[i] = r[i];
                case UNIFORM -> {
                    double h = z[i] * r[i] / stab(z[i]) / 2;
                    ra[i] = h;
                    rg[q] += h;
                }
            }
        }
        return new double[][] {ra, rg};
    }
}
