package org.gpulrp.io.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.MappingState.Step;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.Dim;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.io.onnx.OnnxModel.ValueInfo;
import org.gpulrp.model.Embedding;
import org.gpulrp.model.Network;
import org.gpulrp.model.Slice;
import org.gpulrp.model.TokenInput;

/**
 * The inputs of a token model (HuggingFace's {@code input_ids}, {@code attention_mask}, {@code token_type_ids}, int64
 * {@code [batch, sequence]}): packed into one float sample of {@code blocks x T} values in {@link TokenInput}'s order
 * (ids, mask, token types), ids as exact floats. The network's input is that sample; a {@link Slice} cuts each block
 * out (none when there is one block), and nodes that read none are dropped at the end. The sequence length
 * {@code T} is the export's fixed one or {@link ImportOptions#sequenceLength()}. The mask's values are taken to lie in
 * [0, 1] (HuggingFace's 0/1 masks): the bounds that let an attention mask's Clip map exactly. Also the
 * {@link Embedding} (Gather of a 2-D initializer by ids).
 */
final class TokenInputs {
    private static final List<String> ORDER = List.of(TokenInput.IDS, TokenInput.MASK, TokenInput.TYPES);

    private TokenInputs() {
    }

    /** Whether the graph's inputs are a token model's: an integer input, or one named input_ids. */
    static boolean tokenModel(List<ValueInfo> inputs) {
        for (ValueInfo v : inputs) {
            if (ORDER.contains(v.name()) || (v.elemType() != 0 && v.elemType() != OnnxModel.FLOAT
                    && v.elemType() != OnnxModel.DOUBLE && v.elemType() != OnnxModel.FLOAT16)) {
                return true;
            }
        }
        return false;
    }

    /** Defines the token inputs' values and the network input's shape, {@code [blocks, T]}. */
    static void read(MappingState ctx, List<ValueInfo> inputs) {
        List<ValueInfo> blocks = new ArrayList<>();
        for (String name : ORDER) {
            inputs.stream().filter(v -> v.name().equals(name)).findFirst().ifPresent(blocks::add);
        }
        for (ValueInfo v : inputs) {
            if (!ORDER.contains(v.name())) {
                throw ctx.fileError("graph input '" + v.name() + "' is not a token input; gpulrp reads models with "
                        + "one float input, or token models whose inputs are " + ORDER + " (int64 [batch, "
                        + "sequence])");
            }
            if (v.elemType() != OnnxModel.INT64) {
                throw ctx.fileError("token input '" + v.name() + "' has element type "
                        + OnnxModel.typeName(v.elemType()) + "; gpulrp reads token models' inputs as INT64 [batch, "
                        + "sequence]");
            }
        }
        if (blocks.isEmpty() || !blocks.get(0).name().equals(TokenInput.IDS)) {
            throw ctx.fileError("the graph has token inputs " + inputs.stream().map(ValueInfo::name).toList()
                    + " but no '" + TokenInput.IDS + "'");
        }
        int length = length(ctx, blocks);
        ctx.inputShape = new long[] {blocks.size(), length};
        ctx.inputSize = blocks.size() * length;
        List<String> names = new ArrayList<>();
        for (int b = 0; b < blocks.size(); b++) {
            String name = blocks.get(b).name();
            names.add(name);
            String node = Network.INPUT;
            if (blocks.size() > 1) {
                node = ctx.unique(name);
                ctx.steps.add(new Step(node, new Where(node, "input", ctx.file), new Slice(b * length, length),
                        new String[] {Network.INPUT}));
            }
            float[] lo = null;
            float[] hi = null;
            if (name.equals(TokenInput.MASK)) {
                lo = new float[length];
                hi = new float[length];
                Arrays.fill(hi, 1f);
            }
            ctx.values.put(name, new Value(node, new long[] {length}, 0, 1, 1, true, lo, hi));
        }
        ctx.blocks = names;
    }

    /** The sequence length: the inputs' fixed one, or the option; both, they must agree. */
    private static int length(MappingState ctx, List<ValueInfo> blocks) {
        int option = ctx.options.sequenceLength();
        long fixed = -1;
        String symbol = null;
        for (ValueInfo v : blocks) {
            List<Dim> shape = v.shape();
            if (shape == null || shape.size() != 2) {
                throw ctx.fileError("token input '" + v.name() + "' has " + (shape == null ? "no shape" : "rank "
                        + shape.size()) + "; gpulrp reads token inputs of shape [batch, sequence]");
            }
            if (shape.get(0).known()) {
                ctx.fixedBatch = shape.get(0).value();
            }
            Dim d = shape.get(1);
            if (d.known() && d.value() > 0) {
                if (fixed >= 0 && fixed != d.value()) {
                    throw ctx.fileError("the token inputs have sequence lengths " + fixed + " and " + d.value());
                }
                fixed = d.value();
            } else {
                symbol = d.param() == null ? "?" : d.param();
            }
        }
        if (fixed > 0 && option > 0 && fixed != option) {
            throw ctx.fileError("the model's sequence length is fixed at " + fixed + " but ImportOptions asks for "
                    + option);
        }
        if (fixed > 0) {
            return (int) fixed;
        }
        if (option <= 0) {
            throw ctx.fileError("a token model with a symbolic sequence length ('" + symbol + "'): load it with "
                    + "OnnxImporter.load(path, ImportOptions.defaults().withSequenceLength(T)), the padded length "
                    + "T its inputs will have (option sequenceLength; on the command line, explain builds it for its padded "
                    + "texts, info and bench take --seq-length T)");
        }
        return option;
    }

    /** Gather of rows of a 2-D initializer by ids from a token block: an {@link Embedding}. */
    static void embedding(MappingState ctx, NodeDef n, Where w, int k) {
        NodeAttrs.allowOnly(n, w, Set.of("axis"));
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs (data, indices), has " + n.inputs().size());
        }
        if (NodeAttrs.intAttr(n, w, "axis", 0) != 0) {
            throw w.fail("gathers along axis " + NodeAttrs.intAttr(n, w, "axis", 0) + " of a constant by graph "
                    + "values; gpulrp maps a Gather of a table's rows (axis 0) by token ids as an embedding");
        }
        TensorDef table = ctx.constantInput(n, w, 0, "data (the table)");
        Value ids = ctx.value(n.inputs().get(1), w);
        if (table.dims().length != 2) {
            throw w.fail("table '" + table.name() + "' has shape " + Arrays.toString(table.dims()) + "; an "
                    + "embedding table is [vocab, hidden]");
        }
        if (!ids.integer() || ids.shape() == null) {
            throw w.fail("gathers rows of '" + table.name() + "' by float graph values; gpulrp maps a Gather by the "
                    + "token ids of an input (an embedding)");
        }
        int vocab = (int) table.dims()[0];
        int hidden = (int) table.dims()[1];
        Embedding layer;
        try {
            layer = new Embedding((int) ids.size(), vocab, hidden, TensorData.floats(table, w, ctx.baseDir));
        } catch (LrpException e) {
            throw w.fail("table '" + table.name() + "': " + e.getMessage());
        }
        String name = ctx.weightLayerName(table.name(), n, k);
        ctx.steps.add(new Step(name, w, layer, new String[] {ids.node()}));
        Value block = ctx.values.get(TokenInput.IDS);
        if (block != null && block.node().equals(ids.node()) && ctx.vocab <= 0) {
            ctx.vocab = vocab;
        }
        long[] shape = Arrays.copyOf(ids.shape(), ids.shape().length + 1);
        shape[shape.length - 1] = hidden;
        ctx.features = shape;
        ctx.result = ids.to(name, shape);
    }

    /** The network's {@link TokenInput}, once every node is mapped. */
    static TokenInput tokenInput(MappingState ctx) {
        if (ctx.vocab <= 0) {
            throw ctx.fileError("'" + TokenInput.IDS + "' feeds no embedding (a Gather of a [vocab, hidden] "
                    + "initializer's rows); gpulrp needs the word embedding of a token model");
        }
        return new TokenInput((int) ctx.inputShape[1], ctx.blocks, ctx.vocab);
    }
}
