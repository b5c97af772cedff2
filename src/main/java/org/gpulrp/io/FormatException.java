package org.gpulrp.io;

import org.gpulrp.LrpException;

/** A file that is not in the format it claims (corrupt, truncated, unsupported variant); names the file. */
public class FormatException extends LrpException {
    private static final long serialVersionUID = 1L;

    public FormatException(String message) {
        super(message);
    }

    public FormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
