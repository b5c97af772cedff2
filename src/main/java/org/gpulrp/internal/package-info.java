/**
 * The engine, shared by all backends; not API, may change without notice. {@link org.gpulrp.internal.Engine} runs one
 * network on one backend as a sequence of primitives (forward pass, then relevance pass from the top down), with the
 * rules of its linear layers prepared once ({@code LinearStep}, {@code DenseStep}, {@code ConvStep}); also the
 * opening of backends ({@link org.gpulrp.internal.Backends}), rows per pass ({@link org.gpulrp.internal.ChunkSizing}),
 * the health accounting ({@link org.gpulrp.internal.Health}) and host-side transcendentals
 * ({@link org.gpulrp.internal.HostMath}). {@code docs/DESIGN.md} sections 2 and 3.
 */
package org.gpulrp.internal;
