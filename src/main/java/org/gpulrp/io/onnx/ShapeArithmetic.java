package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.ShapeGraph.DYNAMIC;
import static org.gpulrp.io.onnx.ShapeGraph.MAX_ELEMENTS;
import static org.gpulrp.io.onnx.ShapeGraph.in;
import static org.gpulrp.io.onnx.ShapeGraph.marker;
import static org.gpulrp.io.onnx.ShapeGraph.text;

import java.util.Arrays;
import java.util.Set;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.ShapeGraph.ShapeValue;

/**
 * The elementwise part of {@link ShapeGraph}: arithmetic, comparisons and logic with numpy broadcasting, Where,
 * Range and the unary functions, on integers (the batch markers passed on only unchanged) or floats (NaN where a value
 * depends on the batch). Integer division truncates, as ONNX runtimes do for int64.
 */
final class ShapeArithmetic {
    private ShapeArithmetic() {
    }

    static ShapeValue range(MappingState ctx, NodeDef n, Where w) {
        ShapeValue s = in(ctx, n, w, 0, "start");
        ShapeValue l = in(ctx, n, w, 1, "limit");
        ShapeValue d = in(ctx, n, w, 2, "delta");
        if (!s.known() || !l.known() || !d.known() || s.size() != 1 || l.size() != 1 || d.size() != 1) {
            throw w.fail("needs known scalar start, limit and delta");
        }
        double start = s.d()[0];
        double delta = d.d()[0];
        double count = Math.max(Math.ceil((l.d()[0] - start) / delta), 0);
        if (delta == 0 || count > MAX_ELEMENTS) {
            throw w.fail("produces too many values (or has delta 0)");
        }
        boolean real = s.real() || l.real() || d.real();
        long[] oi = new long[(int) count];
        double[] or = new double[(int) count];
        for (int i = 0; i < count; i++) {
            or[i] = start + i * delta;
            oi[i] = (long) or[i];
        }
        long[] dims = {(long) count};
        return real ? new ShapeValue(null, or, dims) : new ShapeValue(oi, null, dims);
    }

    static ShapeValue where(MappingState ctx, NodeDef n, Where w) {
        ShapeValue c = in(ctx, n, w, 0, "condition");
        ShapeValue a = in(ctx, n, w, 1, "X");
        ShapeValue b = in(ctx, n, w, 2, "Y");
        long[] dims = broadcastDims(broadcastDims(c.dims(), a.dims(), w), b.dims(), w);
        int size = (int) product(dims, w);
        boolean real = a.real() || b.real();
        long[] cv = c.v();
        long[] oi = new long[size];
        double[] or = new double[size];
        for (int i = 0; i < size; i++) {
            long ci = cv[index(c, dims, i)];
            if (marker(ci)) {
                oi[i] = DYNAMIC;
                or[i] = Double.NaN;
                continue;
            }
            ShapeValue pick = ci != 0 ? a : b;
            int j = index(pick, dims, i);
            if (real) {
                or[i] = pick.d()[j];
            } else {
                oi[i] = pick.ints()[j];
            }
        }
        return real ? new ShapeValue(null, or, dims) : new ShapeValue(oi, null, dims);
    }

    static ShapeValue unary(ShapeValue x, String op) {
        if (!x.real() && !op.equals("Sqrt")) {
            long[] v = x.ints();
            long[] out = new long[v.length];
            for (int i = 0; i < v.length; i++) {
                out[i] = marker(v[i]) && !op.equals("Floor") && !op.equals("Ceil") ? DYNAMIC : switch (op) {
                    case "Neg" -> -v[i];
                    case "Abs" -> Math.abs(v[i]);
                    case "Not" -> v[i] == 0 ? 1 : 0;
                    default -> v[i]; // Floor, Ceil of an integer
                };
            }
            return new ShapeValue(out, null, x.dims());
        }
        double[] v = x.d();
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = switch (op) {
                case "Floor" -> Math.floor(v[i]);
                case "Ceil" -> Math.ceil(v[i]);
                case "Sqrt" -> Math.sqrt(v[i]);
                case "Neg" -> -v[i];
                case "Abs" -> Math.abs(v[i]);
                default -> v[i] == 0 ? 1 : 0; // Not
            };
        }
        return new ShapeValue(null, out, x.dims());
    }

    /** Elementwise arithmetic, comparison and logic with numpy broadcasting; integer division truncates (as ONNX). */
    static ShapeValue binary(MappingState ctx, NodeDef n, Where w, String op) {
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs, has " + n.inputs().size());
        }
        NodeAttrs.allowOnly(n, w, op.equals("Mod") ? Set.of("fmod") : Set.of());
        ShapeValue a = in(ctx, n, w, 0, "A");
        ShapeValue b = in(ctx, n, w, 1, "B");
        long[] dims = broadcastDims(a.dims(), b.dims(), w);
        int size = (int) product(dims, w);
        boolean compare = Set.of("Equal", "Less", "Greater", "And", "Or", "Xor").contains(op);
        boolean real = (a.real() || b.real()) && !compare;
        long[] oi = new long[size];
        double[] or = new double[size];
        for (int i = 0; i < size; i++) {
            int ia = index(a, dims, i);
            int ib = index(b, dims, i);
            if (a.real() || b.real()) {
                double x = a.d()[ia];
                double y = b.d()[ib];
                double r = realOp(op, x, y);
                if (real) {
                    or[i] = r;
                } else {
                    oi[i] = Double.isNaN(r) ? DYNAMIC : (long) r;
                }
            } else {
                oi[i] = intOp(op, a.ints()[ia], b.ints()[ib], w);
            }
        }
        return real ? new ShapeValue(null, or, dims) : new ShapeValue(oi, null, dims);
    }

    private static double realOp(String op, double x, double y) {
        return switch (op) {
            case "Add" -> x + y;
            case "Sub" -> x - y;
            case "Mul" -> x * y;
            case "Div" -> x / y;
            case "Mod" -> x % y;
            case "Max" -> Math.max(x, y);
            case "Min" -> Math.min(x, y);
            default -> Double.isNaN(x) || Double.isNaN(y) ? Double.NaN : switch (op) {
                case "Equal" -> x == y ? 1 : 0;
                case "Less" -> x < y ? 1 : 0;
                case "Greater" -> x > y ? 1 : 0;
                case "And" -> x != 0 && y != 0 ? 1 : 0;
                case "Or" -> x != 0 || y != 0 ? 1 : 0;
                default -> (x != 0) != (y != 0) ? 1 : 0; // Xor
            };
        };
    }

    /** Integer arithmetic; a marker survives only being passed on (times 1, plus 0, divided by 1). */
    private static long intOp(String op, long x, long y, Where w) {
        if (marker(x) || marker(y)) {
            if (marker(x) && !marker(y) && ((op.equals("Mul") || op.equals("Div")) && y == 1
                    || (op.equals("Add") || op.equals("Sub")) && y == 0)) {
                return x;
            }
            if (marker(y) && !marker(x) && (op.equals("Mul") && x == 1 || op.equals("Add") && x == 0)) {
                return y;
            }
            return DYNAMIC;
        }
        return switch (op) {
            case "Add" -> x + y;
            case "Sub" -> x - y;
            case "Mul" -> x * y;
            case "Div", "Mod" -> {
                if (y == 0) {
                    throw w.fail("divides by zero");
                }
                yield op.equals("Div") ? x / y : Math.floorMod(x, y);
            }
            case "Max" -> Math.max(x, y);
            case "Min" -> Math.min(x, y);
            case "Equal" -> x == y ? 1 : 0;
            case "Less" -> x < y ? 1 : 0;
            case "Greater" -> x > y ? 1 : 0;
            case "And" -> x != 0 && y != 0 ? 1 : 0;
            case "Or" -> x != 0 || y != 0 ? 1 : 0;
            case "Xor" -> (x != 0) != (y != 0) ? 1 : 0;
            default -> throw w.fail("is not evaluated on shapes"); // not reached: handles() lists the operators
        };
    }

    /** Numpy broadcasting of two dims lists. */
    private static long[] broadcastDims(long[] a, long[] b, Where w) {
        int rank = Math.max(a.length, b.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long x = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            long y = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            if (x != y && x != 1 && y != 1) {
                throw w.fail("cannot broadcast shapes " + Arrays.toString(a) + " and " + Arrays.toString(b));
            }
            out[i] = x == 1 ? y : x;
        }
        return out;
    }

    /** The flat index into {@code v} of output element {@code i} of the broadcast {@code dims}. */
    private static int index(ShapeValue v, long[] dims, int i) {
        long[] d = v.dims();
        int off = dims.length - d.length;
        int idx = 0;
        int rest = i;
        long[] coord = new long[dims.length];
        for (int k = dims.length - 1; k >= 0; k--) {
            coord[k] = rest % dims[k];
            rest /= (int) dims[k];
        }
        for (int k = 0; k < d.length; k++) {
            idx = (int) (idx * d[k] + (d[k] == 1 ? 0 : coord[k + off]));
        }
        return idx;
    }

    static long product(long[] dims, Where w) {
        long p = 1;
        for (long d : dims) {
            if (d < 0 || marker(d) || (d > 0 && p > MAX_ELEMENTS / d)) {
                throw w.fail("has a shape " + text(dims) + " that gpulrp cannot evaluate at import");
            }
            p *= d;
        }
        return p;
    }
}
