package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpulrp.testing.OpenClTestSupport;
import org.jocl.CL;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;
import org.junit.jupiter.api.Test;

/**
 * The kernel sources on the classpath keep the contract's letter (docs/DESIGN.md section 3, rule 2): the pragma in
 * every file, no relaxed-math built-ins, clamps without fmax/fmin, and the one build option; each program file states
 * its own headers and compiles on its own with its defaults. Only
 * {@link #everyProgramFileBuildsAloneWithItsDefaults} needs OpenCL.
 */
class KernelSourceTest {
    private static final Pattern FORBIDDEN = Pattern.compile("\\b(mad|mad_sat|native_\\w+|half_\\w+|fmax|fmin|fast_\\w+)"
            + "\\s*\\(|FP_CONTRACT\\s+ON|-cl-(fast|mad|unsafe|finite|denorms)");
    private static final Pattern TUNING = Pattern.compile(
            "(?m)^#define\\s+(VEC_\\w+|TILE_\\w+|CONV_VEC_\\w+|CONV_TILE_\\w+)\\s");
    private static final Pattern INCLUDE = Pattern.compile("(?m)^\\s*#\\s*include\\s+\"([^\"]+)\"");

    /** Every kernel resource: the program files, then the headers they include. */
    private static List<String> files() {
        List<String> all = new ArrayList<>(ClPrograms.PROGRAMS);
        all.addAll(ClPrograms.HEADERS);
        return all;
    }

    /** The source without comments, so that the header comments may name what is forbidden. */
    private static String code(String file) {
        return ClPrograms.resource(file).replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
    }

    @Test
    void everyFileHasThePragmaAndNoRelaxedMath() {
        for (String file : files()) {
            String code = code(file);
            assertTrue(code.contains("#pragma OPENCL FP_CONTRACT OFF"), file + " lacks #pragma OPENCL FP_CONTRACT OFF");
            Matcher m = FORBIDDEN.matcher(code);
            assertFalse(m.find(), () -> file + " uses " + m.group());
            assertTrue(ClPrograms.resource(file).startsWith("/*"), file + " opens with its header comment");
        }
    }

    @Test
    void tuningParametersHaveDefaultsTheHostCanOverride() {
        for (String file : files()) {
            String code = code(file);
            Matcher m = TUNING.matcher(code);
            while (m.find()) {
                String name = m.group(1);
                if (Set.of("VEC_COLV_MAX", "VEC_STRIP", "TILE_B", "TILE_AS").contains(name)) {
                    continue; // derived, not tunable
                }
                assertTrue(code.contains("#ifndef " + name), file + ": " + name + " is not wrapped in #ifndef");
            }
        }
    }

    /** Each program file includes what it uses (lrp_common.h first); every include is a listed header. */
    @Test
    void everyProgramFileStatesItsHeaders() {
        for (String file : files()) {
            Matcher m = INCLUDE.matcher(code(file));
            boolean first = true;
            while (m.find()) {
                assertTrue(ClPrograms.HEADERS.contains(m.group(1)), file + " includes " + m.group(1)
                        + ", which is not in ClPrograms.HEADERS");
                if (first && ClPrograms.PROGRAMS.contains(file)) {
                    assertEquals("lrp_common.h", m.group(1), file + " includes lrp_common.h first");
                }
                first = false;
            }
            if (ClPrograms.PROGRAMS.contains(file)) {
                assertFalse(first, file + " includes no header");
            }
        }
    }

    @Test
    void theOnlyBuildOptionIsCorrectlyRoundedDivision() {
        assertEquals("-cl-fp32-correctly-rounded-divide-sqrt", ClPrograms.BUILD_OPTIONS);
    }

    @Test
    void programSourcePutsHostDefinesFirstAndExpandsIncludes() {
        Map<String, Integer> d = new LinkedHashMap<>();
        d.put("VEC_ROWS", 2);
        String s = ClPrograms.source("matmul.cl", d);
        assertTrue(s.startsWith("#define VEC_ROWS 2\n"), s.substring(0, 40));
        assertTrue(s.indexOf("lrp_stab") < s.indexOf("__kernel void linear_simple"));
        assertFalse(INCLUDE.matcher(s).find(), "an #include is left in the program source");
        assertTrue(s.contains("#line 1 \"gemm_tiled.h\""), "gemm_tiled.h is expanded with its #line marker");
        String common = "#line 1 \"lrp_common.h\"";
        assertEquals(s.indexOf(common), s.lastIndexOf(common), "lrp_common.h is expanded once");
    }

    /**
     * Each program file builds as its own program with no host #defines (tuning defaults from the #ifndef blocks),
     * through the host's include expansion and with the one build option.
     */
    @Test
    void everyProgramFileBuildsAloneWithItsDefaults() {
        OpenClTestSupport.assumeOpenCl();
        ClDevices.Found dev = ClDevices.select(System.getProperty(OpenClBackend.DEVICE_PROPERTY));
        int[] err = new int[1];
        cl_context ctx = CL.clCreateContext(null, 1, new cl_device_id[] {dev.device()}, null, null, err);
        assertEquals(CL.CL_SUCCESS, err[0]);
        try {
            for (String file : ClPrograms.PROGRAMS) {
                cl_program p = ClPrograms.build(ctx, dev.device(), dev.description().name(), file,
                        ClPrograms.source(file, Map.of()));
                ClPrograms.release(p);
            }
        } finally {
            CL.clReleaseContext(ctx);
        }
    }
}
