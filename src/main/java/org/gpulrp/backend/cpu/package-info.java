/**
 * The CPU backend: {@link org.gpulrp.backend.cpu.CpuBackend} runs the primitives on Java arrays, splitting the rows
 * (or, for a plain map of few rows, the columns) over a fixed thread pool. Each primitive has a scalar
 * {@code Math.fma} form (the readable statement of the contract, the fallback without the
 * {@code jdk.incubator.vector} module, the oracle in tests) and a Vector API form with the same bits: register-tiled
 * dense kernels, and convolutions with lanes over output or input columns or over channels. Packed weight layouts are
 * cached per weight array and forgotten when the array is written.
 */
package org.gpulrp.backend.cpu;
