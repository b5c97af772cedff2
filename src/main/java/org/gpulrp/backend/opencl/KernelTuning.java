package org.gpulrp.backend.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.LrpException;

/**
 * The OpenCL kernels' tuning parameters for one device, resolved from data: {@code kernels/tuning.properties}
 * (defaults, then per device type, then per type and vendor), then the system properties
 * {@code gpulrp.opencl.tuning.KEY} (and {@value OpenClBackend#VARIANT_PROPERTY} for the variant), then the caller's
 * overrides. The host prepends the values to the kernel sources as {@code #define}s and sizes every launch from the
 * same record. No value changes bits: every variant and tile shape keeps each output's ascending fma chain.
 *
 * @param variant      the dense kernels' shape (never {@code AUTO})
 * @param vecRows      VECTOR: rows per work-item
 * @param vecColv      VECTOR: float16 column blocks per work-item, one-chain kernels
 * @param vecColv2     VECTOR: the same for two-chain kernels
 * @param vecColv3     VECTOR: the same for three-chain kernels
 * @param vecLocalRows VECTOR: work-group rows
 * @param tileT        TILED: work-group edge
 * @param tileW        TILED: outputs per work-item along each edge
 * @param tileK        TILED: depth of the staged slices
 * @param simpleLocalX SIMPLE: work-group columns
 * @param simpleLocalY SIMPLE: work-group rows
 * @param elementLocal elementwise kernels' work-group size
 * @param sampleLocal  per-sample kernels' work-group size
 * @param convVariant  the convolution kernels' shape (never {@code AUTO}): SIMPLE one work-item per output, VECTOR
 *                     float16 channel lanes (CPU devices), TILED local-memory weight slices (GPUs)
 * @param convVecPix   conv VECTOR: pixels per work-item (each a float16 of 16 channels per chain)
 * @param convVecOcv   conv VECTOR: float16 channel blocks per work-item of the one-chain kernels (conv_fwd,
 *                     conv_zbox, conv_back; the others take one)
 * @param convVecLocal conv VECTOR: work-group size (over pixel tiles)
 * @param convVecMin   conv VECTOR: fewest channels per group (output channels forward, input channels backward)
 *                     worth 16-channel lanes; fewer run the SIMPLE kernel
 * @param convTileP    conv TILED: work-group size, one pixel per work-item
 * @param convTileC    conv TILED: channels per work-item (register tile)
 * @param convTileK    conv TILED: depth of the staged weight slices
 * @param convMmRows   conv VECTOR products (kernels/conv_products.cl): rows per work-item
 * @param convMmVecs   conv VECTOR products: float16 pixel vectors per work-item
 * @param convMmRowsMin conv VECTOR products: fewest rows (channels per group: output channels forward, input
 *                     channels backward) for the products; fewer run the channel-lane kernels
 * @param convMmTapsMin conv VECTOR products: fewest taps a chain (the other channels of the group x the kernel's taps)
 * @param source       where the values came from, for reports (e.g. {@code gpu.nvidia})
 */
public record KernelTuning(OpenClBackend.Variant variant, int vecRows, int vecColv, int vecColv2, int vecColv3,
                           int vecLocalRows, int tileT, int tileW, int tileK, int simpleLocalX, int simpleLocalY,
                           int elementLocal, int sampleLocal, OpenClBackend.Variant convVariant, int convVecPix,
                           int convVecOcv, int convVecLocal, int convVecMin, int convTileP, int convTileC, int convTileK,
                           int convMmRows, int convMmVecs, int convMmRowsMin, int convMmTapsMin, String source) {

    /** Prefix of the system properties that override one key, e.g. {@code gpulrp.opencl.tuning.tile.w=2}. */
    public static final String PROPERTY_PREFIX = "gpulrp.opencl.tuning.";
    static final String RESOURCE = "/org/gpulrp/kernels/tuning.properties";
    /** The keys, in record order (after {@code variant}). */
    static final String[] INT_KEYS = {"vec.rows", "vec.colv", "vec.colv2", "vec.colv3", "vec.local.rows", "tile.t",
        "tile.w", "tile.k", "simple.local.x", "simple.local.y", "element.local", "sample.local", "conv.vec.pix",
        "conv.vec.ocv", "conv.vec.local", "conv.vec.min", "conv.tile.p", "conv.tile.c", "conv.tile.k", "conv.mm.rows",
        "conv.mm.vecs", "conv.mm.rows.min", "conv.mm.taps.min"};
    /** The keys whose values are kernel variants. */
    static final String[] VARIANT_KEYS = {"variant", "conv.variant"};

    public KernelTuning {
        InvalidArgumentException.check(variant != null && variant != OpenClBackend.Variant.AUTO, "variant",
                "must be simple, vector or tiled");
        range("vec.rows", vecRows, 1, 64);
        range("vec.colv", vecColv, 1, 8);
        range("vec.colv2", vecColv2, 1, 8);
        range("vec.colv3", vecColv3, 1, 8);
        range("vec.local.rows", vecLocalRows, 1, 1024);
        range("tile.t", tileT, 1, 64);
        range("tile.w", tileW, 1, 16);
        range("tile.k", tileK, 1, 256);
        range("simple.local.x", simpleLocalX, 1, 1024);
        range("simple.local.y", simpleLocalY, 1, 1024);
        range("element.local", elementLocal, 1, 4096);
        range("sample.local", sampleLocal, 1, 4096);
        InvalidArgumentException.check(convVariant != null && convVariant != OpenClBackend.Variant.AUTO,
                "conv.variant", "must be simple, vector or tiled");
        range("conv.vec.pix", convVecPix, 1, 16);
        range("conv.vec.ocv", convVecOcv, 1, 4);
        range("conv.vec.local", convVecLocal, 1, 1024);
        range("conv.vec.min", convVecMin, 1, 1 << 20);
        range("conv.tile.p", convTileP, 1, 1024);
        range("conv.tile.c", convTileC, 1, 32);
        range("conv.tile.k", convTileK, 1, 256);
        range("conv.mm.rows", convMmRows, 1, 16);
        range("conv.mm.vecs", convMmVecs, 1, 8);
        range("conv.mm.rows.min", convMmRowsMin, 1, 1 << 20);
        range("conv.mm.taps.min", convMmTapsMin, 1, 1 << 20);
    }

    private static void range(String key, int v, int lo, int hi) {
        InvalidArgumentException.check(v >= lo && v <= hi, "tuning " + key, "must be in " + lo + ".." + hi
                + "; got " + v);
    }

    /** Outputs along one edge of a TILED work-group's block. */
    public int tileB() {
        return tileT * tileW;
    }

    /** Local memory the largest TILED kernel needs (backproject_signed: two staged row slices, two column slices). */
    public long tiledLocalBytes() {
        return 4L * (2L * tileB() * (tileK + 1) + 2L * tileK * tileB());
    }

    /** Local memory the largest conv TILED kernel needs (conv_back_zbox_tiled: three staged weight slices). */
    public long convTiledLocalBytes() {
        return 4L * 3 * convTileC * convTileK;
    }

    /** The #defines the kernels read. */
    Map<String, Integer> defines() {
        Map<String, Integer> d = new LinkedHashMap<>();
        d.put("VEC_ROWS", vecRows);
        d.put("VEC_COLV", vecColv);
        d.put("VEC_COLV2", vecColv2);
        d.put("VEC_COLV3", vecColv3);
        d.put("TILE_T", tileT);
        d.put("TILE_W", tileW);
        d.put("TILE_K", tileK);
        d.put("CONV_VEC_PIX", convVecPix);
        d.put("CONV_VEC_OCV", convVecOcv);
        d.put("CONV_TILE_P", convTileP);
        d.put("CONV_TILE_C", convTileC);
        d.put("CONV_TILE_K", convTileK);
        d.put("CONV_MM_ROWS", convMmRows);
        d.put("CONV_MM_VECS", convMmVecs);
        d.put("CHAIN_LANES", chainLanes());
        return d;
    }

    /**
     * Rows one work-item of kernels/dense_chain.cl takes (its CHAIN_LANES): a row per float16 lane on CPU devices
     * (the dense VECTOR variant), one row a work-item elsewhere.
     */
    int chainLanes() {
        return variant == OpenClBackend.Variant.VECTOR ? 16 : 1;
    }

    /** The same values with another variant (e.g. after a TILED fallback). */
    KernelTuning withVariant(OpenClBackend.Variant v) {
        return new KernelTuning(v, vecRows, vecColv, vecColv2, vecColv3, vecLocalRows, tileT, tileW, tileK,
                simpleLocalX, simpleLocalY, elementLocal, sampleLocal, convVariant, convVecPix, convVecOcv,
                convVecLocal, convVecMin, convTileP, convTileC, convTileK, convMmRows, convMmVecs, convMmRowsMin,
                convMmTapsMin, source);
    }

    /** The same values with another convolution variant (e.g. after a TILED fallback). */
    KernelTuning withConvVariant(OpenClBackend.Variant v) {
        return new KernelTuning(variant, vecRows, vecColv, vecColv2, vecColv3, vecLocalRows, tileT, tileW, tileK,
                simpleLocalX, simpleLocalY, elementLocal, sampleLocal, v, convVecPix, convVecOcv, convVecLocal, convVecMin,
                convTileP, convTileC, convTileK, convMmRows, convMmVecs, convMmRowsMin, convMmTapsMin, source);
    }

    /** Short form for reports: the variant's own parameters. */
    public String summary() {
        return switch (variant) {
            case VECTOR -> "vector " + vecRows + "x" + 16 * vecColv + " per work-item";
            case TILED -> "tiled " + tileB() + "x" + tileB() + " per " + tileT + "x" + tileT + " work-group, k "
                    + tileK;
            default -> "simple " + simpleLocalX + "x" + simpleLocalY + " work-groups";
        } + "; conv " + switch (convVariant) {
            case VECTOR -> "vector " + 16 * convVecOcv + " channels x " + convVecPix
                    + " pixels per work-item, products " + convMmRows + " rows x " + 16 * convMmVecs + " pixels";
            case TILED -> "tiled " + convTileC + " channels x " + convTileP + " pixels per work-group, k " + convTileK;
            default -> "simple";
        } + " (" + source + ")";
    }

    /**
     * Resolves the tuning for a device.
     *
     * @param type      {@code CPU}, {@code GPU}, {@code ACCELERATOR}, ... as {@link DeviceDescription#type()}
     * @param names     the device's vendor-identifying names (platform and device name), matched against the vendor
     *                  keys of the table in lower case
     * @param overrides keys of the table without scope (e.g. {@code tile.w}, {@code variant}); wins over all else
     */
    public static KernelTuning resolve(String type, String names, Map<String, String> overrides) {
        return resolve(type, names, 0, overrides);
    }

    /**
     * As {@link #resolve(String, String, Map)}, with the device's native float vector width: the table's
     * {@code <type>.simd<width>.*} keys apply after {@code <type>.*} and before the vendor's (a CPU device with 8-float
     * vectors has AVX2's 16 registers, where the 16-float tiles tuned for AVX-512 spill). 0: no such scope.
     */
    public static KernelTuning resolve(String type, String names, int floatWidth, Map<String, String> overrides) {
        return resolve(type, names, floatWidth, overrides, table(), System.getProperties());
    }

    static KernelTuning resolve(String type, String names, Map<String, String> overrides, Properties table,
                                Properties system) {
        return resolve(type, names, 0, overrides, table, system);
    }

    static KernelTuning resolve(String type, String names, int floatWidth, Map<String, String> overrides,
                                Properties table, Properties system) {
        String t = type.toLowerCase(Locale.ROOT);
        String lowerNames = names.toLowerCase(Locale.ROOT);
        Map<String, String> v = new LinkedHashMap<>();
        StringBuilder source = new StringBuilder("default");
        take(table, "default.", v);
        if (take(table, t + ".", v)) {
            source.append(", ").append(t);
        }
        if (floatWidth > 0 && take(table, t + ".simd" + floatWidth + ".", v)) {
            source.append(", ").append(t).append(".simd").append(floatWidth);
        }
        for (String key : table.stringPropertyNames()) {
            String[] parts = key.split("\\.", 3);
            if (parts.length == 3 && parts[0].equals(t) && !isParam(parts[1] + "." + parts[2])
                    && lowerNames.contains(parts[1]) && source.indexOf(t + "." + parts[1]) < 0) {
                take(table, t + "." + parts[1] + ".", v);
                source.append(", ").append(t).append('.').append(parts[1]);
            }
        }
        for (String key : system.stringPropertyNames()) {
            if (key.startsWith(PROPERTY_PREFIX)) {
                v.put(checkKey(key.substring(PROPERTY_PREFIX.length()), key), system.getProperty(key).trim());
                source.append(", -D").append(key);
            }
        }
        String forced = system.getProperty(OpenClBackend.VARIANT_PROPERTY);
        if (forced != null && !forced.isBlank() && !forced.trim().equalsIgnoreCase("auto")) {
            v.put("variant", forced.trim());
            source.append(", -D").append(OpenClBackend.VARIANT_PROPERTY);
        }
        if (overrides != null && !overrides.isEmpty()) {
            overrides.forEach((k, val) -> v.put(checkKey(k, k), val == null ? "" : val.trim()));
            source.append(", overrides");
        }
        int[] ints = new int[INT_KEYS.length];
        for (int k = 0; k < ints.length; k++) {
            ints[k] = parse(INT_KEYS[k], v.get(INT_KEYS[k]));
        }
        return new KernelTuning(variant("variant", v.get("variant")), ints[0], ints[1], ints[2], ints[3], ints[4],
                ints[5], ints[6], ints[7], ints[8], ints[9], ints[10], ints[11],
                variant("conv.variant", v.get("conv.variant")), ints[12], ints[13], ints[14], ints[15], ints[16],
                ints[17], ints[18], ints[19], ints[20], ints[21], ints[22], source.toString());
    }

    private static boolean isParam(String key) {
        for (String k : VARIANT_KEYS) {
            if (k.equals(key)) {
                return true;
            }
        }
        for (String k : INT_KEYS) {
            if (k.equals(key)) {
                return true;
            }
        }
        return false;
    }

    private static String checkKey(String key, String shownAs) {
        if (!isParam(key)) {
            throw new InvalidArgumentException(shownAs, "is not a kernel tuning key; known: "
                    + String.join(", ", VARIANT_KEYS) + ", " + String.join(", ", INT_KEYS));
        }
        return key;
    }

    /** Copies the entries under {@code prefix} that are parameters; true when there was one. */
    private static boolean take(Properties table, String prefix, Map<String, String> into) {
        boolean any = false;
        for (String key : table.stringPropertyNames()) {
            if (key.startsWith(prefix) && isParam(key.substring(prefix.length()))) {
                into.put(key.substring(prefix.length()), table.getProperty(key).trim());
                any = true;
            }
        }
        return any;
    }

    private static int parse(String key, String value) {
        if (value == null) {
            throw new LrpException("kernel tuning table " + RESOURCE + " has no value for '" + key + "'");
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException("tuning " + key, "must be an integer; got '" + value + "'");
        }
    }

    private static OpenClBackend.Variant variant(String key, String value) {
        if (value == null) {
            throw new LrpException("kernel tuning table " + RESOURCE + " has no value for '" + key + "'");
        }
        try {
            OpenClBackend.Variant v = OpenClBackend.Variant.valueOf(value.toUpperCase(Locale.ROOT));
            if (v != OpenClBackend.Variant.AUTO) {
                return v;
            }
        } catch (IllegalArgumentException | NullPointerException e) {
            // reported below
        }
        throw new InvalidArgumentException("tuning " + key, "must be one of simple, vector, tiled; got '" + value
                + "'");
    }

    /** The table shipped with the kernels. */
    static Properties table() {
        Properties p = new Properties();
        try (InputStream in = KernelTuning.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new LrpException("kernel tuning table " + RESOURCE + " is missing from the classpath");
            }
            p.load(in);
        } catch (IOException e) {
            throw new LrpException("cannot read the kernel tuning table " + RESOURCE + ": " + e.getMessage(), e);
        }
        return p;
    }
}
