package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.ShapeGraph.DYNAMIC;
import static org.gpulrp.io.onnx.ShapeGraph.MAX_ELEMENTS;
import static org.gpulrp.io.onnx.ShapeGraph.in;
import static org.gpulrp.io.onnx.ShapeGraph.marker;
import static org.gpulrp.io.onnx.ShapeGraph.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.ShapeGraph.ShapeValue;

/**
 * The elementwise part of {@link ShapeGraph}: arithmetic, comparisons and logic with numpy broadcasting, Where,
 * Range, MatMul and the unary functions, on integers (a batch marker passed on unchanged, or multiplied and divided
 * by known factors) or floats (NaN where a value depends on the batch; float32 results rounded to float32). Integer
 * division truncates, as ONNX runtimes do for int64.
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
        boolean f32 = s.f32() || l.f32() || d.f32();
        long[] oi = new long[(int) count];
        double[] or = new double[(int) count];
        for (int i = 0; i < count; i++) {
            or[i] = start + i * delta;
            oi[i] = (long) or[i];
        }
        long[] dims = {(long) count};
        return real ? ShapeValue.real(or, dims, f32) : new ShapeValue(oi, null, dims);
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
        int[] ic = IndexMaps.broadcast(c.dims(), dims);
        int[] ia = IndexMaps.broadcast(a.dims(), dims);
        int[] ib = IndexMaps.broadcast(b.dims(), dims);
        for (int i = 0; i < size; i++) {
            long ci = cv[ic[i]];
            if (marker(ci)) {
                oi[i] = DYNAMIC;
                or[i] = Double.NaN;
                continue;
            }
            ShapeValue pick = ci != 0 ? a : b;
            int j = ci != 0 ? ia[i] : ib[i];
            if (real) {
                or[i] = pick.d()[j];
            } else {
                oi[i] = pick.ints()[j];
            }
        }
        return real ? ShapeValue.real(or, dims, a.f32() || b.f32()) : new ShapeValue(oi, null, dims);
    }

    static ShapeValue unary(ShapeValue x, String op) {
        boolean integral = Set.of("Neg", "Abs", "Not", "Floor", "Ceil").contains(op);
        if (!x.real() && integral) {
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
                case "Cos" -> StrictMath.cos(v[i]);
                case "Sin" -> StrictMath.sin(v[i]);
                case "Tanh" -> StrictMath.tanh(v[i]);
                case "Exp" -> StrictMath.exp(v[i]);
                case "Log" -> StrictMath.log(v[i]);
                case "Reciprocal" -> 1 / v[i];
                default -> v[i] == 0 ? 1 : 0; // Not
            };
        }
        return ShapeValue.real(out, x.dims(), x.f32());
    }

    /**
     * MatMul of constants with numpy's rules (a 1-D operand is a row or column; leading dims broadcast), each
     * product summed in double and rounded once.
     */
    static ShapeValue matMul(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of());
        ShapeValue a = in(ctx, n, w, 0, "A");
        ShapeValue b = in(ctx, n, w, 1, "B");
        long[] da = a.dims().length == 1 ? new long[] {1, a.dims()[0]} : a.dims();
        long[] db = b.dims().length == 1 ? new long[] {b.dims()[0], 1} : b.dims();
        if (a.scalar() || b.scalar() || da[da.length - 1] != db[db.length - 2]) {
            throw w.fail("multiplies shapes " + text(a.dims()) + " and " + text(b.dims()));
        }
        long m = da[da.length - 2];
        long k = da[da.length - 1];
        long nn = db[db.length - 1];
        long[] lead = broadcastDims(Arrays.copyOf(da, da.length - 2), Arrays.copyOf(db, db.length - 2), w);
        long[] full = Arrays.copyOf(lead, lead.length + 2);
        full[lead.length] = m;
        full[lead.length + 1] = nn;
        int[] ia = IndexMaps.broadcast(Arrays.copyOf(da, da.length - 2), lead);
        int[] ib = IndexMaps.broadcast(Arrays.copyOf(db, db.length - 2), lead);
        int size = (int) product(full, w);
        double[] x = a.d();
        double[] y = b.d();
        double[] out = new double[size];
        int o = 0;
        for (int l = 0; l < ia.length; l++) {
            for (long i = 0; i < m; i++) {
                for (long j = 0; j < nn; j++) {
                    double acc = 0;
                    for (long t = 0; t < k; t++) {
                        acc += x[(int) ((ia[l] * m + i) * k + t)] * y[(int) ((ib[l] * k + t) * nn + j)];
                    }
                    out[o++] = acc;
                }
            }
        }
        long[] dims = full;
        if (a.dims().length == 1 || b.dims().length == 1) {
            List<Long> keep = new ArrayList<>();
            for (int j = 0; j < full.length; j++) {
                boolean rowOfA = a.dims().length == 1 && j == full.length - 2;
                boolean columnOfB = b.dims().length == 1 && j == full.length - 1;
                if (!rowOfA && !columnOfB) {
                    keep.add(full[j]);
                }
            }
            dims = keep.stream().mapToLong(Long::longValue).toArray();
        }
        return ShapeValue.real(out, dims, a.f32() || b.f32());
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
        int[] iav = IndexMaps.broadcast(a.dims(), dims);
        int[] ibv = IndexMaps.broadcast(b.dims(), dims);
        double[] ad = a.d();
        double[] bd = b.d();
        for (int i = 0; i < size; i++) {
            int ia = iav[i];
            int ib = ibv[i];
            if (a.real() || b.real()) {
                double x = ad[ia];
                double y = bd[ib];
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
        return real ? ShapeValue.real(or, dims, a.f32() || b.f32()) : new ShapeValue(oi, null, dims);
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
            case "Pow" -> StrictMath.pow(x, y);
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

    /**
     * Integer arithmetic. A batch marker survives being passed on (times 1, plus 0, divided by 1) and being
     * multiplied or divided (exactly) by a positive known factor; compared with a number below 1 it is known (the
     * batch size is at least 1); anything else on it is {@link ShapeGraph#DYNAMIC}.
     */
    private static long intOp(String op, long x, long y, Where w) {
        if (marker(x) || marker(y)) {
            return markerOp(op, x, y);
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
            case "Pow" -> (long) Math.pow(x, y);
            default -> throw w.fail("is not evaluated on shapes"); // not reached: handles() lists the operators
        };
    }

    private static long markerOp(String op, long x, long y) {
        long kx = ShapeGraph.batchFactor(x);
        long ky = ShapeGraph.batchFactor(y);
        if (kx > 0 && !marker(y)) {
            return switch (op) {
                case "Mul" -> y == 1 ? x : y > 0 ? ShapeGraph.batchTimes(kx * y) : DYNAMIC;
                case "Div" -> y == 1 ? x : y > 0 && kx % y == 0 ? ShapeGraph.batchTimes(kx / y) : DYNAMIC;
                case "Add", "Sub" -> y == 0 ? x : DYNAMIC;
                case "Equal" -> y < 1 ? 0 : DYNAMIC;
                case "Greater" -> y < 1 ? 1 : DYNAMIC;
                case "Less" -> y < 1 ? 0 : DYNAMIC;
                default -> DYNAMIC;
            };
        }
        if (ky > 0 && !marker(x)) {
            return switch (op) {
                case "Mul" -> x == 1 ? y : x > 0 ? ShapeGraph.batchTimes(ky * x) : DYNAMIC;
                case "Add" -> x == 0 ? y : DYNAMIC;
                case "Equal" -> x < 1 ? 0 : DYNAMIC;
                case "Less" -> x < 1 ? 1 : DYNAMIC;
                case "Greater" -> x < 1 ? 0 : DYNAMIC;
                default -> DYNAMIC;
            };
        }
        return DYNAMIC;
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
