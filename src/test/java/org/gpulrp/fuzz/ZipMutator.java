package org.gpulrp.fuzz;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Mutations of a torch.save zip from the inside: the pickle, a storage entry or the entry list is changed and the
 * zip written again (valid CRCs and sizes), so the mutant gets past the zip reader to the unpickler and to the
 * checks of storages against the pickle. Raw mutations of the zip bytes are left to {@link Mutator}.
 */
final class ZipMutator {
    private ZipMutator() {
    }

    static byte[] mutate(Random r, byte[] zip, List<byte[]> others) {
        Map<String, byte[]> entries = entries(zip);
        if (entries.isEmpty()) {
            return Mutator.havoc(r, zip, others, 3);
        }
        List<String> names = new ArrayList<>(entries.keySet());
        String pkl = names.stream().filter(n -> n.endsWith("data.pkl")).findFirst().orElse(names.get(0));
        int choice = r.nextInt(10);
        if (choice < 6) { // the pickle: most of the interesting decisions live there
            entries.put(pkl, PickleMutator.mutate(r, entries.get(pkl), pickles(others)));
        } else if (choice == 6) { // a storage or other entry: resized or corrupted
            String n = names.get(r.nextInt(names.size()));
            byte[] b = entries.get(n);
            entries.put(n, switch (r.nextInt(3)) {
                case 0 -> Arrays.copyOf(b, b.length == 0 ? 0 : r.nextInt(b.length));
                case 1 -> Arrays.copyOf(b, b.length + 1 + r.nextInt(32));
                default -> Mutator.havoc(r, b, List.of(b), 2);
            });
        } else if (choice == 7) { // an entry removed or renamed
            String n = names.get(r.nextInt(names.size()));
            byte[] b = entries.remove(n);
            if (r.nextBoolean()) {
                String[] to = {n + "x", n.replaceAll("/[^/]*$", "/99"), "other/data.pkl", n.replace("data/", ""),
                    n.replaceFirst("^[^/]*/", "")};
                entries.put(to[r.nextInt(to.length)], b);
            }
        } else if (choice == 8) { // byteorder / version entries
            String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
            String[] values = {"big", "little", "middle", "", "big\n"};
            entries.put(prefix + "byteorder", values[r.nextInt(values.length)].getBytes(StandardCharsets.US_ASCII));
        } else { // both the pickle and a second round on it
            byte[] p = PickleMutator.mutate(r, entries.get(pkl), pickles(others));
            entries.put(pkl, PickleMutator.mutate(r, p, pickles(others)));
        }
        return write(entries, r.nextInt(4) == 0);
    }

    private static List<byte[]> pickles(List<byte[]> zips) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] z : zips) {
            entries(z).forEach((n, b) -> {
                if (n.endsWith("data.pkl")) {
                    out.add(b);
                }
            });
        }
        return out.isEmpty() ? List.of(new byte[] {'.'}) : out;
    }

    /** The entries of a zip in order; empty when it is not one. */
    static Map<String, byte[]> entries(byte[] zip) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                out.put(e.getName(), in.readAllBytes());
            }
        } catch (IOException | RuntimeException e) {
            out.clear();
        }
        return out;
    }

    /** A zip of the entries, stored (as torch.save writes) or deflated. */
    static byte[] write(Map<String, byte[]> entries, boolean deflate) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                if (!deflate) {
                    ze.setMethod(ZipEntry.STORED);
                    ze.setSize(e.getValue().length);
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setCrc(crc.getValue());
                }
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
