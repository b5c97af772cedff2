package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.autoPad;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;
import static org.gpulrp.io.onnx.NodeAttrs.pair;
import static org.gpulrp.io.onnx.NodeAttrs.singleInput;
import static org.gpulrp.io.onnx.NodeAttrs.symmetricPads;

import java.util.Arrays;
import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.model.PoolGeometry;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.MaxPool2d;

/** Maps MaxPool, AveragePool and GlobalAveragePool onto the library's pooling layers. */
final class PoolMapper {
    private PoolMapper() {
    }

    static void pool(MappingState ctx, NodeDef n, Where w, int k) {
        String op = n.opType();
        int[] s = ctx.image(w);
        singleInput(n, w, 1);
        PoolGeometry g;
        if (op.equals("GlobalAveragePool")) {
            allowOnly(n, w, Set.of());
            g = new PoolGeometry(s[0], s[1], s[2], s[1], s[2], 1, 1, 0, 0);
        } else {
            allowOnly(n, w, op.equals("MaxPool")
                    ? Set.of("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides")
                    : Set.of("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"));
            autoPad(n, w);
            if (intAttr(n, w, "ceil_mode", 0) != 0) {
                throw w.fail("ceil_mode=1 is not supported; gpulrp pools in floor mode (PyTorch's default)");
            }
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
            if (op.equals("AveragePool") && intAttr(n, w, "count_include_pad", 0) == 0 && (p[0] != 0 || p[1] != 0)) {
                throw w.fail("count_include_pad=0 with padding is not supported; gpulrp divides every window by "
                        + "kH*kW (PyTorch's count_include_pad=True)");
            }
            if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()
                    && ctx.uses.getOrDefault(n.outputs().get(1), 0) > 0) {
                throw w.fail("its Indices output is used; gpulrp supports only the pooled values");
            }
            try {
                g = new PoolGeometry(s[0], s[1], s[2], (int) ks[0], (int) ks[1], (int) st[0], (int) st[1], p[0], p[1]);
            } catch (LrpException e) {
                throw w.fail(e.getMessage());
            }
        }
        ctx.addStep(ctx.layerName(n, k), w, op.equals("MaxPool") ? new MaxPool2d(g) : new AvgPool2d(g));
        ctx.features = new long[] {g.channels(), g.outH(), g.outW()};
    }
}
