package org.gpulrp.backend.opencl;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.backend.Buffer;
import org.gpulrp.model.ConvGeometry;
import org.jocl.cl_mem;

/**
 * Device memory for {@code length} floats, owned by the {@link OpenClBackend} that made it; once prepared for a
 * convolution ({@link OpenClBackend#prepareConv}) or a dense map ({@link OpenClBackend#prepareDense}) also the device
 * copies of it arranged for the VECTOR kernels, released with it, and sealed (not written again).
 */
final class ClBuffer implements Buffer {
    final OpenClBackend owner;
    private final int length;
    /** The OpenCL object; null once released (by {@link #close()} or by the owner's close). */
    cl_mem mem;
    /** Set by {@link OpenClBackend#prepareConv}: the contents no longer change. */
    boolean sealed;
    /** The arranged copies this buffer is part of (guarded by the owner's lock). */
    final List<Arranged> arranged = new ArrayList<>(0);
    /**
     * Set by {@link OpenClBackend#prepareDense} where the VECTOR dense kernels run: the column strips of this buffer
     * read as a [p, q] matrix ({@code dense_strips} in kernels/matmul.cl; one zero-padded strip where it has fewer
     * than 16 columns), released with it; null where not prepared, or where it has 16 columns or more but fewer than
     * a strip.
     */
    Strips strips;

    /** A dense weight's device column strips, made for the [p, q] reading of it. */
    record Strips(cl_mem mem, int p, int q) {
    }

    ClBuffer(OpenClBackend owner, cl_mem mem, int length) {
        this.owner = owner;
        this.mem = mem;
        this.length = length;
    }

    @Override
    public int length() {
        return length;
    }

    /** Releases the device memory and the arranged copies it is part of; idempotent, never throws. */
    @Override
    public void close() {
        owner.release(this);
    }

    @Override
    public String toString() {
        return "ClBuffer[" + length + " floats" + (sealed ? ", sealed" : "") + (mem == null ? ", closed" : "") + "]";
    }

    /**
     * Weight buffers {@code ws} arranged one after another for the VECTOR conv kernels of one direction and geometry:
     * for their channel lanes ({@code conv_arrange} in kernels/conv_vector.cl) or as the products' row panels
     * ({@code panels}; {@code conv_panels} in kernels/conv_products.cl): what a conv primitive taking exactly these
     * weights, in this order, reads instead of arranging them per call. Kept by each of {@code ws}; released when the
     * first of them is closed.
     */
    static final class Arranged {
        final boolean back;
        final boolean panels;
        final ConvGeometry g;
        final ClBuffer[] ws;
        cl_mem mem;

        Arranged(boolean back, boolean panels, ConvGeometry g, ClBuffer[] ws, cl_mem mem) {
            this.back = back;
            this.panels = panels;
            this.g = g;
            this.ws = ws;
            this.mem = mem;
        }

        /** Whether this is the arrangement of {@code ws} for a call of direction {@code back}, geometry g. */
        boolean of(boolean back, boolean panels, ConvGeometry g, ClBuffer... ws) {
            if (this.back != back || this.panels != panels || this.ws.length != ws.length || !this.g.equals(g)) {
                return false;
            }
            for (int k = 0; k < ws.length; k++) {
                if (this.ws[k] != ws[k]) {
                    return false;
                }
            }
            return true;
        }
    }
}
