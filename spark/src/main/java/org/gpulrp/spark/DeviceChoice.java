package org.gpulrp.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.gpulrp.BackendChoice;
import org.gpulrp.LrpException;
import org.gpulrp.backend.opencl.DeviceDescription;
import org.gpulrp.backend.opencl.OpenClBackend;

/**
 * Which OpenCL device an executor uses: the configured name, else the GPU Spark assigned to the task (resource
 * {@code gpu}: its address is the GPU's index, counted over the OpenCL GPUs in platform order), else the library's
 * default (a GPU where there is one, else the CPU path).
 */
final class DeviceChoice {

    private DeviceChoice() {
    }

    /** The device name to ask for, or null for the library's default. */
    static String pick(LrpConfig c) {
        if (c.backend() == BackendChoice.CPU) {
            return null;
        }
        if (c.device() != null) {
            return c.device();
        }
        String address = assignedGpu(c.gpuResource());
        return address == null ? null : gpuNameAt(address);
    }

    /** The first address of the task's GPU resource, or null where Spark assigned none. */
    static String assignedGpu(String resource) {
        TaskContext t = TaskContext.get();
        if (resource == null || t == null) {
            return null;
        }
        ResourceInformation r = t.resourcesJMap().get(resource);
        if (r == null) {
            return null;
        }
        String[] a = r.addresses();
        return a.length == 0 ? null : a[0].strip();
    }

    /**
     * The library's device selector ({@code "#N"}) for the OpenCL GPU with index {@code address} (counted over the
     * GPUs); fails clearly where there is no such GPU.
     */
    static String gpuNameAt(String address) {
        int index;
        try {
            index = Integer.parseInt(address);
        } catch (NumberFormatException e) {
            throw new LrpException("Spark assigned GPU address '" + address + "', which is not an index; set the "
                    + "device by name instead (LrpConfig.withDevice, or --device)");
        }
        List<DeviceDescription> gpus = new ArrayList<>();
        List<DeviceDescription> all = OpenClBackend.listDevices();
        for (DeviceDescription d : all) {
            if (d.type().equals("GPU")) {
                gpus.add(d);
            }
        }
        if (gpus.isEmpty()) {
            throw new LrpException("Spark assigned GPU " + address + " to this executor, but OpenCL sees no GPU here"
                    + OpenClBackend.unavailableReason().map(r -> " (" + r + ")").orElse("")
                    + "; install the vendor's OpenCL driver (ICD) or run with backend cpu");
        }
        if (index < 0 || index >= gpus.size()) {
            // A container that shows only its own GPU(s) but keeps the host's numbering: use what is visible.
            if (gpus.size() == 1) {
                return "#" + all.indexOf(gpus.get(0));
            }
            throw new LrpException("Spark assigned GPU " + address + ", but OpenCL sees " + gpus.size()
                    + " GPUs (0.." + (gpus.size() - 1) + "); check the GPU discovery script");
        }
        // The library's "#N" selector counts every OpenCL device in platform order: identical GPUs stay apart.
        return "#" + all.indexOf(gpus.get(index));
    }
}
