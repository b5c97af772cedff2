package org.gpulrp.cli;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.gpulrp.BackendChoice;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code gpulrp} command: {@code explain}, {@code evaluate}, {@code bench}, {@code info}, {@code devices}, and
 * without a subcommand the built-in example. Exit codes: 0 success, 2 usage error (with the usage on stderr), 1
 * failure (one line on stderr, the stack trace too with {@code --verbose}).
 */
@Command(name = "gpulrp", synopsisHeading = "usage: ", sortOptions = false,
        subcommands = {ExplainCommand.class, EvaluateCommand.class, BenchCommand.class, InfoCommand.class,
            DevicesCommand.class},
        description = {"Layer-wise Relevance Propagation for ONNX and PyTorch models, on OpenCL or the CPU.",
            "Without a command: explain the built-in example (the article's sample model on held-out rows of the "
                + "Wisconsin breast cancer data) and print the relevances."})
public final class Main implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", converter = Converters.Backend.class,
            defaultValue = "auto", description = "Backend for the built-in example (default auto).")
    private BackendChoice backend;

    @Mixin
    private CommonOptions common;

    /** Runs the built-in example. */
    @Override
    public Integer call() {
        Example.run(backend, spec.commandLine().getOut());
        return 0;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command with {@code args}, printing to {@code out} and {@code err}; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, CommandLine.defaultFactory());
    }

    /** As {@link #run(String[], PrintStream, PrintStream)}, with the commands made by {@code factory}. */
    static int run(String[] args, PrintStream out, PrintStream err, CommandLine.IFactory factory) {
        PrintWriter o = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        CommandLine cmd = new CommandLine(new Main(), factory).setOut(o).setErr(e)
                .setExecutionExceptionHandler((ex, c, parsed) -> {
                    c.getErr().println("gpulrp: " + Failures.oneLine(ex));
                    if (verbose(parsed)) {
                        ex.printStackTrace(c.getErr());
                    }
                    return 1;
                })
                .setParameterExceptionHandler((ex, a) -> {
                    CommandLine c = ex.getCommandLine();
                    c.getErr().println("gpulrp: " + ex.getMessage());
                    UnmatchedArgumentException.printSuggestions(ex, c.getErr());
                    CommandLine.Help help = c.getHelp();
                    c.getErr().print(help.synopsisHeading() + help.synopsis(help.synopsisHeadingLength()));
                    c.getErr().println("Run '" + c.getCommandSpec().qualifiedName() + " --help' for the options.");
                    return 2;
                });
        try {
            return cmd.execute(args);
        } finally {
            o.flush();
            e.flush();
        }
    }

    /** Whether {@code --verbose} was given to the command or any of its subcommands. */
    private static boolean verbose(ParseResult p) {
        for (ParseResult r = p; r != null; r = r.subcommand()) {
            if (r.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
