package org.gpulrp.cli;

import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.composite.Composite;
import org.gpulrp.model.Network;
import picocli.CommandLine.Option;

/**
 * Where and how an explainer runs, the same in every command that explains (mixed in with {@code @Mixin}):
 * {@code --backend}, {@code --device}, {@code --batch-size}. None changes a result's bits
 * (docs/DESIGN.md section 3).
 */
final class EngineOptions {
    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", converter = Converters.Backend.class,
            defaultValue = "auto", description = "auto (default): OpenCL when a device exists, else the CPU.")
    private BackendChoice backend;

    @Option(names = "--device", paramLabel = "NAME", description = "OpenCL device whose name contains NAME, or #N "
            + "for the N-th (from 0) as `gpulrp devices` lists them.")
    private String device;

    @Option(names = "--batch-size", paramLabel = "N", converter = Converters.Positive.class,
            description = "Samples per device pass (larger inputs are split; the results are the same).")
    private Integer batchSize;

    /** The explainer of {@code net} with {@code composite} and {@code init} on the chosen backend and device. */
    Explainer.Builder builder(Network net, Composite composite, InitialRelevance init) {
        Explainer.Builder b = GpuLrp.explainer(net).composite(composite).initialRelevance(init).backend(backend);
        if (device != null) {
            b.device(device);
        }
        if (batchSize != null) {
            b.chunkRows(batchSize);
        }
        return b;
    }
}
