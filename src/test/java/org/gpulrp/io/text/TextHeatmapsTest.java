package org.gpulrp.io.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpulrp.io.image.Palette;
import org.junit.jupiter.api.Test;

/** The token heatmaps: the HTML page, the ANSI terminal line and the plain text. */
class TextHeatmapsTest {
    private static final List<Piece> PIECES = List.of(new Piece("[CLS]", true, true), new Piece("Bugs", true, false),
            new Piece("<script>alert('x')</script>", true, false), new Piece("&", true, false),
            new Piece("ing", false, false), new Piece("\"q\"", true, false), new Piece("[SEP]", true, true));
    private static final float[] R = {0f, 2f, -1f, 0.5f, -2f, 1e-3f, 0f};

    private static TextHeatmaps.Row row() {
        return new TextHeatmaps.Row("1. class 0 (a<b), score 3", PIECES, R);
    }

    @Test
    void normalizesEachTextByItsLargestMagnitude() {
        TextHeatmaps.Row r = row();
        assertEquals(2f, r.scale());
        assertEquals(1.0, r.normalized(1));
        assertEquals(-0.5, r.normalized(2));
        assertEquals(-1.0, r.normalized(4));
        assertEquals(0.0, new TextHeatmaps.Row("", PIECES, new float[7]).normalized(1));
    }

    @Test
    void thePageEscapesEverythingAndColoursEachToken() {
        String html = TextHeatmaps.html("gpulrp <page>", List.of("model m&m.onnx", "composite attnlrp"),
                List.of(row()), Palette.BWR);
        assertFalse(html.contains("<script>"), "unescaped token");
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), html);
        assertTrue(html.contains("gpulrp &lt;page&gt;") && html.contains("model m&amp;m.onnx"), html);
        assertTrue(html.contains("class 0 (a&lt;b), score 3"), html);
        assertTrue(html.contains("&quot;q&quot;"), html);
        // Self-contained: no scripts, links, images or fonts from elsewhere.
        for (String ext : List.of("<script", "<link", "src=", "url(", "http:", "https:", "@import")) {
            assertFalse(html.toLowerCase(Locale.ROOT).contains(ext), ext);
        }
        // Each token once, in a span whose background is its palette colour.
        Matcher m = Pattern.compile("<span class=\"t[^\"]*\" style=\"background:(#[0-9a-f]{6})[^\"]*\" title=\"([^\"]*)\">"
                + "([^<]*)</span>").matcher(html);
        int k = 0;
        while (m.find()) {
            assertEquals(TextHeatmaps.escape(PIECES.get(k).text()), m.group(3));
            assertEquals(TextHeatmaps.hex(Palette.BWR.rgb(row().normalized(k))), m.group(1), "token " + k);
            assertEquals(R[k], Float.parseFloat(m.group(2)), Math.abs(R[k]) * 1e-3, "title " + k);
            k++;
        }
        assertEquals(PIECES.size(), k, html);
        assertTrue(html.contains(">Bugs</span> <span"), "a space before a new word");
        assertTrue(html.contains("&amp;</span><span"), "no space before a continuation");
        // The legend runs from the palette's blue to its red.
        assertTrue(html.contains("#0000ff 0%") && html.contains("#ffffff 50%") && html.contains("#ff0000 100%"), html);
        assertTrue(html.contains("against") && html.contains(">for<"), html);
    }

    @Test
    void theTerminalLineHasA24BitBackgroundPerToken() {
        String s = TextHeatmaps.ansi(row(), Palette.BWR);
        String[] lines = s.split("\n");
        assertEquals("1. class 0 (a<b), score 3", lines[0]);
        Matcher m = Pattern.compile("\u001b\\[48;2;(\\d+);(\\d+);(\\d+)m\u001b\\[38;2;(\\d+);(\\d+);(\\d+)m([^\u001b]*)"
                + "\u001b\\[0m").matcher(lines[1]);
        int k = 0;
        while (m.find()) {
            int rgb = Palette.BWR.rgb(row().normalized(k));
            assertEquals(rgb >> 16 & 0xff, Integer.parseInt(m.group(1)), "red of token " + k);
            assertEquals(rgb >> 8 & 0xff, Integer.parseInt(m.group(2)), "green of token " + k);
            assertEquals(rgb & 0xff, Integer.parseInt(m.group(3)), "blue of token " + k);
            assertEquals(PIECES.get(k).text(), m.group(7));
            k++;
        }
        assertEquals(PIECES.size(), k, s);
        // Full red and full blue get white text, the pale ones black.
        assertTrue(lines[1].contains("48;2;255;0;0m\u001b[38;2;255;255;255mBugs"), lines[1]);
        assertTrue(lines[1].contains("48;2;255;255;255m\u001b[38;2;0;0;0m[CLS]"), lines[1]);
    }

    @Test
    void controlCharactersInATextCannotReachTheTerminal() {
        TextHeatmaps.Row evil = new TextHeatmaps.Row("cap\u001b[2J", List.of(new Piece("a\u001b]0;x\u0007b", true,
                false)), new float[] {1});
        String ansi = TextHeatmaps.ansi(evil, Palette.BWR);
        assertFalse(ansi.contains("\u001b[2J") || ansi.contains("\u001b]0") || ansi.contains("\u0007"), ansi);
        assertFalse(TextHeatmaps.plain(evil).contains("\u001b"));
        assertFalse(TextHeatmaps.html("t", List.of(), List.of(evil), Palette.BWR).contains("\u001b"));
    }

    @Test
    void plainTextGivesEachTokenItsScaledRelevance() {
        String s = TextHeatmaps.plain(row());
        assertEquals("1. class 0 (a<b), score 3\n[CLS][+0.00] Bugs[+1.00] <script>alert('x')</script>[-0.50] "
                + "&[+0.25]ing[-1.00] \"q\"[+0.00] [SEP][+0.00]\n", s);
    }
}
