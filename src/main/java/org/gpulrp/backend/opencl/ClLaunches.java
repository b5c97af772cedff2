package org.gpulrp.backend.opencl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.DeviceException;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.PoolGeometry;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.StrideGrid;
import org.gpulrp.backend.Op.Direction;
import org.gpulrp.backend.Op.Family;
import org.gpulrp.backend.opencl.OpenClBackend.Variant;
import org.jocl.CL;
import org.jocl.cl_mem;

/**
 * Launch sizing for {@link OpenClBackend}: which kernel each {@link Op} runs on this device (from the tuning's
 * variants and, for convolutions, the geometry), and its global and local work sizes. Built once per backend from the
 * op table ({@link Op#family()}, {@link Op#direction()}, {@link Op#chains()}); the kernel names are the op's base name
 * with the variant's suffix (docs/DESIGN.md section 5.3). Not thread-safe: the backend serializes its calls.
 */
final class ClLaunches {

    /** How a kernel is launched. */
    enum Shape { ELEMENTWISE, PER_SAMPLE, SIMPLE, VECTOR, TILED, CONV_VECTOR, CONV_PIXELS, CONV_PRODUCTS, CONV_TILED }

    /** A built kernel and how to launch it; {@code vecCols} is the number of columns one VECTOR work-item computes. */
    private record Launch(ClContext.Kernel k, Shape shape, int vecCols) {
        String name() {
            return k.name();
        }

        long maxWorkGroup() {
            return k.maxWorkGroup();
        }
    }

    private final ClContext cl;
    private final KernelTuning tuning;
    private final long maxAllocBytes;
    /** Every op's elementwise, per-sample or dense kernel, and the convolutions' simple (per-sample) ones. */
    private final Map<Op, Launch> launches = new EnumMap<>(Op.class);
    /** The conv ops' VECTOR or TILED kernels; absent: the simple kernel runs. */
    private final Map<Op, Launch> convLaunches = new EnumMap<>(Op.class);
    /** VECTOR: the backprojections' pixel-lane kernels, for few input channels per group and unit column stride. */
    private final Map<Op, Launch> convPixelLaunches = new EnumMap<>(Op.class);
    /**
     * VECTOR: the plain forward map's and plain backprojection's products with pixels in lanes
     * (kernels/conv_products.cl), for stride-1 layers whose planes keep their size ({@link #products}).
     */
    private final Map<Op, Launch> convProducts = new EnumMap<>(Op.class);
    /** VECTOR conv variant: the kernel that arranges weights for channel lanes (once per prepared weights). */
    private Launch arrange;
    /** VECTOR conv variant: the kernel that arranges weights as the products' row panels. */
    private Launch panels;
    /** The products' tap bits per plane geometry and direction ({@link #tapBits}), computed once on the host. */
    private final Map<List<Integer>, int[]> tapBits = new HashMap<>();
    /** VECTOR dense variant: the kernel that packs a dense weight's column strips (once per prepared weights). */
    private Launch strips;
    /** The max-pooling relevance route for windows that do not overlap. */
    private Launch routeWindows;
    /** Max pooling and its route for 2x2 windows at stride 2 that tile the input, 16 outputs in lanes. */
    private Launch pool2x2;
    private Launch route2x2;
    /** A strided 1x1 layer's grid: its input gathered, its backprojection's chains scattered (conv_simple.cl). */
    private Launch gridGather;
    private Launch gridScatter;
    /** A narrow dense chain's two passes (kernels/dense_chain.cl), CHAIN_LANES rows a work-item. */
    private Launch chainForward;
    private Launch chainBackward;
    /** The ops whose tiled kernel did not fit a full work-group here (they run their simple kernel). */
    private final List<String> fellBack = new ArrayList<>();

    /** Creates every kernel the tuning's variants run; on failure releases what it made and throws. */
    ClLaunches(ClContext cl, KernelTuning tuning, long maxAllocBytes) {
        this.cl = cl;
        this.tuning = tuning;
        this.maxAllocBytes = maxAllocBytes;
        try {
            for (Op op : Op.values()) {
                switch (op.family()) {
                    case ELEMENTWISE -> launches.put(op, launch(op.kernel(), Shape.ELEMENTWISE, op));
                    case PER_SAMPLE, POOL -> launches.put(op, launch(op.kernel(), Shape.PER_SAMPLE, op));
                    case DENSE -> launches.put(op, dense(op));
                    case CONV -> conv(op);
                }
            }
            if (tuning.variant() == Variant.VECTOR) {
                strips = launch("dense_strips", Shape.ELEMENTWISE, null);
            }
            routeWindows = launch("max_pool_route_windows", Shape.PER_SAMPLE, null);
            pool2x2 = launch("max_pool_2x2", Shape.PER_SAMPLE, null);
            route2x2 = launch("max_pool_route_2x2", Shape.PER_SAMPLE, null);
            gridGather = launch("conv_grid_gather", Shape.PER_SAMPLE, null);
            gridScatter = launch("conv_grid_scatter", Shape.PER_SAMPLE, null);
            chainForward = launch("chain_forward", Shape.PER_SAMPLE, null);
            chainBackward = launch("chain_backward", Shape.PER_SAMPLE, null);
        } catch (RuntimeException | Error e) {
            release();
            throw e;
        }
    }

    /** The dense op's kernel in the tuning's variant; the simple one where the tiled one needs too many registers. */
    private Launch dense(Op op) {
        Launch l = switch (tuning.variant()) {
            case VECTOR -> launch(op.kernel() + "_vec", Shape.VECTOR, op);
            case TILED -> launch(op.kernel() + "_tiled", Shape.TILED, op);
            default -> launch(op.kernel() + "_simple", Shape.SIMPLE, op);
        };
        if (l.shape() == Shape.TILED && l.maxWorkGroup() < (long) tuning.tileT() * tuning.tileT()) {
            // The compiled kernel needs too many registers for a full work-group here: keep the contract, lose the
            // tiling.
            fellBack.add(op.kernel());
            ClContext.releaseKernel(l.k().kernel());
            l = launch(op.kernel() + "_simple", Shape.SIMPLE, op);
        }
        return l;
    }

    /**
     * The conv op's kernels: the simple one (where the op has its own; {@link Op#general()}), and the tuning's
     * VECTOR kernels (with pixel lanes for backprojections) or TILED one.
     */
    private void conv(Op op) {
        boolean own = op.general() == op;
        if (own) {
            launches.put(op, launch(op.kernel(), Shape.PER_SAMPLE, op));
        }
        if (tuning.convVariant() == Variant.VECTOR) {
            if (arrange == null) {
                arrange = launch("conv_arrange", Shape.ELEMENTWISE, null);
            }
            convLaunches.put(op, launch(op.kernel() + "_vec", Shape.CONV_VECTOR, op));
            if (op == Op.CONV || op == Op.CONV_BACKPROJECT) {
                if (panels == null) {
                    panels = launch("conv_panels", Shape.ELEMENTWISE, null);
                }
                convProducts.put(op, launch(op == Op.CONV ? "conv_fwd_mm" : "conv_back_mm", Shape.CONV_PRODUCTS, op));
            }
            if (own && op.direction() == Direction.BACKPROJECTION) {
                convPixelLaunches.put(op, launch(op.kernel() + "_px", Shape.CONV_PIXELS, op));
            }
        } else if (tuning.convVariant() == Variant.TILED && own) {
            Launch l = launch(op.kernel() + "_tiled", Shape.CONV_TILED, op);
            if (l.maxWorkGroup() < tuning.convTileP()) {
                fellBack.add(op.kernel());
                ClContext.releaseKernel(l.k().kernel());
            } else {
                convLaunches.put(op, l);
            }
        }
    }

    private Launch launch(String name, Shape shape, Op op) {
        int cols = shape == Shape.VECTOR ? 16 * vecColumnBlocks(op) : 0;
        return new Launch(cl.kernel(name), shape, cols);
    }

    /** The float16 column blocks per work-item of a VECTOR dense kernel: fewer where each output has more chains. */
    private int vecColumnBlocks(Op op) {
        return switch (op.chains()) {
            case 1 -> tuning.vecColv();
            case 2 -> tuning.vecColv2();
            default -> tuning.vecColv3();
        };
    }

    /** The kernels whose tiled form did not fit (for the backend's note). */
    List<String> fellBack() {
        return List.copyOf(fellBack);
    }

    // ------------------------------------------------------------------------------------------------ launching

    /** Launches elementwise op {@code op} over {@code n} elements. */
    void elementwise(Op op, long n, Object[] args) {
        elementwise(launches.get(op), n, args);
    }

    private void elementwise(Launch l, long n, Object[] args) {
        if (n == 0) {
            return;
        }
        long lx = Math.max(1, Math.min(tuning.elementLocal(), l.maxWorkGroup()));
        cl.enqueue(l.k(), args, new long[] {roundUp(n, lx)}, new long[] {lx});
    }

    /**
     * Launches a dense chain's forward or relevance pass over {@code rows} rows, {@link KernelTuning#chainLanes} a
     * work-item: with lanes, work-groups of {@code vec.local.rows} work-items (a fixed size: PoCL compiles a kernel
     * again for each new one), else of {@code sample.local}.
     */
    void chain(boolean backward, int rows, Object[] args) {
        Launch l = backward ? chainBackward : chainForward;
        if (rows == 0) {
            return;
        }
        int lanes = tuning.chainLanes();
        long lx = Math.max(1, Math.min(lanes > 1 ? tuning.vecLocalRows() : tuning.sampleLocal(), l.maxWorkGroup()));
        long items = ceilDiv(rows, lanes);
        cl.enqueue(l.k(), args, new long[] {roundUp(items, lx)}, new long[] {lx});
    }

    /** Launches a per-sample kernel over {@code perSample} elements of each of {@code rows} rows. */
    void perSample(Op op, int perSample, int rows, Object[] args) {
        perSample(launches.get(op), perSample, rows, args);
    }

    private void perSample(Launch l, int perSample, int rows, Object[] args) {
        if (rows == 0 || perSample == 0) {
            return;
        }
        long lx = Math.max(1, Math.min(tuning.sampleLocal(), l.maxWorkGroup()));
        cl.enqueue(l.k(), args, new long[] {roundUp(perSample, lx), rows}, new long[] {lx, 1});
    }

    /** Launches maxPool for geometry {@code p} over its outputs ({@code args} without the geometry). */
    void maxPool(PoolGeometry p, int rows, Object[] args) {
        Launch l = poolLaunch(p);
        pool(l, l == pool2x2 ? ceilDivInt(p.outW(), 16) : p.outW(), p.outH(), p.channels(), rows,
                concat(args, geometry(p)));
    }

    /** Launches maxPoolRoute for geometry {@code p} ({@code args} without the geometry), over what its kernel owns. */
    void maxPoolRoute(PoolGeometry p, int rows, Object[] args) {
        Launch l = routeLaunch(p);
        Object[] all = concat(args, geometry(p));
        if (l == route2x2) {
            pool(l, ceilDivInt(p.outW(), 16), p.outH(), p.channels(), rows, all);
        } else if (l == routeWindows) {
            pool(l, p.outW(), p.outH(), p.channels(), rows, all);
        } else {
            pool(l, p.inW(), p.inH(), p.channels(), rows, all);
        }
    }

    /** The kernels maxPool and maxPoolRoute run for p, as "POOL ROUTE": for tests and reports. */
    String poolKernels(PoolGeometry p) {
        return poolLaunch(p).name() + " " + routeLaunch(p).name();
    }

    /** maxPool's kernel for p: {@code max_pool_2x2} (16 outputs in lanes) where {@link #tiles2x2}, else max_pool. */
    private Launch poolLaunch(PoolGeometry p) {
        return tiles2x2(p) ? pool2x2 : launches.get(Op.MAX_POOL);
    }

    /**
     * maxPoolRoute's kernel for p (kernels/pool.cl): {@code max_pool_route_2x2} (16 outputs' windows in lanes) where
     * {@link #tiles2x2}; else where windows do not overlap, {@code max_pool_route_windows} over the outputs' windows
     * (each work-item writes its own window's inputs, no scan); else {@code max_pool_route} over the inputs.
     */
    private Launch routeLaunch(PoolGeometry p) {
        if (tiles2x2(p)) {
            return route2x2;
        }
        return p.strideH() >= p.kernelH() && p.strideW() >= p.kernelW() ? routeWindows
                : launches.get(Op.MAX_POOL_ROUTE);
    }

    /**
     * Whether the lane kernels run p: windows 2x2 at stride 2 without padding that tile the input exactly (the usual
     * pooling), on a device whose convolutions take the vector variant (a CPU device; a GPU keeps one output per
     * work-item, which its memory accesses coalesce).
     */
    private boolean tiles2x2(PoolGeometry p) {
        return tuning.convVariant() == Variant.VECTOR && p.kernelH() == 2 && p.kernelW() == 2 && p.strideH() == 2
                && p.strideW() == 2 && p.padH() == 0 && p.padW() == 0 && p.inH() == 2 * p.outH()
                && p.inW() == 2 * p.outW();
    }

    /**
     * Launches pooling kernel {@code l} over {@code rows} samples of {@code planes} planes of {@code height x width}
     * elements: global (width, height, rows x planes), each rounded up to the local size; the local size's first
     * dimension the smallest power of two that holds a plane's row (at most the per-sample size), then as many of a
     * plane's rows and then of planes as make up about the elementwise kernels' work-group. Work-groups of one row had
     * been most of the pooling's time on PoCL, which pays for every work-group (the 1x28x28 CNN's pooling ran 28,672
     * work-groups of 16 items a pass of 64 rows).
     */
    private void pool(Launch l, int width, int height, int planes, int rows, Object[] args) {
        if (rows == 0 || width == 0 || height == 0 || planes == 0) {
            return;
        }
        long most = Math.max(1, Math.min(tuning.elementLocal(), l.maxWorkGroup()));
        long lx = Math.max(1, Math.min(Math.min(tuning.sampleLocal(), most), Long.highestOneBit(2L * width - 1)));
        // At most 64 along the second and third dimensions: NVIDIA's CL_DEVICE_MAX_WORK_ITEM_SIZES, the smallest
        // of the usual devices.
        long ly = Math.max(1, Math.min(Math.min(height, 64), most / lx));
        long lz = Math.max(1, Math.min(Math.min((long) rows * planes, 64), most / (lx * ly)));
        cl.enqueue(l.k(), args, new long[] {roundUp(width, lx), roundUp(height, ly), roundUp((long) rows * planes, lz)},
                new long[] {lx, ly, lz});
    }

    /** Launches dense op {@code op} over {@code rows x cols} outputs. */
    void dense(Op op, int rows, int cols, Object[] args) {
        dense(op, rows, cols, args, null, 0, 0);
    }

    /**
     * As {@link #dense} for LINEAR or BACKPROJECT, whose second argument is the weight {@code m} read as [p, q]: the
     * VECTOR kernels take its column strips and a flag after it (those {@link #denseStrips} made for that reading, or
     * the weight itself and 0 where there are none).
     */
    void dense(Op op, int rows, int cols, Object[] args, ClBuffer m, int p, int q) {
        if (rows == 0 || cols == 0) {
            return;
        }
        Launch l = launches.get(op);
        if (m != null && strips != null && l.shape() == Shape.VECTOR) {
            ClBuffer.Strips s = m.strips;
            boolean has = s != null && s.p() == p && s.q() == q;
            Object[] v = new Object[args.length + 2];
            v[0] = args[0];
            v[1] = args[1];
            v[2] = has ? s.mem() : args[1];
            v[3] = has ? 1 : 0;
            System.arraycopy(args, 2, v, 4, args.length - 2);
            args = v;
        }
        long gx;
        long gy;
        long lx;
        long ly;
        switch (l.shape()) {
            case VECTOR -> {
                lx = 1;
                ly = Math.max(1, Math.min(tuning.vecLocalRows(), l.maxWorkGroup()));
                gx = ceilDiv(cols, l.vecCols());
                gy = roundUp(ceilDiv(rows, tuning.vecRows()), ly);
            }
            case TILED -> {
                lx = tuning.tileT();
                ly = tuning.tileT();
                gx = ceilDiv(cols, tuning.tileB()) * tuning.tileT();
                gy = ceilDiv(rows, tuning.tileB()) * tuning.tileT();
            }
            default -> {
                lx = Math.max(1, Math.min(tuning.simpleLocalX(), l.maxWorkGroup()));
                ly = Math.max(1, Math.min(tuning.simpleLocalY(), l.maxWorkGroup() / lx));
                gx = roundUp(cols, lx);
                gy = roundUp(rows, ly);
            }
        }
        cl.enqueue(l.k(), args, new long[] {gx, gy}, new long[] {lx, ly});
    }

    // ------------------------------------------------------------------------------------------------ convolution

    /** The 13 geometry arguments every convolution kernel ends with, in the CONV_GEOMETRY order of conv_walk.h. */
    private static Object[] geometry(ConvGeometry g) {
        return new Object[] {g.inChannels(), g.inH(), g.inW(), g.outChannels(), g.kernelH(), g.kernelW(),
            g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilationH(), g.dilationW(), g.groups()};
    }

    /** The 11 geometry arguments every pooling kernel ends with, in the POOL_GEOMETRY order of pool.cl. */
    private static Object[] geometry(PoolGeometry p) {
        return new Object[] {p.channels(), p.inH(), p.inW(), p.kernelH(), p.kernelW(), p.strideH(), p.strideW(),
            p.padH(), p.padW(), p.outH(), p.outW()};
    }

    static Object[] concat(Object[] a, Object[] b) {
        Object[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** The name of the kernel conv op {@code op} runs for {@code g} on this backend: for tests and reports. */
    String convKernel(Op op, ConvGeometry g) {
        if (op == null || op.family() != Family.CONV) {
            throw new InvalidArgumentException("op", "is not a conv primitive: " + op);
        }
        return choose(op, g).name();
    }

    /**
     * The kernel conv op {@code op} runs for {@code g}: its products where they apply ({@link #products}), its VECTOR
     * kernel where it has enough channels per group for lanes, else (its {@link Op#general()} form's) TILED kernel
     * where built, the pixel-lane kernel of a backprojection (columns of one stride phase, or a patch convolution's) in
     * the VECTOR variant, or the simple one.
     */
    private Launch choose(Op op, ConvGeometry g) {
        Launch l = convProducts.get(op);
        if (l != null && products(op, g)) {
            return l;
        }
        l = convLaunches.get(op);
        if (l != null && l.shape() == Shape.CONV_VECTOR && channels(op, g) >= tuning.convVecMin()) {
            return l;
        }
        Op k = op.general();
        l = convLaunches.get(k);
        if (l != null && l.shape() == Shape.CONV_TILED) {
            return l;
        }
        if (l != null && convPixelLaunches.containsKey(k)) {
            return convPixelLaunches.get(k);
        }
        return launches.get(k);
    }

    /**
     * The tiles of a pixel-lane backprojection (kernels/conv_pixels.cl): {@code rows} rows of one row phase (every
     * {@code strideH}-th row) by 16 columns of one column phase each, both phases of stride 1 for patch convolutions.
     */
    static long pixelTiles(ConvGeometry g, int rows) {
        int sw = patch(g) ? 1 : g.strideW();
        int sh = patch(g) ? 1 : g.strideH();
        return sh * ceilDiv(ceilDiv(g.inH(), sh), rows) * sw * ceilDiv(ceilDiv(g.inW(), sw), 16);
    }

    /**
     * Whether g is a patch convolution: kernel = stride (more than 1 along the columns), no padding or dilation (a
     * ViT's patches); the kernels of conv_pixels.cl and conv_vector.cl test the same.
     */
    private static boolean patch(ConvGeometry g) {
        return g.kernelH() == g.strideH() && g.kernelW() == g.strideW() && g.strideW() > 1 && g.padH() == 0
                && g.padW() == 0 && g.dilationH() == 1 && g.dilationW() == 1;
    }

    /** The channels per group a conv kernel's lanes (VECTOR) or register tile (TILED) run over. */
    private static int channels(Op op, ConvGeometry g) {
        return op.direction() == Direction.BACKPROJECTION ? g.inChannels() / g.groups()
                : g.outChannels() / g.groups();
    }

    /** Whether conv op {@code op} runs a VECTOR kernel for {@code g}, which reads its weights arranged. */
    boolean arranges(Op op, ConvGeometry g) {
        Shape s = choose(op, g).shape();
        return s == Shape.CONV_VECTOR || s == Shape.CONV_PRODUCTS;
    }

    /** Whether conv op {@code op} runs as products for {@code g}, which read their weights as row panels. */
    boolean panels(Op op, ConvGeometry g) {
        return choose(op, g).shape() == Shape.CONV_PRODUCTS;
    }

    /**
     * The stride-1 geometry a plain conv or backprojection of g runs on ({@link StrideGrid}), where g is a strided 1x1
     * layer whose grid the products take; else null (g runs as it is).
     */
    ConvGeometry grid(Op op, ConvGeometry g) {
        if (op != Op.CONV && op != Op.CONV_BACKPROJECT) {
            return null;
        }
        ConvGeometry grid = StrideGrid.of(g);
        return grid != null && convProducts.get(op) != null && products(op, grid) ? grid : null;
    }

    /**
     * Runs the plain conv or backprojection {@code op} of the strided 1x1 layer g on its stride grid ({@link #grid}):
     * {@code args} as {@link #conv}'s for g ({x, w, bias, has_bias, z, rows} or {g, w, x, has_x, r, rows});
     * {@code prepared} the weights arranged for the grid, or null. Forward, the grid's inputs are gathered into a
     * per-call buffer and run; backward, the grid's bare chains ({@code dummy} for their absent x) go to that buffer
     * and are scattered to g's inputs, {@code x * +0} off the grid.
     */
    void convOnGrid(Op op, ConvGeometry g, ConvGeometry grid, int rows, Object[] args, cl_mem prepared,
                    cl_mem dummy) {
        long n = (long) rows * grid.inSize();
        cl_mem s = cl.createBuffer(4 * n, null, "clCreateBuffer(stride grid, " + n + " floats)");
        try {
            Object[] a = args.clone();
            Object[] dims = gridGeometry(g);
            if (op == Op.CONV) {
                pool(gridGather, g.outW(), g.outH(), g.inChannels(), rows, concat(new Object[] {args[0], s, rows},
                        dims));
                a[0] = s;
                conv(op, grid, rows, a, 1, 1, prepared);
            } else {
                a[2] = dummy;
                a[3] = 0;
                a[4] = s;
                conv(op, grid, rows, a, 1, 1, prepared);
                pool(gridScatter, g.inW(), g.inH(), g.inChannels(), rows, concat(new Object[] {s, args[2], args[3],
                    args[4], rows}, dims));
            }
        } finally {
            ClContext.releaseMem(s); // OpenCL keeps it until the kernels that use it ran
        }
    }

    private static Object[] gridGeometry(ConvGeometry g) {
        return new Object[] {g.inChannels(), g.inH(), g.inW(), g.strideH(), g.strideW(), g.outH(), g.outW()};
    }

    /**
     * Whether op (the plain forward map or the plain backprojection) can run as products for g
     * (kernels/conv_products.cl): stride 1, planes that keep their size, at most 32 taps a kernel (one bit each in a
     * lane's word), and at least the tuning's {@code conv.mm.rows.min} rows and {@code conv.mm.taps.min} taps a chain.
     */
    private boolean products(Op op, ConvGeometry g) {
        if (g.strideH() != 1 || g.strideW() != 1 || g.outH() != g.inH() || g.outW() != g.inW()
                || g.kernelH() * g.kernelW() > 32) {
            return false;
        }
        boolean back = op.direction() == Direction.BACKPROJECTION;
        int rows = back ? g.inPerGroup() : g.outPerGroup();
        int inner = back ? g.outPerGroup() : g.inPerGroup();
        return rows >= tuning.convMmRowsMin() && inner * g.kernelH() * g.kernelW() >= tuning.convMmTapsMin();
    }

    /**
     * Runs conv op {@code op} with {@code args} (without the geometry). Where its VECTOR kernel runs, it reads the
     * {@code n} weight arguments from {@code first} arranged for its channel lanes, in one buffer (followed by the
     * per-weight stride when {@code n > 1}): {@code prepared} where the weights were prepared together
     * ({@link OpenClBackend#prepareConv}); else they are arranged into a scratch buffer for this call alone, released
     * after the launch.
     */
    void conv(Op op, ConvGeometry g, int rows, Object[] args, int first, int n, cl_mem prepared) {
        Launch l = choose(op, g);
        if (l.shape() != Shape.CONV_VECTOR && l.shape() != Shape.CONV_PRODUCTS) {
            convRun(l, op, g, rows, concat(args, geometry(g)));
            return;
        }
        boolean back = op.direction() == Direction.BACKPROJECTION;
        cl_mem wt = prepared;
        if (wt == null) {
            cl_mem[] ws = new cl_mem[n];
            for (int k = 0; k < n; k++) {
                ws[k] = (cl_mem) args[first + k];
            }
            wt = arrange(op, g, ws);
        }
        try {
            List<Object> v = new ArrayList<>(Arrays.asList(args).subList(0, first));
            v.add(wt);
            if (n > 1) {
                v.add(arrangedSize(back, g));
            }
            v.addAll(Arrays.asList(args).subList(first + n, args.length));
            convRun(l, op, g, rows, concat(v.toArray(), geometry(g)));
        } finally {
            if (wt != prepared) {
                ClContext.releaseMem(wt);
            }
        }
    }

    /**
     * Where the plain dense ops run their VECTOR kernels, a new buffer holding the whole column strips of the [p, q]
     * matrix {@code m} ({@code dense_strips} in kernels/matmul.cl; where q < 16, one zero-padded strip of 16
     * columns); else, or where there are none (from 16 columns to less than a strip), null. The caller releases it,
     * with {@code m}.
     */
    cl_mem denseStrips(cl_mem m, int p, int q) {
        if (strips == null || launches.get(Op.LINEAR).shape() != Shape.VECTOR) {
            return null;
        }
        int width = 16 * tuning.vecColv();
        long size = q < 16 ? 16L * p : (long) q / width * width * p;
        if (size == 0) {
            return null;
        }
        if (4 * size > maxAllocBytes) {
            return null; // the kernels walk m itself: slower, the same bits
        }
        cl_mem s = cl.createBuffer(4 * size, null, "clCreateBuffer(dense weight strips, " + size + " floats)");
        try {
            elementwise(strips, size, new Object[] {m, s, p, q});
        } catch (RuntimeException | Error e) {
            ClContext.releaseMem(s);
            throw e;
        }
        return s;
    }

    /** The floats one weight array takes arranged for channel lanes (conv_arrange in kernels/conv_vector.cl). */
    private int arrangedSize(boolean back, ConvGeometry g) {
        int cin = g.inChannels() / g.groups();
        int cout = g.outChannels() / g.groups();
        int block = 16 * tuning.convVecOcv();
        int lanes = ceilDivInt(back ? cin : cout, block) * block;
        return g.groups() * (back ? cout : cin) * g.kernelH() * g.kernelW() * lanes;
    }

    /** The floats one weight array takes as the products' row panels (conv_panels in kernels/conv_products.cl). */
    private int panelSize(boolean back, ConvGeometry g) {
        int rows = back ? g.inPerGroup() : g.outPerGroup();
        int inner = back ? g.outPerGroup() : g.inPerGroup();
        return g.groups() * ceilDivInt(rows, tuning.convMmRows()) * tuning.convMmRows() * inner * g.kernelH()
                * g.kernelW();
    }

    /**
     * A new buffer holding the weight arrays {@code ws}, one after another, arranged as the kernel op {@code op} runs
     * for g reads them: the products' row panels, or the VECTOR conv kernels' channel lanes. The caller releases it (a
     * per-call scratch after enqueueing its kernel: OpenCL keeps it until that kernel ran; a prepared one with its
     * weights).
     */
    cl_mem arrange(Op op, ConvGeometry g, cl_mem... ws) {
        boolean back = op.direction() == Direction.BACKPROJECTION;
        boolean prod = choose(op, g).shape() == Shape.CONV_PRODUCTS;
        int size = prod ? panelSize(back, g) : arrangedSize(back, g);
        long bytes = 4L * size * ws.length;
        if (bytes > maxAllocBytes) {
            throw new DeviceException("the convolution's arranged weights (" + (bytes >> 20) + " MiB) exceed the "
                    + "largest allocation device '" + cl.deviceName + "' allows; set the tuning key "
                    + "conv.variant=simple", cl.deviceName, CL.CL_INVALID_BUFFER_SIZE, null);
        }
        cl_mem m = cl.createBuffer(bytes, null, "clCreateBuffer(arranged conv weights, " + size * (long) ws.length
                + " floats)");
        try {
            for (int k = 0; k < ws.length; k++) {
                elementwise(prod ? panels : arrange, size, new Object[] {ws[k], m, k * size, back ? 1 : 0,
                    g.outChannels(),
                    g.inChannels() / g.groups(), g.kernelH() * g.kernelW(), g.groups()});
            }
        } catch (RuntimeException | Error e) {
            ClContext.releaseMem(m);
            throw e;
        }
        return m;
    }

    /**
     * The VECTOR kernels' channel blocks per work-item, by the chains each output keeps (kernels/conv_vector.cl):
     * one chain takes {@code conv.vec.ocv} float16 blocks; a two-chain backprojection too, over fewer pixels
     * ({@link #vectorPixels}); the other several-chain kernels one block.
     */
    private int vectorBlocks(Op op) {
        return op.chains() == 1 || twoChainBackprojection(op) ? tuning.convVecOcv() : 1;
    }

    /** The VECTOR kernels' pixels per work-item: CONV_PIX2 for a two-chain backprojection (the same register tile). */
    private int vectorPixels(Op op) {
        return twoChainBackprojection(op) ? ceilDivInt(tuning.convVecPix(), tuning.convVecOcv())
                : tuning.convVecPix();
    }

    /**
     * The VECTOR kernels' pixel tiles: {@link #vectorPixels} consecutive pixels each, but for the backprojections of
     * strided layers other than patch convolutions, that many columns of one row and stride phase (every
     * {@code strideW}-th column: kernels/conv_vector.cl, CONV_BACK_TILE).
     */
    private long vectorTiles(Op op, ConvGeometry g, boolean back) {
        int np = vectorPixels(op);
        if (!back) {
            return ceilDiv(g.outSize() / g.outChannels(), np);
        }
        if ((g.strideH() == 1 && g.strideW() == 1) || patch(g)) {
            return ceilDiv((long) g.inH() * g.inW(), np);
        }
        return (long) g.inH() * g.strideW() * ceilDiv(ceilDiv(g.inW(), g.strideW()), np);
    }

    private static boolean twoChainBackprojection(Op op) {
        return op.chains() == 2 && op.direction() == Direction.BACKPROJECTION;
    }

    /** Launches conv kernel {@code l} of op {@code op} with its full arguments. */
    private void convRun(Launch l, Op op, ConvGeometry g, int rows, Object[] args) {
        boolean back = op.direction() == Direction.BACKPROJECTION;
        int pixels = back ? g.inH() * g.inW() : g.outSize() / g.outChannels();
        int ch = channels(op, g);
        if (rows == 0 || pixels == 0 || ch == 0) {
            return;
        }
        switch (l.shape()) {
            case CONV_PIXELS -> {
                long lx = Math.max(1, Math.min(tuning.convVecLocal(), l.maxWorkGroup()));
                long tiles = pixelTiles(g, tuning.convVecPix());
                cl.enqueue(l.k(), args, new long[] {roundUp(tiles, lx), g.inChannels(), rows}, new long[] {lx, 1, 1});
            }
            case CONV_VECTOR -> {
                long lx = Math.max(1, Math.min(tuning.convVecLocal(), l.maxWorkGroup()));
                int block = 16 * vectorBlocks(op);
                cl.enqueue(l.k(), args, new long[] {roundUp(vectorTiles(op, g, back), lx),
                    (long) g.groups() * ceilDiv(ch, block), rows}, new long[] {lx, 1, 1});
            }
            case CONV_PRODUCTS -> {
                long lx = Math.max(1, Math.min(tuning.convVecLocal(), l.maxWorkGroup()));
                int[] bits = tapBits(back, g);
                cl_mem tb = cl.createBuffer(bits, "clCreateBuffer(conv tap bits, " + bits.length + " ints)");
                try {
                    cl.enqueue(l.k(), concat(args, new Object[] {tb}), new long[] {roundUp((long) g.groups()
                        * ceilDiv(ch, tuning.convMmRows()), lx), ceilDiv(pixels, 16L * tuning.convMmVecs()), rows},
                        new long[] {lx, 1, 1});
                } finally {
                    ClContext.releaseMem(tb); // OpenCL keeps it until the kernel ran
                }
            }
            case CONV_TILED -> {
                long lx = tuning.convTileP();
                cl.enqueue(l.k(), args, new long[] {roundUp(pixels, lx),
                    (long) g.groups() * ceilDiv(ch, tuning.convTileC()), rows}, new long[] {lx, 1, 1});
            }
            default -> perSample(l, back ? g.inSize() : g.outSize(), rows, args);
        }
    }

    /**
     * The tap bits of the products for g's planes (kernels/conv_products.cl): for each pixel of a plane, bit
     * {@code kh KW + kw} set where that tap reads inside the plane (forward: the input pixel, backward: the output
     * pixel it meets), then a tile's worth of zeros; computed once per plane geometry and direction (each call uploads
     * them: a few hundred KiB at most, against a convolution of milliseconds).
     */
    private int[] tapBits(boolean back, ConvGeometry g) {
        int h = g.inH();
        int w = g.inW();
        int s = back ? -1 : 1;
        List<Integer> key = List.of(h, w, g.kernelH(), g.kernelW(), s * g.padH(), s * g.dilationH(), s * g.padW(),
                s * g.dilationW(), tuning.convMmVecs());
        int[] m = tapBits.get(key);
        if (m == null) {
            int[] bits = new int[h * w + 16 * tuning.convMmVecs()];
            for (int p = 0; p < h * w; p++) {
                int word = 0;
                for (int i = 0; i < g.kernelH(); i++) {
                    int row = p / w + s * (i * g.dilationH() - g.padH());
                    for (int j = 0; j < g.kernelW(); j++) {
                        int col = p % w + s * (j * g.dilationW() - g.padW());
                        if (row >= 0 && row < h && col >= 0 && col < w) {
                            word |= 1 << (i * g.kernelW() + j);
                        }
                    }
                }
                bits[p] = word;
            }
            m = bits;
            tapBits.put(key, m);
        }
        return m;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static int ceilDivInt(int a, int b) {
        return (a + b - 1) / b;
    }

    private static long roundUp(long a, long b) {
        return ceilDiv(a, b) * b;
    }

    /** Releases every kernel; idempotent, never throws. */
    void release() {
        for (Map<Op, Launch> m : List.of(launches, convLaunches, convPixelLaunches, convProducts)) {
            for (Launch l : m.values()) {
                ClContext.releaseKernel(l.k().kernel());
            }
            m.clear();
        }
        if (arrange != null) {
            ClContext.releaseKernel(arrange.k().kernel());
            arrange = null;
        }
        for (Launch l : new Launch[] {strips, routeWindows, pool2x2, route2x2, panels, gridGather, gridScatter,
            chainForward, chainBackward}) {
            if (l != null) {
                ClContext.releaseKernel(l.k().kernel());
            }
        }
        strips = null;
        routeWindows = null;
        pool2x2 = null;
        route2x2 = null;
        panels = null;
        gridGather = null;
        gridScatter = null;
        chainForward = null;
        chainBackward = null;
    }
}
