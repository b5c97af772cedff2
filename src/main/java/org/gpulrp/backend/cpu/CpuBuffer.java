package org.gpulrp.backend.cpu;

import org.gpulrp.backend.Buffer;

/** A CPU-path buffer: a plain Java array. */
final class CpuBuffer implements Buffer {
    final float[] data;

    CpuBuffer(float[] data) {
        this.data = data;
    }

    @Override
    public int length() {
        return data.length;
    }

    @Override
    public void close() {
        // Garbage collected; nothing to release.
    }
}
