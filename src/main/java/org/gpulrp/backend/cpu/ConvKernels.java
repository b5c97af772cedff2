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
