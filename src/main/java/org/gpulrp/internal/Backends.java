package org.gpulrp.internal;

import org.gpulrp.BackendChoice;
import org.gpulrp.DeviceException;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.backend.opencl.OpenClBackend;

/** Opens the backend an explainer asked for; AUTO falls back to the CPU with a one-line reason. */
public final class Backends {
    private Backends() {
    }

    /**
     * @param backend the opened backend
     * @param owned   whether the explainer must close it
     * @param note    why AUTO chose what it chose, or empty
     */
    public record Opened(Backend backend, boolean owned, String note) {
    }

    public static Opened open(BackendChoice choice, String device) {
        switch (choice) {
            case CPU:
                return new Opened(new CpuBackend(), true, "");
            case OPENCL:
                return new Opened(OpenClBackend.open(device), true, "");
            case AUTO:
            default:
                try {
                    return new Opened(OpenClBackend.open(device), true, "");
                } catch (DeviceException e) {
                    String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
                    return new Opened(new CpuBackend(), true, "OpenCL unavailable (" + why + "); ran on the CPU");
                }
        }
    }
}
