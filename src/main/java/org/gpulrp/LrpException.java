package org.gpulrp;

/** Root of every error the library throws; unchecked, so pipelines can catch one type. */
public class LrpException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LrpException(String message) {
        super(message);
    }

    public LrpException(String message, Throwable cause) {
        super(message, cause);
    }
}
