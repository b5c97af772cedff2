package org.gpulrp.backend.opencl;

import java.util.concurrent.atomic.AtomicInteger;
import org.gpulrp.InvalidArgumentException;

/**
 * Fault injection for the OpenCL layer, for reliability tests and drills: makes chosen OpenCL calls fail as a driver
 * would (before the call is made, so nothing is half-created), to check that every failure ends in a typed exception,
 * leaks no OpenCL object and leaves no half-written output. Off by default; when off it costs one volatile read per
 * call. One plan is armed at a time, JVM-wide; {@link Armed#close()} disarms it.
 *
 * <pre>{@code
 * try (FaultInjection.Armed a = FaultInjection.failAt(FaultInjection.Point.LAUNCH, 40, CL.CL_OUT_OF_RESOURCES)) {
 *     explainer.explain(batch, target);   // the 41st kernel launch fails
 * }
 * }</pre>
 */
public final class FaultInjection {

    /** Where a fault can be injected. */
    public enum Point {
        /** {@code clCreateContext} (opening a backend). */
        CONTEXT,
        /** {@code clBuildProgram} (a kernel build failure, with an empty build log). */
        BUILD,
        /** {@code clCreateBuffer} (device memory allocation). */
        ALLOCATE,
        /** {@code clEnqueueWriteBuffer} (upload). */
        WRITE,
        /** {@code clEnqueueReadBuffer} (download). */
        READ,
        /** {@code clEnqueueNDRangeKernel} (a kernel launch). */
        LAUNCH,
        /** {@code clFinish}. */
        FINISH
    }

    /** The status a device that disappeared reports here ({@code CL_DEVICE_NOT_AVAILABLE}). */
    public static final int DEVICE_LOST = -2;

    private static volatile Plan plan;

    private FaultInjection() {
    }

    /** An armed plan; closing it disarms fault injection. */
    public static final class Armed implements AutoCloseable {
        private final Plan plan;

        private Armed(Plan plan) {
            this.plan = plan;
        }

        /** How many injected failures this plan has thrown so far. */
        public int failures() {
            return plan.failures.get();
        }

        @Override
        public void close() {
            synchronized (FaultInjection.class) {
                if (FaultInjection.plan == plan) {
                    FaultInjection.plan = null;
                }
            }
        }
    }

    private static final class Plan {
        final Point point;
        final int skip;
        final int status;
        final boolean sticky;
        final AtomicInteger seen = new AtomicInteger();
        final AtomicInteger failures = new AtomicInteger();

        Plan(Point point, int skip, int status, boolean sticky) {
            this.point = point;
            this.skip = skip;
            this.status = status;
            this.sticky = sticky;
        }
    }

    /**
     * Fails the call at {@code point} after {@code skip} successful ones, once, with {@code status} (a negative
     * {@code CL_...} code); later calls succeed again (a transient fault).
     */
    public static Armed failAt(Point point, int skip, int status) {
        return arm(new Plan(point, skip, status, false));
    }

    /**
     * The device disappears: after {@code skip} successful calls at {@code point}, that call and every later call at
     * any point fail with {@link #DEVICE_LOST}, until the plan is closed.
     */
    public static Armed loseDeviceAt(Point point, int skip) {
        return arm(new Plan(point, skip, DEVICE_LOST, true));
    }

    private static Armed arm(Plan p) {
        InvalidArgumentException.check(p.point != null, "point", "must not be null");
        InvalidArgumentException.check(p.skip >= 0, "skip", "must be >= 0; got " + p.skip);
        InvalidArgumentException.check(p.status < 0, "status", "must be a negative CL error code; got " + p.status);
        synchronized (FaultInjection.class) {
            InvalidArgumentException.check(plan == null, "fault injection", "another plan is armed; close it first");
            plan = p;
        }
        return new Armed(p);
    }

    /** Called before each OpenCL call at {@code point}: throws the injected failure when the plan says so. */
    static void before(Point point, String call, String device) {
        Plan p = plan;
        if (p == null) {
            return;
        }
        boolean lost = p.sticky && p.failures.get() > 0;
        if (!lost && point != p.point) {
            return;
        }
        if (lost || p.seen.getAndIncrement() == p.skip || (p.sticky && p.seen.get() > p.skip)) {
            p.failures.incrementAndGet();
            throw ClErrors.failure(call + " [injected]", device, p.status, null);
        }
    }

    /** As {@link #before}, for callers that handle a status code instead of an exception. */
    static int status(Point point) {
        Plan p = plan;
        if (p == null) {
            return 0;
        }
        try {
            before(point, "", null);
            return 0;
        } catch (org.gpulrp.DeviceException e) {
            return p.status;
        }
    }
}
