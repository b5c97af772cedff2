package org.gpulrp;

/** Which backend an explainer runs on. */
public enum BackendChoice {
    /** OpenCL when a platform with a device exists (a GPU preferred), else the CPU path, saying why in one line. */
    AUTO,
    /** The Vector API CPU path (scalar fma loops where the module is not enabled). */
    CPU,
    /** OpenCL; fails with {@link DeviceException} when no device can be opened. */
    OPENCL
}
