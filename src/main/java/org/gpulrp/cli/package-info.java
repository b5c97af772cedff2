/**
 * The {@code gpulrp} command line (picocli): {@code explain}, {@code info}, {@code devices} and the built-in example.
 * Not API: use {@link org.gpulrp.GpuLrp} from code.
 */
package org.gpulrp.cli;
