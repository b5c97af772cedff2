package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.gpulrp.backend.ConvCases;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Strided 1x1 layers on OpenCL ({@link org.gpulrp.backend.StrideGrid}: gathered to their grid, the stride-1
 * products, the backprojection's chains scattered): the same bits as the CPU's scalar kernels, forward and backward,
 * with and without x, prepared or not; inputs off the grid get {@code x * +0} (so -0 where x is negative). Also where
 * the products do not take the grid (their row minimum raised), so the strided kernels run.
 */
class OpenClStrideGridTest {
    private static OpenClBackend products;
    private static OpenClBackend noProducts;

    @BeforeAll
    static void open() {
        products = OpenClTestSupport.openOrSkip();
        noProducts = OpenClBackend.open(null, Map.of("conv.mm.rows.min", "100000"));
    }

    @AfterAll
    static void close() {
        for (OpenClBackend be : new OpenClBackend[] {products, noProducts}) {
            if (be != null) {
                be.close();
            }
        }
    }

    /** Every stride-grid case, prepared or not. */
    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        List<ConvCases.Conv> cs = ConvCases.strideGrid();
        for (int i = 0; i < cs.size(); i++) {
            out.add(Arguments.of(cs.get(i), i % 2 == 0));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} prepared={1}")
    @MethodSource("cases")
    void sameBitsAsTheScalarKernels(ConvCases.Conv c, boolean prepared) {
        assertNotNull(products.launches().grid(Op.CONV, c.g()), "the products take the grid: " + c);
        assertNull(noProducts.launches().grid(Op.CONV, c.g()));
        float[][] data = ConvCases.strideGridData(c);
        try (CpuBackend scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1)) {
            float[][] expect = ConvCases.plainMaps(scalar, c, data, false);
            ConvCases.assertSamePlainMaps(expect, ConvCases.plainMaps(products, c, data, prepared), c.toString());
            ConvCases.assertSamePlainMaps(expect, ConvCases.plainMaps(noProducts, c, data, prepared),
                    c + " (no products)");
        }
    }
}
