package org.gpulrp.backend.opencl;

import java.util.List;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.DenseChain;

/**
 * A {@link DenseChain} on an {@link OpenClBackend}: one buffer holds the chain's description, stabilizers, weights
 * and biases in the layout kernels/dense_chain.cl reads; the passes are its two kernels.
 */
final class ClDenseChain implements DenseChain {
    private final OpenClBackend backend;
    /** The description, stabilizers, weights and biases ({@link #params(List)}). */
    final Buffer params;
    final int layers;
    final int in;
    final int out;

    ClDenseChain(OpenClBackend backend, List<Layer> chain) {
        this.backend = backend;
        this.layers = chain.size();
        this.in = chain.get(0).in();
        this.out = chain.get(layers - 1).out();
        this.params = backend.upload(params(chain));
    }

    /**
     * The description (as float bit patterns), then the stabilizers, then each layer's weight [out, in], its
     * transpose and its bias.
     */
    static float[] params(List<Layer> chain) {
        int n = chain.size();
        long size = 5L * n;
        for (Layer y : chain) {
            size += (long) y.out() * (2 * y.in() + 1);
        }
        float[] p = new float[Math.toIntExact(size)];
        int at = 5 * n;
        for (int l = 0; l < n; l++) {
            Layer y = chain.get(l);
            int[] desc = {y.in(), y.out(), at, y.reluAfter() ? 1 : 0};
            for (int k = 0; k < 4; k++) {
                p[4 * l + k] = Float.intBitsToFloat(desc[k]);
            }
            p[4 * n + l] = y.eps();
            float[] w = y.weight();
            System.arraycopy(w, 0, p, at, w.length);
            at += w.length;
            for (int i = 0; i < y.in(); i++) {
                for (int j = 0; j < y.out(); j++) {
                    p[at + i * y.out() + j] = w[j * y.in() + i];
                }
            }
            at += w.length;
            System.arraycopy(y.bias(), 0, p, at, y.out());
            at += y.out();
        }
        return p;
    }

    @Override
    public void forward(Buffer x, Buffer zTop, int rows) {
        backend.chainForward(this, x, zTop, rows);
    }

    @Override
    public void backward(Buffer x, Buffer rTop, Buffer rIn, int rows) {
        backend.chainBackward(this, x, rTop, rIn, rows);
    }

    @Override
    public void close() {
        params.close();
    }
}
