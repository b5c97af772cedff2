package org.gpulrp.io.onnx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Add;
import org.gpulrp.model.AvgPool2d;
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
import org.gpulrp.model.PoolGeometry;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Slice;
import org.gpulrp.model.Softmax;

/**
 * A test-side float64 forward pass of a {@link Network} of the layers the ONNX importer makes of transformers (the
 * formulas of the layers' javadoc, PyTorch's), independent of the engine: it checks what the importer built against
 * torch's logits before (and besides) the engine's own forward tests.
 */
final class Float64Forward {
    private Float64Forward() {
    }

    /** The network's output for one sample. */
    static double[] forward(Network net, double[] x) {
        Map<String, double[]> out = new HashMap<>();
        out.put(Network.INPUT, x);
        double[] last = x;
        for (Node n : net.nodes()) {
            List<double[]> in = new ArrayList<>();
            for (String s : n.sources()) {
                in.add(out.get(s));
            }
            last = layer(n.layer(), in);
            out.put(n.name(), last);
        }
        return last;
    }

    private static double[] layer(Layer l, List<double[]> in) {
        double[] x = in.get(0);
        if (l instanceof Dense d) {
            return dense(d, x);
        } else if (l instanceof Conv2d c) {
            return conv(c, x);
        } else if (l instanceof AvgPool2d p) {
            return avgPool(p.geometry(), x);
        } else if (l instanceof Activation a) {
            return activation(a.function(), x);
        } else if (l instanceof Identity) {
            return x.clone();
        } else if (l instanceof Slice s) {
            return java.util.Arrays.copyOfRange(x, s.start(), s.start() + s.length());
        } else if (l instanceof Permute p) {
            return gather(x, p.index());
        } else if (l instanceof Index i) {
            return gather(x, i.index());
        } else if (l instanceof Offset o) {
            float[] c = o.perFeature(x.length);
            double[] z = new double[x.length];
            for (int i = 0; i < z.length; i++) {
                z[i] = x[i] + c[i];
            }
            return z;
        } else if (l instanceof Scale s) {
            float[] f = s.perFeature(x.length);
            double[] z = new double[x.length];
            for (int i = 0; i < z.length; i++) {
                z[i] = x[i] * f[i];
            }
            return z;
        } else if (l instanceof LayerNorm n) {
            return layerNorm(n, x);
        } else if (l instanceof Softmax s) {
            return softmax(x, s.length());
        } else if (l instanceof Embedding e) {
            return embedding(e, x);
        } else if (l instanceof MatMul m) {
            return matMul(m, x, in.get(1));
        } else if (l instanceof Add) {
            double[] z = x.clone();
            for (int k = 1; k < in.size(); k++) {
                for (int i = 0; i < z.length; i++) {
                    z[i] += in.get(k)[i];
                }
            }
            return z;
        } else if (l instanceof Concat) {
            return in.stream().flatMapToDouble(java.util.Arrays::stream).toArray();
        } else if (l instanceof Multiply m) {
            double[] g = in.get(1);
            double[] z = new double[x.length];
            for (int i = 0; i < z.length; i++) {
                z[i] = x[i] * g[i / m.spatial()];
            }
            return z;
        }
        throw new IllegalArgumentException("no float64 reference for " + l);
    }

    private static double[] gather(double[] x, int[] index) {
        double[] z = new double[index.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = index[i] < 0 ? 0 : x[index[i]];
        }
        return z;
    }

    private static double[] dense(Dense d, double[] x) {
        float[] w = d.weight();
        float[] b = d.bias();
        double[] z = new double[d.positions() * d.out()];
        for (int p = 0; p < d.positions(); p++) {
            for (int j = 0; j < d.out(); j++) {
                double acc = b[j];
                for (int i = 0; i < d.in(); i++) {
                    acc += x[p * d.in() + i] * w[j * d.in() + i];
                }
                z[p * d.out() + j] = acc;
            }
        }
        return z;
    }

    private static double[] conv(Conv2d c, double[] x) {
        ConvGeometry g = c.geometry();
        float[] w = c.weight();
        float[] b = c.bias();
        int oh = g.outH();
        int ow = g.outW();
        int cin = g.inChannels() / g.groups();
        int cout = g.outChannels() / g.groups();
        double[] z = new double[g.outChannels() * oh * ow];
        for (int o = 0; o < g.outChannels(); o++) {
            int group = o / cout;
            for (int y = 0; y < oh; y++) {
                for (int xx = 0; xx < ow; xx++) {
                    double acc = b[o];
                    for (int ci = 0; ci < cin; ci++) {
                        for (int ky = 0; ky < g.kernelH(); ky++) {
                            int iy = y * g.strideH() - g.padH() + ky * g.dilationH();
                            for (int kx = 0; kx < g.kernelW(); kx++) {
                                int ix = xx * g.strideW() - g.padW() + kx * g.dilationW();
                                if (iy >= 0 && iy < g.inH() && ix >= 0 && ix < g.inW()) {
                                    acc += x[((group * cin + ci) * g.inH() + iy) * g.inW() + ix]
                                            * w[((o * cin + ci) * g.kernelH() + ky) * g.kernelW() + kx];
                                }
                            }
                        }
                    }
                    z[(o * oh + y) * ow + xx] = acc;
                }
            }
        }
        return z;
    }

    /** Average pooling as a depthwise convolution of weight 1 / (kH kW), padding taps skipped. */
    private static double[] avgPool(PoolGeometry g, double[] x) {
        int oh = g.outH();
        int ow = g.outW();
        double[] z = new double[g.channels() * oh * ow];
        for (int c = 0; c < g.channels(); c++) {
            for (int y = 0; y < oh; y++) {
                for (int xx = 0; xx < ow; xx++) {
                    double acc = 0;
                    for (int ky = 0; ky < g.kernelH(); ky++) {
                        for (int kx = 0; kx < g.kernelW(); kx++) {
                            int iy = y * g.strideH() - g.padH() + ky;
                            int ix = xx * g.strideW() - g.padW() + kx;
                            if (iy >= 0 && iy < g.inH() && ix >= 0 && ix < g.inW()) {
                                acc += x[(c * g.inH() + iy) * g.inW() + ix];
                            }
                        }
                    }
                    z[(c * oh + y) * ow + xx] = acc / (g.kernelH() * g.kernelW());
                }
            }
        }
        return z;
    }

    private static double[] activation(Activation.Function f, double[] x) {
        if (f == Activation.Function.SOFTMAX) {
            return softmax(x, x.length);
        }
        double[] z = new double[x.length];
        for (int i = 0; i < z.length; i++) {
            double v = x[i];
            z[i] = switch (f) {
                case RELU -> Math.max(v, 0);
                case SIGMOID -> 1 / (1 + Math.exp(-v));
                case SILU -> v / (1 + Math.exp(-v));
                case TANH -> Math.tanh(v);
                case GELU -> 0.5 * v * (1 + erf(v / Math.sqrt(2)));
                case GELU_TANH -> 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                default -> throw new IllegalArgumentException("no float64 reference for " + f);
            };
        }
        return z;
    }

    private static double[] softmax(double[] x, int length) {
        double[] z = new double[x.length];
        for (int r = 0; r < x.length; r += length) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = r; i < r + length; i++) {
                max = Math.max(max, x[i]);
            }
            double sum = 0;
            for (int i = r; i < r + length; i++) {
                z[i] = Math.exp(x[i] - max);
                sum += z[i];
            }
            for (int i = r; i < r + length; i++) {
                z[i] /= sum;
            }
        }
        return z;
    }

    private static double[] layerNorm(LayerNorm n, double[] x) {
        int h = n.hidden();
        float[] gamma = n.gamma();
        float[] beta = n.beta();
        double[] z = new double[x.length];
        for (int p = 0; p < n.positions(); p++) {
            double mean = 0;
            for (int i = 0; i < h; i++) {
                mean += x[p * h + i];
            }
            mean = n.rms() ? 0 : mean / h;
            double var = 0;
            for (int i = 0; i < h; i++) {
                double d = x[p * h + i] - mean;
                var += d * d;
            }
            double norm = Math.sqrt(var / h + n.epsilon());
            for (int i = 0; i < h; i++) {
                z[p * h + i] = (x[p * h + i] - mean) / norm * gamma[i] + beta[i];
            }
        }
        return z;
    }

    private static double[] embedding(Embedding e, double[] ids) {
        float[] table = e.table();
        double[] z = new double[e.positions() * e.hidden()];
        for (int p = 0; p < e.positions(); p++) {
            int id = (int) ids[p];
            for (int i = 0; i < e.hidden(); i++) {
                z[p * e.hidden() + i] = table[id * e.hidden() + i];
            }
        }
        return z;
    }

    private static double[] matMul(MatMul m, double[] a, double[] b) {
        double[] z = new double[m.batch() * m.m() * m.n()];
        for (int h = 0; h < m.batch(); h++) {
            for (int i = 0; i < m.m(); i++) {
                for (int j = 0; j < m.n(); j++) {
                    double acc = 0;
                    for (int t = 0; t < m.k(); t++) {
                        acc += a[(h * m.m() + i) * m.k() + t] * b[(h * m.k() + t) * m.n() + j];
                    }
                    z[(h * m.m() + i) * m.n() + j] = acc;
                }
            }
        }
        return z;
    }

    /** erf in double: its Taylor series below 3, the continued fraction of erfc above. */
    static double erf(double x) {
        double a = Math.abs(x);
        double r;
        if (a < 3) {
            double term = a;
            double sum = a;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            // erfc(a) = exp(-a^2) / sqrt(pi) * 1 / (a + 1/2 / (a + 1 / (a + 3/2 / (a + ...))))
            double f = a;
            for (int n = 60; n >= 1; n--) {
                f = a + (n / 2.0) / f;
            }
            r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }
}
