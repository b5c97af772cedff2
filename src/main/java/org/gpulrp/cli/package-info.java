/**
 * The {@code gpulrp} command line (picocli): {@code explain}, {@code bench}, {@code info}, {@code devices} and the
 * built-in example, and the names of rules and presets ({@code RuleSpecs}). Not API: use {@link org.gpulrp.GpuLrp}
 * from code.
 */
package org.gpulrp.cli;
