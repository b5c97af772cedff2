package org.gpulrp.backend;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.PoolGeometry;

/**
 * The table of the library's primitives: one constant per {@link Backend} primitive and per form of one that runs its
 * own kernel (the positive-only forms of the sign-split maps, selected by a null argument). Each carries what the
 * backends, the tests and the benchmarks need to know about it, so that none of them keeps its own list
 * (docs/DESIGN.md section 5.3): the OpenCL kernel's base name (the file names in {@code kernels/} stay as they are;
 * the dense kernels add {@code _simple}, {@code _vec}, {@code _tiled}, the convolutions {@code _vec}, {@code _px},
 * {@code _tiled}), its family (how it is launched), its direction, the fma chains each output keeps (which size a
 * vector kernel's register tile), and a nominal flops and bytes count per call.
 *
 * <p>Counts are nominal: 2 flops per fma of each chain (a tap in the padding counted as if it ran), the subtractions
 * of the ZBox forms and the elementwise arithmetic as 1 flop each; bytes are 4 per float of every array the call
 * reads or writes once (inputs, weights, per-feature vectors, outputs), as if each were touched exactly once.
 */
public enum Op {
    // ------------------------------------------------------------------ elementwise: {flops, floats} per element
    /** {@link Backend#relu}. */
    RELU("relu", "relu", Family.ELEMENTWISE, Direction.NONE, 0, 2),
    /** {@link Backend#splitSign}. */
    SPLIT_SIGN("split_sign", "splitSign", Family.ELEMENTWISE, Direction.NONE, 0, 3),
    /** {@link Backend#gammaWeights}: two fmas per element. */
    GAMMA_WEIGHTS("gamma_weights", "gammaWeights", Family.ELEMENTWISE, Direction.NONE, 4, 3),
    /** {@link Backend#normalize}: the stabilizer's add and a division per element. */
    NORMALIZE("normalize_relevance", "normalize", Family.ELEMENTWISE, Direction.NONE, 2, 3),
    /** {@link Backend#normalizeSigned}, both sides: two stabilized divisions and two scalings per element. */
    NORMALIZE_SIGNED("normalize_signed", "normalizeSigned", Family.ELEMENTWISE, Direction.NONE, 6, 6),
    /** {@link Backend#add}. */
    ADD("add_elements", "add", Family.ELEMENTWISE, Direction.NONE, 1, 3),
    /** {@link Backend#mul}. */
    MUL("mul_elements", "mul", Family.ELEMENTWISE, Direction.NONE, 1, 3),
    /** {@link Backend#copyRows}: sizes (rows, width), two floats moved per copied value. */
    COPY_ROWS("copy_rows", "copyRows", Family.PER_SAMPLE, Direction.NONE, 0, 2),

    // ------------------------------------------------------------------ dense: {chains, flops per step} per output
    /** {@link Backend#linear}. */
    LINEAR("linear", "linear", Family.DENSE, Direction.FORWARD, 1, 2, Touched.of(1, 1, 1, 0, 1)),
    /** {@link Backend#linearSigned} with both outputs: the p and n chains. */
    LINEAR_SIGNED("linear_signed", "linearSigned", Family.DENSE, Direction.FORWARD, 2, 4, Touched.of(2, 1, 2, 0, 2)),
    /** {@link Backend#linearSigned} without {@code outN}: the p chain alone. */
    LINEAR_SIGNED_P("linear_signed_p", "linearSigned", Family.DENSE, Direction.FORWARD, 1, 2,
            Touched.of(2, 1, 1, 0, 1), 6),
    /** {@link Backend#linearZBox}: a subtraction and an fma per step. */
    LINEAR_ZBOX("linear_zbox", "linearZBox", Family.DENSE, Direction.FORWARD, 1, 3, Touched.of(1, 1, 1, 2, 0)),
    /** {@link Backend#backproject}. */
    BACKPROJECT("backproject", "backproject", Family.DENSE, Direction.BACKPROJECTION, 1, 2,
            Touched.of(1, 2, 1, 0, 0)),
    /** {@link Backend#backprojectSigned} with {@code hn}: chains c1 and c2, two fmas each per step. */
    BACKPROJECT_SIGNED("backproject_signed", "backprojectSigned", Family.DENSE, Direction.BACKPROJECTION, 2, 8,
            Touched.of(2, 2, 2, 0, 0)),
    /** {@link Backend#backprojectSigned} without {@code hn}: chains c1 and c2, one fma each per step. */
    BACKPROJECT_SIGNED_P("backproject_signed_p", "backprojectSigned", Family.DENSE, Direction.BACKPROJECTION, 2, 4,
            Touched.of(2, 2, 1, 0, 0), 1),
    /** {@link Backend#backprojectZBox}: chains c0, cp, cm. */
    BACKPROJECT_ZBOX("backproject_zbox", "backprojectZBox", Family.DENSE, Direction.BACKPROJECTION, 3, 6,
            Touched.of(3, 2, 1, 2, 0)),

    // ------------------------------------------------------------------ convolution, as the dense forms per tap
    /** {@link Backend#conv}. */
    CONV("conv_fwd", "conv", Family.CONV, Direction.FORWARD, 1, 2, Touched.of(1, 1, 1, 0, 1)),
    /** {@link Backend#convSigned} with both outputs. */
    CONV_SIGNED("conv_signed", "convSigned", Family.CONV, Direction.FORWARD, 2, 4, Touched.of(2, 1, 2, 0, 2)),
    /**
     * {@link Backend#convSigned} without {@code outN}. Only the vector variant has a kernel of its own
     * ({@code conv_signed_p_vec}); elsewhere {@link #CONV_SIGNED}'s kernels run it (see {@link #general()}).
     */
    CONV_SIGNED_P("conv_signed_p", "convSigned", Family.CONV, Direction.FORWARD, 1, 2, Touched.of(2, 1, 1, 0, 1), 6),
    /** {@link Backend#convZBox}. */
    CONV_ZBOX("conv_zbox", "convZBox", Family.CONV, Direction.FORWARD, 1, 3, Touched.of(1, 1, 1, 2, 0)),
    /** {@link Backend#convBackproject}. */
    CONV_BACKPROJECT("conv_back", "convBackproject", Family.CONV, Direction.BACKPROJECTION, 1, 2,
            Touched.of(1, 2, 1, 0, 0)),
    /** {@link Backend#convBackprojectSigned} (one kernel for both forms; counted with {@code hn}). */
    CONV_BACKPROJECT_SIGNED("conv_back_signed", "convBackprojectSigned", Family.CONV, Direction.BACKPROJECTION, 2,
            8, Touched.of(2, 2, 2, 0, 0)),
    /** {@link Backend#convBackprojectZBox}. */
    CONV_BACKPROJECT_ZBOX("conv_back_zbox", "convBackprojectZBox", Family.CONV, Direction.BACKPROJECTION, 3, 6,
            Touched.of(3, 2, 1, 2, 0)),

    // ------------------------------------------------------------------ pooling
    /** {@link Backend#maxPool}: comparisons only; reads x, writes y and arg. */
    MAX_POOL("max_pool", "maxPool", Family.POOL, Direction.FORWARD, 0, 0),
    /** {@link Backend#maxPoolRoute}: one add per routed output; reads r and arg, writes rIn. */
    MAX_POOL_ROUTE("max_pool_route", "maxPoolRoute", Family.POOL, Direction.BACKPROJECTION, 1, 0);

    /** How a primitive's work is laid out, and so how a backend launches it. */
    public enum Family {
        /** One output per element of a flat range. */
        ELEMENTWISE,
        /** One output per element of each sample (batch row). */
        PER_SAMPLE,
        /** A linear map between row-major matrices: {@code rows x in} and {@code rows x out}. */
        DENSE,
        /** A convolution over NCHW samples ({@link ConvGeometry}). */
        CONV,
        /** A pooling window over NCHW samples ({@link PoolGeometry}). */
        POOL
    }

    /** Which way a primitive runs through its layer. */
    public enum Direction {
        /** Input to output: one output per output feature, the chain over the input ({@code in}, taps). */
        FORWARD,
        /** Output to input: one output per input feature, the chain over the layer's outputs. */
        BACKPROJECTION,
        /** Neither: a map of each element on its own. */
        NONE
    }

    /**
     * The arrays a dense or convolution call touches once each: {@code weights} weight arrays, {@code inSignals}
     * arrays of the layer input's size per row ({@code x}, {@code r}), {@code outSignals} of the output's size per
     * row ({@code z}, {@code g}, {@code hp}, ...), {@code inVectors} of one value per input element ({@code low},
     * {@code high}), {@code outVectors} of one value per output feature or channel (biases).
     */
    private record Touched(int weights, int inSignals, int outSignals, int inVectors, int outVectors) {
        static Touched of(int weights, int inSignals, int outSignals, int inVectors, int outVectors) {
            return new Touched(weights, inSignals, outSignals, inVectors, outVectors);
        }
    }

    private final String kernel;
    private final String method;
    private final Family family;
    private final Direction direction;
    private final int chains;
    /** Flops per output and chain step (dense, conv), or per element (elementwise, per-sample, pool route). */
    private final int flopsPer;
    /** Floats touched per element (elementwise, per-sample); 0 where {@link #touched} counts them. */
    private final int floatsPer;
    private final Touched touched;
    /** The argument of {@link #method} whose null selects this form; -1 for the full form. */
    private final int absentArgument;

    Op(String kernel, String method, Family family, Direction direction, int flopsPerElement, int floatsPerElement) {
        this(kernel, method, family, direction, 0, flopsPerElement, floatsPerElement, null, -1);
    }

    Op(String kernel, String method, Family family, Direction direction, int chains, int flopsPerStep,
       Touched touched) {
        this(kernel, method, family, direction, chains, flopsPerStep, 0, touched, -1);
    }

    Op(String kernel, String method, Family family, Direction direction, int chains, int flopsPerStep,
       Touched touched, int absentArgument) {
        this(kernel, method, family, direction, chains, flopsPerStep, 0, touched, absentArgument);
    }

    Op(String kernel, String method, Family family, Direction direction, int chains, int flopsPer, int floatsPer,
       Touched touched, int absentArgument) {
        this.kernel = kernel;
        this.method = method;
        this.family = family;
        this.direction = direction;
        this.chains = chains;
        this.flopsPer = flopsPer;
        this.floatsPer = floatsPer;
        this.touched = touched;
        this.absentArgument = absentArgument;
    }

    /** The base name of its OpenCL kernels ({@code kernels/*.cl}), before any variant suffix. */
    public String kernel() {
        return kernel;
    }

    /** The {@link Backend} method it is a form of. */
    public String method() {
        return method;
    }

    public Family family() {
        return family;
    }

    public Direction direction() {
        return direction;
    }

    /**
     * Accumulators (fma chains) each output keeps: 1 for the plain maps and the positive-only forward, 2 for the
     * sign-split ones, 3 for the ZBox backprojections; 0 for primitives without chains. A vector kernel's register
     * tile holds this many accumulators per output, so it takes fewer outputs per work-item the more chains it has.
     */
    public int chains() {
        return chains;
    }

    /**
     * The weight arrays a call takes (dense and convolution primitives; 0 for the others), in the order of the
     * {@link Backend} method's arguments: what {@link Backend#prepareConv} is given.
     */
    public int weightArguments() {
        return family == Family.DENSE || family == Family.CONV ? touched.weights() : 0;
    }

    /**
     * The op whose kernels run this one where a kernel variant has none of its own: {@link #CONV_SIGNED} for
     * {@link #CONV_SIGNED_P} (only the vector variant has {@code conv_signed_p_vec}), the op itself otherwise.
     */
    public Op general() {
        return this == CONV_SIGNED_P ? CONV_SIGNED : this;
    }

    /**
     * The form of {@link Backend} method {@code method} called with {@code args} (as a proxy receives them): the
     * positive-only form where its selecting argument is null.
     *
     * @throws IllegalArgumentException where {@code method} is not a primitive
     */
    public static Op of(String method, Object[] args) {
        Op full = null;
        for (Op op : values()) {
            if (op.method.equals(method)) {
                if (op.absentArgument < 0) {
                    full = op;
                } else if (args != null && args[op.absentArgument] == null) {
                    return op;
                }
            }
        }
        if (full == null) {
            throw new IllegalArgumentException("not a primitive: " + method);
        }
        return full;
    }

    /** The ops of {@code family}, in table order. */
    public static List<Op> of(Family family) {
        List<Op> out = new ArrayList<>();
        for (Op op : values()) {
            if (op.family == family) {
                out.add(op);
            }
        }
        return List.copyOf(out);
    }

    // ------------------------------------------------------------------------------------------------ counts

    /** Flops of a call over {@code n} elements (elementwise), or {@code rows x width} (per-sample: rows * width). */
    public long flops(long n) {
        need(family == Family.ELEMENTWISE || family == Family.PER_SAMPLE, "(n)");
        return flopsPer * n;
    }

    /** Bytes a call over {@code n} elements moves (elementwise, per-sample). */
    public long bytes(long n) {
        need(family == Family.ELEMENTWISE || family == Family.PER_SAMPLE, "(n)");
        return 4L * floatsPer * n;
    }

    /** Flops of a dense call: {@code rows * in * out} outputs-by-steps, for forward and backprojection alike. */
    public long flops(int rows, int in, int out) {
        need(family == Family.DENSE, "(rows, in, out)");
        return (long) flopsPer * rows * in * out;
    }

    /** Bytes a dense call moves: weights {@code [out, in]}, signals {@code [rows, in]} and {@code [rows, out]}. */
    public long bytes(int rows, int in, int out) {
        need(family == Family.DENSE, "(rows, in, out)");
        return bytes(rows, in, out, (long) in * out, in, out);
    }

    /** Flops of a convolution call: every output (forward) or input (backprojection) chain over its taps. */
    public long flops(int rows, ConvGeometry g) {
        need(family == Family.CONV, "(rows, ConvGeometry)");
        return (long) flopsPer * rows * g.outSize() * g.taps();
    }

    /** Bytes a convolution call moves. */
    public long bytes(int rows, ConvGeometry g) {
        need(family == Family.CONV, "(rows, ConvGeometry)");
        return bytes(rows, g.inSize(), g.outSize(), g.weightSize(), g.inSize(), g.outChannels());
    }

    /** Flops of a pooling call (the routing's adds; max pooling only compares). */
    public long flops(int rows, PoolGeometry p) {
        need(family == Family.POOL, "(rows, PoolGeometry)");
        return (long) flopsPer * rows * p.outSize();
    }

    /** Bytes a pooling call moves: the input, and the output with its arg (read or written). */
    public long bytes(int rows, PoolGeometry p) {
        need(family == Family.POOL, "(rows, PoolGeometry)");
        return 4L * rows * (p.inSize() + 2L * p.outSize());
    }

    private long bytes(int rows, long inPerRow, long outPerRow, long weight, long inVector, long outVector) {
        Touched a = touched;
        return 4L * (a.weights() * weight + rows * (a.inSignals() * inPerRow + a.outSignals() * outPerRow)
                + a.inVectors() * inVector + a.outVectors() * outVector);
    }

    private void need(boolean ok, String sizes) {
        if (!ok) {
            throw new IllegalArgumentException(this + " is a " + family + " primitive: no count from sizes " + sizes);
        }
    }
}
