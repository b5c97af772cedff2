/**
 * ONNX import: {@link org.gpulrp.io.onnx.OnnxImporter} reads an {@code .onnx} file (protobuf wire format, read with
 * protobuf-java's {@code CodedInputStream} against a minimal field map of {@code onnx.proto}) into a
 * {@link org.gpulrp.model.Network}: graphs (branches, residual additions, concatenations) of the supported operators,
 * each mapped onto a layer, with batch norms after a linear layer folded into it. Anything else stops the load with an
 * {@link org.gpulrp.io.ModelFormatException} naming the node.
 * Before mapping, {@code InitializerAliases} turns {@code Identity} nodes that read an initializer (the exporter's
 * deduplicated tensors) into initializers.
 *
 * <p>{@code GraphMapper} drives the mapping (the graph input and output, the node order, the dispatch by operator);
 * one mapper per operator family does the rest: {@code LinearMapper} (Gemm, MatMul + Add, Conv), {@code PoolMapper}
 * (MaxPool, AveragePool, GlobalAveragePool, ReduceMean), {@code NormMapper} (BatchNormalization), {@code ShapeMapper}
 * (Flatten, Reshape, Identity, Dropout, Pad), {@code LayoutMapper} (Transpose, Split, Slice), {@code MergeMapper}
 * (Add, Concat), {@code ProductMapper} (Mul, Div) and {@code ActivationMapper}. The integer subgraphs that compute
 * shapes are evaluated by {@code ShapeGraph} (with {@code ShapeArithmetic}), the batch size carried as a marker. They
 * share the import in progress ({@code MappingState}) and read attributes through {@code NodeAttrs}.
 */
package org.gpulrp.io.onnx;
