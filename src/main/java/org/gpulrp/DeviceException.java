package org.gpulrp;

/** An OpenCL call failed; carries the device and the OpenCL status code. */
public class DeviceException extends LrpException {
    private static final long serialVersionUID = 1L;
    private final String device;
    private final int status;

    public DeviceException(String message, String device, int status, Throwable cause) {
        super(message, cause);
        this.device = device;
        this.status = status;
    }

    /** The device's name, or null where no device was chosen yet. */
    public String device() {
        return device;
    }

    /** The OpenCL status code (a {@code CL_...} constant), or 0 where none applies. */
    public int status() {
        return status;
    }
}
