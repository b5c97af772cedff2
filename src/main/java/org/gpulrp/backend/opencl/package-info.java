/**
 * The OpenCL backend: {@link org.gpulrp.backend.opencl.OpenClBackend} runs the {@link org.gpulrp.backend.Backend}
 * primitives as OpenCL kernels (sources under {@code kernels/}, loaded from the classpath) with results bit-identical
 * to the CPU backend on any device that meets the exactness contract (correctly rounded fma, division and
 * denormals). JOCL appears only in this package.
 */
package org.gpulrp.backend.opencl;
