/**
 * Data files: NumPy {@code .npy} ({@link org.gpulrp.io.Npy}) and numeric CSV ({@link org.gpulrp.io.Csv}) in and out,
 * {@link org.gpulrp.io.NpyStreams} for explaining {@code .npy} files of any size chunk by chunk,
 * {@link org.gpulrp.io.AtomicFiles} for all-or-nothing writes, and the exceptions for malformed data and model files.
 * Model importers are in the subpackages {@code io.onnx} and {@code io.torch}, images in {@code io.image}.
 */
package org.gpulrp.io;
