package org.gpulrp.io.torch;

import java.util.List;
import java.util.Map;

/**
 * The values the restricted unpickler builds. Python ints are {@link Long}, floats {@link Double}, strings {@link
 * String}, dicts (plain or ordered) {@link java.util.LinkedHashMap}, lists {@link java.util.ArrayList}, None is
 * {@code null}; the records below cover the rest. None of them is ever printed, so a self-containing list cannot
 * recurse in a message.
 */
final class Pickled {
    private Pickled() {
    }

    /** An immutable Python tuple (may hold nulls). */
    record Tuple(List<Object> items) {
        int size() {
            return items.size();
        }

        Object get(int k) {
            return items.get(k);
        }
    }

    /** A reference to an allowed global, e.g. {@code collections.OrderedDict}. */
    record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    /** A storage named by a persistent id {@code ('storage', type, key, location, numel)}. */
    record StorageRef(DType dtype, String key, String location, long numel) {
    }

    /** A tensor rebuilt by {@code _rebuild_tensor_v2}: a view into a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    }

    /** A short type name for messages. */
    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof Long) {
            return "int";
        }
        if (o instanceof Double) {
            return "float";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        if (o instanceof Map) {
            return "dict";
        }
        if (o instanceof List) {
            return "list";
        }
        if (o instanceof Tuple) {
            return "tuple";
        }
        if (o instanceof Global g) {
            return "global " + g.qualified();
        }
        if (o instanceof StorageRef) {
            return "storage";
        }
        if (o instanceof TensorRef) {
            return "tensor";
        }
        return o.getClass().getSimpleName();
    }
}
