package org.gpulrp.io.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.gpulrp.InvalidArgumentException;
import org.junit.jupiter.api.Test;

/** Each palette's anchors (matplotlib's bwr and seismic, Zennit's coldnhot, gray) and the interpolation between. */
class PaletteTest {
    static int rgb(int r, int g, int b) {
        return r << 16 | g << 8 | b;
    }

    @Test
    void bwrIsBlueWhiteRed() {
        assertEquals(rgb(0, 0, 255), Palette.BWR.rgb(-1));
        assertEquals(rgb(255, 255, 255), Palette.BWR.rgb(0));
        assertEquals(rgb(255, 0, 0), Palette.BWR.rgb(1));
        assertEquals(rgb(255, 128, 128), Palette.BWR.rgb(0.5)); // 127.5 rounds up
        assertEquals(rgb(64, 64, 255), Palette.BWR.rgb(-0.75)); // 63.75
    }

    @Test
    void seismicFollowsMatplotlib() {
        assertEquals(rgb(0, 0, 77), Palette.SEISMIC.rgb(-1)); // 0.3 * 255 = 76.5
        assertEquals(rgb(0, 0, 255), Palette.SEISMIC.rgb(-0.5));
        assertEquals(rgb(255, 255, 255), Palette.SEISMIC.rgb(0));
        assertEquals(rgb(255, 0, 0), Palette.SEISMIC.rgb(0.5));
        assertEquals(rgb(128, 0, 0), Palette.SEISMIC.rgb(1)); // 127.5
        assertEquals(rgb(191, 0, 0), Palette.SEISMIC.rgb(0.75)); // (255 + 127.5) / 2 = 191.25
        assertEquals(rgb(0, 0, 166), Palette.SEISMIC.rgb(-0.75)); // (76.5 + 255) / 2 = 165.75
    }

    @Test
    void coldnhotFollowsZennit() {
        assertEquals(rgb(0, 255, 255), Palette.COLDNHOT.rgb(-1));
        assertEquals(rgb(0, 0, 255), Palette.COLDNHOT.rgb(-0.5));
        assertEquals(rgb(0, 0, 0), Palette.COLDNHOT.rgb(0));
        assertEquals(rgb(255, 0, 0), Palette.COLDNHOT.rgb(1.0 / 3));
        assertEquals(rgb(255, 255, 0), Palette.COLDNHOT.rgb(2.0 / 3));
        assertEquals(rgb(255, 255, 255), Palette.COLDNHOT.rgb(1));
        assertEquals(rgb(0, 0, 153), Palette.COLDNHOT.rgb(-0.3)); // 0.6 of blue
        assertEquals(rgb(191, 0, 0), Palette.COLDNHOT.rgb(0.25)); // 0.75 of red
        assertEquals(rgb(0, 128, 255), Palette.COLDNHOT.rgb(-0.75)); // halfway blue -> cyan, 127.5
    }

    @Test
    void grayRunsFromBlackToWhite() {
        assertEquals(rgb(0, 0, 0), Palette.GRAY.rgb(-1));
        assertEquals(rgb(128, 128, 128), Palette.GRAY.rgb(0));
        assertEquals(rgb(255, 255, 255), Palette.GRAY.rgb(1));
        assertEquals(rgb(191, 191, 191), Palette.GRAY.rgb(0.5)); // 191.25
    }

    @Test
    void valuesOutsideTheRangeAreClampedAndNaNRefused() {
        for (Palette p : Palette.values()) {
            assertEquals(p.rgb(1), p.rgb(7));
            assertEquals(p.rgb(-1), p.rgb(Double.NEGATIVE_INFINITY));
            assertEquals(p.rgb(0), p.centre());
            assertThrows(InvalidArgumentException.class, () -> p.rgb(Double.NaN));
        }
    }

    @Test
    void namesParseIgnoringCase() {
        assertEquals(Palette.COLDNHOT, Palette.parse("ColdNHot"));
        assertEquals("seismic", Palette.SEISMIC.toString());
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Palette.parse("jet"));
        assertEquals("palette: unknown palette 'jet'; choose bwr, coldnhot, seismic or gray", e.getMessage());
    }
}
