package org.gpulrp.io.onnx;

import java.util.List;
import java.util.Map;

/** The parts of an ONNX ModelProto the importer uses, as plain immutable values (field numbers in OnnxParser). */
final class OnnxModel {
    /** TensorProto.DataType values the importer reads. */
    static final int FLOAT = 1;
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int FLOAT16 = 10;
    static final int DOUBLE = 11;

    /** AttributeProto.AttributeType values the importer reads. */
    static final int ATTR_FLOAT = 1;
    static final int ATTR_INT = 2;
    static final int ATTR_STRING = 3;
    static final int ATTR_TENSOR = 4;
    static final int ATTR_FLOATS = 6;
    static final int ATTR_INTS = 7;

    private OnnxModel() {
    }

    /** ModelProto: ir_version = 1, graph = 7, opset_import = 8. */
    record Model(long irVersion, List<OpsetId> opsets, Graph graph) {
    }

    /** OperatorSetIdProto: domain = 1, version = 2. */
    record OpsetId(String domain, long version) {
    }

    /** GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12. */
    record Graph(String name, List<NodeDef> nodes, List<TensorDef> initializers, List<ValueInfo> inputs,
                 List<ValueInfo> outputs) {
    }

    /** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7. */
    record NodeDef(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                   List<Attribute> attributes) {
    }

    /**
     * AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, floats = 7, ints = 8, type = 20. {@code f} and {@code i}
     * are null when absent; {@code type} is 0 when the file does not say (IR version 1).
     */
    record Attribute(String name, int type, Float f, Long i, byte[] s, TensorDef t, float[] floats, long[] ints) {
    }

    /**
     * TensorProto: dims = 1, data_type = 2, float_data = 4, int32_data = 5, int64_data = 7, name = 8, raw_data = 9,
     * double_data = 10, external_data = 13, data_location = 14. Absent typed fields are empty arrays; an absent
     * {@code raw_data} is null (an empty raw_data is a present one).
     */
    record TensorDef(String name, long[] dims, int dataType, float[] floatData, long[] int32Data, long[] int64Data,
                     double[] doubleData, byte[] rawData, Map<String, String> external, int dataLocation) {

        boolean isExternal() {
            return dataLocation == 1 || !external.isEmpty();
        }
    }

    /** ValueInfoProto name = 1, type = 2 -> tensor_type = 1 -> elem_type = 1, shape = 2; shape is null if absent. */
    record ValueInfo(String name, int elemType, List<Dim> shape) {
    }

    /** TensorShapeProto.Dimension: dim_value = 1 (else -1), dim_param = 2 (else null). */
    record Dim(long value, String param) {
        boolean known() {
            return value >= 0 && param == null;
        }
    }

    /** Name of a TensorProto data type, for messages. */
    static String typeName(int dataType) {
        String name = switch (dataType) {
            case 0 -> "UNDEFINED";
            case FLOAT -> "FLOAT";
            case 2 -> "UINT8";
            case 3 -> "INT8";
            case 4 -> "UINT16";
            case 5 -> "INT16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case 8 -> "STRING";
            case 9 -> "BOOL";
            case FLOAT16 -> "FLOAT16";
            case DOUBLE -> "DOUBLE";
            case 12 -> "UINT32";
            case 13 -> "UINT64";
            case 14 -> "COMPLEX64";
            case 15 -> "COMPLEX128";
            case 16 -> "BFLOAT16";
            default -> "type";
        };
        return name + " (" + dataType + ")";
    }
}
