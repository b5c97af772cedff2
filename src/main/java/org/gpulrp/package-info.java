/**
 * The gpulrp API: {@link org.gpulrp.GpuLrp} for one-shot calls and {@link org.gpulrp.Explainer} for a network prepared
 * once and explained many times (thread-safe; lanes of prepared engines on the chosen backends; streams and batches of
 * any size). Results come as {@link org.gpulrp.Explanation}s with the relevance, the outputs, the targets and, on
 * request, per-layer relevance and a {@link org.gpulrp.HealthReport}. Inputs and options are plain values:
 * {@link org.gpulrp.Tensor}, {@link org.gpulrp.Target}, {@link org.gpulrp.InitialRelevance},
 * {@link org.gpulrp.BackendChoice}, {@link org.gpulrp.NonFinitePolicy}. Every failure is an
 * {@link org.gpulrp.LrpException} subclass. What is computed: {@code docs/DESIGN.md} section 2.
 */
package org.gpulrp;
