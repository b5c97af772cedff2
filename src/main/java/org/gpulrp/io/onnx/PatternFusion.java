package org.gpulrp.io.onnx;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.Graph;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.io.onnx.OnnxModel.ValueInfo;

/**
 * Finds the chains of elementary operators an exporter writes for a layer gpulrp has whole, and replaces each by one
 * node of the standard operator (before any mapping, like {@link InitializerAliases}):
 * <ul>
 *   <li>LayerNorm: {@code ReduceMean(x), Sub, Pow(2), ReduceMean, Add(eps), Sqrt, Div}, then optionally
 *       {@code Mul(gamma)} and {@code Add(beta)} (torch before opset 17) as {@code LayerNormalization};</li>
 *   <li>RMSNorm: {@code Pow(x, 2), ReduceMean, Add(eps), Sqrt}, then {@code Div(1, .)} or {@code Reciprocal} and a
 *       product with x and optionally a weight in any order, or {@code Div(x, .)} and optionally {@code Mul(weight)}
 *       (Llama) as {@code RMSNormalization};</li>
 *   <li>GELU: {@code x / sqrt 2} (or {@code x * (1 / sqrt 2)}), {@code Erf}, {@code Add(1)}, and the product of x,
 *       that and 0.5 in any association; the tanh form {@code tanh(sqrt(2 / pi) (x + 0.044715 x^3))} likewise
 *       ({@code x^3} as {@code Pow(x, 3)} or products), as {@code Gelu} with {@code approximate}.</li>
 * </ul>
 * Reductions are over the last axis ({@code axes = [-1]}, kept). A chain is fused only when nothing outside it reads
 * its intermediate values; the fused node takes the chain's scope as its name ({@code /bert/embeddings/LayerNorm/
 * LayerNormalization}). Anything else is left for the mappers, which then refuse what they cannot map.
 */
final class PatternFusion {
    private static final double SQRT2 = Math.sqrt(2);
    private static final double GELU_TANH_SCALE = Math.sqrt(2 / Math.PI);
    private static final Where QUIET = new Where("pattern", "", "");

    private final Graph graph;
    private final Map<String, NodeDef> producers = new HashMap<>();
    private final Map<String, List<NodeDef>> consumers = new HashMap<>();
    private final Map<String, Integer> uses = new HashMap<>();
    private final Map<String, TensorDef> constants = new HashMap<>();
    private final Set<NodeDef> used = new HashSet<>();
    /** The fused node of each match, keyed by the match's last node. */
    private final Map<NodeDef, NodeDef> fused = new HashMap<>();
    private final Map<NodeDef, Integer> position = new HashMap<>();

    private PatternFusion(Graph graph) {
        this.graph = graph;
        for (TensorDef t : graph.initializers()) {
            constants.put(t.name(), t);
        }
        List<NodeDef> nodes = graph.nodes();
        for (int k = 0; k < nodes.size(); k++) {
            NodeDef n = nodes.get(k);
            position.put(n, k);
            for (String out : n.outputs()) {
                producers.put(out, n);
            }
            for (String in : n.inputs()) {
                if (!in.isEmpty()) {
                    uses.merge(in, 1, Integer::sum);
                    consumers.computeIfAbsent(in, x -> new ArrayList<>()).add(n);
                }
            }
            if (n.opType().equals("Constant") && n.outputs().size() == 1) {
                for (Attribute a : n.attributes()) {
                    if (a.name().equals("value") && a.t() != null) {
                        constants.put(n.outputs().get(0), a.t());
                    }
                }
            }
        }
        for (ValueInfo out : graph.outputs()) {
            uses.merge(out.name(), 1, Integer::sum);
        }
    }

    /** The graph with every chain this class recognizes replaced by one node. */
    static Graph rewrite(Graph graph) {
        PatternFusion p = new PatternFusion(graph);
        for (NodeDef n : graph.nodes()) {
            if (is(n, "ReduceMean")) {
                p.layerNorm(n);
            }
        }
        for (NodeDef n : graph.nodes()) {
            if (is(n, "ReduceMean")) {
                p.rmsNorm(n);
            }
        }
        for (NodeDef n : graph.nodes()) {
            if (is(n, "Erf")) {
                p.geluErf(n);
            } else if (is(n, "Tanh")) {
                p.geluTanh(n);
            }
        }
        if (p.fused.isEmpty()) {
            return graph;
        }
        List<NodeDef> out = new ArrayList<>();
        for (NodeDef n : graph.nodes()) {
            if (p.fused.containsKey(n)) {
                out.add(p.fused.get(n));
            } else if (!p.used.contains(n)) {
                out.add(n);
            }
        }
        return new Graph(graph.name(), out, graph.initializers(), graph.inputs(), graph.outputs());
    }

    // ---------------------------------------------------------------- the chains

    private void layerNorm(NodeDef r1) {
        if (!lastAxisMean(r1)) {
            return;
        }
        String x = r1.inputs().get(0);
        String mean = r1.outputs().get(0);
        List<NodeDef> subs = consumers.getOrDefault(mean, List.of());
        Set<String> centered = new HashSet<>();
        for (NodeDef s : subs) {
            if (!is(s, "Sub") || !s.inputs().get(0).equals(x) || !s.inputs().get(1).equals(mean)) {
                return;
            }
            centered.add(s.outputs().get(0));
        }
        if (subs.isEmpty() || uses(mean) != subs.size()) {
            return;
        }
        NodeDef square = null;
        for (String d : centered) {
            for (NodeDef c : consumers.getOrDefault(d, List.of())) {
                if (square(c, d)) {
                    square = c;
                }
            }
        }
        NodeDef r2 = square == null ? null : only(square.outputs().get(0), "ReduceMean");
        NodeDef add = r2 == null || !lastAxisMean(r2) ? null : only(r2.outputs().get(0), "Add");
        Double eps = add == null ? null : otherScalar(add, r2.outputs().get(0));
        NodeDef sqrt = eps == null ? null : only(add.outputs().get(0), "Sqrt");
        NodeDef div = sqrt == null ? null : only(sqrt.outputs().get(0), "Div");
        if (div == null || !centered.contains(div.inputs().get(0)) || !div.inputs().get(1).equals(
                sqrt.outputs().get(0))) {
            return;
        }
        List<NodeDef> chain = new ArrayList<>(subs);
        chain.addAll(List.of(r1, square, r2, add, sqrt, div));
        String gamma = vectorStep(chain, "Mul");
        String beta = gamma.isEmpty() ? "" : vectorStep(chain, "Add");
        fuse(chain, "LayerNormalization", List.of(x, gamma, beta), end(chain), List.of(axis(),
                new Attribute("epsilon", OnnxModel.ATTR_FLOAT, (float) (double) eps, null, null, null, null, null)));
    }

    private void rmsNorm(NodeDef r) {
        if (used.contains(r) || !lastAxisMean(r)) {
            return;
        }
        NodeDef sq = producers.get(r.inputs().get(0));
        if (sq == null || used.contains(sq) || sq.inputs().isEmpty() || uses(sq.outputs().get(0)) != 1
                || !square(sq, sq.inputs().get(0))) {
            return;
        }
        String x = sq.inputs().get(0);
        NodeDef add = only(r.outputs().get(0), "Add");
        Double eps = add == null ? null : otherScalar(add, r.outputs().get(0));
        NodeDef sqrt = eps == null ? null : only(add.outputs().get(0), "Sqrt");
        String s = sqrt == null ? null : sqrt.outputs().get(0);
        List<NodeDef> c = s == null || uses(s) != 1 ? List.of() : consumers.get(s);
        if (c.size() != 1) {
            return;
        }
        NodeDef inv = c.get(0);
        List<NodeDef> chain = new ArrayList<>(List.of(sq, r, add, sqrt, inv));
        String weight = "";
        String out;
        if (is(inv, "Div") && inv.inputs().get(0).equals(x)) {
            weight = vectorStep(chain, "Mul");
            out = end(chain);
        } else if ((is(inv, "Div") && isScalar(inv.inputs().get(0), 1)) || is(inv, "Reciprocal")) {
            String rec = inv.outputs().get(0);
            NodeDef top = null;
            for (NodeDef m = only(rec, "Mul"); m != null; m = only(m.outputs().get(0), "Mul")) {
                List<NodeDef> inner = new ArrayList<>();
                List<String> leaves = factors(m.outputs().get(0), inner);
                String w = leaves.stream().filter(this::vector).findFirst().orElse("");
                List<String> want = new ArrayList<>(List.of(x, rec));
                if (!w.isEmpty()) {
                    want.add(w);
                }
                if (!sameMultiset(leaves, want)) {
                    break;
                }
                top = m;
                weight = w;
                if (!w.isEmpty()) {
                    break;
                }
            }
            if (top == null) {
                return;
            }
            List<NodeDef> inner = new ArrayList<>();
            factors(top.outputs().get(0), inner);
            chain.addAll(inner);
            out = top.outputs().get(0);
        } else {
            return;
        }
        fuse(chain, "RMSNormalization", List.of(x, weight), out, List.of(axis(),
                new Attribute("epsilon", OnnxModel.ATTR_FLOAT, (float) (double) eps, null, null, null, null, null)));
    }

    private void geluErf(NodeDef erf) {
        NodeDef scaled = producers.get(erf.inputs().get(0));
        if (scaled == null || uses(erf.inputs().get(0)) != 1) {
            return;
        }
        String x;
        if (is(scaled, "Div") && isScalar(scaled.inputs().get(1), SQRT2)) {
            x = scaled.inputs().get(0);
        } else if (is(scaled, "Mul") && isScalar(scaled.inputs().get(1), 1 / SQRT2)) {
            x = scaled.inputs().get(0);
        } else if (is(scaled, "Mul") && isScalar(scaled.inputs().get(0), 1 / SQRT2)) {
            x = scaled.inputs().get(1);
        } else {
            return;
        }
        geluProduct(x, erf, List.of(scaled, erf), "none");
    }

    private void geluTanh(NodeDef tanh) {
        String arg = tanh.inputs().get(0);
        if (producers.get(arg) == null || uses(arg) != 1) {
            return;
        }
        List<NodeDef> chain = new ArrayList<>(List.of(tanh));
        List<String> outer = factors(arg, chain);
        if (outer.size() != 2) {
            return;
        }
        String inner = isScalar(outer.get(0), GELU_TANH_SCALE) ? outer.get(1)
                : isScalar(outer.get(1), GELU_TANH_SCALE) ? outer.get(0) : null;
        NodeDef sum = inner == null || uses(inner) != 1 ? null : producers.get(inner);
        if (sum == null || !is(sum, "Add")) {
            return;
        }
        chain.add(sum);
        for (int i = 0; i < 2; i++) {
            String x = sum.inputs().get(i);
            String cube = sum.inputs().get(1 - i);
            List<NodeDef> cubeChain = new ArrayList<>();
            List<String> leaves = producers.get(cube) != null && uses(cube) == 1 ? factors(cube, cubeChain) : List.of();
            boolean cubed = leaves.size() == 4 && leaves.stream().filter(x::equals).count() == 3;
            if (leaves.size() == 2) {
                NodeDef pow = producers.get(leaves.stream().filter(l -> !isScalar(l, 0.044715)).findFirst()
                        .orElse(""));
                if (pow != null && is(pow, "Pow") && pow.inputs().get(0).equals(x) && isScalar(pow.inputs().get(1), 3)
                        && uses(pow.outputs().get(0)) == 1) {
                    cubeChain.add(pow);
                    cubed = true;
                }
            }
            if (cubed && leaves.stream().anyMatch(l -> isScalar(l, 0.044715))) {
                chain.addAll(cubeChain);
                geluProduct(x, tanh, chain, "tanh");
                return;
            }
        }
    }

    /** {@code x * (1 + f) * 0.5} in any association after f (Erf or Tanh): the GELU of x when it is all there. */
    private void geluProduct(String x, NodeDef f, List<NodeDef> before, String approximate) {
        NodeDef one = only(f.outputs().get(0), "Add");
        if (one == null || !isScalar(other(one, f.outputs().get(0)), 1)) {
            return;
        }
        String a = one.outputs().get(0);
        for (NodeDef m = only(a, "Mul"); m != null; m = only(m.outputs().get(0), "Mul")) {
            List<NodeDef> inner = new ArrayList<>();
            List<String> leaves = factors(m.outputs().get(0), inner);
            long xs = leaves.stream().filter(x::equals).count();
            long halves = leaves.stream().filter(l -> isScalar(l, 0.5)).count();
            if (leaves.size() == 3 && xs == 1 && halves == 1 && leaves.contains(a)) {
                List<NodeDef> chain = new ArrayList<>(before);
                chain.add(one);
                chain.addAll(inner);
                fuse(chain, "Gelu", List.of(x), m.outputs().get(0), List.of(new Attribute("approximate",
                        OnnxModel.ATTR_STRING, null, null, approximate.getBytes(StandardCharsets.UTF_8), null, null,
                        null)));
                return;
            }
            if (leaves.size() - xs - halves - (leaves.contains(a) ? 1 : 0) != 0 || xs > 1 || halves > 1) {
                return;
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Replaces {@code chain} (which must be free and read from outside only at its end) by one node. */
    private void fuse(List<NodeDef> chain, String op, List<String> inputs, String output, List<Attribute> attrs) {
        Set<NodeDef> nodes = new HashSet<>(chain);
        Set<String> inside = new HashSet<>();
        for (NodeDef n : nodes) {
            if (used.contains(n)) {
                return;
            }
            inside.addAll(n.outputs());
        }
        for (String v : inside) {
            if (v.equals(output)) {
                continue;
            }
            for (NodeDef c : consumers.getOrDefault(v, List.of())) {
                if (!nodes.contains(c)) {
                    return;
                }
            }
            if (graph.outputs().stream().anyMatch(o -> o.name().equals(v))) {
                return;
            }
        }
        NodeDef last = chain.get(0);
        String scope = null;
        for (NodeDef n : chain) {
            last = position.get(n) > position.get(last) ? n : last;
            int slash = n.name().lastIndexOf('/');
            String s = slash < 0 ? "" : n.name().substring(0, slash + 1);
            scope = scope == null ? s : commonPrefix(scope, s);
        }
        int cut = scope.lastIndexOf('/');
        String name = cut < 0 ? last.name() + "_" + op : scope.substring(0, cut + 1) + op;
        used.addAll(nodes);
        fused.put(last, new NodeDef(name, op, "", inputs, List.of(output), attrs));
    }

    private static String commonPrefix(String a, String b) {
        int i = 0;
        while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return a.substring(0, i);
    }

    /** The leaves of the product tree ending at {@code v}: Muls read only by the tree are opened (into inner). */
    private List<String> factors(String v, List<NodeDef> inner) {
        List<String> leaves = new ArrayList<>();
        open(v, true, leaves, inner);
        return leaves;
    }

    private void open(String v, boolean root, List<String> leaves, List<NodeDef> inner) {
        NodeDef p = producers.get(v);
        if (p != null && is(p, "Mul") && p.inputs().size() == 2 && (root || uses(v) == 1) && !used.contains(p)) {
            inner.add(p);
            open(p.inputs().get(0), false, leaves, inner);
            open(p.inputs().get(1), false, leaves, inner);
        } else {
            leaves.add(v);
        }
    }

    private static boolean sameMultiset(List<String> a, List<String> b) {
        List<String> rest = new ArrayList<>(b);
        for (String s : a) {
            if (!rest.remove(s)) {
                return false;
            }
        }
        return rest.isEmpty();
    }

    /**
     * Whether {@code n} is a well-formed node of type {@code op}: standard domain, an output, and its inputs (two for
     * the binary operators, one for the others, a ReduceMean's axes optional) all named. A malformed node is never part
     * of a chain; the mappers then say what is wrong with it.
     */
    private static boolean is(NodeDef n, String op) {
        if (!n.opType().equals(op) || !(n.domain().isEmpty() || n.domain().equals("ai.onnx"))
                || n.outputs().isEmpty() || n.outputs().get(0).isEmpty()) {
            return false;
        }
        int arity = Set.of("Add", "Sub", "Mul", "Div", "Pow").contains(op) ? 2 : 1;
        boolean sized = op.equals("ReduceMean") ? n.inputs().size() == 1 || n.inputs().size() == 2
                : n.inputs().size() == arity;
        return sized && n.inputs().stream().limit(arity).noneMatch(String::isEmpty);
    }

    /** {@code Pow(d, 2)} or {@code Mul(d, d)}. */
    private boolean square(NodeDef n, String d) {
        return n.inputs().size() == 2 && n.inputs().get(0).equals(d)
                && ((is(n, "Pow") && isScalar(n.inputs().get(1), 2)) || (is(n, "Mul") && n.inputs().get(1).equals(d)));
    }

    /** A ReduceMean over the last axis that keeps it. */
    private boolean lastAxisMean(NodeDef n) {
        if (!is(n, "ReduceMean") || used.contains(n)) {
            return false;
        }
        long[] axes = null;
        long keep = 1;
        for (Attribute a : n.attributes()) {
            if (a.name().equals("axes")) {
                axes = a.ints();
            } else if (a.name().equals("keepdims")) {
                keep = a.i() == null ? 0 : a.i();
            }
        }
        if (n.inputs().size() > 1 && constants.containsKey(n.inputs().get(1))) {
            axes = longs(constants.get(n.inputs().get(1)));
        }
        return keep != 0 && axes != null && axes.length == 1 && axes[0] == -1;
    }

    /**
     * Extends the chain by the node of type {@code op} that alone reads its end, when that node's other operand is a
     * constant vector (a norm's scale or shift); the vector's name, or "" when there is no such node.
     */
    private String vectorStep(List<NodeDef> chain, String op) {
        String out = end(chain);
        NodeDef n = only(out, op);
        if (n == null || !vector(other(n, out))) {
            return "";
        }
        chain.add(n);
        return other(n, out);
    }

    private static String end(List<NodeDef> chain) {
        return chain.get(chain.size() - 1).outputs().get(0);
    }

    /** The single reader of {@code v} when it is a node of type {@code op} and v has no other use. */
    private NodeDef only(String v, String op) {
        List<NodeDef> c = consumers.getOrDefault(v, List.of());
        return c.size() == 1 && uses(v) == 1 && is(c.get(0), op) && !used.contains(c.get(0)) ? c.get(0) : null;
    }

    /** The input of a binary node that is not {@code v} ("" for another arity). */
    private static String other(NodeDef n, String v) {
        if (n.inputs().size() != 2) {
            return "";
        }
        return n.inputs().get(0).equals(v) ? n.inputs().get(1) : n.inputs().get(0);
    }

    private Double otherScalar(NodeDef n, String v) {
        return scalar(other(n, v));
    }

    private int uses(String v) {
        return uses.getOrDefault(v, 0);
    }

    private boolean vector(String name) {
        TensorDef t = constants.get(name);
        return t != null && t.dims().length == 1 && floats(t) != null;
    }

    private boolean isScalar(String name, double value) {
        Double v = scalar(name);
        return v != null && Math.abs(v - value) <= 1e-6 * Math.max(1, Math.abs(value));
    }

    /** The value of a constant of one element, or null. */
    private Double scalar(String name) {
        TensorDef t = constants.get(name);
        if (t == null) {
            return null;
        }
        float[] f = floats(t);
        if (f != null) {
            return f.length == 1 ? (double) f[0] : null;
        }
        long[] l = longs(t);
        return l != null && l.length == 1 ? (double) l[0] : null;
    }

    private static float[] floats(TensorDef t) {
        try {
            return t.dataType() == OnnxModel.INT64 || t.dataType() == OnnxModel.INT32 ? null
                    : TensorData.floats(t, QUIET, null);
        } catch (RuntimeException e) {
            return null; // not a small inline float constant: not part of a pattern
        }
    }

    private static long[] longs(TensorDef t) {
        try {
            return TensorData.longs(t, QUIET, null);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Attribute axis() {
        return new Attribute("axis", OnnxModel.ATTR_INT, null, -1L, null, null, null, null);
    }
}
