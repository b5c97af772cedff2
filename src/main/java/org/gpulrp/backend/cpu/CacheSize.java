package org.gpulrp.backend.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The per-core L2 cache size, which the dense product uses to decide how many of a pass's rows it packs at once
 * (speed only, never bits): read from Linux's {@code /sys/devices/system/cpu/cpu0/cache/index<i>/} (the unified or
 * data cache whose level is 2), or {@link #FALLBACK} where that is not available.
 */
final class CacheSize {
    /** What is assumed where the size cannot be read: the smallest L2 of the machines measured (Zen 3, 512 KiB). */
    static final long FALLBACK = 512 * 1024;

    private static final long L2 = read(Path.of("/sys/devices/system/cpu/cpu0/cache"));

    private CacheSize() {
    }

    /** This machine's L2 in bytes. */
    static long l2() {
        return L2;
    }

    /** The L2 size described under {@code dir} (cpu0's cache folder), or the fallback. */
    static long read(Path dir) {
        for (int i = 0; i < 8; i++) {
            Path index = dir.resolve("index" + i);
            try {
                if (!Files.isDirectory(index) || !Files.readString(index.resolve("level")).trim().equals("2")
                        || Files.readString(index.resolve("type")).trim().equals("Instruction")) {
                    continue;
                }
                long size = parse(Files.readString(index.resolve("size")).trim());
                if (size > 0) {
                    return size;
                }
            } catch (IOException | RuntimeException e) {
                return FALLBACK;
            }
        }
        return FALLBACK;
    }

    /** {@code 2048K}, {@code 1M} or a plain byte count; -1 if it is none of these. */
    static long parse(String s) {
        String t = s.toUpperCase(Locale.ROOT);
        long unit = t.endsWith("K") ? 1024 : t.endsWith("M") ? 1024 * 1024 : 1;
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            return Long.parseLong(digits) * unit;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
