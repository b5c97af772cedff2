package org.gpulrp.io.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.Dim;
import org.gpulrp.io.onnx.OnnxModel.Graph;
import org.gpulrp.io.onnx.OnnxModel.Model;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.OpsetId;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.io.onnx.OnnxModel.ValueInfo;

/**
 * Reads the protobuf wire format of an ONNX file into {@link OnnxModel} values, against a minimal field map of
 * {@code onnx.proto} (field numbers on each record there). Unknown fields are skipped; repeated numeric fields are
 * accepted packed and unpacked. Every length is checked against the bytes left before anything is allocated.
 */
final class OnnxParser {
    private static final int VARINT = 0;
    private static final int FIXED64 = 1;
    private static final int LEN = 2;
    private static final int FIXED32 = 5;

    private final CodedInputStream in;
    private final int size;

    private OnnxParser(byte[] bytes) {
        this.in = CodedInputStream.newInstance(bytes);
        this.size = bytes.length;
    }

    /** Parses a whole ModelProto; a corrupt or truncated file gives a file-level ModelFormatException. */
    static Model parse(byte[] bytes, String file) {
        try {
            return new OnnxParser(bytes).model();
        } catch (IOException e) {
            throw new ModelFormatException(file + ": not an ONNX model: " + e.getMessage()
                    + " (the file is corrupt, truncated, or not ONNX)", e);
        }
    }

    private Model model() throws IOException {
        long irVersion = 0;
        List<OpsetId> opsets = new ArrayList<>();
        Graph graph = null;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag >>> 3) {
                case 1 -> irVersion = varint(tag, "ModelProto.ir_version");
                case 7 -> {
                    int old = enter(tag, "ModelProto.graph");
                    graph = graph();
                    leave(old);
                }
                case 8 -> {
                    int old = enter(tag, "ModelProto.opset_import");
                    opsets.add(opset());
                    leave(old);
                }
                default -> skip(tag);
            }
        }
        return new Model(irVersion, opsets, graph);
    }

    private OpsetId opset() throws IOException {
        String domain = "";
        long version = 0;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag >>> 3) {
                case 1 -> domain = string(tag, "OperatorSetIdProto.domain");
                case 2 -> version = varint(tag, "OperatorSetIdProto.version");
                default -> skip(tag);
            }
        }
        return new OpsetId(domain, version);
    }

    private Graph graph() throws IOException {
        String name = "";
        List<NodeDef> nodes = new ArrayList<>();
        List<TensorDef> inits = new ArrayList<>();
        List<ValueInfo> inputs = new ArrayList<>();
        List<ValueInfo> outputs = new ArrayList<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = tag >>> 3;
            switch (field) {
                case 1 -> {
                    int old = enter(tag, "GraphProto.node");
                    nodes.add(node());
                    leave(old);
                }
                case 2 -> name = string(tag, "GraphProto.name");
                case 5 -> {
                    int old = enter(tag, "GraphProto.initializer");
                    inits.add(tensor());
                    leave(old);
                }
                case 11, 12 -> {
                    int old = enter(tag, field == 11 ? "GraphProto.input" : "GraphProto.output");
                    (field == 11 ? inputs : outputs).add(valueInfo());
                    leave(old);
                }
                default -> skip(tag);
            }
        }
        return new Graph(name, List.copyOf(nodes), List.copyOf(inits), List.copyOf(inputs), List.copyOf(outputs));
    }

    private NodeDef node() throws IOException {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        String name = "";
        String opType = "";
        String domain = "";
        List<Attribute> attributes = new ArrayList<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag >>> 3) {
                case 1 -> inputs.add(string(tag, "NodeProto.input"));
                case 2 -> outputs.add(string(tag, "NodeProto.output"));
                case 3 -> name = string(tag, "NodeProto.name");
                case 4 -> opType = string(tag, "NodeProto.op_type");
                case 5 -> {
                    int old = enter(tag, "NodeProto.attribute");
                    attributes.add(attribute());
                    leave(old);
                }
                case 7 -> domain = string(tag, "NodeProto.domain");
                default -> skip(tag);
            }
        }
        return new NodeDef(name, opType, domain, List.copyOf(inputs), List.copyOf(outputs), List.copyOf(attributes));
    }

    private Attribute attribute() throws IOException {
        String name = "";
        int type = 0;
        Float f = null;
        Long i = null;
        byte[] s = null;
        TensorDef t = null;
        Floats floats = new Floats();
        Longs ints = new Longs();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag >>> 3) {
                case 1 -> name = string(tag, "AttributeProto.name");
                case 2 -> {
                    expect(tag, FIXED32, "AttributeProto.f");
                    f = in.readFloat();
                }
                case 3 -> i = varint(tag, "AttributeProto.i");
                case 4 -> {
                    expect(tag, LEN, "AttributeProto.s");
                    s = in.readByteArray();
                }
                case 5 -> {
                    int old = enter(tag, "AttributeProto.t");
                    t = tensor();
                    leave(old);
                }
                case 7 -> floats(tag, floats, "AttributeProto.floats");
                case 8 -> varints(tag, ints, "AttributeProto.ints");
                case 20 -> type = (int) varint(tag, "AttributeProto.type");
                default -> skip(tag);
            }
        }
        return new Attribute(name, type, f, i, s, t, floats.toArray(), ints.toArray());
    }

    private TensorDef tensor() throws IOException {
        Longs dims = new Longs();
        int dataType = 0;
        Floats floatData = new Floats();
        Longs int32Data = new Longs();
        Longs int64Data = new Longs();
        Doubles doubleData = new Doubles();
        String name = "";
        byte[] raw = null;
        Map<String, String> external = new LinkedHashMap<>();
        int location = 0;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag >>> 3) {
                case 1 -> varints(tag, dims, "TensorProto.dims");
                case 2 -> dataType = (int) varint(tag, "TensorProto.data_type");
                case 4 -> floats(tag, floatData, "TensorProto.float_data");
                case 5 -> varints(tag, int32Data, "TensorProto.int32_data");
                case 7 -> varints(tag, int64Data, "TensorProto.int64_data");
                case 8 -> name = string(tag, "TensorProto.name");
                case 9 -> {
                    expect(tag, LEN, "TensorProto.raw_data");
                    raw = in.readByteArray();
                }
                case 10 -> doubles(tag, doubleData, "TensorProto.double_data");
                case 13 -> {
                    int old = enter(tag, "TensorProto.external_data");
                    entry(external);
                    leave(old);
                }
                case 14 -> location = (int) varint(tag, "TensorProto.data_location");
                default -> skip(tag);
            }
        }
        return new TensorDef(name, dims.toArray(), dataType, floatData.toArray(), int32Data.toArray(),
                int64Data.toArray(), doubleData.toArray(), raw, Map.copyOf(external), location);
    }

    /** StringStringEntryProto: key = 1, value = 2. */
    private void entry(Map<String, String> into) throws IOException {
        String key = "";
        String value = "";
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag >>> 3) {
                case 1 -> key = string(tag, "StringStringEntryProto.key");
                case 2 -> value = string(tag, "StringStringEntryProto.value");
                default -> skip(tag);
            }
        }
        into.put(key, value);
    }

    private ValueInfo valueInfo() throws IOException {
        String name = "";
        int[] elemType = {0};
        List<Dim> shape = null;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag >>> 3) {
                case 1 -> name = string(tag, "ValueInfoProto.name");
                case 2 -> {
                    int old = enter(tag, "ValueInfoProto.type");
                    shape = type(elemType);
                    leave(old);
                }
                default -> skip(tag);
            }
        }
        return new ValueInfo(name, elemType[0], shape);
    }

    /** TypeProto: tensor_type = 1 (other kinds are skipped); returns the shape, null when absent. */
    private List<Dim> type(int[] elemType) throws IOException {
        List<Dim> shape = null;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (tag >>> 3 != 1) {
                skip(tag);
                continue;
            }
            int old = enter(tag, "TypeProto.tensor_type");
            for (int t = in.readTag(); t != 0; t = in.readTag()) {
                switch (t >>> 3) {
                    case 1 -> elemType[0] = (int) varint(t, "TypeProto.Tensor.elem_type");
                    case 2 -> {
                        int o = enter(t, "TypeProto.Tensor.shape");
                        shape = shape();
                        leave(o);
                    }
                    default -> skip(t);
                }
            }
            leave(old);
        }
        return shape;
    }

    private List<Dim> shape() throws IOException {
        List<Dim> dims = new ArrayList<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (tag >>> 3 != 1) {
                skip(tag);
                continue;
            }
            int old = enter(tag, "TensorShapeProto.dim");
            long value = -1;
            String param = null;
            for (int t = in.readTag(); t != 0; t = in.readTag()) {
                switch (t >>> 3) {
                    case 1 -> value = varint(t, "Dimension.dim_value");
                    case 2 -> param = string(t, "Dimension.dim_param");
                    default -> skip(t);
                }
            }
            leave(old);
            dims.add(new Dim(value, param));
        }
        return List.copyOf(dims);
    }

    // ---- wire-level helpers --------------------------------------------------------------------------------

    private static void expect(int tag, int wireType, String field) throws InvalidProtocolBufferException {
        if ((tag & 7) != wireType) {
            throw new InvalidProtocolBufferException(field + " has wire type " + (tag & 7) + ", expected " + wireType);
        }
    }

    private long varint(int tag, String field) throws IOException {
        expect(tag, VARINT, field);
        return in.readInt64();
    }

    private String string(int tag, String field) throws IOException {
        expect(tag, LEN, field);
        return in.readString();
    }

    private void skip(int tag) throws IOException {
        int wireType = tag & 7;
        if (wireType == 3 || wireType == 4) {
            // onnx.proto uses no groups; refusing them also keeps hostile nesting off the stack.
            throw new InvalidProtocolBufferException("group field " + (tag >>> 3) + " (ONNX files contain none)");
        }
        if (!in.skipField(tag)) {
            throw new InvalidProtocolBufferException("unexpected end-group tag");
        }
    }

    /** Reads a length prefix and checks it against the bytes actually left. */
    private int length(String field) throws IOException {
        int len = in.readRawVarint32();
        if (len < 0 || len > size - in.getTotalBytesRead()) {
            throw new InvalidProtocolBufferException(field + " claims " + (len & 0xffffffffL) + " bytes but only "
                    + (size - in.getTotalBytesRead()) + " are left");
        }
        return len;
    }

    /** Starts reading a length-delimited sub-message; returns the limit to restore. */
    private int enter(int tag, String field) throws IOException {
        expect(tag, LEN, field);
        return in.pushLimit(length(field));
    }

    private void leave(int oldLimit) {
        in.popLimit(oldLimit);
    }

    private void varints(int tag, Longs into, String field) throws IOException {
        if ((tag & 7) == VARINT) {
            into.add(in.readInt64());
            return;
        }
        int old = enter(tag, field);
        while (in.getBytesUntilLimit() > 0) {
            into.add(in.readInt64());
        }
        leave(old);
    }

    private void floats(int tag, Floats into, String field) throws IOException {
        if ((tag & 7) == FIXED32) {
            into.add(in.readFloat());
            return;
        }
        expect(tag, LEN, field);
        int len = length(field);
        if (len % 4 != 0) {
            throw new InvalidProtocolBufferException(field + " holds " + len + " bytes, not a multiple of 4");
        }
        for (int k = 0; k < len / 4; k++) {
            into.add(in.readFloat());
        }
    }

    private void doubles(int tag, Doubles into, String field) throws IOException {
        if ((tag & 7) == FIXED64) {
            into.add(in.readDouble());
            return;
        }
        expect(tag, LEN, field);
        int len = length(field);
        if (len % 8 != 0) {
            throw new InvalidProtocolBufferException(field + " holds " + len + " bytes, not a multiple of 8");
        }
        for (int k = 0; k < len / 8; k++) {
            into.add(in.readDouble());
        }
    }

    /** Growable float array (never larger than the bytes it was read from). */
    private static final class Floats {
        private float[] a = new float[0];
        private int n;

        void add(float v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, Math.max(8, 2 * n));
            }
            a[n++] = v;
        }

        float[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    /** Growable long array. */
    private static final class Longs {
        private long[] a = new long[0];
        private int n;

        void add(long v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, Math.max(8, 2 * n));
            }
            a[n++] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    /** Growable double array. */
    private static final class Doubles {
        private double[] a = new double[0];
        private int n;

        void add(double v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, Math.max(8, 2 * n));
            }
            a[n++] = v;
        }

        double[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
