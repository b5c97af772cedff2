package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The kernel sources on the classpath keep the contract's letter (docs/DESIGN.md section 3, rule 2): the pragma in
 * every file, no relaxed-math built-ins, clamps without fmax/fmin, and the one build option. Needs no OpenCL.
 */
class KernelSourceTest {
    private static final String[] FILES = {"lrp_common.h", "clamp.cl", "normalize.cl", "matmul.cl",
        "backproject.cl", "conv.cl", "pool.cl", "elementwise.cl"};
    private static final Pattern FORBIDDEN = Pattern.compile("\\b(mad|mad_sat|native_\\w+|half_\\w+|fmax|fmin|fast_\\w+)"
            + "\\s*\\(|FP_CONTRACT\\s+ON|-cl-(fast|mad|unsafe|finite|denorms)");
    private static final Pattern TUNING = Pattern.compile(
            "(?m)^#define\\s+(VEC_\\w+|TILE_\\w+|CONV_VEC_\\w+|CONV_TILE_\\w+)\\s");

    /** The source without comments, so that the header comments may name what is forbidden. */
    private static String code(String file) {
        return ClPrograms.resource(file).replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
    }

    @Test
    void everyFileHasThePragmaAndNoRelaxedMath() {
        for (String file : FILES) {
            String code = code(file);
            assertTrue(code.contains("#pragma OPENCL FP_CONTRACT OFF"), file + " lacks #pragma OPENCL FP_CONTRACT OFF");
            Matcher m = FORBIDDEN.matcher(code);
            assertFalse(m.find(), () -> file + " uses " + m.group());
            assertTrue(ClPrograms.resource(file).startsWith("/*"), file + " opens with its header comment");
        }
    }

    @Test
    void tuningParametersHaveDefaultsTheHostCanOverride() {
        for (String file : FILES) {
            String code = code(file);
            Matcher m = TUNING.matcher(code);
            while (m.find()) {
                String name = m.group(1);
                if (name.equals("VEC_COLV_MAX") || name.equals("TILE_B") || name.equals("TILE_AS")) {
                    continue; // derived, not tunable
                }
                assertTrue(code.contains("#ifndef " + name), file + ": " + name + " is not wrapped in #ifndef");
            }
        }
    }

    @Test
    void theOnlyBuildOptionIsCorrectlyRoundedDivision() {
        assertEquals("-cl-fp32-correctly-rounded-divide-sqrt", ClPrograms.BUILD_OPTIONS);
    }

    @Test
    void programSourcePutsHostDefinesFirst() {
        Map<String, Integer> d = new LinkedHashMap<>();
        d.put("VEC_ROWS", 2);
        String s = ClPrograms.source("matmul.cl", d);
        assertTrue(s.startsWith("#define VEC_ROWS 2\n"), s.substring(0, 40));
        assertTrue(s.indexOf("lrp_stab") < s.indexOf("__kernel void linear_simple"));
    }
}
