package org.gpulrp.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.PoolGeometry;

/** {@link ConvGeometry} and {@link PoolGeometry}: PyTorch's output sizes and the validation errors. */
class GeometryTest {

    private static ConvGeometry conv(int c, int h, int w, int oc, int kh, int kw, int sh, int sw, int ph, int pw,
                                     int dh, int dw, int g) {
        return new ConvGeometry(c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, g);
    }

    @Test
    void outputSizesFollowPyTorch() {
        // torch.nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(2, 1)) on 3x11x13: 8x5x13.
        ConvGeometry g = conv(3, 11, 13, 8, 3, 5, 2, 1, 1, 2, 2, 1, 1);
        assertEquals(5, g.outH());
        assertEquals(13, g.outW());
        assertEquals(3 * 11 * 13, g.inSize());
        assertEquals(8 * 5 * 13, g.outSize());
        assertEquals(8 * 3 * 3 * 5, g.weightSize());
        ConvGeometry dw = conv(6, 7, 7, 12, 3, 3, 2, 2, 0, 0, 1, 1, 6);
        assertEquals(3, dw.outH());
        assertEquals(12 * 1 * 9, dw.weightSize());
        assertEquals(1, dw.inPerGroup());
        assertEquals(2, dw.outPerGroup());
        // 224 -> 112 for the ResNet stem (7x7, stride 2, padding 3); 112 -> 56 for its pool (3x3, s2, p1).
        assertEquals(112, ConvGeometry.of(3, 224, 224, 64, 7, 2, 3).outH());
        assertEquals(56, PoolGeometry.of(64, 112, 112, 3, 2, 1).outW());
        assertEquals(3, PoolGeometry.of(1, 7, 7, 2, 2, 0).outH());
        // Ceil mode as PyTorch computes it: rounded up, and a last window that would start in the padding dropped.
        assertEquals(56, new PoolGeometry(1, 112, 112, 3, 3, 2, 2, 0, 0, true).outH());
        assertEquals(55, new PoolGeometry(1, 112, 112, 3, 3, 2, 2, 0, 0, false).outH());
        assertEquals(4, new PoolGeometry(1, 6, 6, 3, 3, 2, 2, 1, 1, true).outW());
        assertEquals(3, new PoolGeometry(1, 5, 5, 2, 2, 2, 2, 1, 1, true).outW());
        assertEquals(3, new PoolGeometry(1, 5, 5, 2, 2, 2, 2, 1, 1, false).outW());
    }

    @Test
    void convRejectsBadShapesNamingTheParameter() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> conv(3, 8, 8, 4, 3, 3, 1, 1, 0, 0, 1, 1, 2));
        assertEquals("groups", e.parameter());
        assertTrue(e.getMessage().contains("inChannels"), e.getMessage());
        assertEquals("groups", assertThrows(InvalidArgumentException.class,
                () -> conv(4, 8, 8, 3, 3, 3, 1, 1, 0, 0, 1, 1, 2)).parameter());
        assertEquals("inH", assertThrows(InvalidArgumentException.class,
                () -> conv(1, 0, 8, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1)).parameter());
        assertEquals("strideW", assertThrows(InvalidArgumentException.class,
                () -> conv(1, 8, 8, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1)).parameter());
        assertEquals("padH", assertThrows(InvalidArgumentException.class,
                () -> conv(1, 8, 8, 1, 1, 1, 1, 1, -1, 0, 1, 1, 1)).parameter());
        assertEquals("dilationW", assertThrows(InvalidArgumentException.class,
                () -> conv(1, 8, 8, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1)).parameter());
        // A 3x3 kernel with dilation 4 spans 9 rows; 8 rows without padding give no output.
        InvalidArgumentException big = assertThrows(InvalidArgumentException.class,
                () -> conv(1, 8, 20, 1, 3, 3, 1, 1, 0, 0, 4, 1, 1));
        assertEquals("kernelH", big.parameter());
        assertTrue(big.getMessage().contains("empty"), big.getMessage());
        assertEquals("kernelW", assertThrows(InvalidArgumentException.class,
                () -> conv(1, 8, 2, 1, 1, 5, 1, 1, 0, 1, 1, 1, 1)).parameter());
        assertEquals(1, conv(1, 8, 3, 1, 1, 5, 1, 1, 0, 1, 1, 1, 1).outW(), "5 wide fits 3 + 2 padding exactly");
    }

    @Test
    void poolRejectsBadShapesNamingTheParameter() {
        assertEquals("padH", assertThrows(InvalidArgumentException.class,
                () -> new PoolGeometry(1, 8, 8, 3, 3, 1, 1, 2, 1)).parameter());
        assertEquals("padW", assertThrows(InvalidArgumentException.class,
                () -> new PoolGeometry(1, 8, 8, 2, 2, 1, 1, 0, -1)).parameter());
        assertEquals("kernelW", assertThrows(InvalidArgumentException.class,
                () -> new PoolGeometry(1, 8, 2, 1, 4, 1, 1, 0, 0)).parameter());
        assertEquals("channels", assertThrows(InvalidArgumentException.class,
                () -> new PoolGeometry(0, 8, 8, 2, 2, 2, 2, 0, 0)).parameter());
        InvalidArgumentException huge = assertThrows(InvalidArgumentException.class,
                () -> new PoolGeometry(512, 256, 256, 2, 2, 2, 2, 0, 0));
        assertTrue(huge.getMessage().contains("2^24") || huge.getMessage().contains("16777216"), huge.getMessage());
    }
}
