/**
 * ONNX import: {@link org.gpulrp.io.onnx.OnnxImporter} reads an {@code .onnx} file (protobuf wire format, read with
 * protobuf-java's {@code CodedInputStream} against a minimal field map of {@code onnx.proto}) into a
 * {@link org.gpulrp.model.Network}: graphs (branches, residual additions, concatenations) of the supported operators,
 * each mapped onto a layer, with batch norms after a linear layer folded into it. Anything else stops the load with an
 * {@link org.gpulrp.io.ModelFormatException} naming the node.
 * Before mapping, {@code InitializerAliases} turns {@code Identity} nodes that read an initializer (the exporter's
 * deduplicated tensors) into initializers, and {@code PatternFusion} replaces the elementary chains of LayerNorm,
 * RMSNorm and GELU by one node each.
 *
 * <p>{@code GraphMapper} drives the mapping (the graph input and output, the node order, the dispatch by operator);
 * one mapper per operator family does the rest: {@code LinearMapper} (Gemm, MatMul + Add, Conv), {@code PoolMapper}
 * (MaxPool, AveragePool, GlobalAveragePool, ReduceMean), {@code NormMapper} (BatchNormalization, LayerNormalization,
 * RMSNormalization), {@code ShapeMapper} (Flatten, Reshape, Identity, Dropout, Pad), {@code LayoutMapper} (Transpose,
 * Split, Slice, Gather, Unsqueeze, Squeeze, Expand, over {@code IndexMaps}), {@code MergeMapper} (Add, Concat),
 * {@code ProductMapper} (Mul, Div), {@code AffineMapper} (arithmetic with constants, Neg, Cast, a mask's Clip),
 * {@code AttentionMapper} (MatMul of two values), {@code TokenInputs} (a token model's packed inputs, embeddings) and
 * {@code ActivationMapper}. Nodes whose inputs are all constants are evaluated by {@code ShapeGraph} (with
 * {@code ShapeLayout} and {@code ShapeArithmetic}), the batch size carried as a marker. They share the import in
 * progress ({@code MappingState}: each value's shape and where its batch axis is) and read attributes through
 * {@code NodeAttrs}.
 */
package org.gpulrp.io.onnx;
