package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.attr;
import static org.gpulrp.io.onnx.NodeAttrs.autoPad;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;
import static org.gpulrp.io.onnx.NodeAttrs.pair;
import static org.gpulrp.io.onnx.NodeAttrs.singleInput;
import static org.gpulrp.io.onnx.NodeAttrs.symmetricPads;

import java.util.Arrays;
import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.MappingState.Pending;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.Layer;
import org.gpulrp.model.MaxPool2d;
import org.gpulrp.model.PoolGeometry;
import org.gpulrp.model.Scale;

/**
 * Maps MaxPool, AveragePool (floor or ceil mode; a zero Pad before it merged into its padding), GlobalAveragePool
 * and ReduceMean over height and width onto the library's pooling layers. An average pooling that leaves its padding
 * out of the divisor ({@code count_include_pad=0}) becomes {@link AvgPool2d} followed by a {@link Scale} of
 * {@code kH * kW / count} per output position, the same linear map.
 */
final class PoolMapper {
    private PoolMapper() {
    }

    static void pool(MappingState ctx, NodeDef n, Where w, int k, Pending pad) {
        String op = n.opType();
        int[] s = ctx.image(w);
        singleInput(n, w, 1);
        if (op.equals("GlobalAveragePool")) {
            allowOnly(n, w, Set.of());
            global(ctx, n, w, k, s);
            return;
        }
        boolean max = op.equals("MaxPool");
        allowOnly(n, w, max
                ? Set.of("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides")
                : Set.of("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"));
        autoPad(n, w);
        boolean ceil = intAttr(n, w, "ceil_mode", 0) != 0;
        long[] ks = pair(n, w, "kernel_shape", -1);
        if (ks[0] == -1) {
            throw w.fail("has no kernel_shape");
        }
        long[] st = pair(n, w, "strides", 1);
        long[] dl = pair(n, w, "dilations", 1);
        if (dl[0] != 1 || dl[1] != 1) {
            throw w.fail("dilations " + Arrays.toString(dl) + " are not supported; gpulrp pools undilated windows");
        }
        int[] p = symmetricPads(n, w);
        boolean countPad = intAttr(n, w, "count_include_pad", 0) != 0;
        if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()
                && ctx.uses.getOrDefault(n.outputs().get(1), 0) > 0) {
            throw w.fail("its Indices output is used; gpulrp supports only the pooled values");
        }
        PoolGeometry g;
        Layer layer;
        try {
            if (pad != null) {
                // F.avg_pool2d(x, k, s, p) with count_include_pad=True exports as Pad + AveragePool: the padded
                // zeros count in the divisor, as AvgPool2d's padding does
                if (!countPad && (p[0] != 0 || p[1] != 0)) {
                    throw w.fail("reads a Pad and pads again with count_include_pad=0; gpulrp merges a Pad into an "
                            + "AveragePool without padding of its own (or with count_include_pad=1)");
                }
                if (ceil) {
                    PoolGeometry padded = new PoolGeometry(s[0], s[1] + 2 * pad.padH(), s[2] + 2 * pad.padW(),
                            (int) ks[0], (int) ks[1], (int) st[0], (int) st[1], p[0], p[1], true);
                    new AvgPool2d(padded); // refuses a ceil-mode window past the padded input
                }
                p = new int[] {p[0] + pad.padH(), p[1] + pad.padW()};
                countPad = true;
            }
            g = new PoolGeometry(s[0], s[1], s[2], (int) ks[0], (int) ks[1], (int) st[0], (int) st[1], p[0], p[1],
                    ceil);
            layer = max ? new MaxPool2d(g) : new AvgPool2d(g);
        } catch (LrpException e) {
            throw w.fail(e.getMessage());
        }
        String name = ctx.layerName(n, k);
        ctx.addStep(name, w, layer);
        ctx.features = new long[] {g.channels(), g.outH(), g.outW()};
        if (!max && !countPad && (p[0] != 0 || p[1] != 0)) {
            ctx.source = name;
            ctx.addStep(ctx.unique(name + ".count"), w, new Scale(countCorrection(g)));
        }
    }

    /**
     * Per output feature, {@code kH * kW / count} with {@code count} the window's taps inside the input: turns
     * AvgPool2d's divide-by-kH*kW into PyTorch's {@code count_include_pad=False}.
     */
    static float[] countCorrection(PoolGeometry g) {
        int oh = g.outH();
        int ow = g.outW();
        float[] f = new float[g.channels() * oh * ow];
        for (int y = 0; y < oh; y++) {
            int rows = taps(y * g.strideH() - g.padH(), g.kernelH(), g.inH());
            for (int x = 0; x < ow; x++) {
                int cols = taps(x * g.strideW() - g.padW(), g.kernelW(), g.inW());
                float v = (float) (g.kernelH() * g.kernelW()) / (rows * cols);
                for (int c = 0; c < g.channels(); c++) {
                    f[(c * oh + y) * ow + x] = v;
                }
            }
        }
        return f;
    }

    /** Positions of the window [from, from + kernel) inside [0, size). */
    private static int taps(int from, int kernel, int size) {
        return Math.min(from + kernel, size) - Math.max(from, 0);
    }

    /** ReduceMean over height and width (torch's {@code x.mean([2, 3])}): a global average pooling. */
    static void reduceMean(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axes", "keepdims", "noop_with_empty_axes"));
        long[] axes;
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            axes = ShapeGraph.in(ctx, n, w, 1, "axes").v();
        } else {
            axes = attr(n, "axes") == null || attr(n, "axes").ints() == null ? new long[0] : attr(n, "axes").ints();
        }
        int rank = ctx.features == null ? -1 : ctx.features.length + 1;
        long[] norm = axes.clone();
        for (int i = 0; i < norm.length; i++) {
            norm[i] = norm[i] < 0 ? norm[i] + rank : norm[i];
        }
        Arrays.sort(norm);
        if (rank != 4 || !Arrays.equals(norm, new long[] {2, 3})) {
            boolean last = norm.length == 1 && rank > 0 && norm[0] == rank - 1;
            throw w.fail("averages over axes " + Arrays.toString(axes) + " of a rank-" + (rank < 0 ? "unknown" : rank)
                    + " input; gpulrp supports ReduceMean over height and width ([2, 3]) of [N, C, H, W] only"
                    + (last ? " (a mean over the last axis is how LayerNorm exports before opset 17; LayerNorm is "
                    + "not supported)" : ""));
        }
        int[] s = ctx.image(w);
        global(ctx, n, w, k, s);
        if (intAttr(n, w, "keepdims", 1) == 0) {
            ctx.features = new long[] {s[0]};
        }
    }

    private static void global(MappingState ctx, NodeDef n, Where w, int k, int[] s) {
        PoolGeometry g;
        try {
            g = new PoolGeometry(s[0], s[1], s[2], s[1], s[2], 1, 1, 0, 0);
        } catch (LrpException e) {
            throw w.fail(e.getMessage());
        }
        ctx.addStep(ctx.layerName(n, k), w, new AvgPool2d(g));
        ctx.features = new long[] {g.channels(), 1, 1};
    }
}
