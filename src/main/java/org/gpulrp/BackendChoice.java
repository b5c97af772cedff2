package org.gpulrp;

/** Which backend an explainer runs on. */
public enum BackendChoice {
    /**
     * An OpenCL GPU or accelerator where there is one (or the device named with {@code device(...)} /
     * {@code -Dgpulrp.opencl.device}), else the CPU path, saying why in one line. Where OpenCL offers only CPU devices
     * (e.g. PoCL), the CPU path runs: same cores, same bits, faster for most networks.
     */
    AUTO,
    /** The Vector API CPU path (scalar fma loops where the module is not enabled). */
    CPU,
    /** OpenCL; fails with {@link DeviceException} when no device can be opened. */
    OPENCL
}
