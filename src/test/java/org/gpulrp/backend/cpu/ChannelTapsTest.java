package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.gpulrp.model.ConvGeometry;
import org.junit.jupiter.api.Test;

/**
 * The channel-lane tap tables are shared where rows differ only by a shift, so a layer's tables stay small enough for
 * the table cache (a ResNet-50's strided layers outgrew it while alternate rows were compared, and every call rebuilt
 * them).
 */
class ChannelTapsTest {

    @Test
    void stridedBackwardRowsShareTheTablesOfTheRowAStrideBefore() {
        // ResNet's stride-2 3x3 layer: input row y meets kernel rows of y's parity, one output row further than y - 2.
        ConvGeometry g = new ConvGeometry(64, 28, 28, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1);
        boolean[] tile = ChannelTaps.tiles(g.inW(), q -> ChannelTaps.interiorBackward(q, g));
        ChannelTaps.RowTables t = ChannelTaps.RowTables.of(g, g.inH(), g.inW(), tile, false);
        for (int y = 2; y < 26; y++) {
            for (int q = 0; q < g.inW(); q++) {
                assertNotNull(t.soff[y][q], "column " + q + " has its own table (no tile with stride 2)");
                assertSame(t.soff[y - 2][q], t.soff[y][q], "row " + y + ", column " + q);
                assertSame(t.sw[y - 2][q], t.sw[y][q], "row " + y + ", column " + q);
                if (t.sn[y][q] > 0) {
                    assertEquals(g.outW(), t.sshift[y][q] - t.sshift[y - 2][q], "one output row further");
                }
            }
        }
    }
}
