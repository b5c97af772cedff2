package org.gpulrp.io.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * An 8-bit image as planes ({@code planes[c][y * width + x]}, values 0..255), with 1 (gray) or 3 (RGB) channels.
 * Alpha is dropped, as Pillow's {@code convert("RGB")} does (torchvision's default image loader).
 */
final class Pixels {
    final int width;
    final int height;
    final int[][] planes;

    Pixels(int width, int height, int[][] planes) {
        this.width = width;
        this.height = height;
        this.planes = planes;
    }

    int channels() {
        return planes.length;
    }

    /**
     * The decoded samples without colour management, as Pillow reads them: gray and RGB component images come
     * straight from the raster (an embedded ICC profile is ignored, and {@code getRGB} would push Java's linear gray
     * through a gamma curve); 16-bit samples keep their high byte.
     */
    static Pixels of(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        Raster r = img.getRaster();
        if (img.getColorModel() instanceof ComponentColorModel cm
                && (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY
                || cm.getColorSpace().getType() == ColorSpace.TYPE_RGB)) {
            int colours = cm.getNumColorComponents();
            int transfer = r.getTransferType();
            int shift = transfer == DataBuffer.TYPE_BYTE ? 0 : transfer == DataBuffer.TYPE_USHORT ? 8 : -1;
            if ((colours == 1 || colours == 3) && shift >= 0) {
                int[][] planes = new int[colours][w * h];
                int[] row = new int[w];
                for (int c = 0; c < colours; c++) {
                    for (int y = 0; y < h; y++) {
                        r.getSamples(0, y, w, 1, c, row);
                        for (int x = 0; x < w; x++) {
                            planes[c][y * w + x] = row[x] >> shift;
                        }
                    }
                }
                return new Pixels(w, h, planes);
            }
        }
        // Palette images map exactly through getRGB; anything else (CMYK, custom spaces) is converted by Java2D.
        boolean gray = img.getColorModel() instanceof IndexColorModel icm && isGray(icm);
        int[][] planes = new int[gray ? 1 : 3][w * h];
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int k = 0; k < argb.length; k++) {
            planes[0][k] = argb[k] >> 16 & 0xff;
            if (!gray) {
                planes[1][k] = argb[k] >> 8 & 0xff;
                planes[2][k] = argb[k] & 0xff;
            }
        }
        return new Pixels(w, h, planes);
    }

    private static boolean isGray(IndexColorModel icm) {
        for (int k = 0; k < icm.getMapSize(); k++) {
            if (icm.getRed(k) != icm.getGreen(k) || icm.getGreen(k) != icm.getBlue(k)) {
                return false;
            }
        }
        return true;
    }

    /** Three channels; a gray image repeats its plane, as Pillow's {@code convert("RGB")} of an "L" image. */
    Pixels rgb() {
        return planes.length == 3 ? this : new Pixels(width, height, new int[][] {planes[0], planes[0], planes[0]});
    }

    /** One channel: Pillow's "L" conversion, {@code (R*19595 + G*38470 + B*7471 + 0x8000) >> 16} (ITU-R 601-2). */
    Pixels gray() {
        if (planes.length == 1) {
            return this;
        }
        int[] l = new int[width * height];
        for (int k = 0; k < l.length; k++) {
            l[k] = (planes[0][k] * 19595 + planes[1][k] * 38470 + planes[2][k] * 7471 + 0x8000) >> 16;
        }
        return new Pixels(width, height, new int[][] {l});
    }

    /** The {@code size x size} window at ({@code left}, {@code top}). */
    Pixels crop(int left, int top, int size) {
        int[][] out = new int[planes.length][size * size];
        for (int c = 0; c < planes.length; c++) {
            for (int y = 0; y < size; y++) {
                System.arraycopy(planes[c], (top + y) * width + left, out[c], y * size, size);
            }
        }
        return new Pixels(size, size, out);
    }

    /** As a TYPE_INT_RGB image (gray repeated over R, G and B). */
    BufferedImage toImage() {
        Pixels p = rgb();
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[width * height];
        for (int k = 0; k < rgb.length; k++) {
            rgb[k] = p.planes[0][k] << 16 | p.planes[1][k] << 8 | p.planes[2][k];
        }
        img.setRGB(0, 0, width, height, rgb, 0, width);
        return img;
    }
}
