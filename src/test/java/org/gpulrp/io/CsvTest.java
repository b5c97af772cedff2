package org.gpulrp.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Numeric CSV tables with and without a header row, and the errors that name the line. */
class CsvTest {

    @Test
    void headerNamesBecomeColumns() {
        Csv.Table t = Csv.parse("a, b ,c\n1,2,3\n-4.5,5e-3,6\n", "t.csv");
        assertEquals(List.of("a", "b", "c"), t.columns());
        assertArrayEquals(new float[] {-4.5f, 5e-3f, 6f}, t.rows()[1]);
        assertEquals(1, t.column("b"));
    }

    @Test
    void withoutHeaderColumnsAreNumbered() {
        Csv.Table t = Csv.parse("1,2\n3,4\n\n", "t.csv");
        assertEquals(List.of("column0", "column1"), t.columns());
        assertEquals(2, t.rows().length);
    }

    @Test
    void theExampleRowsParse() {
        Csv.Table t = Csv.read(Path.of("examples/breast-cancer/heldout.csv"));
        assertEquals(10, t.columns().size());
        assertEquals("mean radius", t.columns().get(0));
        assertEquals(8, t.rows().length);
    }

    @Test
    void errorsNameTheLineAndField() {
        FormatException ragged = assertThrows(FormatException.class, () -> Csv.parse("a,b\n1,2\n3\n", "r.csv"));
        assertTrue(ragged.getMessage().contains("r.csv line 3"), ragged.getMessage());
        FormatException text = assertThrows(FormatException.class, () -> Csv.parse("a,b\n1,x\n", "x.csv"));
        assertTrue(text.getMessage().contains("line 2 field 2") && text.getMessage().contains("'x'"),
                text.getMessage());
        assertThrows(FormatException.class, () -> Csv.parse("\n\n", "empty.csv"));
        assertThrows(FormatException.class, () -> Csv.parse("1,2f\n", "suffix.csv"));
    }
}
