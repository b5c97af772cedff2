package org.gpulrp.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.gpulrp.eval.Evaluation;
import org.gpulrp.eval.Order;
import org.gpulrp.eval.SanityCheck;
import org.gpulrp.io.AtomicFiles;
import org.gpulrp.io.Npy;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * What {@code gpulrp evaluate} prints and writes: the table on stdout; {@code summary.csv} and the curves as .npy in
 * {@code --out}; the plot (JFreeChart, PNG). Everything is computed before the first file is touched, and each file is
 * written atomically, so a failed run leaves no half-written output.
 */
final class EvaluationReport {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0x9467bd), new Color(0xff7f0e), new Color(0x17becf), new Color(0x8c564b), new Color(0x7f7f7f)};

    private final Path out;
    private final Path plot;
    private final PrintWriter stdout;
    private final List<String> wrote = new ArrayList<>();

    EvaluationReport(Path out, Path plot, PrintWriter stdout) {
        this.out = out;
        this.plot = plot;
        this.stdout = stdout;
    }

    /** E.g. {@code " -> out/eval, plot.png"}, or empty. */
    String wrote() {
        return wrote.isEmpty() ? "" : " -> " + String.join(", ", wrote);
    }

    /**
     * The table, the files and the plot of a region perturbation.
     *
     * @param setting the regions and the baseline, for the plot's title, e.g. {@code 2 x 2 patches of 4 x 4 pixels,
     *                baseline zeros}
     */
    void perturbation(Map<String, Evaluation.Result> results, String setting, boolean quiet) {
        StringBuilder csv = new StringBuilder("composite,order,aopc,abpc,samples,steps\n");
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%-28s %-7s %10s %10s %8s %6s%n",
                "composite", "order", "AOPC", "ABPC", "samples", "steps"));
        Map<Path, Evaluation.Result> curveFiles = new LinkedHashMap<>();
        Map<Path, Order> curveOrders = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        XYSeriesCollection data = new XYSeriesCollection();
        List<int[]> styles = new ArrayList<>();
        int method = 0;
        for (Map.Entry<String, Evaluation.Result> e : results.entrySet()) {
            Evaluation.Result r = e.getValue();
            double abpc = r.abpc();
            for (Order o : r.curves().keySet()) {
                String a = num(r.aopc(o));
                String b = Double.isNaN(abpc) ? "" : num(abpc);
                csv.append(csvField(e.getKey())).append(',').append(o.label()).append(',').append(a).append(',')
                        .append(b).append(',').append(r.samples()).append(',').append(r.steps()).append('\n');
                table.append(String.format(Locale.ROOT, "%-28s %-7s %10s %10s %8d %6d%n", e.getKey(), o.label(), a,
                        b.isEmpty() ? "-" : b, r.samples(), r.steps()));
                if (out != null) {
                    Path f = out.resolve(unique(used, DataFiles.fileName(e.getKey() + "-" + o.label())));
                    curveFiles.put(f, r);
                    curveOrders.put(f, o);
                }
                XYSeries s = new XYSeries(e.getKey() + " " + o.label());
                double[] m = r.meanCurve(o);
                for (int k = 0; k < m.length; k++) {
                    s.add(k, m[k]);
                }
                data.addSeries(s);
                styles.add(new int[] {method, o.ordinal()});
            }
            method++;
        }
        String title = "Region perturbation: " + setting;
        byte[] png = plot == null ? null : png(ChartFactory.createXYLineChart(title, "regions removed (k)",
                "mean score f(x(k))", data, PlotOrientation.VERTICAL, true, false, false), styles);
        // Computed; now write.
        if (out != null) {
            createFolder();
            AtomicFiles.write(out.resolve("summary.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
            curveFiles.forEach((f, r) -> Npy.write(f, flatten(r.curve(curveOrders.get(f))), r.samples(),
                    r.steps() + 1));
            wrote.add(out.toString());
        }
        writePlot(png);
        if (!quiet) {
            stdout.print(table);
            stdout.flush();
        }
    }

    void sanity(List<String> labels, List<SanityCheck.Result> results, boolean quiet) {
        SanityCheck.Result first = results.get(0);
        int steps = first.mean().length;
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-5s %-24s", "step", "randomized"));
        StringBuilder csv = new StringBuilder("step,randomized");
        for (String l : labels) {
            head.append(String.format(Locale.ROOT, " %22s", l));
            csv.append(',').append(csvField(l));
        }
        StringBuilder table = new StringBuilder(head).append('\n');
        csv.append('\n');
        XYSeriesCollection data = new XYSeriesCollection();
        List<int[]> styles = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            XYSeries s = new XYSeries(labels.get(i));
            for (int k = 0; k < steps; k++) {
                s.add(k, results.get(i).mean()[k]);
            }
            data.addSeries(s);
            styles.add(new int[] {i, 0});
        }
        for (int k = 0; k < steps; k++) {
            String layer = k == 0 ? "(none)" : "+" + first.layers().get(k - 1);
            table.append(String.format(Locale.ROOT, "%-5d %-24s", k, layer));
            csv.append(k).append(',').append(csvField(layer));
            for (SanityCheck.Result r : results) {
                table.append(String.format(Locale.ROOT, " %22s", num(r.mean()[k])));
                csv.append(',').append(num(r.mean()[k]));
            }
            table.append('\n');
            csv.append('\n');
        }
        byte[] png = plot == null ? null : png(ChartFactory.createXYLineChart("Sanity check: cascading parameter "
                + "randomization, top layer first", "layers randomized", "mean Spearman rank correlation of |R|",
                data, PlotOrientation.VERTICAL, true, false, false), styles);
        if (out != null) {
            createFolder();
            AtomicFiles.write(out.resolve("sanity.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
            Set<String> used = new HashSet<>();
            for (int i = 0; i < labels.size(); i++) {
                double[][] rho = results.get(i).perSample();
                float[] flat = new float[rho.length * rho[0].length];
                for (int k = 0; k < rho.length; k++) {
                    for (int b = 0; b < rho[k].length; b++) {
                        flat[k * rho[k].length + b] = (float) rho[k][b];
                    }
                }
                Npy.write(out.resolve(unique(used, DataFiles.fileName(labels.get(i) + "-sanity"))), flat,
                        rho.length, rho[0].length);
            }
            wrote.add(out.toString());
        }
        writePlot(png);
        if (!quiet) {
            stdout.print(table);
            stdout.flush();
        }
    }

    private void writePlot(byte[] png) {
        if (png != null) {
            AtomicFiles.write(plot, png);
            wrote.add(plot.toString());
        }
    }

    private void createFolder() {
        try {
            Files.createDirectories(out);
        } catch (IOException x) {
            throw new UncheckedIOException("--out " + out + ": cannot create the folder: " + x.getMessage(), x);
        }
    }

    /**
     * The chart as PNG bytes: white background, thick lines; series k gets the colour of {@code styles[k][0]} (the
     * composite) and the dash of {@code styles[k][1]} (the order: solid, dashed, dotted).
     */
    static byte[] png(JFreeChart chart, List<int[]> styles) {
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot p = chart.getXYPlot();
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(new Color(0xdddddd));
        p.setRangeGridlinePaint(new Color(0xdddddd));
        ((NumberAxis) p.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        float[][] dashes = {null, {9f, 5f}, {2f, 4f}};
        for (int i = 0; i < styles.size(); i++) {
            r.setSeriesPaint(i, COLOURS[styles.get(i)[0] % COLOURS.length]);
            float[] d = dashes[styles.get(i)[1] % dashes.length];
            r.setSeriesStroke(i, d == null ? new BasicStroke(2.2f) : new BasicStroke(2.2f, BasicStroke.CAP_BUTT,
                    BasicStroke.JOIN_MITER, 10f, d, 0f));
        }
        p.setRenderer(r);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(bytes, chart, WIDTH, HEIGHT);
        } catch (IOException x) {
            throw new UncheckedIOException("cannot draw the plot: " + x.getMessage(), x);
        }
        return bytes.toByteArray();
    }

    private static String unique(Set<String> used, String name) {
        String n = name;
        for (int k = 2; !used.add(n.toLowerCase(Locale.ROOT)); k++) {
            n = name.replaceFirst("\\.npy$", "") + "_" + k + ".npy";
        }
        return n;
    }

    private static float[] flatten(float[][] c) {
        int w = c[0].length;
        float[] f = new float[c.length * w];
        for (int b = 0; b < c.length; b++) {
            System.arraycopy(c[b], 0, f, b * w, w);
        }
        return f;
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "nan" : String.format(Locale.ROOT, "%.6f", v);
    }

    private static String csvField(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
