package org.gpulrp.io.text;

import java.util.List;
import java.util.Locale;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.io.image.Palette;

/**
 * Token relevance drawn over the text: a self-contained HTML page (inline style, no scripts, no external resources),
 * a terminal line with 24-bit ANSI colours, or plain text with the numbers. Each text is scaled by its own largest
 * |relevance| onto a {@link Palette} (red for the explained output, blue against it, on the default {@code bwr}).
 */
public final class TextHeatmaps {
    /** Background brightness (0..255, Rec. 601 luma) below which a token's text is written in white. */
    static final int DARK = 140;
    private static final String ESC = "\u001b[";

    private TextHeatmaps() {
    }

    /**
     * One explained text.
     *
     * @param caption   what was explained, e.g. {@code class 2 (science), score 3.1}
     * @param pieces    the tokens as shown
     * @param relevance one value per piece
     */
    public record Row(String caption, List<Piece> pieces, float[] relevance) {
        public Row {
            pieces = List.copyOf(pieces);
            relevance = relevance.clone();
            InvalidArgumentException.check(pieces.size() == relevance.length, "relevance", pieces.size()
                    + " pieces but " + relevance.length + " values");
        }

        /** The largest |relevance| (0 when all are 0). */
        public float scale() {
            float m = 0;
            for (float r : relevance) {
                m = Math.max(m, Math.abs(r));
            }
            return m;
        }

        /** Piece i's relevance divided by {@link #scale()}, in [-1, 1] (0 for an all-zero row). */
        public double normalized(int i) {
            return normalized(i, scale());
        }

        /** {@link #normalized(int)} with the row's {@link #scale()} already known (a renderer takes it once). */
        double normalized(int i, float scale) {
            return scale == 0 || !Float.isFinite(scale) ? 0 : relevance[i] / (double) scale;
        }

        @Override
        public float[] relevance() {
            return relevance.clone();
        }
    }

    /**
     * The page: a heading, one line of facts (model, composite, ...), the legend, then each text with its caption;
     * every token a span coloured by its relevance, its value in the title (shown on hover).
     */
    public static String html(String heading, List<String> facts, List<Row> rows, Palette palette) {
        StringBuilder h = new StringBuilder(4096);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
                .append(escape(heading)).append("</title>\n<style>\n")
                .append("body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:60em}\n")
                .append("h1{font-size:1.3em}\n.facts{color:#444}\n")
                .append(".legend{display:flex;align-items:center;gap:.6em;font-size:.9em;margin:1em 0}\n")
                .append(".bar{display:inline-block;width:16em;height:1em;border:1px solid #999}\n")
                .append(".text{margin:1em 0;padding:.6em .8em;border:1px solid #ddd;border-radius:6px}\n")
                .append(".caption{font-size:.9em;color:#555;margin-bottom:.4em}\n")
                .append(".tokens{font-size:1.15em;line-height:2}\n")
                .append(".t{padding:.15em .1em;border-radius:3px}\n.s{font-size:.75em;font-family:monospace}\n")
                .append("</style>\n</head>\n<body>\n<h1>").append(escape(heading)).append("</h1>\n");
        if (!facts.isEmpty()) {
            h.append("<p class=\"facts\">");
            for (int k = 0; k < facts.size(); k++) {
                h.append(k == 0 ? "" : " &middot; ").append(escape(facts.get(k)));
            }
            h.append("</p>\n");
        }
        h.append("<div class=\"legend\"><span>against</span><span class=\"bar\" style=\"background:linear-gradient(")
                .append("to right");
        for (int k = 0; k <= 10; k++) {
            h.append(", ").append(hex(palette.rgb(-1 + k / 5.0))).append(' ').append(k * 10).append('%');
        }
        h.append(")\"></span><span>for</span><span>(each text scaled by its largest |relevance|; hover a token "
                + "for its value)</span></div>\n");
        for (Row r : rows) {
            h.append("<div class=\"text\">\n<div class=\"caption\">").append(escape(r.caption()))
                    .append("</div>\n<div class=\"tokens\">");
            float scale = r.scale();
            for (int i = 0; i < r.pieces().size(); i++) {
                Piece p = r.pieces().get(i);
                int rgb = palette.rgb(r.normalized(i, scale));
                h.append(i > 0 && p.space() ? " " : "").append("<span class=\"t").append(p.special() ? " s" : "")
                        .append("\" style=\"background:").append(hex(rgb)).append(dark(rgb) ? ";color:#fff" : "")
                        .append("\" title=\"").append(String.format(Locale.ROOT, "%+.4g", r.relevance[i]))
                        .append("\">").append(escape(p.text())).append("</span>");
            }
            h.append("</div>\n</div>\n");
        }
        return h.append("</body>\n</html>\n").toString();
    }

    /** The caption, then the text with each token's background in its colour (24-bit ANSI escapes). */
    public static String ansi(Row r, Palette palette) {
        StringBuilder s = new StringBuilder();
        s.append(printable(r.caption())).append('\n');
        float scale = r.scale();
        for (int i = 0; i < r.pieces().size(); i++) {
            Piece p = r.pieces().get(i);
            int rgb = palette.rgb(r.normalized(i, scale));
            int fg = dark(rgb) ? 0xffffff : 0x000000;
            s.append(i > 0 && p.space() ? " " : "")
                    .append(ESC).append("48;2;").append(rgb >> 16 & 0xff).append(';').append(rgb >> 8 & 0xff)
                    .append(';').append(rgb & 0xff).append('m')
                    .append(ESC).append("38;2;").append(fg >> 16 & 0xff).append(';').append(fg >> 8 & 0xff)
                    .append(';').append(fg & 0xff).append('m')
                    .append(printable(p.text())).append(ESC).append("0m");
        }
        return s.append('\n').toString();
    }

    /** The caption, then the text with each token followed by its scaled relevance, e.g. {@code files[+0.42]}. */
    public static String plain(Row r) {
        StringBuilder s = new StringBuilder();
        s.append(printable(r.caption())).append('\n');
        float scale = r.scale();
        for (int i = 0; i < r.pieces().size(); i++) {
            Piece p = r.pieces().get(i);
            s.append(i > 0 && p.space() ? " " : "").append(printable(p.text()))
                    .append(String.format(Locale.ROOT, "[%+.2f]", r.normalized(i, scale)));
        }
        return s.append('\n').toString();
    }

    /** HTML-escaped text (element content and quoted attribute values alike). */
    public static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c < 0x20 || c == 0x7f ? ' ' : c);
            }
        }
        return b.toString();
    }

    /** The text with control characters (escape sequences included) shown as U+FFFD, safe to print. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.appendCodePoint(Character.getType(c) == Character.CONTROL ? 0xfffd : c));
        return b.toString();
    }

    static String hex(int rgb) {
        return String.format(Locale.ROOT, "#%06x", rgb & 0xffffff);
    }

    static boolean dark(int rgb) {
        int r = rgb >> 16 & 0xff;
        int g = rgb >> 8 & 0xff;
        int b = rgb & 0xff;
        return (299 * r + 587 * g + 114 * b) / 1000 < DARK;
    }
}
