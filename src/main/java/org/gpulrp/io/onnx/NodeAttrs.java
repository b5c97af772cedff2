package org.gpulrp.io.onnx;

import java.util.Arrays;
import java.util.Set;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;

/** Reads and checks an ONNX node's attributes and input count, failing with messages that name the node. */
final class NodeAttrs {
    private NodeAttrs() {
    }

    static void singleInput(NodeDef n, Where w, int max) {
        if (n.inputs().size() > max) {
            throw w.fail("has " + n.inputs().size() + " inputs, expected " + max);
        }
    }

    static void allowOnly(NodeDef n, Where w, Set<String> allowed) {
        for (Attribute a : n.attributes()) {
            if (!allowed.contains(a.name())) {
                throw w.fail("attribute '" + a.name() + "' is not supported"
                        + (allowed.isEmpty() ? "" : " (supported: " + String.join(", ", allowed.stream().sorted()
                        .toList()) + ")"));
            }
        }
    }

    static Attribute attr(NodeDef n, String name) {
        for (Attribute a : n.attributes()) {
            if (a.name().equals(name)) {
                return a;
            }
        }
        return null;
    }

    static float floatAttr(NodeDef n, Where w, String name, float absent) {
        Attribute a = attr(n, name);
        if (a == null) {
            return absent;
        }
        if (a.type() != OnnxModel.ATTR_FLOAT && (a.type() != 0 || a.f() == null)) {
            throw w.fail("attribute '" + name + "' must be a float");
        }
        float v = a.f() == null ? 0f : a.f();
        if (!Float.isFinite(v)) {
            throw w.fail("attribute '" + name + "' is " + v + "; it must be finite");
        }
        return v;
    }

    static long intAttr(NodeDef n, Where w, String name, long absent) {
        Attribute a = attr(n, name);
        if (a == null) {
            return absent;
        }
        if (a.type() != OnnxModel.ATTR_INT && (a.type() != 0 || a.i() == null)) {
            throw w.fail("attribute '" + name + "' must be an int");
        }
        return a.i() == null ? 0 : a.i();
    }

    static String stringAttr(NodeDef n, String name, String absent) {
        Attribute a = attr(n, name);
        return a == null || a.s() == null ? absent : new String(a.s(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A 2-element spatial attribute ([H, W]), or {@code absent}. */
    static long[] pair(NodeDef n, Where w, String name, long absent) {
        Attribute a = attr(n, name);
        if (a == null) {
            return new long[] {absent, absent};
        }
        if (a.ints() == null || a.ints().length != 2) {
            throw w.fail("attribute '" + name + "' must list 2 values (height, width), has "
                    + (a.ints() == null ? "none" : Arrays.toString(a.ints())) + "; gpulrp supports 2-D images only");
        }
        return a.ints();
    }

    /** Symmetric 2-D pads {@code [top, left, bottom, right]} as {@code [padH, padW]}; anything else is an error. */
    static int[] symmetricPads(NodeDef n, Where w) {
        Attribute a = attr(n, "pads");
        if (a == null) {
            return new int[] {0, 0};
        }
        long[] p = a.ints();
        if (p == null || p.length != 4) {
            throw w.fail("attribute 'pads' must list 4 values [top, left, bottom, right], has "
                    + (p == null ? "none" : Arrays.toString(p)));
        }
        if (p[0] != p[2] || p[1] != p[3] || p[0] < 0 || p[1] < 0) {
            throw w.fail("pads " + Arrays.toString(p) + " are asymmetric or negative; gpulrp supports the same "
                    + "padding at top and bottom and at left and right (as PyTorch's padding=)");
        }
        return new int[] {(int) p[0], (int) p[1]};
    }

    static void autoPad(NodeDef n, Where w) {
        String ap = stringAttr(n, "auto_pad", "NOTSET");
        if (!ap.equals("NOTSET") && !ap.equals("VALID")) {
            throw w.fail("auto_pad=" + ap + " is not supported; export with explicit pads (auto_pad NOTSET or "
                    + "VALID)");
        }
    }
}
