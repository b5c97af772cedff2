/**
 * Which rule each layer gets: a {@link org.gpulrp.composite.Composite} is an ordered list of (matcher, rule) entries
 * and a fallback, the first match winning, non-linear layers always getting Pass;
 * {@link org.gpulrp.composite.LayerMatcher}s select by name, kind, index or depth over a
 * {@link org.gpulrp.composite.LayerContext}. {@link org.gpulrp.composite.Composites} holds the presets, which assign
 * exactly Zennit's rules, and {@link org.gpulrp.composite.ConvBias} says how rules treat a convolution's bias
 * ({@code docs/DESIGN.md} sections 2.3 and 2.6).
 */
package org.gpulrp.composite;
