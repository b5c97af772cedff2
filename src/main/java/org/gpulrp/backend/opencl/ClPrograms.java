package org.gpulrp.backend.opencl;

import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_SUCCESS;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpulrp.KernelBuildException;
import org.gpulrp.LrpException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

/**
 * Reads kernel sources from the classpath and builds them. One program per file of {@link #PROGRAMS}; its source is
 * the host's tuning {@code #define}s, then the file with each {@code #include "NAME"} replaced by the header NAME from
 * the same classpath folder (an OpenCL {@code #include} cannot reach the classpath). Every file states its own
 * headers and has a default for every tuning value, so it also compiles on its own ({@code clang -I kernels}, or
 * {@link #source} with no defines); every program is built with exactly {@link #BUILD_OPTIONS}.
 */
final class ClPrograms {
    /** The one build option (docs/DESIGN.md section 3, rule 2): nothing that relaxes IEEE semantics, ever. */
    static final String BUILD_OPTIONS = "-cl-fp32-correctly-rounded-divide-sqrt";
    /** Where the pom puts {@code kernels/*.cl} and {@code kernels/*.h} on the classpath. */
    static final String RESOURCE_DIR = "/org/gpulrp/kernels/";
    /**
     * The programs, one per file: the elementwise and per-sample kernels, the dense forward chains and their
     * backprojection (every variant of each in one file), and the convolution kernels split by family (simple, the
     * reference; vector, for CPU devices; tiled, for GPUs).
     */
    static final List<String> PROGRAMS = List.of("clamp.cl", "normalize.cl", "matmul.cl", "backproject.cl",
            "conv_simple.cl", "conv_vector.cl", "conv_products.cl", "conv_pixels.cl", "conv_tiled.cl", "pool.cl",
            "elementwise.cl", "dense_chain.cl");
    /** The headers the programs include. */
    static final List<String> HEADERS = List.of("lrp_common.h", "dense_vec.h", "gemm_tiled.h", "conv_walk.h");
    private static final Pattern INCLUDE = Pattern.compile("^\\s*#\\s*include\\s+\"([^\"]+)\"\\s*$");
    /** Headers may include headers; deeper than this is a cycle. */
    private static final int MAX_INCLUDE_DEPTH = 8;

    private ClPrograms() {
    }

    /** The text of one kernel resource, e.g. {@code matmul.cl}. */
    static String resource(String name) {
        try (InputStream in = ClPrograms.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) {
                throw new LrpException("kernel source " + RESOURCE_DIR + name + " is missing from the classpath; "
                        + "the gpulrp jar is incomplete (rebuild it with mvn package)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LrpException("cannot read kernel source " + RESOURCE_DIR + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * The full source of program {@code file}: the defines, then the file with its includes expanded, with #line
     * markers so that compiler messages name the right file and line.
     */
    static String source(String file, Map<String, Integer> defines) {
        StringBuilder s = new StringBuilder();
        for (Map.Entry<String, Integer> d : defines.entrySet()) {
            s.append("#define ").append(d.getKey()).append(' ').append(d.getValue()).append('\n');
        }
        expand(file, s, new HashSet<>(), 0);
        return s.toString();
    }

    /**
     * Appends resource {@code file}, each {@code #include "NAME"} line replaced by NAME expanded in turn; a header
     * already expanded is left out (every header is guarded, so a second copy would add nothing).
     */
    private static void expand(String file, StringBuilder s, Set<String> seen, int depth) {
        if (depth > MAX_INCLUDE_DEPTH) {
            throw new LrpException("kernel source " + file + ": includes nest deeper than " + MAX_INCLUDE_DEPTH
                    + " (a cycle?)");
        }
        s.append("#line 1 \"").append(file).append("\"\n");
        String[] lines = resource(file).split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            Matcher m = INCLUDE.matcher(lines[n]);
            if (m.matches()) {
                if (seen.add(m.group(1))) {
                    expand(m.group(1), s, seen, depth + 1);
                    s.append("#line ").append(n + 2).append(" \"").append(file).append("\"\n");
                } else {
                    s.append('\n');
                }
            } else {
                s.append(lines[n]).append('\n');
            }
        }
    }

    /**
     * Builds {@code source} for one device. A compiler error becomes a {@link KernelBuildException} carrying the
     * build log; the half-built program is released.
     */
    static cl_program build(cl_context context, cl_device_id device, String deviceName, String name, String source) {
        int[] err = new int[1];
        cl_program program;
        try {
            program = CL.clCreateProgramWithSource(context, 1, new String[] {source}, null, err);
        } catch (CLException e) {
            throw ClErrors.wrap(e, "clCreateProgramWithSource(" + name + ")", deviceName);
        }
        ClErrors.check(err[0], "clCreateProgramWithSource(" + name + ")", deviceName);
        int status;
        try {
            status = FaultInjection.status(FaultInjection.Point.BUILD);
            if (status == CL_SUCCESS) {
                status = CL.clBuildProgram(program, 1, new cl_device_id[] {device}, BUILD_OPTIONS, null, null);
            }
        } catch (CLException e) {
            status = e.getStatus();
        }
        if (status != CL_SUCCESS) {
            String log = buildLog(program, device);
            release(program);
            throw new KernelBuildException("OpenCL program " + name + " failed to build on device '" + deviceName
                    + "': " + ClErrors.name(status) + " (" + status + ")", deviceName, status, log);
        }
        return program;
    }

    /** The compiler's log for {@code program} on {@code device}; a placeholder where the driver gives none. */
    static String buildLog(cl_program program, cl_device_id device) {
        try {
            long[] size = new long[1];
            if (CL.clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, null, size) != CL_SUCCESS
                    || size[0] <= 1) {
                return "(the driver gave no build log)";
            }
            byte[] bytes = new byte[(int) size[0]];
            CL.clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, bytes.length, Pointer.to(bytes), null);
            String log = ClDevices.cString(bytes);
            return log.isEmpty() ? "(the driver gave no build log)" : log;
        } catch (CLException e) {
            return "(the build log could not be read: " + ClErrors.name(e.getStatus()) + ")";
        }
    }

    static void release(cl_program program) {
        try {
            CL.clReleaseProgram(program);
        } catch (CLException | LinkageError e) {
            // releasing is best effort
        }
    }
}
