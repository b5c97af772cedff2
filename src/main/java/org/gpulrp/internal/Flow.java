package org.gpulrp.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;

/**
 * The per-batch buffers between the {@link Engine}'s nodes, sized for {@code capacity} rows and reused: each output's
 * values and relevance, the shared scratch of the linear steps, and the bookkeeping of relevance that several
 * consumers send to one output (added in the order the consumers run, descending node index, the same on every
 * backend). A {@link NodeStep} reads and writes only through it, by its own node index.
 */
final class Flow {
    final Backend be;
    final GraphPlan plan;
    final int capacity;
    /** acts[o] = output o's values; entries alias where a node passes values through. */
    private final Buffer[] acts;
    /** rel[o] = relevance at output o; pass-through nodes with a single consumer share their consumer's buffer. */
    private final Buffer[] rel;
    final LinearStep.Scratch scratch = new LinearStep.Scratch();
    /** A contribution that must be added to a buffer already holding another (fan-out). */
    private Buffer contribution;
    private final List<Buffer> batchBuffers = new ArrayList<>();
    /** Contributions each output has received in the current relevance pass. */
    private final int[] received;
    /** The batch being explained and the first row of the current chunk (health and layer reports). */
    private Engine.Batch out;
    private int row0;
    /**
     * Host arrays lent to the running step ({@link #read}, {@link #host}) and those free for the next, by exact
     * length: the host steps of a transformer read and write hundreds of megabytes per pass, and fresh arrays for each
     * cost more in allocation, page faults and collections than the steps' own arithmetic.
     */
    private final List<float[]> lent = new ArrayList<>();
    private final Map<Integer, ArrayDeque<float[]>> spare = new HashMap<>();

    /** Allocates every per-batch buffer; releases them all when one allocation fails. */
    Flow(Backend be, GraphPlan plan, NodeStep[] steps, int capacity) {
        this.be = be;
        this.plan = plan;
        this.capacity = capacity;
        int n = plan.nodes.size();
        this.acts = new Buffer[n + 1];
        this.rel = new Buffer[n + 1];
        this.received = new int[n + 1];
        try {
            allocate(steps);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** A buffer of {@code floatsPerRow} floats per row, owned by this flow. */
    Buffer batch(int floatsPerRow) {
        Buffer b = be.allocate(Math.multiplyExact(capacity, Math.max(1, floatsPerRow)));
        batchBuffers.add(b);
        return b;
    }

    private void allocate(NodeStep[] steps) {
        int n = plan.nodes.size();
        acts[0] = batch(plan.network.inputSize());
        for (int k = 0; k < n; k++) {
            acts[k + 1] = steps[k].aliasesInput() ? acts[plan.src[k][0]] : batch(plan.width(k + 1));
        }
        // Relevance at each reached output, from the top down; a pass-through node that is its input's only
        // consumer shares its own buffer with that input (no copy).
        rel[plan.top + 1] = batch(plan.width(plan.top + 1));
        for (int k = plan.top; k >= 0; k--) {
            if (!plan.reached[k + 1]) {
                continue;
            }
            for (int o : plan.src[k]) {
                if (rel[o] == null) {
                    rel[o] = steps[k].sharesRelevance() && plan.fanOut[o] == 1 ? rel[k + 1] : batch(plan.width(o));
                }
            }
        }
        for (int k = 0; k < n; k++) {
            steps[k].allocate(this, k);
        }
        int maxOut = plan.maxWidth();
        scratch.signal = batch(maxOut);
        scratch.signalNeg = batch(maxOut);
        scratch.denominator = batch(maxOut);
        scratch.denominatorNeg = batch(maxOut);
        for (NodeStep s : steps) {
            LinearStep d = s.linear();
            if (d != null && d.stackShortcut() && scratch.stackedSignal == null) {
                scratch.stackedSignal = batch(2 * maxOut);
            }
        }
        contribution = batch(maxOut);
    }

    /** The values of output o (0 = the network input). */
    Buffer values(int o) {
        return acts[o];
    }

    /** Node k's output values. */
    Buffer output(int k) {
        return acts[k + 1];
    }

    /**
     * The first {@code count} values of a buffer, read into a host array of exactly that length, lent to the running
     * step until {@link #endStep}.
     */
    float[] read(Buffer b, int count) {
        float[] h = lend(count);
        be.read(b, h, 0, count);
        return h;
    }

    /** A zeroed host array of {@code count} floats, lent to the running step until {@link #endStep}. */
    float[] host(int count) {
        float[] h = lend(count);
        Arrays.fill(h, 0f);
        return h;
    }

    /**
     * A host array of {@code count} floats holding whatever an earlier step left in it, lent to the running step
     * until {@link #endStep}: for a step that writes every value (zeroing it first was 1 % of a BERT-base call).
     */
    float[] hostUnset(int count) {
        return lend(count);
    }

    private float[] lend(int count) {
        ArrayDeque<float[]> free = spare.get(count);
        float[] h = free == null || free.isEmpty() ? new float[count] : free.pop();
        lent.add(h);
        return h;
    }

    /** The running step has ended: the arrays lent to it are free again (no step keeps one). */
    void endStep() {
        for (float[] h : lent) {
            spare.computeIfAbsent(h.length, n -> new ArrayDeque<>()).push(h);
        }
        lent.clear();
    }

    /** The values of node k's i-th input. */
    Buffer input(int k, int i) {
        return acts[plan.src[k][i]];
    }

    /** Features of node k's i-th input. */
    int inputWidth(int k, int i) {
        return plan.width(plan.src[k][i]);
    }

    /** Node k's inputs. */
    int inputs(int k) {
        return plan.src[k].length;
    }

    /** The relevance at output o. */
    Buffer relevance(int o) {
        return rel[o];
    }

    /** The relevance at node k's output (complete when the node's turn comes in the relevance pass). */
    Buffer outputRelevance(int k) {
        return rel[k + 1];
    }

    /** Starts a forward pass over the chunk whose first row is {@code row0} (steps name samples by it). */
    void beginForward(int row0) {
        this.row0 = row0;
        dropHost();
    }

    /** Starts a relevance pass over the chunk whose first row is {@code row0}. */
    void beginBackward(Engine.Batch out, int row0) {
        this.out = out;
        this.row0 = row0;
        java.util.Arrays.fill(received, 0);
    }

    /** The health report of the pass, or null. */
    Health health() {
        return out.health;
    }

    int row0() {
        return row0;
    }

    /**
     * Where node k's next contribution to its i-th input goes: that output's relevance buffer when it is the first
     * contribution, else the scratch, which {@link #sent} adds in.
     */
    Buffer sendTo(int k, int i) {
        int o = plan.src[k][i];
        return received[o] == 0 ? rel[o] : contribution;
    }

    /**
     * Counts the contribution node k just wrote to {@link #sendTo}{@code (k, i)}, adding it to what the input
     * already holds when it was not the first; with a health report, first sums it per sample (the relevance node k
     * passed down).
     */
    void sent(int k, int i, int rows) {
        int o = plan.src[k][i];
        if (out.health != null) {
            Health.add(out.health.leaving[k], sampleSums(sendTo(k, i), rows, plan.width(o), null), row0);
        }
        if (received[o] > 0) {
            be.add(rel[o], contribution, rel[o], rows * plan.width(o));
        }
        received[o]++;
    }

    /**
     * Node k passes nothing to its input i (a node whose relevance is zero by construction, {@link
     * Engine#silentOutputs}): the input's relevance is zeroed where this is its first contribution and left as it is
     * otherwise; with a health report, the node is counted as passing zero.
     */
    void sentNothing(int k, int i, int rows) {
        int o = plan.src[k][i];
        int count = rows * plan.width(o);
        if (received[o] == 0) {
            be.write(rel[o], host(count), 0, count);
        }
        if (out.health != null) {
            Health.add(out.health.leaving[k], new double[rows], row0);
        }
        received[o]++;
    }

    /**
     * Per-row sums (double, ascending) of {@code buf}'s first {@code rows * width} values; counts NaN, infinite and
     * subnormal values into {@code counts} when given.
     */
    double[] sampleSums(Buffer buf, int rows, int width, long[] counts) {
        float[] h = read(buf, rows * width);
        return Health.sums(h, 0, rows, width, counts);
    }

    /** Drops the host arrays kept for reuse (the end of a pass: an idle explainer holds none). */
    void dropHost() {
        lent.clear();
        spare.clear();
    }

    void close() {
        dropHost();
        for (Buffer b : batchBuffers) {
            b.close();
        }
        batchBuffers.clear();
    }
}
