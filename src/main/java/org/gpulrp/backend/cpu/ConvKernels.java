package org.gpulrp.backend.cpu;

import org.gpulrp.model.ConvGeometry;

/**
 * The CPU path's convolution primitives over a range of batch rows {@code [r0, r1)}, as the
 * {@link org.gpulrp.backend.Backend} contract states them. Implementations agree bit for bit with each other.
 */
interface ConvKernels {

    void conv(float[] x, float[] w, float[] bias, float[] z, int r0, int r1, ConvGeometry g);

    void convSigned(float[] x, float[] u, float[] v, float[] biasP, float[] biasN, float[] outP, float[] outN,
                    int r0, int r1, ConvGeometry g);

    void convZBox(float[] x, float[] w, float[] low, float[] high, float[] d, int r0, int r1, ConvGeometry g);

    void convBackproject(float[] gr, float[] w, float[] x, float[] r, int r0, int r1, ConvGeometry g);

    void convBackprojectSigned(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0, int r1,
                               ConvGeometry g);

    void convBackprojectZBox(float[] gr, float[] w, float[] wpos, float[] wneg, float[] x, float[] low,
                             float[] high, float[] r, int r0, int r1, ConvGeometry g);
}
