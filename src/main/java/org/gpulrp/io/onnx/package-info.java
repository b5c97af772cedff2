/**
 * ONNX import: {@link org.gpulrp.io.onnx.OnnxImporter} reads an {@code .onnx} file (protobuf wire format, read with
 * protobuf-java's {@code CodedInputStream} against a minimal field map of {@code onnx.proto}) into a
 * {@link org.gpulrp.model.Network}: graphs (branches, residual additions, concatenations) of the supported operators,
 * each mapped onto a layer, with batch norms after a linear layer folded into it. Anything else stops the load with an
 * {@link org.gpulrp.io.ModelFormatException} naming the node.
 */
package org.gpulrp.io.onnx;
