package org.gpulrp;

/** The OpenCL compiler rejected a kernel source; carries the build log. */
public class KernelBuildException extends DeviceException {
    private static final long serialVersionUID = 1L;
    private final String buildLog;

    public KernelBuildException(String message, String device, int status, String buildLog) {
        super(message + "\n--- build log ---\n" + buildLog, device, status, null);
        this.buildLog = buildLog;
    }

    public String buildLog() {
        return buildLog;
    }
}
