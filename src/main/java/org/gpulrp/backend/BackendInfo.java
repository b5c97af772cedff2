package org.gpulrp.backend;

/**
 * Which backend ran and on what.
 *
 * @param kind   {@code cpu} or {@code opencl}
 * @param device human-readable device or implementation, e.g. {@code Vector API, 512-bit, 2 threads}
 * @param exact  whether the backend meets the reproducibility contract (bit-identical to the CPU path)
 * @param note   why it is not exact, or other facts worth a line; empty when none
 */
public record BackendInfo(String kind, String device, boolean exact, String note) {
    @Override
    public String toString() {
        return kind + " [" + device + "]" + (exact ? "" : " (NOT bit-exact: " + note + ")");
    }
}
