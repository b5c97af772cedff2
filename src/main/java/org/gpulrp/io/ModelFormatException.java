package org.gpulrp.io;

/** A model file that cannot be imported; names the node and op type where there is one. */
public class ModelFormatException extends FormatException {
    private static final long serialVersionUID = 1L;

    private final String node;
    private final String opType;

    /** A file-level problem (corrupt protobuf, missing graph, unsupported opset). */
    public ModelFormatException(String message) {
        super(message);
        this.node = null;
        this.opType = null;
    }

    /** A file-level problem caused by a lower-level error (kept as the cause for {@code --verbose}). */
    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
        this.node = null;
        this.opType = null;
    }

    /**
     * A problem with one node; the message becomes {@code node '<node>' (<opType>): <message>}.
     *
     * @param node    the node's name (or the generated name when the file gives none)
     * @param opType  the node's operator, e.g. {@code Gemm}
     * @param message what is wrong and what would be needed
     */
    public ModelFormatException(String node, String opType, String message) {
        super("node '" + node + "' (" + opType + "): " + message);
        this.node = node;
        this.opType = opType;
    }

    /** The node's name; null for file-level problems. */
    public String node() {
        return node;
    }

    /** The node's operator type; null for file-level problems. */
    public String opType() {
        return opType;
    }
}
