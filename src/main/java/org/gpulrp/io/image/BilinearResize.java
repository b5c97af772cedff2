package org.gpulrp.io.image;

/**
 * Bilinear resampling of 8-bit planes as Pillow's {@code Image.resize(size, BILINEAR)} does it: a triangle filter
 * whose support widens with the scale factor when shrinking (antialiasing), coefficients in 22-bit fixed point,
 * a horizontal pass rounded to 8 bits, then a vertical pass. The arithmetic follows Pillow's published algorithm
 * ({@code libImaging/Resample.c}), so the results equal Pillow's for 8-bit images (checked against Pillow 9.4
 * fixtures); torchvision's {@code Resize} on a PIL image calls exactly this.
 */
final class BilinearResize {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private BilinearResize() {
    }

    /** The filter weights for one axis: output i reads inputs {@code first[i] .. first[i] + count[i] - 1}. */
    private record Coefficients(int[] first, int[] count, int[] weights, int stride) {
    }

    static Pixels resize(Pixels in, int width, int height) {
        if (width == in.width && height == in.height) {
            return in;
        }
        Pixels p = in;
        if (width != in.width) {
            p = horizontal(p, width, coefficients(in.width, width));
        }
        if (height != in.height) {
            p = vertical(p, height, coefficients(in.height, height));
        }
        return p;
    }

    private static Coefficients coefficients(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filterScale; // the triangle's support is 1 pixel at scale 1
        int stride = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        int[] weights = new int[outSize * stride];
        double[] k = new double[stride];
        for (int i = 0; i < outSize; i++) {
            double center = (i + 0.5) * scale;
            double inverse = 1.0 / filterScale;
            int lo = Math.max((int) (center - support + 0.5), 0);
            int hi = Math.min((int) (center + support + 0.5), inSize);
            int n = hi - lo;
            double sum = 0.0;
            for (int x = 0; x < n; x++) {
                double w = triangle((x + lo - center + 0.5) * inverse);
                k[x] = w;
                sum += w;
            }
            for (int x = 0; x < n; x++) {
                double w = sum != 0.0 ? k[x] / sum : k[x];
                // to fixed point, rounding half away from zero as Pillow does
                weights[i * stride + x] = w < 0 ? (int) (-0.5 + w * (1 << PRECISION_BITS))
                        : (int) (0.5 + w * (1 << PRECISION_BITS));
            }
            first[i] = lo;
            count[i] = n;
        }
        return new Coefficients(first, count, weights, stride);
    }

    private static double triangle(double x) {
        double a = x < 0.0 ? -x : x;
        return a < 1.0 ? 1.0 - a : 0.0;
    }

    private static int clip8(int acc) {
        int v = acc >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    private static Pixels horizontal(Pixels in, int width, Coefficients co) {
        int[][] out = new int[in.channels()][width * in.height];
        for (int c = 0; c < in.channels(); c++) {
            int[] src = in.planes[c];
            int[] dst = out[c];
            for (int y = 0; y < in.height; y++) {
                int row = y * in.width;
                for (int x = 0; x < width; x++) {
                    int acc = 1 << (PRECISION_BITS - 1);
                    int base = x * co.stride;
                    for (int k = 0; k < co.count[x]; k++) {
                        acc += src[row + co.first[x] + k] * co.weights[base + k];
                    }
                    dst[y * width + x] = clip8(acc);
                }
            }
        }
        return new Pixels(width, in.height, out);
    }

    private static Pixels vertical(Pixels in, int height, Coefficients co) {
        int w = in.width;
        int[][] out = new int[in.channels()][w * height];
        for (int c = 0; c < in.channels(); c++) {
            int[] src = in.planes[c];
            int[] dst = out[c];
            for (int y = 0; y < height; y++) {
                int base = y * co.stride;
                for (int x = 0; x < w; x++) {
                    int acc = 1 << (PRECISION_BITS - 1);
                    for (int k = 0; k < co.count[y]; k++) {
                        acc += src[(co.first[y] + k) * w + x] * co.weights[base + k];
                    }
                    dst[y * w + x] = clip8(acc);
                }
            }
        }
        return new Pixels(w, height, out);
    }
}
