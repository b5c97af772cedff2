package org.gpulrp.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.cpu.CpuBackend;

/**
 * How close a Vector API register tile of a matrix product can come to the machine's FMA ceiling on this JVM, with
 * every operand in L1: the bar for issue 17's dense goal (75 % of the FMA peak for whole layers) and issue 15's (1.5x
 * a peer whose GEMMs are OpenBLAS's). One thread runs a tile of R rows by V vectors (R x V chains in registers; per
 * tap V vector loads of the weights and R broadcasts of the rows, the instruction mix of {@code DenseProduct}'s
 * packed tile) over 60 rows of 128 taps, 64-byte aligned, in rounds alternated with {@link FmaPeak#kernel}'s loop
 * of independent fused multiply-adds on the same thread; each round's tile rate is divided by the FMA loop's rate
 * next to it, and the median share over 20 rounds is printed (the machines are shared: a ratio taken seconds apart
 * is steadier than either rate). Shapes: 5x4 (the library's), 8x3 and 12x2 (24 chains each, fewer loads per fused
 * multiply-add). Then the library's whole dense map (packing, K-blocking, epilogue, its threads) the same way, on
 * one thread and on all.
 * Usage: {@code java --add-modules jdk.incubator.vector -cp benchmarks.jar org.gpulrp.bench.TileCeiling}.
 */
public final class TileCeiling {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int TAPS = 128;
    private static final int ROWS = 60;
    /** Floats before the weights: 16 bytes of array header + 48 = one cache line, as {@code DenseProduct}'s strips. */
    private static final int ALIGN = 12;

    private TileCeiling() {
    }

    public static void main(String[] args) {
        System.out.printf(Locale.ROOT, "%s, Java %s, %d-lane vectors; every operand in L1, one thread%n",
                System.getProperty("os.arch"), Runtime.version(), L);
        for (int[] shape : new int[][] {{5, 4}, {8, 3}, {12, 2}}) {
            System.out.printf(Locale.ROOT, "tile %dx%d: %s%n", shape[0], shape[1], share(shape[0], shape[1]));
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        for (int threads : new int[] {1, cpus}) {
            int rows = 128 * threads;
            System.out.printf(Locale.ROOT, "whole product %d x 1024 x 1024 (CpuBackend.linear, prepared weights, "
                    + "%d thread%s): %s%n", rows, threads, threads == 1 ? "" : "s", product(rows, 1024, 1024, threads));
        }
    }

    /**
     * The library's dense map {@code z = x W + b} ([rows, p] x [p, q]) on a CPU backend of {@code threads} threads,
     * as a share of {@code threads} FMA loops run side by side right after it ({@link FmaPeak#measure}'s kernel).
     */
    private static String product(int rows, int p, int q, int threads) {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try (Backend b = new CpuBackend(CpuBackend.Kernels.VECTOR, threads)) {
            float[] x = new float[rows * p];
            float[] w = new float[p * q];
            java.util.Random rnd = new java.util.Random(2);
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextFloat();
            }
            for (int i = 0; i < w.length; i++) {
                w[i] = rnd.nextFloat() - 0.5f;
            }
            Buffer bx = b.upload(x);
            Buffer bw = b.upload(w);
            Buffer bias = b.upload(new float[q]);
            Buffer z = b.allocate(rows * q);
            b.prepareDense(bw, p, q);
            int reps = (int) Math.max(1, 2e10 * threads / (2.0 * rows * p * q));
            long fmaTrips = 10_000_000;
            List<Double> shares = new ArrayList<>();
            for (int round = 0; round < 20; round++) {
                long t0 = System.nanoTime();
                for (int rep = 0; rep < reps; rep++) {
                    b.linear(bx, bw, bias, z, rows, p, q);
                }
                double product = 2.0 * reps * rows * p * q / (System.nanoTime() - t0);
                List<java.util.concurrent.Callable<Float>> work = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    float seed = t + round;
                    work.add(() -> FmaPeak.kernel(fmaTrips, seed));
                }
                long f0 = System.nanoTime();
                for (java.util.concurrent.Future<Float> f : pool.invokeAll(work)) {
                    f.get();
                }
                double fma = 2.0 * threads * fmaTrips * 12 * L / (System.nanoTime() - f0);
                if (round >= 5) {
                    shares.add(100 * product / fma);
                }
            }
            Collections.sort(shares);
            return String.format(Locale.ROOT, "%.1f %% of the FMA loops (quartiles %.1f-%.1f)",
                    shares.get(shares.size() / 2), shares.get(shares.size() / 4), shares.get(3 * shares.size() / 4));
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The median (and quartiles) of the tile's rate over the FMA loop's, in per cent. */
    private static String share(int r, int v) {
        int panels = ROWS / r;
        float[] a = new float[panels * r * TAPS];
        // A weight array of more than half a G1 region starts the region: ALIGN puts the vectors on cache lines.
        float[] m = new float[Math.max(ALIGN + v * L * TAPS, 1 << 20)];
        float[] c = new float[panels * r * v * L];
        java.util.Random rnd = new java.util.Random(1);
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextFloat();
        }
        for (int i = 0; i < m.length; i++) {
            m[i] = rnd.nextFloat() * 1e-3f;
        }
        long reps = 100_000;
        long fmaTrips = 5_000_000;
        List<Double> shares = new ArrayList<>();
        float sink = 0;
        for (int round = 0; round < 25; round++) {
            long t0 = System.nanoTime();
            for (long rep = 0; rep < reps; rep++) {
                for (int p = 0; p < panels; p++) {
                    tile(r, v, a, p * r * TAPS, m, c, p * r * v * L);
                }
            }
            double tile = 2.0 * reps * panels * r * TAPS * v * L / (System.nanoTime() - t0);
            long f0 = System.nanoTime();
            sink += FmaPeak.kernel(fmaTrips, round);
            double fma = 2.0 * fmaTrips * 12 * L / (System.nanoTime() - f0);
            if (round >= 5) {
                shares.add(100 * tile / fma);
            }
        }
        Collections.sort(shares);
        return String.format(Locale.ROOT, "%.1f %% of the FMA loop (quartiles %.1f-%.1f)%s", shares.get(10),
                shares.get(5), shares.get(15), sink + c[0] == 0.5f ? " " : "");
    }

    private static void tile(int r, int v, float[] a, int ao, float[] m, float[] c, int co) {
        if (r == 5) {
            tile5x4(a, ao, m, c, co);
        } else if (r == 8) {
            tile8x3(a, ao, m, c, co);
        } else {
            tile12x2(a, ao, m, c, co);
        }
    }

    // The tiles: chains in locals (an array of vectors would box them on Java 17), tap k of the rows at a[ao + R k],
    // of the weights at m[ALIGN + V L k].

    private static void tile5x4(float[] a, int ao, float[] m, float[] c, int co) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00;
        FloatVector c33 = c00, c40 = c00, c41 = c00, c42 = c00, c43 = c00;
        for (int ai = ao, mo = ALIGN, end = ao + 5 * TAPS; ai < end; ai += 5, mo += 4 * L) {
            FloatVector m0 = FloatVector.fromArray(S, m, mo);
            FloatVector m1 = FloatVector.fromArray(S, m, mo + L);
            FloatVector m2 = FloatVector.fromArray(S, m, mo + 2 * L);
            FloatVector m3 = FloatVector.fromArray(S, m, mo + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[ai]);
            c00 = x.fma(m0, c00);
            c01 = x.fma(m1, c01);
            c02 = x.fma(m2, c02);
            c03 = x.fma(m3, c03);
            x = FloatVector.broadcast(S, a[ai + 1]);
            c10 = x.fma(m0, c10);
            c11 = x.fma(m1, c11);
            c12 = x.fma(m2, c12);
            c13 = x.fma(m3, c13);
            x = FloatVector.broadcast(S, a[ai + 2]);
            c20 = x.fma(m0, c20);
            c21 = x.fma(m1, c21);
            c22 = x.fma(m2, c22);
            c23 = x.fma(m3, c23);
            x = FloatVector.broadcast(S, a[ai + 3]);
            c30 = x.fma(m0, c30);
            c31 = x.fma(m1, c31);
            c32 = x.fma(m2, c32);
            c33 = x.fma(m3, c33);
            x = FloatVector.broadcast(S, a[ai + 4]);
            c40 = x.fma(m0, c40);
            c41 = x.fma(m1, c41);
            c42 = x.fma(m2, c42);
            c43 = x.fma(m3, c43);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + 1 * L);
        c02.intoArray(c, co + 2 * L);
        c03.intoArray(c, co + 3 * L);
        c10.intoArray(c, co + 4 * L);
        c11.intoArray(c, co + 5 * L);
        c12.intoArray(c, co + 6 * L);
        c13.intoArray(c, co + 7 * L);
        c20.intoArray(c, co + 8 * L);
        c21.intoArray(c, co + 9 * L);
        c22.intoArray(c, co + 10 * L);
        c23.intoArray(c, co + 11 * L);
        c30.intoArray(c, co + 12 * L);
        c31.intoArray(c, co + 13 * L);
        c32.intoArray(c, co + 14 * L);
        c33.intoArray(c, co + 15 * L);
        c40.intoArray(c, co + 16 * L);
        c41.intoArray(c, co + 17 * L);
        c42.intoArray(c, co + 18 * L);
        c43.intoArray(c, co + 19 * L);
    }

    private static void tile8x3(float[] a, int ao, float[] m, float[] c, int co) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00, c20 = c00;
        FloatVector c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00, c40 = c00, c41 = c00, c42 = c00;
        FloatVector c50 = c00, c51 = c00, c52 = c00, c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00;
        FloatVector c72 = c00;
        for (int ai = ao, mo = ALIGN, end = ao + 8 * TAPS; ai < end; ai += 8, mo += 3 * L) {
            FloatVector m0 = FloatVector.fromArray(S, m, mo);
            FloatVector m1 = FloatVector.fromArray(S, m, mo + L);
            FloatVector m2 = FloatVector.fromArray(S, m, mo + 2 * L);
            FloatVector x = FloatVector.broadcast(S, a[ai]);
            c00 = x.fma(m0, c00);
            c01 = x.fma(m1, c01);
            c02 = x.fma(m2, c02);
            x = FloatVector.broadcast(S, a[ai + 1]);
            c10 = x.fma(m0, c10);
            c11 = x.fma(m1, c11);
            c12 = x.fma(m2, c12);
            x = FloatVector.broadcast(S, a[ai + 2]);
            c20 = x.fma(m0, c20);
            c21 = x.fma(m1, c21);
            c22 = x.fma(m2, c22);
            x = FloatVector.broadcast(S, a[ai + 3]);
            c30 = x.fma(m0, c30);
            c31 = x.fma(m1, c31);
            c32 = x.fma(m2, c32);
            x = FloatVector.broadcast(S, a[ai + 4]);
            c40 = x.fma(m0, c40);
            c41 = x.fma(m1, c41);
            c42 = x.fma(m2, c42);
            x = FloatVector.broadcast(S, a[ai + 5]);
            c50 = x.fma(m0, c50);
            c51 = x.fma(m1, c51);
            c52 = x.fma(m2, c52);
            x = FloatVector.broadcast(S, a[ai + 6]);
            c60 = x.fma(m0, c60);
            c61 = x.fma(m1, c61);
            c62 = x.fma(m2, c62);
            x = FloatVector.broadcast(S, a[ai + 7]);
            c70 = x.fma(m0, c70);
            c71 = x.fma(m1, c71);
            c72 = x.fma(m2, c72);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + 1 * L);
        c02.intoArray(c, co + 2 * L);
        c10.intoArray(c, co + 3 * L);
        c11.intoArray(c, co + 4 * L);
        c12.intoArray(c, co + 5 * L);
        c20.intoArray(c, co + 6 * L);
        c21.intoArray(c, co + 7 * L);
        c22.intoArray(c, co + 8 * L);
        c30.intoArray(c, co + 9 * L);
        c31.intoArray(c, co + 10 * L);
        c32.intoArray(c, co + 11 * L);
        c40.intoArray(c, co + 12 * L);
        c41.intoArray(c, co + 13 * L);
        c42.intoArray(c, co + 14 * L);
        c50.intoArray(c, co + 15 * L);
        c51.intoArray(c, co + 16 * L);
        c52.intoArray(c, co + 17 * L);
        c60.intoArray(c, co + 18 * L);
        c61.intoArray(c, co + 19 * L);
        c62.intoArray(c, co + 20 * L);
        c70.intoArray(c, co + 21 * L);
        c71.intoArray(c, co + 22 * L);
        c72.intoArray(c, co + 23 * L);
    }

    private static void tile12x2(float[] a, int ao, float[] m, float[] c, int co) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00;
        FloatVector c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00;
        FloatVector c71 = c00, c80 = c00, c81 = c00, c90 = c00, c91 = c00, ca0 = c00, ca1 = c00, cb0 = c00;
        FloatVector cb1 = c00;
        for (int ai = ao, mo = ALIGN, end = ao + 12 * TAPS; ai < end; ai += 12, mo += 2 * L) {
            FloatVector m0 = FloatVector.fromArray(S, m, mo);
            FloatVector m1 = FloatVector.fromArray(S, m, mo + L);
            FloatVector x = FloatVector.broadcast(S, a[ai]);
            c00 = x.fma(m0, c00);
            c01 = x.fma(m1, c01);
            x = FloatVector.broadcast(S, a[ai + 1]);
            c10 = x.fma(m0, c10);
            c11 = x.fma(m1, c11);
            x = FloatVector.broadcast(S, a[ai + 2]);
            c20 = x.fma(m0, c20);
            c21 = x.fma(m1, c21);
            x = FloatVector.broadcast(S, a[ai + 3]);
            c30 = x.fma(m0, c30);
            c31 = x.fma(m1, c31);
            x = FloatVector.broadcast(S, a[ai + 4]);
            c40 = x.fma(m0, c40);
            c41 = x.fma(m1, c41);
            x = FloatVector.broadcast(S, a[ai + 5]);
            c50 = x.fma(m0, c50);
            c51 = x.fma(m1, c51);
            x = FloatVector.broadcast(S, a[ai + 6]);
            c60 = x.fma(m0, c60);
            c61 = x.fma(m1, c61);
            x = FloatVector.broadcast(S, a[ai + 7]);
            c70 = x.fma(m0, c70);
            c71 = x.fma(m1, c71);
            x = FloatVector.broadcast(S, a[ai + 8]);
            c80 = x.fma(m0, c80);
            c81 = x.fma(m1, c81);
            x = FloatVector.broadcast(S, a[ai + 9]);
            c90 = x.fma(m0, c90);
            c91 = x.fma(m1, c91);
            x = FloatVector.broadcast(S, a[ai + 10]);
            ca0 = x.fma(m0, ca0);
            ca1 = x.fma(m1, ca1);
            x = FloatVector.broadcast(S, a[ai + 11]);
            cb0 = x.fma(m0, cb0);
            cb1 = x.fma(m1, cb1);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + 1 * L);
        c10.intoArray(c, co + 2 * L);
        c11.intoArray(c, co + 3 * L);
        c20.intoArray(c, co + 4 * L);
        c21.intoArray(c, co + 5 * L);
        c30.intoArray(c, co + 6 * L);
        c31.intoArray(c, co + 7 * L);
        c40.intoArray(c, co + 8 * L);
        c41.intoArray(c, co + 9 * L);
        c50.intoArray(c, co + 10 * L);
        c51.intoArray(c, co + 11 * L);
        c60.intoArray(c, co + 12 * L);
        c61.intoArray(c, co + 13 * L);
        c70.intoArray(c, co + 14 * L);
        c71.intoArray(c, co + 15 * L);
        c80.intoArray(c, co + 16 * L);
        c81.intoArray(c, co + 17 * L);
        c90.intoArray(c, co + 18 * L);
        c91.intoArray(c, co + 19 * L);
        ca0.intoArray(c, co + 20 * L);
        ca1.intoArray(c, co + 21 * L);
        cb0.intoArray(c, co + 22 * L);
        cb1.intoArray(c, co + 23 * L);
    }

}
