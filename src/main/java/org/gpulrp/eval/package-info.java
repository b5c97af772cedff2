/**
 * Is an explanation faithful? Region perturbation (Samek et al. 2017): remove the regions an explanation ranks most
 * (MoRF) or least (LeRF) relevant, or in a random order, one by one, and follow the model's score
 * ({@link org.gpulrp.eval.Evaluation}, AOPC and ABPC); and the cascading model parameter randomization of Adebayo et
 * al. 2018 ({@link org.gpulrp.eval.SanityCheck}). Every perturbed batch runs through
 * {@link org.gpulrp.Explainer#score}, on the explainer's own backend and lanes. The definitions: docs/DESIGN.md
 * section 2.10.
 */
package org.gpulrp.eval;
