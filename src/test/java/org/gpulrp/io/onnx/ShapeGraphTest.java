package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.ShapeGraph.BATCH;
import static org.gpulrp.io.onnx.ShapeGraph.DYNAMIC;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.Graph;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.io.onnx.ShapeGraph.ShapeValue;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The import-time evaluator of shape subgraphs: integer arithmetic as ONNX defines it (division truncates), the
 * batch size carried as a marker that survives only being passed on, float detours (Cast, Sqrt, Floor), and errors
 * that name the node.
 */
class ShapeGraphTest {
    private MappingState ctx;
    private int count;

    @BeforeEach
    void setUp() {
        ctx = new MappingState(new Graph("g", List.of(), List.of(), List.of(), List.of()), "test.onnx", null, 17);
        ctx.values.put("x", new Value(Network.INPUT, new long[] {8, 4, 6}));
    }

    private static Attribute ints(String name, long... v) {
        return new Attribute(name, OnnxModel.ATTR_INTS, null, null, null, null, null, v);
    }

    private static Attribute integer(String name, long v) {
        return new Attribute(name, OnnxModel.ATTR_INT, null, v, null, null, null, null);
    }

    private String constant(long[] dims, long... v) {
        String name = "c" + count++;
        ctx.constants.put(name, new TensorDef(name, dims, OnnxModel.INT64, new float[0], new long[0], v,
                new double[0], null, Map.of(), 0));
        return name;
    }

    private String scalar(long v) {
        return constant(new long[0], v);
    }

    private String list(long... v) {
        return constant(new long[] {v.length}, v);
    }

    /** Evaluates one node; its output is named after the returned string. */
    private String eval(String op, List<String> inputs, Attribute... attrs) {
        String out = "v" + count++;
        NodeDef n = new NodeDef("/" + op + "_" + count, op, "", inputs, List.of(out), List.of(attrs));
        assertTrue(ShapeGraph.handles(ctx, n), op);
        ShapeGraph.eval(ctx, n, ctx.where(n, count));
        return out;
    }

    private long[] v(String name) {
        return ctx.shapeValues.get(name).v();
    }

    @Test
    void shapeGatherAndTheBatchMarker() {
        String s = eval("Shape", List.of("x"));
        assertArrayEquals(new long[] {BATCH, 8, 4, 6}, v(s));
        assertFalse(ctx.constants.containsKey(s), "a shape holding the batch is no constant");
        String b = eval("Gather", List.of(s, scalar(0)), integer("axis", 0));
        assertTrue(ctx.shapeValues.get(b).scalar());
        assertArrayEquals(new long[] {BATCH}, v(b));
        assertArrayEquals(new long[] {BATCH}, v(eval("Mul", List.of(b, scalar(1)))), "batch * 1 is the batch");
        assertArrayEquals(new long[] {BATCH}, v(eval("Div", List.of(b, scalar(1)))));
        assertArrayEquals(new long[] {BATCH}, v(eval("Add", List.of(scalar(0), b))));
        String twice = eval("Mul", List.of(b, scalar(2)));
        assertArrayEquals(new long[] {ShapeGraph.batchTimes(2)}, v(twice), "batch * 2 is a known multiple");
        assertArrayEquals(new long[] {BATCH}, v(eval("Div", List.of(twice, scalar(2)))), "and back");
        assertArrayEquals(new long[] {DYNAMIC}, v(eval("Div", List.of(twice, scalar(4)))), "not exactly");
        assertArrayEquals(new long[] {0}, v(eval("Equal", List.of(b, scalar(-1)))), "the batch is never -1");
        assertArrayEquals(new long[] {DYNAMIC}, v(eval("Sub", List.of(b, scalar(1)))));
        // opset 15 slicing of Shape, and negative Gather indices
        assertArrayEquals(new long[] {8, 4}, v(eval("Shape", List.of("x"), integer("start", 1), integer("end", -1))));
        String c = eval("Gather", List.of(s, list(-3, 3)), integer("axis", 0));
        assertArrayEquals(new long[] {8, 6}, v(c));
        assertTrue(ctx.constants.containsKey(c), "a known result is also a constant");
    }

    @Test
    void integerArithmeticTruncatesAndBroadcasts() {
        assertArrayEquals(new long[] {2, -3, 4}, v(eval("Div", List.of(list(8, -7, 9), list(3, 2, 2)))));
        assertArrayEquals(new long[] {9, 10, 11}, v(eval("Add", List.of(list(1, 2, 3), scalar(8)))));
        String diff = eval("Sub", List.of(list(1, 2, 3), scalar(3)));
        assertArrayEquals(new long[] {4, 2, 0}, v(eval("Mul", List.of(diff, scalar(-2)))));
        // channels // groups as torch 1.13 exports a floor division of traced ints: Div, then sign fix-ups
        String div = eval("Div", List.of(scalar(116), scalar(2)));
        String neg = eval("Xor", List.of(eval("Less", List.of(scalar(116), scalar(0))),
                eval("Less", List.of(scalar(2), scalar(0)))));
        String mod = eval("Sub", List.of(scalar(116), eval("Mul", List.of(div, scalar(2)))));
        String fix = eval("And", List.of(neg, eval("Not", List.of(eval("Equal", List.of(mod, scalar(0)))))));
        String res = eval("Sub", List.of(div, eval("Where", List.of(fix, scalar(1), scalar(0)))));
        assertArrayEquals(new long[] {58}, v(res));
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> eval("Div", List.of(scalar(4), scalar(0))));
        assertEquals("Div", e.opType());
        assertTrue(e.getMessage().contains("divides by zero"), e.getMessage());
    }

    @Test
    void listsAreSlicedSqueezedAndConcatenated() {
        String s = eval("Shape", List.of("x"));
        assertArrayEquals(new long[] {8, 4}, v(eval("Slice", List.of(s, list(1), list(3), list(0)))));
        assertArrayEquals(new long[] {4, 6}, v(eval("Slice", List.of(s, list(-2), list(Long.MAX_VALUE)))));
        assertArrayEquals(new long[] {6, 4, 8}, v(eval("Slice", List.of(s, list(-1), list(0), list(0), list(-1)))));
        assertArrayEquals(new long[] {4}, v(eval("Slice", List.of(s), ints("starts", 2), ints("ends", 3))));
        String one = eval("Unsqueeze", List.of(scalar(5), list(0)));
        assertArrayEquals(new long[] {1}, ctx.shapeValues.get(one).dims());
        String back = eval("Squeeze", List.of(one));
        assertTrue(ctx.shapeValues.get(back).scalar());
        String cat = eval("Concat", List.of(eval("Slice", List.of(s, list(0), list(1))), one, list(-1)),
                integer("axis", 0));
        assertArrayEquals(new long[] {BATCH, 5, -1}, v(cat));
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> eval("Concat", List.of(scalar(1), scalar(2)), integer("axis", 0)));
        assertTrue(e.getMessage().contains("Concat needs lists"), e.getMessage());
    }

    @Test
    void floatDetoursAndConstantOfShape() {
        String f = eval("Cast", List.of(list(10, 17)), integer("to", OnnxModel.FLOAT));
        assertTrue(ctx.shapeValues.get(f).real());
        String r = eval("Floor", List.of(eval("Sqrt", List.of(f))));
        assertArrayEquals(new long[] {3, 4}, v(eval("Cast", List.of(r), integer("to", OnnxModel.INT64))));
        String half = eval("Div", List.of(f, eval("Cast", List.of(scalar(4)), integer("to", OnnxModel.FLOAT))));
        assertArrayEquals(new double[] {2.5, 4.25}, ctx.shapeValues.get(half).reals());
        assertEquals(OnnxModel.DOUBLE, ctx.constants.get(half).dataType(), "known floats become constants too");
        TensorDef seven = new TensorDef("", new long[] {1}, OnnxModel.INT64, new float[0], new long[0],
                new long[] {7}, new double[0], null, Map.of(), 0);
        String filled = eval("ConstantOfShape", List.of(list(3)),
                new Attribute("value", OnnxModel.ATTR_TENSOR, null, null, null, seven, null, null));
        assertArrayEquals(new long[] {7, 7, 7}, v(filled));
        String zeros = eval("ConstantOfShape", List.of(list(2, 2)));
        assertArrayEquals(new double[4], ctx.shapeValues.get(zeros).reals());
        String b = eval("Gather", List.of(eval("Shape", List.of("x")), scalar(0)));
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> eval("ConstantOfShape", List.of(eval("Unsqueeze", List.of(b), ints("axes", 0)))));
        assertTrue(e.getMessage().contains("ConstantOfShape only for known sizes"), e.getMessage());
    }

    @Test
    void shapeOnlyOperatorsRefuseNetworkValuesAndDataOperatorsAreLeftToTheMappers() {
        NodeDef gather = new NodeDef("/g", "Gather", "", List.of("x", scalar(0)), List.of("y"), List.of());
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> ShapeGraph.eval(ctx, gather, ctx.where(gather, 0)));
        assertEquals("/g", e.node());
        assertTrue(e.getMessage().contains("reads the graph value 'x'"), e.getMessage());
        NodeDef mul = new NodeDef("/m", "Mul", "", List.of("x", scalar(2)), List.of("y"), List.of());
        assertFalse(ShapeGraph.handles(ctx, mul), "Mul of a network value is a layer");
        NodeDef concat = new NodeDef("/c", "Concat", "", List.of(list(1), "x"), List.of("y"), List.of());
        assertFalse(ShapeGraph.handles(ctx, concat));
    }

    @Test
    void constantsOfAnyRankAreGatheredScatteredAndSliced() {
        String m = constant(new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
        assertArrayEquals(new long[] {3, 6}, v(eval("Gather", List.of(m, scalar(2)), integer("axis", 1))));
        assertArrayEquals(new long[] {1, 4, 2, 5, 3, 6}, v(eval("Transpose", List.of(m))));
        assertArrayEquals(new long[] {1, 2, 3, 0, 5, 6}, v(eval("Trilu", List.of(m))));
        String rows = eval("ScatterND", List.of(m, constant(new long[] {1, 1}, 1),
                constant(new long[] {1, 3}, 7, 8, 9)));
        assertArrayEquals(new long[] {1, 2, 3, 7, 8, 9}, v(rows));
        // an exporter's -(2^63 - 1) end reverses an axis to its start, and is no batch marker
        String reversed = eval("Slice", List.of(m, list(-1), list(Long.MIN_VALUE + 1), list(1), list(-1)));
        assertArrayEquals(new long[] {3, 2, 1, 6, 5, 4}, v(reversed));
    }

    @Test
    void markersReadAsText() {
        assertEquals("[batch, dynamic, 3]", ShapeGraph.text(new long[] {BATCH, DYNAMIC, 3}));
        List<Long> none = new ArrayList<>();
        assertEquals("[]", ShapeGraph.text(none.stream().mapToLong(Long::longValue).toArray()));
        ShapeValue v = ShapeValue.list(new long[] {BATCH, 2});
        assertFalse(v.known());
        assertTrue(Arrays.equals(new long[] {2}, v.dims()));
    }
}
