package org.gpulrp.internal;

import org.gpulrp.InvalidArgumentException;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Add;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Concat;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.Dense;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.ConvBias;
import org.gpulrp.composite.Products;
import org.gpulrp.model.Embedding;
import org.gpulrp.model.Index;
import org.gpulrp.model.LayerNorm;
import org.gpulrp.model.MatMul;
import org.gpulrp.model.Offset;
import org.gpulrp.model.Softmax;
import org.gpulrp.model.Identity;
import org.gpulrp.model.Layer;
import org.gpulrp.model.MaxPool2d;
import org.gpulrp.model.Multiply;
import org.gpulrp.model.Node;
import org.gpulrp.model.Permute;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Slice;
import org.gpulrp.model.PoolGeometry;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Pass;
import org.gpulrp.rules.Rule;

/**
 * One node of the {@link Engine}'s graph, prepared: its forward pass and its relevance pass on the backend's
 * primitives, reading and writing the {@link Flow} by its own node index. One implementation per kind of layer,
 * chosen once by {@link #of}; the engine's loops only call them in order (docs/DESIGN.md section 5.2).
 */
sealed interface NodeStep permits NodeStep.Weighted, NodeStep.Elementwise, NodeStep.Through, NodeStep.MaxPool,
        NodeStep.Sum, NodeStep.Join, NodeStep.Product, NodeStep.Scaled, NodeStep.Cut, NodeStep.Reorder,
        TransformerSteps.Normalize, TransformerSteps.RowSoftmax, TransformerSteps.MatrixProduct, TransformerSteps.Gather,
        TransformerSteps.Shift, TransformerSteps.Lookup {

    /**
     * The step for {@code node} under {@code rule}, or the refusal of a rule the layer cannot take.
     *
     * <p>One chain over the sealed {@link Layer} (and {@link org.gpulrp.model.Merge}), an {@code if} chain for the
     * reason {@link LinearPlan#forRule} gives; {@code NodeStepTest} checks that every permitted layer type has an
     * arm.
     */
    static NodeStep of(Backend be, Node node, Rule rule, Composite composite) {
        return of(be, node, rule, composite, new boolean[node.sources().size()]);
    }

    /**
     * As {@link #of(Backend, Node, Rule, Composite)}, where {@code attentionInputs[i]} says whether the node's i-th
     * input is attention weights (a softmax's output, {@link GraphPlan#attentionWeights}): CP-LRP treats such a
     * matrix product operand as a constant.
     */
    static NodeStep of(Backend be, Node node, Rule rule, Composite composite, boolean[] attentionInputs) {
        Layer layer = node.layer();
        String name = node.name();
        if (layer instanceof Dense d) {
            return new Linear(new DenseStep(be, name, d, rule));
        } else if (layer instanceof Conv2d c) {
            return new Linear(new ConvStep(be, name, c, rule, composite.convBias() == ConvBias.ZENNIT));
        } else if (layer instanceof AvgPool2d ap) {
            return new Linear(averagePool(be, name, ap.geometry(), composite.stabilizer()));
        } else if (layer instanceof BatchNorm bn) {
            return new Norm(batchNorm(be, name, bn, composite.stabilizer()));
        } else if (layer instanceof MaxPool2d mp) {
            return new MaxPool(mp.geometry());
        } else if (layer instanceof Add) {
            return new Sum(composite.stabilizer());
        } else if (layer instanceof Concat) {
            return new Join();
        } else if (layer instanceof Multiply m) {
            return new Product(m.spatial(), composite.products(), composite.stabilizer());
        } else if (layer instanceof Scale sc) {
            return new Scaled(sc.perFeature(node.outputSize()), composite.stabilizer());
        } else if (layer instanceof LayerNorm ln) {
            return new TransformerSteps.Normalize(ln, composite.stabilizer());
        } else if (layer instanceof MatMul mm) {
            return new TransformerSteps.MatrixProduct(mm, composite.attention(), attentionInputs,
                    composite.stabilizer());
        } else if (layer instanceof Offset o) {
            return new TransformerSteps.Shift(o.perFeature(node.outputSize()), composite.stabilizer());
        }
        if (!(rule instanceof Pass)) {
            throw new InvalidArgumentException("composite", "layer '" + name + "' (" + node.kind()
                    + ") can only take the pass rule, not " + rule.describe());
        }
        if (layer instanceof Activation a) {
            return new Elementwise(a.function());
        } else if (layer instanceof Identity) {
            return new Through();
        } else if (layer instanceof Slice sl) {
            return new Cut(sl.start(), sl.length());
        } else if (layer instanceof Permute p) {
            return new Reorder(p.runs());
        } else if (layer instanceof Softmax sm) {
            return new TransformerSteps.RowSoftmax(sm.length(), composite.attention());
        } else if (layer instanceof Index ix) {
            return new TransformerSteps.Gather(ix);
        } else if (layer instanceof Embedding e) {
            return new TransformerSteps.Lookup(name, e);
        }
        throw new IllegalStateException("no step for layer " + layer.getClass().getName()
                + ": add its arm to NodeStep.of");
    }

    /** Average pooling as a depthwise convolution with weights 1 / (kH kW), explained with the epsilon formula. */
    private static LinearStep averagePool(Backend be, String name, PoolGeometry p, float eps) {
        ConvGeometry g = new ConvGeometry(p.channels(), p.inH(), p.inW(), p.channels(), p.kernelH(), p.kernelW(),
                p.strideH(), p.strideW(), p.padH(), p.padW(), 1, 1, p.channels());
        float[] w = new float[g.weightSize()];
        java.util.Arrays.fill(w, 1f / (p.kernelH() * p.kernelW()));
        return new ConvStep(be, name, g, w, new float[p.channels()], new Epsilon(eps));
    }

    /**
     * A standalone batch norm (one not folded into a linear layer) as a depthwise 1x1 convolution with weight
     * {@code s = gamma / sqrt(var + eps)} and bias {@code beta - mean * s}, for the forward pass only.
     */
    private static LinearStep batchNorm(Backend be, String name, BatchNorm bn, float eps) {
        ConvGeometry g = new ConvGeometry(bn.channels(), bn.height(), bn.width(), bn.channels(), 1, 1, 1, 1, 0, 0,
                1, 1, bn.channels());
        return new ConvStep(be, name, g, bn.foldedWeight(), bn.foldedBias(), new Epsilon(eps));
    }

    /**
     * The epsilon rule's signal {@code g = R / stab(z)} of node k's output (width w), in the flow's scratch, its
     * stabilizer's share counted where the health report is on: the sums and shifts send {@code x g} to each input.
     */
    static Buffer signal(Flow f, int k, int rows, int w, float eps) {
        Buffer g = f.scratch.signal;
        f.be.normalize(f.outputRelevance(k), f.output(k), w, eps, g, rows, w);
        if (f.health() != null) {
            Health.addStabilizer(f.be, g, f.output(k), w, rows, w, eps, f.health().stabilizer[k], f.row0());
        }
        return g;
    }

    /** Node k's forward pass over {@code rows} rows. */
    void forward(Flow f, int k, int rows);

    /**
     * Node k's relevance pass: from its output's relevance (complete when its turn comes) to each of its inputs,
     * through {@link Flow#sendTo} and {@link Flow#sent}.
     */
    void backward(Flow f, int k, int rows);

    /** The linear step inside, for the rule's shortcuts and its weights; null for steps without weights. */
    default LinearStep linear() {
        return null;
    }

    /** Whether the node's output is its input's buffer (the node does nothing to values). */
    default boolean aliasesInput() {
        return false;
    }

    /** Whether relevance passes unchanged to the single input, so that the two may share one buffer. */
    default boolean sharesRelevance() {
        return false;
    }

    /**
     * Whether this step passes no relevance to its input i whatever it receives, by its rule alone (CP-LRP's
     * softmax; a matrix product's constant operand): the engine then skips the relevance pass of nodes that only
     * feed such inputs ({@link Engine#silentOutputs}).
     */
    default boolean passesNothingTo(int input) {
        return false;
    }

    /** Allocates the step's own per-batch buffers from the flow (which owns them). */
    default void allocate(Flow f, int k) {
    }

    /** Releases what the step put on the backend at build time. */
    default void close() {
    }

    /** Copies node k's output relevance down to its single input, unless the two share a buffer. */
    private static void passDown(Flow f, int k, int rows) {
        Buffer r = f.outputRelevance(k);
        Buffer to = f.sendTo(k, 0);
        if (to != r) {
            int w = f.inputWidth(k, 0);
            f.be.copyRows(r, w, 0, to, w, 0, w, rows);
        }
        f.sent(k, 0, rows);
    }

    /** A node whose forward pass is a prepared linear map (it owns the {@link LinearStep} and closes it). */
    abstract sealed class Weighted implements NodeStep {
        final LinearStep step;

        Weighted(LinearStep step) {
            this.step = step;
        }

        @Override
        public final void forward(Flow f, int k, int rows) {
            step.forward(f.input(k, 0), f.output(k), rows);
        }

        @Override
        public final LinearStep linear() {
            return step;
        }

        @Override
        public final void close() {
            step.close();
        }
    }

    /** A dense layer, a convolution or an average pooling: its linear map and its rule's relevance pass. */
    final class Linear extends Weighted {
        Linear(LinearStep step) {
            super(step);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            step.backward(f.input(k, 0), f.output(k), f.outputRelevance(k), f.sendTo(k, 0), f.scratch, rows);
            if (f.health() != null) {
                step.stabilizerShare(f.output(k), f.scratch, rows, f.health().stabilizer[k], f.row0());
            }
            f.sent(k, 0, rows);
        }
    }

    /**
     * A standalone batch norm: its affine map forward; relevance passes through it unchanged, as Zennit's
     * composites do for a BatchNorm its canonizer did not merge ({@code layer_map_base}: BatchNorm gets Pass),
     * whatever rule the composite names.
     */
    final class Norm extends Weighted {
        Norm(LinearStep step) {
            super(step);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            passDown(f, k, rows);
        }
    }

    /**
     * An activation: ReLU on the backend, the others on the host in Java on every backend (so that all paths share
     * their bits; {@link HostMath#activation}); relevance passes unchanged.
     */
    final class Elementwise implements NodeStep {
        private final Activation.Function function;

        Elementwise(Activation.Function function) {
            this.function = function;
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            int width = f.plan.width(k + 1);
            int count = rows * width;
            Buffer x = f.input(k, 0);
            if (function == Activation.Function.RELU) {
                f.be.relu(x, f.output(k), count);
            } else {
                float[] h = f.read(x, count);
                if (function == Activation.Function.SOFTMAX) {
                    HostMath.softmax(h, h, rows, width);
                } else {
                    // Every value on its own: split into blocks over the host threads, the same bits either way.
                    int block = 4096;
                    HostParallel.forEach((count + block - 1) / block, 16L * block, q -> HostMath.elementwise(
                            function, h, h, q * block, Math.min(count, (q + 1) * block)));
                }
                f.be.write(f.output(k), h, 0, count);
            }
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            passDown(f, k, rows);
        }

        @Override
        public boolean sharesRelevance() {
            return true;
        }
    }

    /** An identity (flatten, dropout at inference): no values of its own, relevance unchanged. */
    final class Through implements NodeStep {
        @Override
        public void forward(Flow f, int k, int rows) {
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            passDown(f, k, rows);
        }

        @Override
        public boolean aliasesInput() {
            return true;
        }

        @Override
        public boolean sharesRelevance() {
            return true;
        }
    }

    /** Max pooling: the forward pass records each window's arg-max, the relevance goes to it (winner takes all). */
    final class MaxPool implements NodeStep {
        private final PoolGeometry geometry;
        private Buffer arg;

        MaxPool(PoolGeometry geometry) {
            this.geometry = geometry;
        }

        @Override
        public void allocate(Flow f, int k) {
            arg = f.batch(f.plan.width(k + 1));
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            f.be.maxPool(f.input(k, 0), f.output(k), arg, rows, geometry);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            f.be.maxPoolRoute(f.outputRelevance(k), arg, f.sendTo(k, 0), rows, geometry);
            f.sent(k, 0, rows);
        }
    }

    /**
     * A residual addition: summed in input order, each add rounded ({@code ((a + b) + c) ...}); relevance split in
     * proportion to each input's contribution, the stabilized epsilon rule on the sum's own map.
     */
    final class Sum implements NodeStep {
        private final float eps;

        Sum(float eps) {
            this.eps = eps;
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            int count = rows * f.plan.width(k + 1);
            f.be.add(f.input(k, 0), f.input(k, 1), f.output(k), count);
            for (int i = 2; i < f.inputs(k); i++) {
                f.be.add(f.output(k), f.input(k, i), f.output(k), count);
            }
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            int w = f.plan.width(k + 1);
            Buffer g = signal(f, k, rows, w, eps);
            for (int i = 0; i < f.inputs(k); i++) {
                f.be.mul(f.input(k, i), g, f.sendTo(k, i), rows * w);
                f.sent(k, i, rows);
            }
        }
    }

    /** A concatenation along the features: values and relevance move by position. */
    final class Join implements NodeStep {
        @Override
        public void forward(Flow f, int k, int rows) {
            int w = f.plan.width(k + 1);
            int offset = 0;
            for (int i = 0; i < f.inputs(k); i++) {
                int wi = f.inputWidth(k, i);
                f.be.copyRows(f.input(k, i), wi, 0, f.output(k), w, offset, wi, rows);
                offset += wi;
            }
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            int w = f.plan.width(k + 1);
            int offset = 0;
            for (int i = 0; i < f.inputs(k); i++) {
                int wi = f.inputWidth(k, i);
                f.be.copyRows(f.outputRelevance(k), w, offset, f.sendTo(k, i), wi, 0, wi, rows);
                f.sent(k, i, rows);
                offset += wi;
            }
        }
    }

    /**
     * A product of two activations, {@code z = a * g}, {@code g} broadcast over {@code spatial} positions of each
     * channel of {@code a}; on the host on every backend. Relevance by {@link Products}: the gradient applied to the
     * message ({@code R_a = R g}, {@code R_g = sum R a}, in double over the positions, ascending), a constant gate
     * ({@code R_a = R}, {@code R_g = 0}) or the uniform rule ({@code R_a = h}, {@code R_g = sum h} with
     * {@code h = z R / (2 stab(z))} in double; the sum starts from its first term, so with {@code spatial = 1}
     * {@code R_g} is {@code R_a} bit for bit).
     */
    final class Product implements NodeStep {
        private final int spatial;
        private final Products mode;
        private final float eps;

        Product(int spatial, Products mode, float eps) {
            this.spatial = spatial;
            this.mode = mode;
            this.eps = eps;
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            int w = f.plan.width(k + 1);
            float[] a = f.read(f.input(k, 0), rows * w);
            float[] g = f.read(f.input(k, 1), rows * f.inputWidth(k, 1));
            for (int i = 0; i < a.length; i++) {
                a[i] = a[i] * g[i / spatial];
            }
            f.be.write(f.output(k), a, 0, a.length);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            int w = f.plan.width(k + 1);
            int c = f.inputWidth(k, 1);
            Buffer r = f.outputRelevance(k);
            if (mode == Products.CONSTANT_GATE) {
                f.be.copyRows(r, w, 0, f.sendTo(k, 0), w, 0, w, rows);
                f.sent(k, 0, rows);
                f.be.write(f.sendTo(k, 1), f.host(rows * c), 0, rows * c);
                f.sent(k, 1, rows);
                return;
            }
            float[] rel = f.read(r, rows * w);
            float[] a = f.read(f.input(k, 0), rows * w);
            float[] g = f.read(f.input(k, 1), rows * c);
            float[] rg = f.host(rows * c);
            if (mode == Products.UNIFORM) {
                uniform(f, k, rows, w, rel, a, g, rg);
            } else {
                gradient(rel, a, g, rg, rows * c);
            }
            f.be.write(f.sendTo(k, 0), a, 0, a.length);
            f.sent(k, 0, rows);
            f.be.write(f.sendTo(k, 1), rg, 0, rg.length);
            f.sent(k, 1, rows);
        }

        /** {@code R_a = R g} into {@code a}, {@code R_g = sum R a} into {@code rg}. */
        private void gradient(float[] rel, float[] a, float[] g, float[] rg, int gates) {
            for (int q = 0; q < gates; q++) {
                double sum = 0;
                for (int i = q * spatial; i < (q + 1) * spatial; i++) {
                    sum += (double) rel[i] * a[i];
                    a[i] = rel[i] * g[q];
                }
                rg[q] = (float) sum;
            }
        }

        /** The uniform rule: {@code R_a = h} into {@code a}, {@code R_g = sum h} into {@code rg}; its stabilizer. */
        private void uniform(Flow f, int k, int rows, int w, float[] rel, float[] a, float[] g, float[] rg) {
            double eps = this.eps;
            double[] share = new double[rows];
            for (int q = 0; q < rows * (w / spatial); q++) {
                double sum = 0;
                for (int i = q * spatial; i < (q + 1) * spatial; i++) {
                    float z = a[i] * g[q];   // the forward output, recomputed bit for bit
                    double d = z + (z >= 0 ? eps : -eps);
                    double t = d == 0 ? 0.0 : rel[i] / d;
                    double h = 0.5 * z * t;
                    sum = i == q * spatial ? h : sum + h;
                    share[i / w] += eps * t * (z >= 0 ? 1 : -1);
                    a[i] = (float) h;
                }
                rg[q] = (float) sum;
            }
            if (f.health() != null) {
                Health.add(f.health().stabilizer[k], share, f.row0());
            }
        }
    }

    /**
     * Constant factors per feature, {@code z = x s}, on the host on every backend; relevance by the epsilon formula
     * on this diagonal map, {@code R_x = x (s g)} with {@code g = R / stab(z)} (docs/DESIGN.md section 2.1).
     */
    final class Scaled implements NodeStep {
        private final float[] factors;
        private final float eps;

        Scaled(float[] factors, float eps) {
            this.factors = factors;
            this.eps = eps;
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            int w = factors.length;
            float[] x = f.read(f.input(k, 0), rows * w);
            HostParallel.forEach(rows, w, b -> {
                for (int j = 0, i = b * w; j < w; j++, i++) {
                    x[i] = x[i] * factors[j];
                }
            });
            f.be.write(f.output(k), x, 0, x.length);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            int w = factors.length;
            float[] rel = f.read(f.outputRelevance(k), rows * w);
            float[] x = f.read(f.input(k, 0), rows * w);
            HostParallel.forEach(rows, 4L * w, b -> {
                int j0 = HostVectors.scaled(x, rel, factors, b * w, eps, w);
                for (int j = j0, i = b * w + j0; j < w; j++, i++) {
                    float z = x[i] * factors[j];  // the forward output, recomputed bit for bit instead of read back
                    float d = z + (z >= 0 ? eps : -eps);
                    float g = d == 0 ? 0f : rel[i] / d;
                    rel[i] = g;
                    x[i] = x[i] * (factors[j] * g);
                }
            });
            if (f.health() != null) {
                f.be.write(f.scratch.signal, rel, 0, rel.length);
                Health.addStabilizer(f.be, f.scratch.signal, f.output(k), w, rows, w, eps,
                        f.health().stabilizer[k], f.row0());
            }
            f.be.write(f.sendTo(k, 0), x, 0, x.length);
            f.sent(k, 0, rows);
        }
    }

    /** A range of features, {@code z = x[start, start + length)}; relevance back by position, zero elsewhere. */
    final class Cut implements NodeStep {
        private final int start;
        private final int length;

        Cut(int start, int length) {
            this.start = start;
            this.length = length;
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            f.be.copyRows(f.input(k, 0), f.inputWidth(k, 0), start, f.output(k), length, 0, length, rows);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            int w = f.inputWidth(k, 0);
            Buffer to = f.sendTo(k, 0);
            f.be.write(to, f.host(rows * w), 0, rows * w);
            f.be.copyRows(f.outputRelevance(k), length, 0, to, w, start, length, rows);
            f.sent(k, 0, rows);
        }
    }

    /** A permutation of the features, moved as runs of contiguous features ({@link Permute#runs}). */
    final class Reorder implements NodeStep {
        /** {@code {outStart, inStart, length}} per run. */
        private final int[][] runs;

        Reorder(int[][] runs) {
            this.runs = runs;
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            int w = f.inputWidth(k, 0);
            for (int[] run : runs) {
                f.be.copyRows(f.input(k, 0), w, run[1], f.output(k), w, run[0], run[2], rows);
            }
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            int w = f.inputWidth(k, 0);
            Buffer to = f.sendTo(k, 0);
            for (int[] run : runs) {
                f.be.copyRows(f.outputRelevance(k), w, run[0], to, w, run[1], run[2], rows);
            }
            f.sent(k, 0, rows);
        }
    }
}
