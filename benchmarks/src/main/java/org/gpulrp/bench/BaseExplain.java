package org.gpulrp.bench;

import java.util.Arrays;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.model.Network;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One explain call over a whole batch (time per batch; BenchMain turns it into samples/s and GFLOP/s). Setup checks
 * that the CPU and OpenCL backends give the same bits on a slice of the batch before anything is timed.
 */
public abstract class BaseExplain {
    private Explainer explainer;
    /** Whether each call writes into the last call's arrays ({@code Explainer.explain(inputs, target, last)}). */
    protected boolean reuseArrays;
    private Explanation last;
    private Tensor inputs;

    protected void setupFor(String model, String composite, String backend) {
        Network net = Models.network(model);
        int batch = Models.batch(model);
        inputs = new Tensor(Models.inputs(model, batch), batch, net.inputSize());
        BackendChoice choice = backend.equals("cpu") ? BackendChoice.CPU : BackendChoice.OPENCL;
        // The library's default chunking (what users get): passes of 4096 rows keep a small network's buffers in cache.
        explainer = GpuLrp.explainer(net).composite(Models.composite(composite)).backend(choice).build();
        int rows = Models.checkRows(model);
        Tensor slice = new Tensor(Arrays.copyOf(inputs.toArray(), rows * net.inputSize()), rows, net.inputSize());
        BackendChoice other = choice == BackendChoice.CPU ? BackendChoice.OPENCL : BackendChoice.CPU;
        try (Explainer o = GpuLrp.explainer(net).composite(Models.composite(composite)).backend(other).build()) {
            float[] a = explainer.explain(slice, Target.argmax()).relevance().toArray();
            float[] b = o.explain(slice, Target.argmax()).relevance().toArray();
            for (int k = 0; k < a.length; k++) {
                if (Float.floatToRawIntBits(a[k]) != Float.floatToRawIntBits(b[k])) {
                    throw new IllegalStateException(model + "/" + composite + ": CPU and OpenCL differ at " + k
                            + ": " + a[k] + " vs " + b[k]);
                }
            }
        }
    }

    @Benchmark
    public Explanation explain() {
        if (reuseArrays) {
            last = explainer.explain(inputs, Target.argmax(), last);
            return last;
        }
        return explainer.explain(inputs, Target.argmax());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        explainer.close();
    }
}
