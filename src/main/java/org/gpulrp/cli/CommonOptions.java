package org.gpulrp.cli;

import picocli.CommandLine.Option;

/** The options every gpulrp command takes, mixed into each with {@code @Mixin}. */
final class CommonOptions {
    @Option(names = "--verbose", description = "More detail (rules, backend notes), and the stack trace on failure.")
    boolean verbose;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
    boolean help;
}
