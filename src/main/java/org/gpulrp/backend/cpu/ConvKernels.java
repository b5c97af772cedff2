package org.gpulrp.backend.cpu;

import org.gpulrp.backend.Op;
import org.gpulrp.model.ConvGeometry;

/**
 * The CPU path's convolution primitives over a range of batch rows {@code [r0, r1)}, as the
 * {@link org.gpulrp.backend.Backend} contract states them. Implementations agree bit for bit with each other. The
 * weights of the maps that may read packed layouts come as {@link ConvWeights} (the array with its prepared
 * layouts); the float[] forms wrap an array nobody prepared.
 */
interface ConvKernels {

    void conv(float[] x, ConvWeights w, float[] bias, float[] z, int r0, int r1, ConvGeometry g);

    void convSigned(float[] x, ConvWeights u, ConvWeights v, float[] biasP, float[] biasN, float[] outP,
                    float[] outN, int r0, int r1, ConvGeometry g);

    void convZBox(float[] x, float[] w, float[] low, float[] high, float[] d, int r0, int r1, ConvGeometry g);

    void convBackproject(float[] gr, ConvWeights w, float[] x, float[] r, int r0, int r1, ConvGeometry g);

    void convBackprojectSigned(float[] hp, float[] hn, ConvWeights u, ConvWeights v, float[] x, float[] r, int r0,
                               int r1, ConvGeometry g);

    void convBackprojectZBox(float[] gr, float[] w, float[] wpos, float[] wneg, float[] x, float[] low,
                             float[] high, float[] r, int r0, int r1, ConvGeometry g);

    /**
     * Makes in {@code ws} the layouts that conv primitive {@code op} reads for geometry {@code g} with these weights
     * (see {@link CpuBackend#prepareConv}); the default reads none.
     */
    default void prepare(Op op, ConvGeometry g, ConvWeights[] ws) {
    }

    /**
     * Where the plain conv ({@code back} false) or convBackproject of g with weights w runs by ranges of the batch's
     * pixels (pixel q: row {@code q / plane} of the pass, plane the outputs' forward and the inputs' backward), so
     * that threads can share the planes of a few rows: the width of the strips such a range is best cut at, else 0
     * (the calls run by rows only, the default).
     */
    default int pixelStrip(ConvGeometry g, ConvWeights w, boolean back) {
        return 0;
    }

    /** conv over pixels {@code [q0, q1)} of the batch, where {@link #pixelStrip} is not 0. */
    default void convPixels(float[] x, ConvWeights w, float[] bias, float[] z, int q0, int q1, ConvGeometry g) {
        throw new UnsupportedOperationException("conv by pixels");
    }

    /** convBackproject over pixels {@code [q0, q1)} of the batch, where {@link #pixelStrip} is not 0. */
    default void convBackprojectPixels(float[] gr, ConvWeights w, float[] x, float[] r, int q0, int q1,
                                       ConvGeometry g) {
        throw new UnsupportedOperationException("convBackproject by pixels");
    }

    default void conv(float[] x, float[] w, float[] bias, float[] z, int r0, int r1, ConvGeometry g) {
        conv(x, ConvWeights.of(w), bias, z, r0, r1, g);
    }

    default void convSigned(float[] x, float[] u, float[] v, float[] biasP, float[] biasN, float[] outP,
                            float[] outN, int r0, int r1, ConvGeometry g) {
        convSigned(x, ConvWeights.of(u), ConvWeights.of(v), biasP, biasN, outP, outN, r0, r1, g);
    }

    default void convBackproject(float[] gr, float[] w, float[] x, float[] r, int r0, int r1, ConvGeometry g) {
        convBackproject(gr, ConvWeights.of(w), x, r, r0, r1, g);
    }

    default void convBackprojectSigned(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0,
                                       int r1, ConvGeometry g) {
        convBackprojectSigned(hp, hn, ConvWeights.of(u), ConvWeights.of(v), x, r, r0, r1, g);
    }
}
