package org.gpulrp.bench;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Locale;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.model.Network;

/**
 * How much of an OpenCL explain call is host-device transfer: the upper bound of what overlapping uploads and
 * downloads with kernels (issue 5, item 2) could gain. Wraps the backend so that every write and read first waits
 * for the queued kernels ({@code finish}) and is then timed on its own.
 * Usage: {@code java -cp benchmarks.jar org.gpulrp.bench.TransferShare [model=mlp,cnn] [composite=epsilon-plus]}.
 */
public final class TransferShare {
    private TransferShare() {
    }

    public static void main(String[] args) {
        String[] models = {"sample", "mlp", "cnn"};
        String composite = "epsilon-plus";
        for (String a : args) {
            if (a.startsWith("model=")) {
                models = a.substring(6).split(",");
            } else if (a.startsWith("composite=")) {
                composite = a.substring(10);
            }
        }
        System.out.println("| model | batch | composite | ms/batch | transfer ms | transfer share | MB moved |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String model : models) {
            run(model, composite);
        }
    }

    private static void run(String model, String composite) {
        Network net = Models.network(model);
        int batch = Models.batch(model);
        Tensor x = new Tensor(Models.inputs(model, batch), batch, net.inputSize());
        long[] transferNanos = new long[1];
        long[] bytes = new long[1];
        try (OpenClBackend cl = OpenClBackend.open()) {
            InvocationHandler h = (proxy, method, margs) -> {
                String name = method.getName();
                boolean transfer = name.equals("write") || name.equals("read");
                if (transfer) {
                    cl.finish();
                }
                long t0 = System.nanoTime();
                try {
                    return method.invoke(cl, margs);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                } finally {
                    if (transfer) {
                        transferNanos[0] += System.nanoTime() - t0;
                        bytes[0] += 4L * (Integer) margs[3];
                    }
                }
            };
            Backend timed = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                    new Class<?>[] {Backend.class}, h);
            try (Explainer e = GpuLrp.explainer(net).composite(Models.composite(composite)).backend(timed).build()) {
                e.explain(x, Target.argmax()); // warm-up
                int reps = 3;
                transferNanos[0] = 0;
                bytes[0] = 0;
                long t0 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    e.explain(x, Target.argmax());
                }
                cl.finish();
                double ms = (System.nanoTime() - t0) / 1e6 / reps;
                double tms = transferNanos[0] / 1e6 / reps;
                System.out.printf(Locale.ROOT, "| %s | %d | %s | %.1f | %.1f | %.1f%% | %.1f |%n", model, batch,
                        composite, ms, tms, 100 * tms / ms, bytes[0] / 1e6 / reps);
            }
        }
    }
}
