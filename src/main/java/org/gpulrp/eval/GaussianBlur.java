package org.gpulrp.eval;

/**
 * A separable Gaussian blur of planes of {@code height x width} pixels, the {@code blur} baseline (docs/DESIGN.md
 * section 2.10): taps {@code exp(-t^2 / (2 sigma^2))} for {@code t} in {@code -r .. r}, {@code r = floor(4 sigma +
 * 0.5)}, divided by their sum; edges mirrored with the edge pixel repeated ({@code d c b a | a b c d | d c b a}, as
 * scipy.ndimage's default); along each row first, then each column, in double, taps in ascending order; rounded to
 * float once at the end.
 */
final class GaussianBlur {
    private GaussianBlur() {
    }

    static double[] taps(double sigma) {
        int r = (int) (4 * sigma + 0.5);
        double[] w = new double[2 * r + 1];
        double sum = 0;
        for (int t = -r; t <= r; t++) {
            w[t + r] = Math.exp(-0.5 * t * t / (sigma * sigma));
            sum += w[t + r];
        }
        for (int i = 0; i < w.length; i++) {
            w[i] /= sum;
        }
        return w;
    }

    /** The pixel index that {@code i} reads, mirrored into {@code 0 .. n - 1}. */
    static int mirror(int i, int n) {
        int m = Math.floorMod(i, 2 * n);
        return m < n ? m : 2 * n - 1 - m;
    }

    /** Blurs every plane of {@code data} (consecutive {@code height x width} blocks). */
    static float[] apply(float[] data, int height, int width, double sigma) {
        double[] w = taps(sigma);
        int r = w.length / 2;
        int plane = height * width;
        float[] out = new float[data.length];
        double[] rows = new double[plane];
        for (int p0 = 0; p0 < data.length; p0 += plane) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    double acc = 0;
                    for (int t = -r; t <= r; t++) {
                        acc += w[t + r] * data[p0 + y * width + mirror(x + t, width)];
                    }
                    rows[y * width + x] = acc;
                }
            }
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    double acc = 0;
                    for (int t = -r; t <= r; t++) {
                        acc += w[t + r] * rows[mirror(y + t, height) * width + x];
                    }
                    out[p0 + y * width + x] = (float) acc;
                }
            }
        }
        return out;
    }
}
