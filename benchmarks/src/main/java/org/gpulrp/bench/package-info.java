/**
 * The benchmarks: the JMH suite over dense and convolutional models, {@link org.gpulrp.bench.BenchMain} (one table of
 * OpenCL and CPU rates, with a PyTorch peer's numbers beside them when given), {@link org.gpulrp.bench.PrimitiveTimes}
 * (where a CPU explain call spends its time) and {@link org.gpulrp.bench.TransferShare}. Run through
 * {@code benchmarks/run}; results go to {@code benchmarks/RESULTS.md}.
 */
package org.gpulrp.bench;
