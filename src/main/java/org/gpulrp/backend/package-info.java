/**
 * What a backend is: the {@link org.gpulrp.backend.Backend} primitives (linear maps, sign-split and ZBox forms,
 * backprojections, convolutions, pooling, normalization, elementwise operations), each specified to the bit so that
 * every implementation gives the same float32 results ({@code docs/DESIGN.md} section 3); the
 * {@link org.gpulrp.backend.Buffer} a backend owns; {@link org.gpulrp.backend.BackendInfo}; and the geometry records
 * the convolution and pooling primitives take. Implementations live in {@code backend.cpu} and {@code backend.opencl}.
 */
package org.gpulrp.backend;
