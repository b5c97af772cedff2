package org.gpulrp;

/** A parameter outside its allowed range (rule parameters, targets, options); the message names it. */
public class InvalidArgumentException extends LrpException {
    private static final long serialVersionUID = 1L;
    private final String parameter;

    public InvalidArgumentException(String parameter, String message) {
        super(parameter + ": " + message);
        this.parameter = parameter;
    }

    public String parameter() {
        return parameter;
    }

    /** Throws when {@code ok} is false. */
    public static void check(boolean ok, String parameter, String message) {
        if (!ok) {
            throw new InvalidArgumentException(parameter, message);
        }
    }
}
