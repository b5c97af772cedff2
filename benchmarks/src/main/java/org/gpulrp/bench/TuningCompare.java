package org.gpulrp.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.model.Network;

/**
 * OpenCL kernel tunings side by side with the CPU path, in one process: each explainer (the CPU path, then the default
 * OpenCL device with the table's tuning and with each given override set) explains the same batch in turn, round
 * after round, and the best time of each is printed with its ratio to the CPU path. Alternating rounds is what makes
 * the comparison fair on a shared, noisy machine. Results are checked to be the same bits as the CPU path's.
 * Usage: {@code java -cp benchmarks.jar org.gpulrp.bench.TuningCompare MODEL BATCH [rounds=8] [composite=epsilon]
 * [KEY=V;KEY=V ...]},
 * e.g. {@code mlp 1024 "vec.rows=8;vec.colv=2"}; the key {@code chunk} sets that explainer's rows per pass
 * ({@link Explainer.Builder#chunkRows}) instead of a tuning value, e.g. {@code cnn 1024 "chunk=128"}.
 */
public final class TuningCompare {
    private TuningCompare() {
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: TuningCompare MODEL BATCH [rounds=N] [KEY=V;KEY=V ...]");
            System.exit(2);
        }
        String model = args[0];
        int batch = Integer.parseInt(args[1]);
        int rounds = 8;
        Network net = Models.network(model);
        Tensor x = new Tensor(Models.inputs(model, batch), batch, net.inputSize());
        Map<String, Explainer> ex = new LinkedHashMap<>();
        Composite composite = Models.composite("epsilon");
        for (String a : Arrays.copyOfRange(args, 2, args.length)) {
            if (a.startsWith("composite=")) {
                composite = Models.composite(a.substring(10));
            }
        }
        ex.put("cpu", GpuLrp.explainer(net).composite(composite).backend(BackendChoice.CPU).build());
        ex.put("opencl, table", GpuLrp.explainer(net).composite(composite).backend(OpenClBackend.open(null, Map.of()))
                .build());
        for (String a : Arrays.copyOfRange(args, 2, args.length)) {
            if (a.startsWith("rounds=")) {
                rounds = Integer.parseInt(a.substring(7));
                continue;
            }
            if (a.startsWith("composite=")) {
                continue;
            }
            Map<String, String> o = new LinkedHashMap<>();
            int chunk = 0;
            for (String kv : a.split(";")) {
                String k = kv.substring(0, kv.indexOf('=')).trim();
                String v = kv.substring(kv.indexOf('=') + 1).trim();
                if (k.equals("chunk")) {
                    chunk = Integer.parseInt(v);
                } else {
                    o.put(k, v);
                }
            }
            Explainer.Builder b = GpuLrp.explainer(net).composite(composite).backend(OpenClBackend.open(null, o));
            ex.put("opencl, " + a, (chunk > 0 ? b.chunkRows(chunk) : b).build());
        }
        List<String> names = new ArrayList<>(ex.keySet());
        double[] best = new double[names.size()];
        Arrays.fill(best, Double.MAX_VALUE);
        float[] reference = null;
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < names.size(); i++) {
                long t0 = System.nanoTime();
                float[] r = ex.get(names.get(i)).explain(x, Target.argmax()).relevance().toArray();
                best[i] = Math.min(best[i], (System.nanoTime() - t0) / 1e6);
                if (reference == null) {
                    reference = r;
                } else if (!Arrays.equals(reference, r)) {
                    throw new IllegalStateException(names.get(i) + " gave other bits than the CPU path");
                }
            }
        }
        System.out.printf(Locale.ROOT, "%s, batch %d, best of %d alternated rounds (same bits on every row):%n", model,
                batch, rounds);
        for (int i = 0; i < names.size(); i++) {
            System.out.printf(Locale.ROOT, "| %s | %.2f ms | %.2fx the CPU path |%n", names.get(i), best[i],
                    best[0] / best[i]);
        }
        ex.values().forEach(Explainer::close);
    }
}
