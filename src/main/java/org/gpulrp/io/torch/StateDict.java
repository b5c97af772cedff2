package org.gpulrp.io.torch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.Npy;

/**
 * Named tensors from a PyTorch state dict (.pth/.pt zip, torch >= 1.6) or a .safetensors file, as float32.
 *
 * <p>The zip's pickle is read by an interpreter that knows only tensors, ordered dicts and storages
 * (float32, float64, float16, bfloat16, int32, int64) and executes nothing: a file that asks for any other Python
 * global is refused. Every size a file claims is checked against what it holds before anything is allocated.
 */
public final class StateDict {
    private final Path file;
    private final Map<String, Npy.Array> tensors;

    private StateDict(Path file, Map<String, Npy.Array> tensors) {
        this.file = file;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /**
     * Reads a state dict; the format is sniffed from the content (zip magic vs a safetensors header).
     *
     * @throws ModelFormatException when the file is malformed, truncated, unsupported or unsafe; names the file
     * @throws UncheckedIOException when the file cannot be read at all
     */
    public static StateDict read(Path file) {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(9);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("no such file: " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5)) {
            return new StateDict(file, TorchZip.read(file));
        }
        String fileName = String.valueOf(file.getFileName());
        if ((head.length == 9 && head[8] == '{') || fileName.endsWith(".safetensors")) {
            return new StateDict(file, Safetensors.read(file));
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] <= 5) {
            throw new ModelFormatException(file + ": a plain pickle (legacy torch.save format, before PyTorch 1.6 "
                    + "or _use_new_zipfile_serialization=False), which is not supported; re-save with "
                    + "torch.save(model.state_dict(), path) on PyTorch 1.6 or later");
        }
        throw new ModelFormatException(file + ": neither a PyTorch zip (torch.save) nor a .safetensors file");
    }

    /** The file this was read from. */
    public Path file() {
        return file;
    }

    /**
     * All tensors in file order (the state dict's insertion order; for safetensors the header's order). The map is
     * unmodifiable; the arrays inside are shared, so copy before changing them.
     */
    public Map<String, Npy.Array> tensors() {
        return tensors;
    }

    /**
     * One tensor by name.
     *
     * @throws ModelFormatException when there is none, listing the names the file has
     */
    public Npy.Array get(String name) {
        Npy.Array a = tensors.get(name);
        if (a == null) {
            throw new ModelFormatException(file + ": no tensor named '" + name + "'; the file has: "
                    + String.join(", ", tensors.keySet()));
        }
        return a;
    }

    @Override
    public String toString() {
        return "StateDict(" + file + ", " + tensors.size() + " tensors)";
    }
}
