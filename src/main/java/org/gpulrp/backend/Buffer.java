package org.gpulrp.backend;

/**
 * A backend's array of float32 values (device memory for OpenCL, a Java array for the CPU). Owned by the backend
 * that made it; {@link #close()} releases it, is idempotent and never throws.
 */
public interface Buffer extends AutoCloseable {
    /** Number of floats. */
    int length();

    @Override
    void close();
}
