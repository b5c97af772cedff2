package org.gpulrp.io.onnx;

import org.gpulrp.io.ModelFormatException;

/** The node being imported, for error messages: {@code node '<node>' (<op>): <what> (in <file>)}. */
record Where(String node, String op, String file) {

    ModelFormatException fail(String message) {
        return new ModelFormatException(node, op, message + " (in " + file + ")");
    }
}
