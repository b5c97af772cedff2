package org.gpulrp.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Reads the peer's results ({@code benchmarks/peer/peer_lrp.py --out FILE.tsv}) and prints them beside ours. */
final class Peer {
    private Peer() {
    }

    /**
     * {@code rows}: model, batch, composite, backend, ms/batch, samples/s (with thousands separators), GFLOP/s.
     * Prints one table row per (model, composite): our CPU path and OpenCL, the peer's autograd LRP, the ratios,
     * and the plain PyTorch forward pass; then the MLP's GFLOP/s against OpenBLAS sgemm from the same run.
     */
    static void printComparison(Path file, List<String[]> rows) {
        List<String[]> peer;
        try {
            peer = Files.readAllLines(file).stream().skip(1).filter(l -> !l.isBlank()).map(l -> l.split("\t"))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the peer's results " + file, e);
        }
        System.out.println("Against the peer (PyTorch autograd LRP, same models and batch, same run):");
        System.out.println();
        System.out.println("| model | batch | composite | gpulrp cpu samples/s | gpulrp opencl samples/s"
                + " | peer samples/s | cpu / peer | opencl / peer | torch forward samples/s |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        double sgemm = Double.NaN;
        for (String[] p : peer) {
            if (p[2].equals("numpy-openblas")) {
                sgemm = Double.parseDouble(p[4]);
            }
        }
        for (String[] p : peer) {
            if (!p[2].equals("torch-autograd-lrp")) {
                continue;
            }
            String model = p[0];
            String comp = p[3];
            double peerSps = Double.parseDouble(p[4]);
            double cpu = find(rows, model, comp, "cpu", 5);
            double cl = find(rows, model, comp, "opencl", 5);
            double fwd = Double.NaN;
            for (String[] q : peer) {
                if (q[0].equals(model) && q[2].equals("torch-forward")) {
                    fwd = Double.parseDouble(q[4]);
                }
            }
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", model, p[1], comp,
                    num(cpu), num(cl), num(peerSps), ratio(cpu, peerSps), ratio(cl, peerSps), num(fwd));
        }
        System.out.println();
        if (!Double.isNaN(sgemm)) {
            for (String be : new String[] {"cpu", "opencl"}) {
                double g = find(rows, "mlp", "epsilon", be, 6);
                if (!Double.isNaN(g)) {
                    System.out.printf(Locale.ROOT,
                            "MLP epsilon on %s: %.1f GFLOP/s = %.0f%% of OpenBLAS sgemm (%.1f GFLOP/s, numpy, same run)%n",
                            be, g, 100 * g / sgemm, sgemm);
                }
            }
        }
    }

    private static double find(List<String[]> rows, String model, String comp, String backend, int column) {
        for (String[] r : rows) {
            if (r[0].equals(model) && r[2].equals(comp) && r[3].equals(backend)) {
                return Double.parseDouble(r[column].replace(",", ""));
            }
        }
        return Double.NaN;
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, v < 100 ? "%,.3f" : "%,.0f", v);
    }

    private static String ratio(double ours, double peer) {
        return Double.isNaN(ours) ? "-" : String.format(Locale.ROOT, "%.2fx", ours / peer);
    }
}
