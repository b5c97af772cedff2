package org.gpulrp.backend.opencl;

import org.gpulrp.backend.Buffer;
import org.jocl.cl_mem;

/** Device memory for {@code length} floats, owned by the {@link OpenClBackend} that made it. */
final class ClBuffer implements Buffer {
    final OpenClBackend owner;
    private final int length;
    /** The OpenCL object; null once released (by {@link #close()} or by the owner's close). */
    cl_mem mem;

    ClBuffer(OpenClBackend owner, cl_mem mem, int length) {
        this.owner = owner;
        this.mem = mem;
        this.length = length;
    }

    @Override
    public int length() {
        return length;
    }

    /** Releases the device memory; idempotent, never throws. */
    @Override
    public void close() {
        owner.release(this);
    }

    @Override
    public String toString() {
        return "ClBuffer[" + length + " floats" + (mem == null ? ", closed" : "") + "]";
    }
}
