package org.gpulrp.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Products;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Activation.Function;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Multiply;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.model.Permute;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Slice;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.Test;

/**
 * The layers of gated and shuffled CNNs (squeeze-and-excitation products, ReLU6/hard-sigmoid/hard-swish/SiLU, slices,
 * permutations, constant scales), explained with Epsilon and checked against a float64 reference written here from
 * the formulas of docs/DESIGN.md section 2.5, under every {@link Products} mode, on both backends, bit for bit alike.
 */
class GatedGraphTest {
    private static final double EPS = 1e-6;

    private static Dense dense(SplittableRandom r, int in, int out) {
        return new Dense(in, out, GraphNetworkTest.randn(r, in * out, Math.sqrt(2.0 / in)),
                GraphNetworkTest.randn(r, out, 0.3));
    }

    private static float[] randn(SplittableRandom r, int n, double scale) {
        return GraphNetworkTest.randn(r, n, scale);
    }

    /** A gate over 4 channels of 3 positions, a self-product, a slice, a shuffle, a scale and every new activation. */
    static Network gated() {
        SplittableRandom r = new SplittableRandom(21);
        int[] shuffle = {4, 5, 0, 1, 6, 7, 2, 3};
        float[] factors = {0.5f, -1.5f, 2f, 0.25f, 1f, 3f, -0.75f, 1.25f};
        return Network.builder("gated", 12)
                .add("fcA", dense(r, 12, 12)).add("hs", new Activation(Function.HARDSWISH))
                .add("fcG", dense(r, 12, 4)).add("gate", new Activation(Function.HARDSIGMOID))
                .add("mul", new Multiply(3), "hs", "gate")
                .add("silu", new Activation(Function.SILU))
                .add("sl", new Slice(2, 8))
                .add("sq", new Multiply(1), "sl", "sl")
                .add("perm", new Permute(shuffle))
                .add("scale", new Scale(factors))
                .add("r6", new Activation(Function.RELU6))
                .add("head", dense(r, 8, 3))
                .build();
    }

    private static double act(Function f, double x) {
        return switch (f) {
            case RELU6 -> Math.min(Math.max(x, 0), 6);
            case HARDSIGMOID -> Math.min(Math.max(x + 3, 0), 6) / 6;
            case HARDSWISH -> x * Math.min(Math.max(x + 3, 0), 6) / 6;
            case SILU -> x / (1 + Math.exp(-x));
            default -> throw new IllegalArgumentException(f.toString());
        };
    }

    private static double stab(double z) {
        return z + (z >= 0 ? EPS : -EPS);
    }

    /** Float64 reference of one sample: the input relevance, from the formulas. */
    static double[] reference(Network net, float[] x, int sample, int target, Products mode) {
        Map<String, double[]> val = new HashMap<>();
        int in = net.inputSize();
        double[] x0 = new double[in];
        for (int i = 0; i < in; i++) {
            x0[i] = x[sample * in + i];
        }
        val.put(Network.INPUT, x0);
        for (Node n : net.nodes()) {
            double[] a = val.get(n.sources().get(0));
            double[] y = new double[n.outputSize()];
            if (n.layer() instanceof Dense d) {
                for (int j = 0; j < d.out(); j++) {
                    y[j] = d.bias()[j];
                    for (int i = 0; i < d.in(); i++) {
                        y[j] += a[i] * d.weight()[j * d.in() + i];
                    }
                }
            } else if (n.layer() instanceof Activation act) {
                for (int i = 0; i < y.length; i++) {
                    y[i] = act(act.function(), a[i]);
                }
            } else if (n.layer() instanceof Multiply m) {
                double[] g = val.get(n.sources().get(1));
                for (int i = 0; i < y.length; i++) {
                    y[i] = a[i] * g[i / m.spatial()];
                }
            } else if (n.layer() instanceof Slice s) {
                System.arraycopy(a, s.start(), y, 0, s.length());
            } else if (n.layer() instanceof Permute p) {
                for (int i = 0; i < y.length; i++) {
                    y[i] = a[p.index()[i]];
                }
            } else if (n.layer() instanceof Scale s) {
                for (int i = 0; i < y.length; i++) {
                    y[i] = a[i] * s.factors()[i];
                }
            }
            val.put(n.name(), y);
        }
        List<Node> nodes = net.nodes();
        Map<String, double[]> rel = new HashMap<>();
        Node last = nodes.get(nodes.size() - 1);
        double[] r0 = new double[last.outputSize()];
        r0[target] = val.get(last.name())[target];
        rel.put(last.name(), r0);
        for (int k = nodes.size() - 1; k >= 0; k--) {
            Node n = nodes.get(k);
            double[] r = rel.get(n.name());
            String s0 = n.sources().get(0);
            double[] a = val.get(s0);
            double[] z = val.get(n.name());
            double[] ri = new double[a.length];
            if (n.layer() instanceof Dense d) {
                for (int j = 0; j < d.out(); j++) {
                    double g = r[j] / stab(z[j]);
                    for (int i = 0; i < d.in(); i++) {
                        ri[i] += a[i] * d.weight()[j * d.in() + i] * g;
                    }
                }
            } else if (n.layer() instanceof Multiply m) {
                String s1 = n.sources().get(1);
                double[] g = val.get(s1);
                double[] rg = new double[g.length];
                for (int i = 0; i < a.length; i++) {
                    if (mode == Products.GRADIENT) {
                        ri[i] = r[i] * g[i / m.spatial()];
                        rg[i / m.spatial()] += r[i] * a[i];
                    } else if (mode == Products.UNIFORM) {
                        ri[i] = z[i] * r[i] / stab(z[i]) / 2;
                        rg[i / m.spatial()] += ri[i];
                    } else {
                        ri[i] = r[i];
                    }
                }
                addTo(rel, s1, rg);
            } else if (n.layer() instanceof Slice s) {
                System.arraycopy(r, 0, ri, s.start(), s.length());
            } else if (n.layer() instanceof Permute p) {
                for (int i = 0; i < r.length; i++) {
                    ri[p.index()[i]] = r[i];
                }
            } else if (n.layer() instanceof Scale s) {
                for (int i = 0; i < r.length; i++) {
                    ri[i] = a[i] * s.factors()[i] * r[i] / stab(z[i]);
                }
            } else {
                ri = r.clone();
            }
            addTo(rel, s0, ri);
        }
        return rel.get(Network.INPUT);
    }

    private static void addTo(Map<String, double[]> rel, String name, double[] contribution) {
        double[] have = rel.get(name);
        if (have == null) {
            rel.put(name, contribution.clone());
        } else {
            for (int i = 0; i < have.length; i++) {
                have[i] += contribution[i];
            }
        }
    }

    private static Explanation explain(Network net, float[] x, int rows, Products mode, OpenClBackend cl) {
        Explainer.Builder b = GpuLrp.explainer(net).composite(Composite.uniform(new Epsilon()).withProducts(mode))
                .keepLayerRelevances(true).chunkRows(5);
        try (Explainer e = cl != null ? b.backend(cl).build() : b.build()) {
            return e.explain(new Tensor(x, rows, net.inputSize()), Target.argmax());
        }
    }

    @Test
    void gatedGraphMatchesTheFloat64ReferenceInBothProductModes() {
        Network net = gated();
        int rows = 17;
        float[] x = randn(new SplittableRandom(8), rows * net.inputSize(), 1.5);
        for (Products mode : Products.values()) {
            Explanation e = explain(net, x, rows, mode, null);
            for (int b = 0; b < rows; b++) {
                double[] ref = reference(net, x, b, e.targets()[b], mode);
                double max = 0;
                for (double v : ref) {
                    max = Math.max(max, Math.abs(v));
                }
                assertTrue(max > 0, "sample " + b + " has relevance");
                for (int i = 0; i < net.inputSize(); i++) {
                    assertEquals(ref[i], e.relevance().get(b, i), 1e-4 * max, mode + " sample " + b + " feature "
                            + i);
                }
            }
        }
    }

    @Test
    void theTwoProductModesDiffer() {
        Network net = gated();
        float[] x = randn(new SplittableRandom(8), 3 * net.inputSize(), 1.5);
        float[] grad = explain(net, x, 3, Products.GRADIENT, null).layerRelevance("gate").toArray();
        float[] constant = explain(net, x, 3, Products.CONSTANT_GATE, null).layerRelevance("gate").toArray();
        double g = 0;
        for (int k = 0; k < grad.length; k++) {
            g += Math.abs(grad[k]);
            assertEquals(0f, constant[k], "a constant gate receives no relevance");
        }
        assertTrue(g > 0, "the gradient mode sends relevance into the gate");
        // Uniform: a product's relevance is conserved (up to the stabilizer; sl feeds only the square sq, both of
        // its factors), and the gate gets its share.
        Explanation u = explain(net, x, 3, Products.UNIFORM, null);
        for (int b = 0; b < 3; b++) {
            double in = sum(u.layerRelevance("sq").row(b));
            assertEquals(in, sum(u.layerRelevance("sl").row(b)), 1e-4 * Math.abs(in), "sample " + b);
            assertTrue(in != 0 && sum(u.layerRelevance("gate").row(b)) != 0, "sample " + b);
        }
    }

    private static double sum(float[] a) {
        double s = 0;
        for (float v : a) {
            s += v;
        }
        return s;
    }

    @Test
    void cpuAndOpenClAgreeBitForBit() {
        Network net = gated();
        int rows = 13;
        float[] x = randn(new SplittableRandom(9), rows * net.inputSize(), 1.5);
        try (OpenClBackend cl = OpenClTestSupport.openOrSkip()) {
            for (Products mode : Products.values()) {
                Explanation cpu = explain(net, x, rows, mode, null);
                Explanation ocl = explain(net, x, rows, mode, cl);
                for (String layer : cpu.layerRelevances().keySet()) {
                    float[] p = cpu.layerRelevance(layer).toArray();
                    float[] q = ocl.layerRelevance(layer).toArray();
                    for (int k = 0; k < p.length; k++) {
                        assertEquals(Float.floatToRawIntBits(p[k]), Float.floatToRawIntBits(q[k]), mode + " " + layer
                                + " " + k);
                    }
                }
                float[] a = cpu.relevance().toArray();
                float[] c = ocl.relevance().toArray();
                for (int k = 0; k < a.length; k++) {
                    assertEquals(Float.floatToRawIntBits(a[k]), Float.floatToRawIntBits(c[k]), "input " + k);
                }
            }
        }
    }

    @Test
    void badLayersAreRefusedWhenBuilt() {
        assertThrows(InvalidArgumentException.class, () -> new Permute(new int[] {0, 0, 1}));
        assertThrows(InvalidArgumentException.class, () -> new Scale(new float[] {Float.NaN}));
        Network.Builder b = Network.builder(12).add("fc", dense(new SplittableRandom(1), 12, 5));
        assertThrows(ShapeMismatchException.class, () -> b.add("m", new Multiply(3), "fc", Network.INPUT));
        assertThrows(InvalidArgumentException.class, () -> b.add("s", new Slice(3, 4), "fc"));
        assertThrows(InvalidArgumentException.class, () -> b.add("p", new Permute(new int[] {1, 0}), "fc"));
        // Runs are {outStart, inStart, length}, as long as possible.
        int[][] runs = new Permute(new int[] {3, 4, 0, 1, 2}).runs();
        assertEquals(List.of(List.of(0, 3, 2), List.of(2, 0, 3)), java.util.Arrays.stream(runs)
                .map(r -> List.of(r[0], r[1], r[2])).toList());
    }
}
