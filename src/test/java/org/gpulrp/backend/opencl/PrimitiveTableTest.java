package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.backend.Op;
import org.gpulrp.model.PoolGeometry;
import org.junit.jupiter.api.Test;

/**
 * The op table is complete: every {@link Backend} primitive has an {@link Op}, every op has cases in
 * {@link PrimitiveTable} (which the bit-identity tests run family by family), and the counts follow the table's rule.
 */
class PrimitiveTableTest {

    /** A new primitive without an op, or an op without cases, fails here. */
    @Test
    void everyPrimitiveHasAnOpAndEveryOpHasCases() {
        Set<String> methods = new TreeSet<>();
        for (Method m : Backend.class.getDeclaredMethods()) {
            boolean takesBuffer = Arrays.stream(m.getParameterTypes()).anyMatch(t -> t == Buffer.class);
            if (Modifier.isAbstract(m.getModifiers()) && takesBuffer && !m.getName().equals("write")
                    && !m.getName().equals("read")) {
                methods.add(m.getName());
            }
        }
        Set<String> covered = new TreeSet<>();
        for (Op op : Op.values()) {
            covered.add(op.method());
            assertFalse(PrimitiveTable.cases(op).isEmpty(), op + " has no cases in PrimitiveTable");
        }
        assertEquals(methods, covered, "Backend primitives vs the methods of Op");
    }

    /** The bit-identity tests run the families they name; together they run every op. */
    @Test
    void theBitIdentityTestsRunEveryFamily() {
        Set<Op> run = EnumSet.noneOf(Op.class);
        OpenClBitIdentityTest.denseOps().forEach(a -> run.add((Op) a.get()[1]));
        OpenClBitIdentityTest.elementwiseOps().forEach(run::add);
        OpenClConvBitIdentityTest.convOps().forEach(run::add);
        OpenClConvBitIdentityTest.poolOps().forEach(run::add);
        assertEquals(EnumSet.allOf(Op.class), run);
    }

    @Test
    void callsSelectTheirForm() {
        Object[] both = new Object[10];
        Arrays.fill(both, new Object());
        Object[] noOutN = both.clone();
        noOutN[6] = null;
        assertEquals(Op.LINEAR_SIGNED, Op.of("linearSigned", both));
        assertEquals(Op.LINEAR_SIGNED_P, Op.of("linearSigned", noOutN));
        assertEquals(Op.CONV_SIGNED_P, Op.of("convSigned", Arrays.copyOf(noOutN, 9)));
        Object[] noHn = both.clone();
        noHn[1] = null;
        assertEquals(Op.BACKPROJECT_SIGNED_P, Op.of("backprojectSigned", noHn));
        assertEquals(Op.CONV_BACKPROJECT_SIGNED, Op.of("convBackprojectSigned", noHn));
        assertEquals(Op.RELU, Op.of("relu", null));
        assertThrows(IllegalArgumentException.class, () -> Op.of("allocate", null));
    }

    @Test
    void countsFollowTheRule() {
        // 2 flops per fma; the plain maps have one fma per output and step.
        assertEquals(2L * 3 * 5 * 7, Op.LINEAR.flops(3, 5, 7));
        assertEquals(2L * 3 * 5 * 7, Op.BACKPROJECT.flops(3, 7, 5));
        assertEquals(4L * 3 * 5 * 7, Op.LINEAR_SIGNED.flops(3, 5, 7));
        assertEquals(4L * (3 * 5 + 5 * 7 + 3 * 7 + 7), Op.LINEAR.bytes(3, 5, 7));
        ConvGeometry g = new ConvGeometry(4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2);
        assertEquals(2L * 2 * g.outSize() * g.taps(), Op.CONV.flops(2, g));
        assertEquals(Op.CONV.flops(2, g), Op.CONV_BACKPROJECT.flops(2, g));
        assertEquals(4L * (g.weightSize() + 2L * (g.inSize() + g.outSize()) + g.outChannels()), Op.CONV.bytes(2, g));
        PoolGeometry p = new PoolGeometry(3, 8, 8, 2, 2, 2, 2, 0, 0);
        assertEquals(0, Op.MAX_POOL.flops(2, p));
        assertEquals(4L * 2 * (p.inSize() + 2L * p.outSize()), Op.MAX_POOL.bytes(2, p));
        assertEquals(100, Op.ADD.flops(100));
        assertEquals(1200, Op.ADD.bytes(100));
        assertThrows(IllegalArgumentException.class, () -> Op.CONV.flops(1, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> Op.LINEAR.flops(1, g));
        for (Op op : Op.values()) {
            assertTrue(op.chains() >= 0 && op.chains() <= 3, op.toString());
            assertEquals(op.family() == Op.Family.DENSE || op.family() == Op.Family.CONV, op.chains() > 0,
                    op + ": the linear maps, and only they, keep chains");
        }
    }
}
