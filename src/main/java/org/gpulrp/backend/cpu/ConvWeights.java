package org.gpulrp.backend.cpu;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One convolution call's view of a weight array and its packed layouts ({@link ChannelLayouts}): those prepared with
 * the buffer ({@link CpuBackend#prepareConv}, kept in the {@link CpuBuffer} until it is closed), else made for this
 * call alone, once however many threads ask for them, and dropped with the call. Nothing is kept between calls here.
 */
final class ConvWeights {
    /** The weights in PyTorch's layout. */
    final float[] data;
    private final Map<Object, float[]> prepared;
    /** The layouts made for this call (guarded by this). */
    private Map<Object, float[]> made;

    private ConvWeights(float[] data, Map<Object, float[]> prepared) {
        this.data = data;
        this.prepared = prepared;
    }

    /** A call's view of buffer {@code b}: its prepared layouts, if any. */
    static ConvWeights of(CpuBuffer b) {
        return new ConvWeights(b.data, b.layouts());
    }

    /** A call's view of an array nobody prepared (the kernels' tests). */
    static ConvWeights of(float[] data) {
        return data == null ? null : new ConvWeights(data, Map.of());
    }

    /** The layout {@code key}: the prepared one, else made by {@code make} once for this call. */
    float[] layout(Object key, Supplier<float[]> make) {
        float[] p = prepared.get(key);
        if (p != null) {
            return p;
        }
        synchronized (this) {
            if (made == null) {
                made = new HashMap<>();
            }
            p = made.get(key);
            if (p == null) {
                p = make.get(); // may ask for another layout first (reentrant)
                made.put(key, p);
            }
            return p;
        }
    }

    /** The layouts this view made (what {@link CpuBackend#prepareConv} keeps with the buffer). */
    synchronized Map<Object, float[]> made() {
        return made == null ? Map.of() : Map.copyOf(made);
    }
}
