/**
 * The LRP rules as small immutable values with checked parameters: Epsilon (LRP-0 at eps 0), ZPlus, AlphaBeta, Gamma,
 * ZBox, WSquare, Flat, and Pass for layers that hand relevance on unchanged. The sealed
 * {@link org.gpulrp.rules.Rule} type lists them; the formulas, as the engine computes them, are in
 * {@code docs/DESIGN.md} section 2.2.
 */
package org.gpulrp.rules;
