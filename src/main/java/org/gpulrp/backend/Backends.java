package org.gpulrp.backend;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.BackendChoice;
import org.gpulrp.DeviceException;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.backend.opencl.OpenClBackend;

/**
 * Opens the backends an explainer runs on. The CPU path gets one single-threaded backend per core, each running
 * the whole network on its own rows (one hand-off per chunk instead of one per primitive); OpenCL gets one device.
 * AUTO takes an OpenCL GPU or accelerator where there is one (or the device named), else the CPU path, with a
 * one-line reason.
 */
public final class Backends {
    private Backends() {
    }

    /**
     * @param backends one per parallel lane; the explainer owns and closes them
     * @param info     what to report as the backend
     */
    public record Opened(List<Backend> backends, BackendInfo info) {
    }

    public static Opened open(BackendChoice choice, String device, int cpuThreads) {
        return open(choice, device, cpuThreads, false);
    }

    /**
     * As {@link #open(BackendChoice, String, int)}; {@code oneCpuLane}: where the CPU path runs, one lane with
     * {@code cpuThreads} threads instead of one single-threaded lane per thread (each lane holds its own copy of the
     * weights and their prepared layouts, which a large model cannot afford more than once).
     */
    public static Opened open(BackendChoice choice, String device, int cpuThreads, boolean oneCpuLane) {
        String lanes = oneCpuLane && cpuThreads > 1 ? "one lane for the large model" : "";
        switch (choice) {
            case CPU:
                return cpu(cpuThreads, lanes, oneCpuLane);
            case OPENCL:
                return single(OpenClBackend.open(device));
            case AUTO:
            default:
                try {
                    String named = device != null ? device : System.getProperty(OpenClBackend.DEVICE_PROPERTY);
                    if (named == null || named.isBlank()) {
                        // Only CPU devices (e.g. PoCL): the Vector API path runs on the same cores, with the same
                        // bits, and is faster there for most networks (benchmarks/RESULTS.md).
                        List<String> cpus = new ArrayList<>();
                        boolean other = false;
                        for (org.gpulrp.backend.opencl.DeviceDescription d : OpenClBackend.listDevices()) {
                            if (d.type().equals("CPU")) {
                                cpus.add(d.name());
                            } else {
                                other = true;
                            }
                        }
                        if (!other && !cpus.isEmpty()) {
                            return cpu(cpuThreads, join("OpenCL offers only CPU devices (" + String.join(", ", cpus)
                                    + "); the CPU path runs instead (choose OPENCL or name a device to use them)",
                                    lanes), oneCpuLane);
                        }
                    }
                    return single(OpenClBackend.open(device));
                } catch (DeviceException e) {
                    String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
                    return cpu(cpuThreads, join("OpenCL unavailable (" + why + "); ran on the CPU", lanes), oneCpuLane);
                }
        }
    }

    /** One lane per bit-exact OpenCL device; the info lists them. */
    public static Opened allExactDevices() {
        List<Backend> lanes = new ArrayList<>(OpenClBackend.openAllExact());
        if (lanes.size() == 1) {
            return single(lanes.get(0));
        }
        StringBuilder d = new StringBuilder();
        for (Backend b : lanes) {
            d.append(d.length() == 0 ? "" : "; ").append(b.info().device());
        }
        return new Opened(lanes, new BackendInfo("opencl", lanes.size() + " devices: " + d, true, ""));
    }

    private static Opened single(Backend b) {
        return new Opened(List.of(b), b.info());
    }

    private static String join(String note, String more) {
        return more.isEmpty() ? note : note + "; " + more;
    }

    private static Opened cpu(int threads, String note, boolean oneLane) {
        if (oneLane && threads > 1) {
            Backend b = new CpuBackend(CpuBackend.Kernels.AUTO, threads);
            BackendInfo i = b.info();
            return new Opened(List.of(b), new BackendInfo(i.kind(), i.device(), i.exact(), note));
        }
        List<Backend> lanes = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            lanes.add(new CpuBackend(CpuBackend.Kernels.AUTO, 1));
        }
        BackendInfo one = lanes.get(0).info();
        String device = one.device().replace("1 thread", threads + (threads == 1 ? " thread" : " threads"));
        return new Opened(lanes, new BackendInfo(one.kind(), device, one.exact(), note));
    }

    /** {@code info} with the note of {@code opened} (e.g. why AUTO fell back to the CPU) in front. */
    public static BackendInfo withNote(BackendInfo info, BackendInfo opened) {
        if (opened == null || opened.note().isEmpty() || info.note().contains(opened.note())) {
            return info;
        }
        return new BackendInfo(info.kind(), info.device(), info.exact(), info.note().isEmpty() ? opened.note()
                : opened.note() + "; " + info.note());
    }

    /** What several lanes on different backends report together: kinds and devices joined, exact when all are. */
    public static BackendInfo combinedInfo(List<Backend> backends) {
        java.util.Map<String, Integer> devices = new java.util.LinkedHashMap<>();
        List<String> kinds = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        boolean exact = true;
        for (Backend be : backends) {
            BackendInfo i = be.info();
            devices.merge(i.kind() + " [" + i.device() + "]", 1, Integer::sum);
            if (!kinds.contains(i.kind())) {
                kinds.add(i.kind());
            }
            if (!i.note().isEmpty() && !notes.contains(i.note())) {
                notes.add(i.note());
            }
            exact &= i.exact();
        }
        if (devices.size() == 1 && backends.size() == 1) {
            return backends.get(0).info();
        }
        List<String> parts = new ArrayList<>();
        devices.forEach((d, n) -> parts.add(n == 1 ? d : n + " x " + d));
        return new BackendInfo(String.join("+", kinds), backends.size() + " lanes: " + String.join(", ", parts),
                exact, String.join("; ", notes));
    }
}
