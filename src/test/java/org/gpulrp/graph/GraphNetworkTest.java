package org.gpulrp.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Add;
import org.gpulrp.model.Concat;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.Test;

/**
 * Networks that are graphs, not chains: residual additions, concatenations and fan-out, explained with Epsilon and
 * checked against a float64 reference written here from the formulas (fan-out sums relevance; an addition splits it
 * as {@code R_i = x_i R / stab(z)}; a concatenation splits it by position), on both backends, bit for bit alike.
 */
class GraphNetworkTest {
    private static final double EPS = 1e-6;

    static float[] randn(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
            a[k] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    private static Dense dense(SplittableRandom r, int in, int out) {
        return new Dense(in, out, randn(r, in * out, Math.sqrt(2.0 / in)), randn(r, out, 0.1));
    }

    /** input fans out to two dense branches that are added; a skip connection; a concatenation; a head. */
    static Network residual() {
        SplittableRandom r = new SplittableRandom(11);
        return Network.builder("residual", 12)
                .add("fcA", dense(r, 12, 16)).add("fcB", dense(r, 12, 16), Network.INPUT)
                .sum("s0", "fcA", "fcB").add("relu0", new Activation(Activation.Function.RELU))
                .add("fc1", dense(r, 16, 16)).add("relu1", new Activation(Activation.Function.RELU))
                .sum("skip", "relu1", "relu0")
                .add("fc2", dense(r, 16, 8))
                .concat("cat", "fc2", "relu0", "skip")
                .add("head", dense(r, 40, 5))
                .build();
    }

    private static float[] inputs(int rows, int features) {
        return randn(new SplittableRandom(5), rows * features, 1.0);
    }

    /** Float64 reference: forward values and the relevance of every output, Epsilon on dense, from the formulas. */
    static double[][] reference(Network net, float[] x, int sample, int target) {
        List<Node> nodes = net.nodes();
        Map<String, double[]> val = new HashMap<>();
        int in = net.inputSize();
        double[] x0 = new double[in];
        for (int i = 0; i < in; i++) {
            x0[i] = x[sample * in + i];
        }
        val.put(Network.INPUT, x0);
        for (Node n : nodes) {
            List<double[]> ins = new ArrayList<>();
            for (String s : n.sources()) {
                ins.add(val.get(s));
            }
            double[] a = ins.get(0);
            double[] y;
            if (n.layer() instanceof Dense d) {
                float[] w = d.weight();
                float[] b = d.bias();
                y = new double[d.out()];
                for (int j = 0; j < d.out(); j++) {
                    double z = b[j];
                    for (int i = 0; i < d.in(); i++) {
                        z += a[i] * w[j * d.in() + i];
                    }
                    y[j] = z;
                }
            } else if (n.layer() instanceof Activation) {
                y = new double[a.length];
                for (int i = 0; i < a.length; i++) {
                    y[i] = Math.max(a[i], 0);
                }
            } else if (n.layer() instanceof Add) {
                y = new double[a.length];
                for (double[] t : ins) {
                    for (int i = 0; i < y.length; i++) {
                        y[i] += t[i];
                    }
                }
            } else {
                y = new double[n.outputSize()];
                int off = 0;
                for (double[] t : ins) {
                    System.arraycopy(t, 0, y, off, t.length);
                    off += t.length;
                }
            }
            val.put(n.name(), y);
        }
        Map<String, double[]> rel = new HashMap<>();
        Node last = nodes.get(nodes.size() - 1);
        double[] r0 = new double[last.outputSize()];
        r0[target] = val.get(last.name())[target];
        rel.put(last.name(), r0);
        for (int k = nodes.size() - 1; k >= 0; k--) {
            Node n = nodes.get(k);
            double[] r = rel.get(n.name());
            List<String> srcs = n.sources();
            if (n.layer() instanceof Dense d) {
                double[] a = val.get(srcs.get(0));
                double[] z = val.get(n.name());
                float[] w = d.weight();
                double[] ri = new double[d.in()];
                for (int j = 0; j < d.out(); j++) {
                    double g = r[j] / (z[j] + (z[j] >= 0 ? EPS : -EPS));
                    for (int i = 0; i < d.in(); i++) {
                        ri[i] += a[i] * w[j * d.in() + i] * g;
                    }
                }
                addTo(rel, srcs.get(0), ri);
            } else if (n.layer() instanceof Activation) {
                addTo(rel, srcs.get(0), r.clone());
            } else if (n.layer() instanceof Add) {
                double[] z = val.get(n.name());
                for (String s : srcs) {
                    double[] a = val.get(s);
                    double[] ri = new double[a.length];
                    for (int i = 0; i < a.length; i++) {
                        ri[i] = a[i] * r[i] / (z[i] + (z[i] >= 0 ? EPS : -EPS));
                    }
                    addTo(rel, s, ri);
                }
            } else {
                int off = 0;
                for (String s : srcs) {
                    int w = val.get(s).length;
                    double[] ri = new double[w];
                    System.arraycopy(r, off, ri, 0, w);
                    addTo(rel, s, ri);
                    off += w;
                }
            }
        }
        return new double[][] {rel.get(Network.INPUT), val.get(last.name())};
    }

    private static void addTo(Map<String, double[]> rel, String name, double[] contribution) {
        double[] have = rel.get(name);
        if (have == null) {
            rel.put(name, contribution);
        } else {
            for (int i = 0; i < have.length; i++) {
                have[i] += contribution[i];
            }
        }
    }

    private static Explanation explain(Network net, float[] x, int rows, BackendChoice be, OpenClBackend cl) {
        Explainer.Builder b = GpuLrp.explainer(net).keepLayerRelevances(true).chunkRows(7);
        try (Explainer e = cl != null ? b.backend(cl).build() : b.backend(be).build()) {
            return e.explain(new Tensor(x, rows, net.inputSize()), Target.argmax());
        }
    }

    @Test
    void residualGraphMatchesTheFloat64Reference() {
        Network net = residual();
        int rows = 23;
        float[] x = inputs(rows, net.inputSize());
        Explanation e = explain(net, x, rows, BackendChoice.CPU, null);
        for (int b = 0; b < rows; b++) {
            double[][] ref = reference(net, x, b, e.targets()[b]);
            double max = 0;
            for (double v : ref[0]) {
                max = Math.max(max, Math.abs(v));
            }
            for (int i = 0; i < net.inputSize(); i++) {
                assertEquals(ref[0][i], e.relevance().get(b, i), 1e-5 * max, "sample " + b + " feature " + i);
            }
            for (int j = 0; j < net.outputSize(); j++) {
                assertEquals(ref[1][j], e.outputs().get(b, j), 1e-5 * (1 + Math.abs(ref[1][j])), "output " + j);
            }
        }
        // Every node on a path to the output reports its relevance, the top first.
        assertEquals(List.of("head", "cat", "fc2", "skip", "relu1", "fc1", "relu0", "s0", "fcB", "fcA"),
                new ArrayList<>(e.layerRelevances().keySet()));
    }

    @Test
    void cpuAndOpenClAgreeBitForBit() {
        Network net = residual();
        int rows = 19;
        float[] x = inputs(rows, net.inputSize());
        Explanation cpu = explain(net, x, rows, BackendChoice.CPU, null);
        try (OpenClBackend cl = OpenClTestSupport.openOrSkip()) {
            Explanation ocl = explain(net, x, rows, BackendChoice.OPENCL, cl);
            float[] a = cpu.relevance().toArray();
            float[] c = ocl.relevance().toArray();
            for (int k = 0; k < a.length; k++) {
                assertEquals(Float.floatToRawIntBits(a[k]), Float.floatToRawIntBits(c[k]), "input relevance " + k);
            }
            for (String layer : cpu.layerRelevances().keySet()) {
                float[] p = cpu.layerRelevance(layer).toArray();
                float[] q = ocl.layerRelevance(layer).toArray();
                for (int k = 0; k < p.length; k++) {
                    assertEquals(Float.floatToRawIntBits(p[k]), Float.floatToRawIntBits(q[k]), layer + " " + k);
                }
            }
        }
    }

    @Test
    void aChainStillExplainsAsBefore() {
        // The chain builder and the explicit-input builder give the same network and the same bits.
        SplittableRandom r1 = new SplittableRandom(3);
        SplittableRandom r2 = new SplittableRandom(3);
        Network chain = Network.builder(6).add("fc1", dense(r1, 6, 9)).relu("r").add("fc2", dense(r1, 9, 2))
                .build();
        Network wired = Network.builder(6).add("fc1", dense(r2, 6, 9), Network.INPUT)
                .add("r", new Activation(Activation.Function.RELU), "fc1").add("fc2", dense(r2, 9, 2), "r").build();
        float[] x = inputs(5, 6);
        float[] a = explain(chain, x, 5, BackendChoice.CPU, null).relevance().toArray();
        float[] b = explain(wired, x, 5, BackendChoice.CPU, null).relevance().toArray();
        for (int k = 0; k < a.length; k++) {
            assertEquals(Float.floatToRawIntBits(a[k]), Float.floatToRawIntBits(b[k]));
        }
    }

    @Test
    void badGraphsAreRefusedWhenBuilt() {
        SplittableRandom r = new SplittableRandom(1);
        Network.Builder b = Network.builder(4).add("fc1", dense(r, 4, 3)).add("fc2", dense(r, 3, 5));
        assertThrows(ShapeMismatchException.class, () -> b.sum("bad", "fc1", "fc2"));
        InvalidArgumentException unknown = assertThrows(InvalidArgumentException.class,
                () -> b.sum("s", "fc2", "nope"));
        assertTrue(unknown.getMessage().contains("'nope'"), unknown.getMessage());
        assertThrows(InvalidArgumentException.class, () -> b.add("one", new Add(), "fc2"));
        assertThrows(InvalidArgumentException.class, () -> b.add(Network.INPUT, new Concat(), "fc1", "fc2"));
        assertEquals(8, b.concat("c", "fc1", "fc2").build().outputSize());
    }
}
