package org.gpulrp;

/** A tensor or parameter whose shape does not match what the network expects. */
public class ShapeMismatchException extends LrpException {
    private static final long serialVersionUID = 1L;
    private final String what;
    private final String expected;
    private final String actual;

    public ShapeMismatchException(String what, String expected, String actual) {
        super(what + ": expected " + expected + " but got " + actual);
        this.what = what;
        this.expected = expected;
        this.actual = actual;
    }

    /** What was checked, e.g. {@code "input features"} or {@code "fc1.weight"}. */
    public String what() {
        return what;
    }

    public String expected() {
        return expected;
    }

    public String actual() {
        return actual;
    }
}
