package org.gpulrp.io.image;

import java.awt.image.BufferedImage;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Tensor;
import org.gpulrp.io.FormatException;

/**
 * Reads image files into an {@code [N, C, H, W]} float32 tensor (RGB order, or one gray channel) following
 * {@link Preprocess}, as torchvision's {@code Resize -> CenterCrop -> ToTensor -> Normalize} on a PIL image.
 *
 * <p>Decoding is {@code javax.imageio}: PNG and JPEG (also the other formats it reads, such as BMP and GIF). PNG
 * pixels are exact; JPEG decoders differ from libjpeg (Pillow) by a level or two per sample. Alpha is ignored (the
 * colour samples are used as stored, like Pillow's {@code convert("RGB")}); there is no colour management. The
 * resize is Pillow's bilinear filter with its antialiasing when shrinking, reproduced to the bit for 8-bit images
 * (see {@code BilinearResize}); the arithmetic after it is float32 as in torch: {@code (v / 255f - mean) / std}.
 */
public final class Images {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");
    /** Largest image decoded, in pixels: Pillow's {@code MAX_IMAGE_PIXELS} (1 GiB / 4 / 3, about 89 megapixels). */
    public static final long MAX_PIXELS = (1L << 30) / 4 / 3;
    /**
     * Most pixels one byte of file can encode: a 1-bit PNG row packs 8 pixels per byte and deflate expands at most
     * 1032:1; a JPEG codes at least one bit per component per MCU of at most 32x32 pixels (8192 pixels per byte).
     */
    public static final long MAX_PIXELS_PER_BYTE = 8L * 1032;

    private Images() {
    }

    /**
     * A batch read from files.
     *
     * @param files  the files, in batch order
     * @param tensor the model input, {@code [N, C, H, W]}
     * @param images each file after resize and crop, before scaling and normalization (what the model sees), as
     *               RGB images for {@link Heatmaps#blend}
     */
    public record Batch(List<Path> files, Tensor tensor, List<BufferedImage> images) {
        public Batch {
            files = List.copyOf(files);
            images = List.copyOf(images);
        }

        public int size() {
            return files.size();
        }

        /** The file name of sample {@code i} without its extension, for naming heatmap files. */
        public String name(int i) {
            String n = files.get(i).getFileName().toString();
            int dot = n.lastIndexOf('.');
            return dot > 0 ? n.substring(0, dot) : n;
        }
    }

    /**
     * The image files to read: {@code fileOrDir} itself if it is a file, else the {@code .png}, {@code .jpg} and
     * {@code .jpeg} files directly inside the folder (any case, hidden files skipped), sorted by name.
     */
    public static List<Path> list(Path fileOrDir) {
        if (Files.isRegularFile(fileOrDir)) {
            return List.of(fileOrDir);
        }
        if (!Files.isDirectory(fileOrDir)) {
            throw new InvalidArgumentException("input", "no such file or folder: " + fileOrDir);
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(fileOrDir)) {
            s.filter(Files::isRegularFile).filter(Images::isImageName).forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + fileOrDir + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new InvalidArgumentException("input", "folder " + fileOrDir + " holds no .png, .jpg or .jpeg "
                    + "files; point to a folder of images or to one image file");
        }
        out.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
        return List.copyOf(out);
    }

    private static boolean isImageName(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return !n.startsWith(".") && EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    /** The model input for {@code files}, {@code [N, C, H, W]}; see {@link #read}. */
    public static Tensor load(List<Path> files, Preprocess p) {
        return read(files, p).tensor();
    }

    /** The model input for {@link #list(Path) list(fileOrDir)}. */
    public static Tensor load(Path fileOrDir, Preprocess p) {
        return load(list(fileOrDir), p);
    }

    /**
     * Decodes, resizes, crops and normalizes every file. All images must end up the same size: always true with a
     * crop; without one, a file whose size differs from the first file's is refused, naming both.
     */
    public static Batch read(List<Path> files, Preprocess p) {
        InvalidArgumentException.check(!files.isEmpty(), "files", "no image files given");
        List<BufferedImage> shown = new ArrayList<>(files.size());
        float[] data = null;
        int h = 0;
        int w = 0;
        int c = p.channels();
        for (int n = 0; n < files.size(); n++) {
            Path f = files.get(n);
            Pixels px = prepare(decode(f), p, f);
            if (n == 0) {
                h = px.height;
                w = px.width;
                data = new float[Math.multiplyExact(Math.multiplyExact(files.size(), c), h * w)];
            } else if (px.height != h || px.width != w) {
                throw new ShapeMismatchException("image size of " + f, w + "x" + h + " (width x height) like "
                        + files.get(0), px.width + "x" + px.height + "; set a crop so that every image has one size");
            }
            for (int ch = 0; ch < c; ch++) {
                float m = p.meanOf(ch);
                float s = p.stdOf(ch);
                int[] plane = px.planes[ch];
                int base = (n * c + ch) * h * w;
                for (int k = 0; k < plane.length; k++) {
                    data[base + k] = (plane[k] / 255f - m) / s;
                }
            }
            shown.add(px.toImage());
        }
        return new Batch(files, new Tensor(data, files.size(), c, h, w), shown);
    }

    /**
     * Decodes one file; a missing file or one that is not an image is refused, naming it. The size the file claims is
     * checked before any pixel memory is allocated: at most {@link #MAX_PIXELS} pixels, and at most
     * {@link #MAX_PIXELS_PER_BYTE} pixels per byte of file (no PNG or JPEG compresses further), so a corrupt or
     * hostile header cannot make the decoder allocate gigabytes.
     *
     * @throws FormatException      when the file is not a complete image or claims a size it cannot hold
     * @throws UncheckedIOException when the file cannot be read at all
     */
    public static BufferedImage decode(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidArgumentException("image", "no such file: " + file);
        }
        BufferedImage img;
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new FormatException(file + ": not an image that javax.imageio can read; expected PNG or JPEG");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                checkSize(file, reader.getWidth(0), reader.getHeight(0), Files.size(file));
                img = reader.read(0, reader.getDefaultReadParam());
            } finally {
                reader.dispose();
            }
        } catch (IIOException | EOFException e) {
            throw new FormatException(file + ": cannot decode the image (" + e.getMessage() + "); is it a complete "
                    + "PNG or JPEG file?", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (FormatException e) {
            throw e;
        } catch (RuntimeException e) {
            // decoders throw unchecked exceptions on some corrupt streams
            throw new FormatException(file + ": cannot decode the image (" + e + "); is it a complete PNG or JPEG "
                    + "file?", e);
        }
        if (img == null) {
            throw new FormatException(file + ": not an image that javax.imageio can read; expected PNG or JPEG");
        }
        return img;
    }

    /** Refuses a claimed size beyond {@link #MAX_PIXELS} or beyond what {@code fileBytes} can encode. */
    private static void checkSize(Path file, int width, int height, long fileBytes) {
        long pixels = (long) width * height;
        if (width <= 0 || height <= 0) {
            throw new FormatException(file + ": the image claims a size of " + width + "x" + height);
        }
        if (pixels > MAX_PIXELS) {
            throw new FormatException(file + ": the image claims " + width + "x" + height + " = " + pixels
                    + " pixels, more than the " + MAX_PIXELS + " gpulrp decodes (the same limit as Pillow's "
                    + "decompression-bomb check); resize it first");
        }
        if (pixels > MAX_PIXELS_PER_BYTE * fileBytes) {
            throw new FormatException(file + ": the image claims " + width + "x" + height + " pixels, which its "
                    + fileBytes + " bytes cannot encode (at most " + MAX_PIXELS_PER_BYTE + " pixels per byte); the "
                    + "file is truncated or its header is corrupt");
        }
    }

    /** Channel conversion, then Resize (shorter side), then CenterCrop, as 8-bit planes. */
    static Pixels prepare(BufferedImage img, Preprocess p, Path name) {
        Pixels px = Pixels.of(img);
        px = p.grayscale() ? px.gray() : px.rgb();
        if (p.resize() > 0) {
            int[] size = resizedSize(px.width, px.height, p.resize());
            px = BilinearResize.resize(px, size[0], size[1]);
        }
        if (p.crop() > 0) {
            int crop = p.crop();
            if (crop > px.width || crop > px.height) {
                throw new InvalidArgumentException("crop", name + " is " + px.width + "x" + px.height
                        + " (width x height) after resizing, smaller than the crop " + crop
                        + "; resize to at least " + crop + " or lower the crop");
            }
            // torchvision: int(round((h - crop) / 2.0)), Python's round is half to even
            int top = (int) Math.rint((px.height - crop) / 2.0);
            int left = (int) Math.rint((px.width - crop) / 2.0);
            px = px.crop(left, top, crop);
        }
        return px;
    }

    /** torchvision's {@code Resize(size)}: shorter side to size, longer to {@code int(size * long / short)}. */
    static int[] resizedSize(int width, int height, int size) {
        boolean portrait = width <= height;
        int shortSide = portrait ? width : height;
        int longSide = portrait ? height : width;
        int newLong = (int) ((double) ((long) size * longSide) / shortSide);
        return portrait ? new int[] {size, newLong} : new int[] {newLong, size};
    }
}
