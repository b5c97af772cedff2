package org.gpulrp.internal;

import org.gpulrp.model.Network;

/** Lets tests outside the package read the engine's per-row footprint. */
public final class ChunkSizingAccess {
    private ChunkSizingAccess() {
    }

    public static long floatsPerRow(Network network) {
        return Engine.floatsPerRow(network);
    }
}
