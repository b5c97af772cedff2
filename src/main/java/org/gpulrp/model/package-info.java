/**
 * The network as immutable values: the sealed {@link org.gpulrp.model.Layer} types (dense, 2-D convolution, max and
 * average pooling, batch normalization, activations, identities, and the merges: residual addition and
 * concatenation), their {@link org.gpulrp.model.LayerKind}s (what composites match), {@link org.gpulrp.model.Node}s
 * that name a layer and its inputs, and the {@link org.gpulrp.model.Network} builder, which infers every shape and
 * keeps the nodes in topological order. No backend code: the engine turns a network into primitives.
 */
package org.gpulrp.model;
