package org.gpulrp.io.torch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.gpulrp.io.Npy;

/** Test-side writers and readers: safetensors by hand, stored zips with chosen entries, npz expectations. */
final class TorchFiles {
    private TorchFiles() {
    }

    static Path resource(String name) {
        try {
            return Path.of(TorchFiles.class.getResource("/torch/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource /torch/" + name, e);
        }
    }

    /** np.savez output: a zip of NAME.npy entries, in order. */
    static Map<String, Npy.Array> npz(Path file) throws IOException {
        Map<String, Npy.Array> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> en = z.entries();
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                try (InputStream in = z.getInputStream(e)) {
                    String name = e.getName().substring(0, e.getName().length() - 4);
                    out.put(name, Npy.read(in, e.getName(), e.getSize()));
                }
            }
        }
        return out;
    }

    /** All entries of a zip, in order. */
    static Map<String, byte[]> entries(Path zip) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> en = z.entries();
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                try (InputStream in = z.getInputStream(e)) {
                    out.put(e.getName(), in.readAllBytes());
                }
            }
        }
        return out;
    }

    /** Writes a zip with stored (uncompressed) entries, as torch.save does. */
    static Path zip(Path file, Map<String, byte[]> entries) {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                ze.setMethod(ZipEntry.STORED);
                ze.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                ze.setCrc(crc.getValue());
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** A safetensors tensor to write: dtype name, shape and raw little-endian bytes. */
    record Tensor(String dtype, long[] shape, byte[] raw) {
    }

    static Tensor f32(long[] shape, float... v) {
        ByteBuffer bb = le(4 * v.length);
        for (float x : v) {
            bb.putFloat(x);
        }
        return new Tensor("F32", shape, bb.array());
    }

    static Tensor f64(long[] shape, double... v) {
        ByteBuffer bb = le(8 * v.length);
        for (double x : v) {
            bb.putDouble(x);
        }
        return new Tensor("F64", shape, bb.array());
    }

    static Tensor i64(long[] shape, long... v) {
        ByteBuffer bb = le(8 * v.length);
        for (long x : v) {
            bb.putLong(x);
        }
        return new Tensor("I64", shape, bb.array());
    }

    /** Raw 16-bit patterns for F16 or BF16. */
    static Tensor bits16(String dtype, long[] shape, int... bits) {
        ByteBuffer bb = le(2 * bits.length);
        for (int x : bits) {
            bb.putShort((short) x);
        }
        return new Tensor(dtype, shape, bb.array());
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Writes a safetensors file, tensors laid out in order. */
    static Path safetensors(Path file, Map<String, Tensor> tensors) {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            StringBuilder shape = new StringBuilder();
            for (long d : t.shape()) {
                shape.append(shape.length() == 0 ? "" : ",").append(d);
            }
            json.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"").append(t.dtype())
                    .append("\",\"shape\":[").append(shape).append("],\"data_offsets\":[").append(data.size())
                    .append(',').append(data.size() + t.raw().length).append("]}");
            data.writeBytes(t.raw());
        }
        json.append('}');
        return safetensors(file, json.toString(), data.toByteArray());
    }

    /** Writes a safetensors file from a header and data given verbatim. */
    static Path safetensors(Path file, String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = le(8 + h.length + data.length);
        bb.putLong(h.length).put(h).put(data);
        try {
            Files.write(file, bb.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
