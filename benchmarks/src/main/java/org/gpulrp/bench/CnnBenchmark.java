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
 * The convolutional cases of issue 4: a small CNN on 1x28x28 at batch 1024 and a VGG-16-shaped network at
 * 3x224x224, batch 8, with Epsilon, EpsilonPlus and EpsilonGammaBox; CPU vs OpenCL. One call takes seconds, so fewer
 * iterations than the dense suite.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class CnnBenchmark extends BaseExplain {
    @Param({"cnn", "vgg16"})
    public String model;

    @Param({"epsilon", "epsilon-plus", "epsilon-gamma-box"})
    public String composite;

    @Param({"cpu", "opencl"})
    public String backend;

    @Setup(Level.Trial)
    public void setup() {
        setupFor(model, composite, backend);
    }
}
