package org.gpulrp.testing;

import java.util.function.IntConsumer;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;

/**
 * A backend that delegates every primitive and calls a hook whenever an engine starts a chunk, so that tests can
 * watch or hold lanes. The start of a chunk is the forward {@code linear} call of the first layer (the only one with
 * {@code in == inputFloatsPerRow}): use it with a dense network of distinct widths under the epsilon rule.
 */
public final class HookedBackend extends DelegatingBackend {
    private final int inputFloatsPerRow;
    private final IntConsumer onChunk;

    /**
     * @param inputFloatsPerRow the network's input size
     * @param onChunk           called with the chunk's row count on the lane's thread, before the chunk runs
     */
    public HookedBackend(Backend be, int inputFloatsPerRow, IntConsumer onChunk) {
        super(be);
        this.inputFloatsPerRow = inputFloatsPerRow;
        this.onChunk = onChunk;
    }

    @Override
    public void linear(Buffer x, Buffer wt, Buffer bias, Buffer z, int rows, int in, int out) {
        if (in == inputFloatsPerRow) {
            onChunk.accept(rows);
        }
        inner.linear(x, wt, bias, z, rows, in, out);
    }
}
