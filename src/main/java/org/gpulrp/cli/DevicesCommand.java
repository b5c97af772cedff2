package org.gpulrp.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.gpulrp.backend.opencl.DeviceDescription;
import org.gpulrp.backend.opencl.OpenClBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code gpulrp devices}: the OpenCL devices and whether each meets the bit-exactness contract. */
@Command(name = "devices", synopsisHeading = "usage: ",
        description = "List OpenCL platforms and devices: type, memory, compute units, and whether each gives results "
                + "bit-identical to the CPU backend.")
final class DevicesCommand implements Callable<Integer> {
    /** What to install when there is no platform. */
    static final String NO_PLATFORM = "no OpenCL platform found: install an OpenCL driver (your GPU vendor's, or for "
            + "CPUs: apt-get install ocl-icd-opencl-dev pocl-opencl-icd); until then gpulrp runs on the CPU backend";

    @Spec
    private CommandSpec spec;

    @Mixin
    private CommonOptions common;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<DeviceDescription> devices = OpenClBackend.listDevices();
        if (devices.isEmpty()) {
            out.println(NO_PLATFORM);
            return 0;
        }
        String platform = null;
        int index = 0;
        for (DeviceDescription d : devices) {
            if (!d.platform().equals(platform)) {
                platform = d.platform();
                out.println("platform: " + platform);
            }
            out.println("  device #" + index++ + ": " + d.name());
            out.printf(Locale.ROOT, "    type %s, %s, %d compute units, %s global memory, %s max buffer%n", d.type(),
                    d.version(), d.computeUnits(), size(d.globalMemBytes()), size(d.maxAllocBytes()));
            out.println(d.exact() ? "    bit-exact: yes (has CL_FP_FMA, CL_FP_DENORM, "
                    + "CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT)"
                    : "    bit-exact: NO (" + d.note() + "); it runs, but its results may differ from the CPU "
                    + "backend's in the last bits");
            out.println("    kernels: " + org.gpulrp.backend.opencl.KernelTuning.resolve(d.type(),
                    d.platform() + " " + d.name(), java.util.Map.of()).summary());
        }
        return 0;
    }

    private static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%d MiB", bytes >> 20);
    }
}
