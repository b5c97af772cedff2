package org.gpulrp.cnn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.reference.Float64Graph;
import org.gpulrp.model.PoolGeometry;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.composite.LayerContext;
import org.gpulrp.model.Activation;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Dense;
import org.gpulrp.model.MaxPool2d;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A small CNN (padding, stride, max and average pooling, flatten, dense head) explained with every rule and the CNN
 * presets, against a float64 reference that turns each convolution into its explicit matrix and applies the formulas
 * of docs/DESIGN.md section 2; CPU and OpenCL bit for bit alike.
 */
class ConvNetworkTest {

    private static float[] randn(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
            a[k] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    static Network cnn() {
        SplittableRandom r = new SplittableRandom(21);
        Network.Builder b = Network.builder("cnn", 2, 7, 6);
        b.conv2d("conv1", 4, 3, 1, 1, randn(r, 4 * 2 * 9, 0.4), randn(r, 4, 0.1)).relu("relu1");
        b.maxPool2d("pool1", 2, 2);
        b.add("conv2", new Conv2d(new ConvGeometry(4, 3, 3, 6, 3, 2, 2, 1, 1, 0, 1, 1, 2),
                randn(r, 6 * 2 * 3 * 2, 0.4), randn(r, 6, 0.1)));
        b.relu("relu2").avgPool2d("pool2", 2, 1).flatten("flat");
        int features = b.shapeOf("flat")[0];
        b.dense("fc", 3, randn(r, 3 * features, 0.4), randn(r, 3, 0.1));
        return b.build();
    }

    static Stream<Arguments> composites() {
        return Stream.of(
                Arguments.of("epsilon", Composite.uniform(new Epsilon())),
                Arguments.of("zplus", Composite.uniform(new ZPlus())),
                Arguments.of("alpha2beta1", Composite.uniform(new AlphaBeta(2, 1))),
                Arguments.of("gamma", Composite.uniform(new Gamma(0.25f))),
                Arguments.of("wsquare", Composite.uniform(new WSquare())),
                Arguments.of("flat", Composite.uniform(new Flat())),
                Arguments.of("zbox-per-channel", Composite.uniform(new Epsilon())
                        .withFirst(new ZBox(new float[] {-3f, -2f}, new float[] {3f, 2.5f}, 1e-6f))),
                Arguments.of("epsilon-plus", Composites.epsilonPlus()),
                Arguments.of("epsilon-alpha2-beta1-flat", Composites.epsilonAlpha2Beta1Flat()),
                Arguments.of("epsilon-gamma-box", Composites.epsilonGammaBox(-3f, 3f)));
    }

    private static Explanation explain(Network net, float[] x, int rows, Composite c, OpenClBackend cl) {
        Explainer.Builder b = GpuLrp.explainer(net).composite(c).chunkRows(4);
        try (Explainer e = cl != null ? b.backend(cl).build() : b.backend(BackendChoice.CPU).build()) {
            return e.explain(new Tensor(x, rows, 2, 7, 6), Target.argmax());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("composites")
    void matchesTheFloat64ReferenceOnBothBackends(String name, Composite composite) {
        Network net = cnn();
        int rows = 6;
        float[] x = randn(new SplittableRandom(8), rows * net.inputSize(), 1.0);
        Explanation cpu = explain(net, x, rows, composite, null);
        List<Rule> rules = rules(net, composite);
        for (int b = 0; b < rows; b++) {
            double[] ref = Reference.explain(net, rules, x, b, cpu.targets()[b]);
            double max = 0;
            for (double v : ref) {
                max = Math.max(max, Math.abs(v));
            }
            for (int i = 0; i < ref.length; i++) {
                assertEquals(ref[i], cpu.relevance().toArray()[b * ref.length + i], 1e-5 * max,
                        name + ": sample " + b + " input " + i);
            }
        }
        try (OpenClBackend cl = OpenClTestSupport.openOrSkip()) {
            float[] a = cpu.relevance().toArray();
            float[] c = explain(net, x, rows, composite, cl).relevance().toArray();
            for (int k = 0; k < a.length; k++) {
                assertEquals(Float.floatToRawIntBits(a[k]), Float.floatToRawIntBits(c[k]), name + " element " + k);
            }
        }
    }

    @Test
    void presetsGiveConvolutionsTheirRules() {
        List<Rule> r = rules(cnn(), Composites.epsilonGammaBox(-1f, 1f));
        assertEquals(ZBox.class, r.get(0).getClass());
        assertEquals(Gamma.class, r.get(3).getClass());
        assertEquals(Epsilon.class, r.get(r.size() - 1).getClass());
        List<Rule> p = rules(cnn(), Composites.epsilonPlus());
        assertEquals(ZPlus.class, p.get(0).getClass());
        assertEquals(Epsilon.class, p.get(p.size() - 1).getClass());
    }

    private static List<Rule> rules(Network net, Composite c) {
        return c.rules(net);
    }

    /** The float64 reference: each linear layer as an explicit matrix, the rules as docs/DESIGN.md section 2 says. */
    static final class Reference {
        private static final double EPS = 1e-6;

        /** A linear map: weights [out][in] (0 where not connected), connectivity, bias [out]. */
        record Map(double[][] w, boolean[][] connected, double[] b) {
        }

        static Map conv(ConvGeometry g, float[] wf, float[] bf) {
            int out = g.outSize();
            double[][] w = new double[out][g.inSize()];
            boolean[][] c = new boolean[out][g.inSize()];
            double[] b = new double[out];
            for (int o = 0; o < out; o++) {
                b[o] = bf == null ? 0 : bf[o / (g.outH() * g.outW())];
            }
            Float64Graph.forEachTap(g, (o, i, k) -> {
                w[o][i] = wf[k];
                c[o][i] = true;
            });
            return new Map(w, c, b);
        }

        static Map avgPool(PoolGeometry p) {
            float[] w = new float[p.channels() * p.kernelH() * p.kernelW()];
            java.util.Arrays.fill(w, 1f / (p.kernelH() * p.kernelW()));
            return conv(new ConvGeometry(p.channels(), p.inH(), p.inW(), p.channels(), p.kernelH(), p.kernelW(),
                    p.strideH(), p.strideW(), p.padH(), p.padW(), 1, 1, p.channels()), w, null);
        }

        static Map dense(Dense d) {
            double[][] w = new double[d.out()][d.in()];
            boolean[][] c = new boolean[d.out()][d.in()];
            double[] b = new double[d.out()];
            float[] wf = d.weight();
            for (int j = 0; j < d.out(); j++) {
                b[j] = d.bias()[j];
                for (int i = 0; i < d.in(); i++) {
                    w[j][i] = wf[j * d.in() + i];
                    c[j][i] = true;
                }
            }
            return new Map(w, c, b);
        }

        private static double stab(double d) {
            return d + (d >= 0 ? EPS : -EPS);
        }

        static double[] explain(Network net, List<Rule> rules, float[] xs, int sample, int target) {
            List<Node> nodes = net.nodes();
            List<double[]> acts = new ArrayList<>();
            double[] x = new double[net.inputSize()];
            for (int i = 0; i < x.length; i++) {
                x[i] = xs[sample * x.length + i];
            }
            acts.add(x);
            List<Object> maps = new ArrayList<>();
            for (Node n : nodes) {
                double[] a = acts.get(acts.size() - 1);
                Map m = n.layer() instanceof Conv2d c ? conv(c.geometry(), c.weight(), c.bias())
                        : n.layer() instanceof Dense d ? dense(d)
                        : n.layer() instanceof AvgPool2d ap ? avgPool(ap.geometry()) : null;
                maps.add(m);
                double[] y;
                if (m != null) {
                    y = new double[m.b.length];
                    for (int j = 0; j < y.length; j++) {
                        double z = m.b[j];
                        for (int i = 0; i < a.length; i++) {
                            z += m.w[j][i] * a[i];
                        }
                        y[j] = z;
                    }
                } else if (n.layer() instanceof MaxPool2d mp) {
                    y = maxPool(mp.geometry(), a, null);
                } else if (n.layer() instanceof Activation) {
                    y = a.clone();
                    for (int i = 0; i < y.length; i++) {
                        y[i] = Math.max(y[i], 0);
                    }
                } else {
                    y = a.clone();
                }
                acts.add(y);
            }
            double[] top = acts.get(acts.size() - 1);
            double[] r = new double[top.length];
            r[target] = top[target];
            for (int k = nodes.size() - 1; k >= 0; k--) {
                Node n = nodes.get(k);
                double[] a = acts.get(k);
                Map m = (Map) maps.get(k);
                if (n.layer() instanceof MaxPool2d mp) {
                    int[] arg = new int[r.length];
                    maxPool(mp.geometry(), a, arg);
                    double[] ri = new double[a.length];
                    for (int o = 0; o < r.length; o++) {
                        ri[arg[o]] += r[o];
                    }
                    r = ri;
                } else if (m != null) {
                    Rule rule = n.layer() instanceof AvgPool2d ? new Epsilon() : rules.get(k);
                    r = linear(m, rule, a, acts.get(k + 1), r);
                }
            }
            return r;
        }

        private static double[] maxPool(PoolGeometry p, double[] a, int[] arg) {
            double[] y = new double[p.outSize()];
            for (int c = 0; c < p.channels(); c++) {
                for (int oh = 0; oh < p.outH(); oh++) {
                    for (int ow = 0; ow < p.outW(); ow++) {
                        int o = (c * p.outH() + oh) * p.outW() + ow;
                        double best = Double.NEGATIVE_INFINITY;
                        int where = -1;
                        for (int kh = 0; kh < p.kernelH(); kh++) {
                            for (int kw = 0; kw < p.kernelW(); kw++) {
                                int ih = oh * p.strideH() - p.padH() + kh;
                                int iw = ow * p.strideW() - p.padW() + kw;
                                if (ih < 0 || ih >= p.inH() || iw < 0 || iw >= p.inW()) {
                                    continue;
                                }
                                int i = (c * p.inH() + ih) * p.inW() + iw;
                                if (a[i] > best) {
                                    best = a[i];
                                    where = i;
                                }
                            }
                        }
                        y[o] = best;
                        if (arg != null) {
                            arg[o] = where;
                        }
                    }
                }
            }
            return y;
        }

        private static double[] linear(Map m, Rule rule, double[] x, double[] z, double[] r) {
            int out = m.b.length;
            int in = x.length;
            double[] ri = new double[in];
            for (int j = 0; j < out; j++) {
                if (rule instanceof Epsilon e) {
                    double g = r[j] / (z[j] + (z[j] >= 0 ? e.epsilon() : -e.epsilon()));
                    for (int i = 0; i < in; i++) {
                        ri[i] += x[i] * m.w[j][i] * g;
                    }
                } else if (rule instanceof ZPlus || rule instanceof AlphaBeta) {
                    double al = rule instanceof AlphaBeta ab ? ab.alpha() : 1;
                    double be = rule instanceof AlphaBeta ab ? ab.beta() : 0;
                    double p = Math.max(m.b[j], 0);
                    double n = Math.min(m.b[j], 0);
                    for (int i = 0; i < in; i++) {
                        double w = m.w[j][i];
                        p += Math.max(x[i], 0) * Math.max(w, 0) + Math.min(x[i], 0) * Math.min(w, 0);
                        n += Math.max(x[i], 0) * Math.min(w, 0) + Math.min(x[i], 0) * Math.max(w, 0);
                    }
                    double gp = r[j] / stab(p);
                    double gn = r[j] / stab(n);
                    for (int i = 0; i < in; i++) {
                        double w = m.w[j][i];
                        double xp = Math.max(x[i], 0);
                        double xn = Math.min(x[i], 0);
                        ri[i] += al * (xp * Math.max(w, 0) * gp + xn * Math.min(w, 0) * gp)
                                - (be == 0 ? 0 : be * (xp * Math.min(w, 0) * gn + xn * Math.max(w, 0) * gn));
                    }
                } else if (rule instanceof Gamma gm) {
                    double ga = gm.gamma();
                    double bp = m.b[j] + ga * Math.max(m.b[j], 0);
                    double bn = m.b[j] + ga * Math.min(m.b[j], 0);
                    double p = bp;
                    double n = bn;
                    for (int i = 0; i < in; i++) {
                        double w = m.w[j][i];
                        double wp = w + ga * Math.max(w, 0);
                        double wn = w + ga * Math.min(w, 0);
                        p += wp * Math.max(x[i], 0) + wn * Math.min(x[i], 0);
                        n += wn * Math.max(x[i], 0) + wp * Math.min(x[i], 0);
                    }
                    double gp = z[j] > 0 ? r[j] / stab(p) : 0;
                    double gn = z[j] < 0 ? r[j] / stab(n) : 0;
                    for (int i = 0; i < in; i++) {
                        double w = m.w[j][i];
                        double wp = w + ga * Math.max(w, 0);
                        double wn = w + ga * Math.min(w, 0);
                        double xp = Math.max(x[i], 0);
                        double xn = Math.min(x[i], 0);
                        ri[i] += xp * wp * gp + xn * wn * gp + xp * wn * gn + xn * wp * gn;
                    }
                } else if (rule instanceof ZBox zb) {
                    int plane = in / (zb.boundCount() == 1 ? 1 : zb.boundCount());
                    double d = 0;
                    for (int i = 0; i < in; i++) {
                        int k = zb.boundCount() == 1 ? 0 : i / plane;
                        double w = m.w[j][i];
                        d += x[i] * w - zb.low(k) * Math.max(w, 0) - zb.high(k) * Math.min(w, 0);
                    }
                    double g = r[j] / stab(d);
                    for (int i = 0; i < in; i++) {
                        int k = zb.boundCount() == 1 ? 0 : i / plane;
                        double w = m.w[j][i];
                        ri[i] += (x[i] * w - zb.low(k) * Math.max(w, 0) - zb.high(k) * Math.min(w, 0)) * g;
                    }
                } else if (rule instanceof WSquare) {
                    double d = m.b[j] * m.b[j];
                    for (int i = 0; i < in; i++) {
                        d += m.w[j][i] * m.w[j][i];
                    }
                    double g = r[j] / stab(d);
                    for (int i = 0; i < in; i++) {
                        ri[i] += m.w[j][i] * m.w[j][i] * g;
                    }
                } else if (rule instanceof Flat) {
                    int count = 0;
                    for (int i = 0; i < in; i++) {
                        count += m.connected[j][i] ? 1 : 0;
                    }
                    double g = r[j] / stab(count);
                    for (int i = 0; i < in; i++) {
                        ri[i] += m.connected[j][i] ? g : 0;
                    }
                } else {
                    throw new IllegalStateException("rule " + rule);
                }
            }
            return ri;
        }
    }
}
