package org.gpulrp.bench;

import java.util.concurrent.TimeUnit;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.model.Network;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One explain call over a whole batch (time per batch; BenchMain turns it into samples/s and GFLOP/s). Setup checks
 * that the CPU and OpenCL backends give the same bits on a slice of the batch before anything is timed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ExplainBenchmark {
    @Param({"sample", "mlp"})
    public String model;

    @Param({"epsilon", "epsilon-plus"})
    public String composite;

    @Param({"cpu", "opencl"})
    public String backend;

    private Explainer explainer;
    private Tensor inputs;

    @Setup(Level.Trial)
    public void setup() {
        Network net = Models.network(model);
        int batch = Models.batch(model);
        inputs = new Tensor(Models.inputs(model, batch), batch, net.inputSize());
        BackendChoice choice = backend.equals("cpu") ? BackendChoice.CPU : BackendChoice.OPENCL;
        explainer = GpuLrp.explainer(net).composite(Models.composite(composite)).backend(choice)
                .chunkRows(batch).build();
        checkAgainstOtherBackend(net, choice);
    }

    private void checkAgainstOtherBackend(Network net, BackendChoice choice) {
        int rows = Math.min(512, inputs.rows());
        Tensor slice = new Tensor(java.util.Arrays.copyOf(inputs.toArray(), rows * net.inputSize()), rows,
                net.inputSize());
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
        return explainer.explain(inputs, Target.argmax());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        explainer.close();
    }
}
