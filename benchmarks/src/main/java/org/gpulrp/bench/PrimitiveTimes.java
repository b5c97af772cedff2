package org.gpulrp.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.Backend;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.backend.Op;
import org.gpulrp.model.PoolGeometry;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.model.Network;

/**
 * Where an explain call on the CPU path spends its time: wraps one two-thread CPU backend (one lane, one pass over
 * the batch) and times every primitive by its {@link Op} (the positive-only forms apart), dense maps by their sizes,
 * convolutions and pooling by their shape, with the rate in GFLOP/s from the op's own count ({@link Op#flops}: 2 per
 * fma of every chain, so the sign-split and ZBox forms count their extra chains). Prints the last of {@code calls}
 * calls (the first ones warm the JIT up).
 * Usage: {@code java -cp benchmarks.jar org.gpulrp.bench.PrimitiveTimes [model=vgg16] [composite=epsilon]
 * [calls=3] [chunk=ROWS] [threads=N] [backend=opencl]}; chunk cuts the batch into passes of that many rows (default:
 * one pass, which a BERT-base batch does not fit in 6 GiB); threads sets the CPU backend's (default: every core; 1 with
 * the chunk a CPU lane takes shows one lane's view, e.g. the sample model's {@code threads=1 chunk=1213}); backend=opencl times the first OpenCL device instead, waiting for
 * each primitive's kernels to finish.
 */
public final class PrimitiveTimes {
    private PrimitiveTimes() {
    }

    public static void main(String[] args) {
        String model = "vgg16";
        String composite = "epsilon";
        int calls = 3;
        int chunk = 0;
        boolean opencl = false;
        int threads = Runtime.getRuntime().availableProcessors();
        for (String a : args) {
            if (a.startsWith("model=")) {
                model = a.substring(6);
            } else if (a.startsWith("composite=")) {
                composite = a.substring(10);
            } else if (a.startsWith("calls=")) {
                calls = Integer.parseInt(a.substring(6));
            } else if (a.startsWith("chunk=")) {
                chunk = Integer.parseInt(a.substring(6));
            } else if (a.startsWith("threads=")) {
                threads = Integer.parseInt(a.substring(8));
            } else if (a.equals("backend=opencl")) {
                opencl = true;
            }
        }
        Network net = Models.network(model);
        int batch = Models.batch(model);
        Tensor in = new Tensor(Models.inputs(model, batch), batch, net.inputSize());
        Map<String, double[]> times = new TreeMap<>();
        try (Backend be = opencl ? OpenClBackend.open(null)
                : new CpuBackend(CpuBackend.Kernels.AUTO, threads)) {
            Backend timed = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                    new Class<?>[] {Backend.class}, (p, m, a) -> {
                        long t0 = System.nanoTime();
                        try {
                            Object result = m.invoke(be, a);
                            if (be instanceof OpenClBackend cl && PRIMITIVES.contains(m.getName())) {
                                cl.finish(); // launches are queued: time each primitive to its end
                            }
                            return result;
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        } finally {
                            record(times, m.getName(), a, System.nanoTime() - t0);
                        }
                    });
            try (Explainer e = GpuLrp.explainer(net).composite(Models.composite(composite)).backend(timed)
                    .chunkRows(chunk > 0 ? chunk : batch).memoryBudget(Long.MAX_VALUE / 4).build()) {
                double ms = 0;
                for (int c = 0; c < calls; c++) {
                    synchronized (times) {
                        times.clear();
                    }
                    long t0 = System.nanoTime();
                    e.explain(in, Target.argmax());
                    ms = (System.nanoTime() - t0) / 1e6;
                }
                System.out.printf(Locale.ROOT, "%s, %s, batch %d, one lane of %s: %.0f ms (call %d of %d)%n", model,
                        composite, batch, be.info().device(), ms, calls, calls);
            }
        }
        System.out.println("| op | calls | ms | share | GFLOP/s |");
        System.out.println("|---|---|---|---|---|");
        double total = times.values().stream().mapToDouble(v -> v[0]).sum();
        times.entrySet().stream().sorted((x, y) -> Double.compare(y.getValue()[0], x.getValue()[0]))
                .forEach(en -> System.out.printf(Locale.ROOT, "| %s | %.0f | %.1f | %.1f%% | %s |%n", en.getKey(),
                        en.getValue()[1], en.getValue()[0] / 1e6, 100 * en.getValue()[0] / total,
                        en.getValue()[2] > 0 ? String.format(Locale.ROOT, "%.2f", en.getValue()[2] / en.getValue()[0])
                                : ""));
    }

    /**
     * Adds a call's time to its {@link Op} (convolutions and pooling also by shape), with the op's flops for its
     * sizes; calls that are not primitives (allocate, read, ...) are left out.
     */
    private static void record(Map<String, double[]> times, String name, Object[] a, long nanos) {
        if (a == null || !PRIMITIVES.contains(name)) {
            return;
        }
        Op op = Op.of(name, a);
        String key = op.name().toLowerCase(Locale.ROOT);
        int n = a.length;
        double flops = switch (op.family()) {
            case ELEMENTWISE -> op.flops(trailingProduct(a));
            case PER_SAMPLE -> op.flops((long) (Integer) a[n - 2] * (Integer) a[n - 1]);
            case DENSE -> {
                key += " " + a[n - 2] + "->" + a[n - 1];
                yield op.direction() == Op.Direction.BACKPROJECTION
                        ? op.flops((Integer) a[n - 3], (Integer) a[n - 1], (Integer) a[n - 2])
                        : op.flops((Integer) a[n - 3], (Integer) a[n - 2], (Integer) a[n - 1]);
            }
            case CONV -> {
                ConvGeometry g = (ConvGeometry) a[n - 1];
                key += " " + g.inChannels() + "->" + g.outChannels() + " @" + g.inH() + "x" + g.inW();
                yield op.flops((Integer) a[n - 2], g);
            }
            case POOL -> {
                PoolGeometry p = (PoolGeometry) a[n - 1];
                key += " " + p.channels() + " @" + p.inH() + "x" + p.inW();
                yield op.flops((Integer) a[n - 2], p);
            }
        };
        synchronized (times) {
            double[] v = times.computeIfAbsent(key, k -> new double[3]);
            v[0] += nanos;
            v[1]++;
            v[2] += flops;
        }
    }

    /** The Backend methods the op table covers. */
    private static final Set<String> PRIMITIVES = Arrays.stream(Op.values()).map(Op::method)
            .collect(Collectors.toSet());

    /** An elementwise call's size: the product of its trailing int arguments ({@code length}, {@code rows, out}). */
    private static long trailingProduct(Object[] a) {
        long n = 1;
        for (int i = a.length - 1; i >= 0 && a[i] instanceof Integer v; i--) {
            n *= v;
        }
        return n;
    }
}
