package org.gpulrp.backend.cpu;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Supplier;

/**
 * Weight layouts derived from a weight array (the convolution kernels' packed forms), kept with the array while its
 * contents stay as they are: {@link CpuBackend} calls {@link #invalidate} for every buffer it writes (by
 * {@code write} or as any primitive's output), so a repacked layout is never stale. Repacking a 512-channel layer's
 * 2.4 M weights on every call took 10-20% of its time at small batches. Entries go with their array (weak keys;
 * arrays compare by identity).
 */
final class Packs {
    private static final Map<float[], Map<Object, float[]>> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

    private Packs() {
    }

    /** The layout {@code key} of {@code w}, made by {@code make} unless already made since {@code w} last changed. */
    static float[] get(float[] w, Object key, Supplier<float[]> make) {
        Map<Object, float[]> m = CACHE.get(w);
        if (m != null) {
            synchronized (m) {
                float[] p = m.get(key);
                if (p != null) {
                    return p;
                }
            }
        }
        float[] p = make.get();
        synchronized (CACHE) {
            Map<Object, float[]> cur = CACHE.computeIfAbsent(w, k -> new HashMap<>());
            synchronized (cur) {
                cur.putIfAbsent(key, p);
                return cur.get(key);
            }
        }
    }

    /** Forgets every layout derived from {@code a} (about to be written); null is ignored. */
    static void invalidate(float[] a) {
        if (a != null) {
            CACHE.remove(a);
        }
    }

    /** Whether any layout of {@code w} is kept (for tests). */
    static boolean holds(float[] w) {
        return CACHE.containsKey(w);
    }
}
