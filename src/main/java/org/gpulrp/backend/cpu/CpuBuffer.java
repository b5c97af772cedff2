package org.gpulrp.backend.cpu;

import java.util.HashMap;
import java.util.Map;
import org.gpulrp.backend.Buffer;

/**
 * A CPU-path buffer: a plain Java array, and, once prepared for a convolution ({@link CpuBackend#prepareConv}), the
 * packed layouts its kernels read ({@link ChannelLayouts}); a prepared buffer is sealed (its contents no longer
 * change, so the layouts stay valid), and closing it drops the layouts.
 */
final class CpuBuffer implements Buffer {
    final float[] data;
    /** The prepared layouts by key (an immutable map, replaced as a whole). */
    private volatile Map<Object, float[]> layouts = Map.of();
    private volatile boolean sealed;

    CpuBuffer(float[] data) {
        this.data = data;
    }

    @Override
    public int length() {
        return data.length;
    }

    Map<Object, float[]> layouts() {
        return layouts;
    }

    boolean sealed() {
        return sealed;
    }

    /** Seals the buffer and keeps {@code more} layouts with it. */
    synchronized void prepare(Map<Object, float[]> more) {
        if (!more.isEmpty()) {
            Map<Object, float[]> m = new HashMap<>(layouts);
            more.forEach(m::putIfAbsent);
            layouts = Map.copyOf(m);
        }
        sealed = true;
    }

    /** Drops the prepared layouts (the array itself is garbage collected); idempotent, never throws. */
    @Override
    public void close() {
        layouts = Map.of();
    }
}
