package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The L2 size as Linux describes it, and the dense product's choice from it (speed only). */
class CacheSizeTest {

    private static void index(Path dir, int i, String level, String type, String size) throws IOException {
        Path d = Files.createDirectories(dir.resolve("index" + i));
        Files.writeString(d.resolve("level"), level + "\n");
        Files.writeString(d.resolve("type"), type + "\n");
        Files.writeString(d.resolve("size"), size + "\n");
    }

    @Test
    void readsTheLevelTwoDataCache(@TempDir Path dir) throws IOException {
        index(dir, 0, "1", "Data", "48K");
        index(dir, 1, "1", "Instruction", "32K");
        index(dir, 2, "2", "Unified", "2048K");
        index(dir, 3, "3", "Unified", "491520K");
        assertEquals(2L << 20, CacheSize.read(dir));
    }

    @Test
    void fallsBackWhereNothingIsDescribed(@TempDir Path dir) throws IOException {
        assertEquals(CacheSize.FALLBACK, CacheSize.read(dir.resolve("missing")));
        index(dir, 0, "2", "Unified", "lots");
        assertEquals(CacheSize.FALLBACK, CacheSize.read(dir));
    }

    @Test
    void parsesTheKernelsUnits() {
        assertEquals(512 * 1024, CacheSize.parse("512K"));
        assertEquals(1 << 20, CacheSize.parse("1M"));
        assertEquals(4096, CacheSize.parse("4096"));
        assertEquals(-1, CacheSize.parse("K"));
    }

    @Test
    void packsMoreRowsOnlyWithALargeL2() {
        assertEquals(128 * 1024, DenseProduct.aInL2(512 * 1024));
        assertEquals(128 * 1024, DenseProduct.aInL2(1 << 20));
        assertEquals(327_680, DenseProduct.aInL2(2L << 20));
    }
}
