package org.gpulrp.io.torch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.Npy;
import org.gpulrp.io.torch.Pickled.StorageRef;
import org.gpulrp.io.torch.Pickled.TensorRef;

/**
 * Reads the zip that {@code torch.save} writes since PyTorch 1.6: {@code <folder>/data.pkl} (the dict, with storages
 * as persistent ids), {@code <folder>/data/<key>} (raw little-endian storage bytes), {@code <folder>/version}. The
 * folder is whatever the file was first saved as, so it is found, not assumed.
 */
final class TorchZip {
    /** data.pkl of a state dict with a million tensors stays well below this. */
    private static final long MAX_PICKLE = 64L << 20;

    private TorchZip() {
    }

    static Map<String, Npy.Array> read(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String prefix = folder(zip, file);
            ZipEntry pklEntry = zip.getEntry(prefix + "data.pkl");
            byte[] pkl = entryBytes(zip, pklEntry, MAX_PICKLE, file, "the pickle");
            Object root = Unpickler.load(pkl, file + ": " + pklEntry.getName());
            ByteOrder order = byteOrder(zip, prefix, file);
            return tensors(root, zip, prefix, order, file);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": not a readable PyTorch zip (" + e.getMessage()
                    + "); the file may be truncated or corrupt", e);
        }
    }

    /** The one folder holding data.pkl. */
    private static String folder(ZipFile zip, Path file) {
        List<String> found = new ArrayList<>();
        boolean torchScript = false;
        Enumeration<? extends ZipEntry> en = zip.entries();
        while (en.hasMoreElements()) {
            String name = en.nextElement().getName();
            int slash = name.indexOf('/');
            if (slash > 0 && name.indexOf('/', slash + 1) < 0 && name.endsWith("/data.pkl")) {
                found.add(name.substring(0, slash + 1));
            }
            torchScript |= slash > 0 && (name.startsWith("code/", slash + 1) || name.endsWith("/constants.pkl"));
        }
        if (torchScript) {
            throw new ModelFormatException(file + ": this is a TorchScript archive (torch.jit.save), not a state "
                    + "dict; in Python save torch.save(model.state_dict(), path) and load that");
        }
        if (found.size() != 1) {
            throw new ModelFormatException(file + ": expected exactly one <folder>/data.pkl in the zip, found "
                    + found.size() + "; is this a torch.save file (PyTorch 1.6 or later)?");
        }
        return found.get(0);
    }

    private static ByteOrder byteOrder(ZipFile zip, String prefix, Path file) throws IOException {
        ZipEntry e = zip.getEntry(prefix + "byteorder");
        if (e == null) {
            return ByteOrder.LITTLE_ENDIAN; // written only by newer PyTorch; older files are little-endian
        }
        String s = new String(entryBytes(zip, e, 16, file, "byteorder"), StandardCharsets.US_ASCII).trim();
        return switch (s) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw new ModelFormatException(file + ": byteorder entry says '" + s + "'");
        };
    }

    private static Map<String, Npy.Array> tensors(Object root, ZipFile zip, String prefix, ByteOrder order,
            Path file) throws IOException {
        if (!(root instanceof Map<?, ?> dict)) {
            throw new ModelFormatException(file + ": the pickle holds a " + Pickled.typeName(root)
                    + ", not a state dict; save model.state_dict()");
        }
        Map<String, Npy.Array> out = new LinkedHashMap<>();
        Map<String, byte[]> storages = new HashMap<>();
        Map<String, StorageRef> storageRefs = new HashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String name)) {
                throw new ModelFormatException(file + ": a state dict key is a " + Pickled.typeName(e.getKey())
                        + ", not a string");
            }
            if (!(e.getValue() instanceof TensorRef t)) {
                String hint = e.getValue() instanceof Map ? "; this looks like a checkpoint: save its model's "
                        + "state_dict() on its own" : "";
                throw new ModelFormatException(file + ": '" + name + "' holds a " + Pickled.typeName(e.getValue())
                        + ", not a tensor" + hint);
            }
            StorageRef s = t.storage();
            StorageRef known = storageRefs.putIfAbsent(s.key(), s);
            if (known != null && known.dtype() != s.dtype()) {
                throw new ModelFormatException(file + ": storage " + s.key() + " is used as both " + known.dtype()
                        + " and " + s.dtype());
            }
            if (known != null && known.numel() != s.numel()) {
                // the bytes were checked against the first claim; a second, larger one would read past them
                throw new ModelFormatException(file + ": storage " + s.key() + " is declared with both "
                        + known.numel() + " and " + s.numel() + " elements");
            }
            byte[] raw = storages.get(s.key());
            if (raw == null) {
                raw = storage(zip, prefix, s, file, name);
                storages.put(s.key(), raw);
            }
            out.put(name, view(t, raw, order, file, name));
        }
        return out;
    }

    private static byte[] storage(ZipFile zip, String prefix, StorageRef s, Path file, String tensor)
            throws IOException {
        ZipEntry e = zip.getEntry(prefix + "data/" + s.key());
        if (e == null) {
            throw new ModelFormatException(file + ": tensor '" + tensor + "' needs zip entry " + prefix + "data/"
                    + s.key() + ", which is missing");
        }
        long need = s.numel() > Long.MAX_VALUE / s.dtype().width ? -1 : s.numel() * s.dtype().width;
        if (need < 0 || e.getSize() != need) {
            throw new ModelFormatException(file + ": zip entry " + e.getName() + " holds " + e.getSize()
                    + " bytes but the pickle says " + s.numel() + " " + s.dtype() + " elements ("
                    + (need < 0 ? "overflow" : need + " bytes") + ")");
        }
        return entryBytes(zip, e, need, file, "storage " + s.key());
    }

    /** Reads an entry whose size is known to be at most {@code cap}, refusing any mismatch. */
    private static byte[] entryBytes(ZipFile zip, ZipEntry e, long cap, Path file, String what) throws IOException {
        long size = e.getSize();
        if (size > cap || size > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(file + ": " + what + " (" + e.getName() + ") claims " + size
                    + " bytes, more than the " + cap + " allowed");
        }
        try (InputStream in = zip.getInputStream(e)) {
            int want = size < 0 ? (int) Math.min(cap, Integer.MAX_VALUE - 8) : (int) size;
            byte[] b = in.readNBytes(want);
            if ((size >= 0 && b.length != size) || in.read() >= 0) {
                throw new ModelFormatException(file + ": " + what + " (" + e.getName() + ") does not hold the "
                        + size + " bytes its zip entry declares");
            }
            return b;
        }
    }

    private static Npy.Array view(TensorRef t, byte[] raw, ByteOrder order, Path file, String name) {
        long[] size = t.size();
        int[] shape = new int[size.length];
        long count = 1;
        for (int k = 0; k < size.length; k++) {
            count *= size[k];
            if (size[k] > Integer.MAX_VALUE || count > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(file + ": tensor '" + name + "' of shape " + Arrays.toString(size)
                        + " is too large for one Java array");
            }
            shape[k] = (int) size[k];
        }
        long expected = 1;
        for (int k = size.length - 1; k >= 0; k--) {
            if (size[k] > 1 && t.stride()[k] != expected) {
                throw new ModelFormatException(file + ": tensor '" + name + "' has strides "
                        + Arrays.toString(t.stride()) + " for shape " + Arrays.toString(size)
                        + ", which is not C-contiguous (a transposed or sliced view); save tensor.contiguous()");
            }
            expected *= size[k];
        }
        long numel = t.storage().numel();
        if (count > 0 && (t.offset() > numel || count > numel - t.offset())) {
            throw new ModelFormatException(file + ": tensor '" + name + "' reads elements " + t.offset() + ".."
                    + (t.offset() + count - 1) + " of storage " + t.storage().key() + ", which has " + numel);
        }
        int width = t.storage().dtype().width;
        float[] data = count == 0 ? new float[0]
                : t.storage().dtype().toFloats(raw, (int) (t.offset() * width), (int) count, order);
        return new Npy.Array(data, shape);
    }
}
