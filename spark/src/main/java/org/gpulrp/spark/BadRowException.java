package org.gpulrp.spark;

import org.gpulrp.InvalidInputException;

/** A row that cannot be explained: names the row (its id, or partition and position) and the reason. */
public final class BadRowException extends InvalidInputException {
    private static final long serialVersionUID = 1L;
    private final String row;
    private final String reason;

    BadRowException(String row, String reason, long position) {
        super("gpulrp: cannot explain row " + row + ": " + reason, (int) Math.min(position, Integer.MAX_VALUE), -1);
        this.row = row;
        this.reason = reason;
    }

    /** How the row was named: {@code id=VALUE} or {@code #N in partition P}. */
    public String row() {
        return row;
    }

    /** What is wrong with it, as the error column would say. */
    public String reason() {
        return reason;
    }
}
