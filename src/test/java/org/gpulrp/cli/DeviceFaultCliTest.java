package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.FaultInjection;
import org.gpulrp.io.Npy;
import org.gpulrp.testing.OpenClTestSupport;
import org.jocl.CL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A device fault in the middle of a CLI run: a clear error, exit code 1, and no output file, whole or partial. */
class DeviceFaultCliTest {
    @TempDir
    Path dir;

    @Test
    void faultMidRunLeavesNoOutput() throws IOException {
        OpenClTestSupport.assumeOpenCl();
        float[][] rows = new float[3000][];
        float[][] base = SampleModel.heldOut().standardized();
        for (int k = 0; k < rows.length; k++) {
            rows[k] = base[k % base.length];
        }
        Path in = dir.resolve("in.npy");
        Npy.write(in, Tensor.ofRows(rows).toArray(), rows.length, 10);
        for (String ext : new String[] {"npy", "csv"}) {
            Path out = dir.resolve("out." + ext);
            CliRun r;
            try (FaultInjection.Armed a = FaultInjection.failAt(FaultInjection.Point.LAUNCH, 25,
                    CL.CL_OUT_OF_RESOURCES)) {
                r = CliRun.of("explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out", out.toString(),
                        "--backend", "opencl", "--batch-size", "256");
                assertEquals(1, a.failures(), r.toString());
            }
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.err().contains("CL_OUT_OF_RESOURCES"), r.err());
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(List.of(in), s.toList(), "output or temporary files left behind");
            }
        }
    }
}
