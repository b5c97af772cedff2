package org.gpulrp;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiFunction;

/**
 * The in-order window behind {@link Explainer#explainStream}: at most {@code window} batches submitted and not yet
 * taken; the source is pulled only as the consumer takes results. A failed batch throws when its turn comes, naming
 * its place in the stream, and cancels the batches after it.
 */
final class StreamPipeline implements Iterator<Explanation> {
    private final BiFunction<Tensor, Target, CompletableFuture<Explanation>> submit;
    private final Iterator<Tensor> source;
    private final Explainer.StreamTarget target;
    private final int window;
    private final ArrayDeque<CompletableFuture<Explanation>> inFlight = new ArrayDeque<>();
    /** Stream position and first sample of each batch in flight, parallel to {@link #inFlight}. */
    private final ArrayDeque<long[]> positions = new ArrayDeque<>();
    private long submitted;
    private long samples;
    private boolean failed;

    StreamPipeline(Iterator<Tensor> source, Explainer.StreamTarget target, int window,
                   BiFunction<Tensor, Target, CompletableFuture<Explanation>> submit) {
        this.submit = submit;
        this.source = source;
        this.target = target;
        this.window = window;
    }

    private void fill() {
        while (!failed && inFlight.size() < window && source.hasNext()) {
            Tensor t = source.next();
            CompletableFuture<Explanation> f;
            try {
                f = submit.apply(t, t == null ? null : target.of(samples, t.rows()));
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            inFlight.add(f);
            positions.add(new long[] {submitted++, samples});
            samples += t == null ? 0 : t.rows();
        }
    }

    @Override
    public boolean hasNext() {
        fill();
        return !inFlight.isEmpty();
    }

    @Override
    public Explanation next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        CompletableFuture<Explanation> f = inFlight.poll();
        long[] pos = positions.poll();
        try {
            return f.join();
        } catch (CompletionException e) {
            failed = true;
            inFlight.forEach(g -> g.cancel(false));
            inFlight.clear();
            positions.clear();
            throw atPosition(e.getCause(), pos[0], pos[1]);
        }
    }

    /** The error of stream batch {@code index} (first sample {@code first}), saying where in the stream it was. */
    private static RuntimeException atPosition(Throwable cause, long index, long first) {
        String where = "stream batch " + index;
        if (cause instanceof InvalidInputException bad && bad.sample() >= 0) {
            return new InvalidInputException(where + ", sample " + (first + bad.sample()) + " of the stream: "
                    + bad.getMessage(), bad.sample(), bad.feature());
        }
        if (cause instanceof ClosedException c) {
            return c;
        }
        return new LrpException(where + " (from sample " + first + " of the stream): " + cause.getMessage(), cause);
    }
}
