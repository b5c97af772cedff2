/**
 * ONNX import: {@link org.gpulrp.io.onnx.OnnxImporter} reads an {@code .onnx} file (protobuf wire format, read with
 * protobuf-java's {@code CodedInputStream} against a minimal field map of {@code onnx.proto}) into a
 * {@link org.gpulrp.model.Network}. Only chains of the supported operators are accepted; anything else stops the
 * load with an {@link org.gpulrp.io.ModelFormatException} naming the node.
 */
package org.gpulrp.io.onnx;
