package org.gpulrp.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The dense cases of issue 2: the article's sample model at batch 65536 and the MLP at 4096, CPU vs OpenCL. On
 * dense-only networks every preset (EpsilonPlus, EpsilonGammaBox) is Epsilon on every layer, so {@code epsilon-plus}
 * times the same work as {@code epsilon} and shows the run's noise.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class ExplainBenchmark extends BaseExplain {
    @Param({"sample", "mlp"})
    public String model;

    @Param({"epsilon", "epsilon-plus"})
    public String composite;

    @Param({"cpu", "opencl"})
    public String backend;

    /**
     * {@code fresh}: every call makes its result arrays ({@code explain(inputs, target)}, what the suite measures);
     * {@code reused}: every call writes into the last call's ({@code explain(inputs, target, last)}, for streams).
     */
    @Param({"fresh"})
    public String arrays;

    @Setup(Level.Trial)
    public void setup() {
        setupFor(model, composite, backend);
        reuseArrays = arrays.equals("reused");
    }
}
