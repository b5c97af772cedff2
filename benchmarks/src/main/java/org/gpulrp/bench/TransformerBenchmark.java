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
 * The transformer cases of issue 15: a BERT-base shape (batch 32 x 128 tokens) and ViT-B/16 (batch 8 at 224 px),
 * random weights ({@link TransformerModels}). One batch takes seconds, so each iteration is one explain call
 * (single shot), after two warm-up calls.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(1)
public class TransformerBenchmark extends BaseExplain {
    @Param({"bert-base", "vit-b16"})
    public String model;

    @Param({"attnlrp", "cp-lrp"})
    public String composite;

    @Param({"cpu", "opencl"})
    public String backend;

    @Setup(Level.Trial)
    public void setup() {
        setupFor(model, composite, backend);
    }
}
