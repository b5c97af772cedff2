/**
 * Images in, heatmaps out. {@link org.gpulrp.io.image.Images} reads PNG and JPEG files into an {@code [N, C, H, W]}
 * tensor the way torchvision's PIL pipeline does ({@link org.gpulrp.io.image.Preprocess}: Resize, CenterCrop,
 * ToTensor, Normalize); {@link org.gpulrp.io.image.Heatmaps} turns relevance back into images with a diverging
 * {@link org.gpulrp.io.image.Palette}, blends them over the input and lays a batch out as a grid.
 *
 * <pre>{@code
 * Images.Batch batch = Images.read(Images.list(Path.of("photos")), Preprocess.imagenet());
 * Explanation e = explainer.explain(batch.tensor(), Target.argmax());
 * for (int i = 0; i < batch.size(); i++) {
 *     BufferedImage heat = Heatmaps.render(e.relevance(), i, Palette.BWR);
 *     Heatmaps.writePng(Heatmaps.blend(heat, batch.images().get(i), 0.6), out.resolve(batch.name(i) + ".png"));
 * }
 * }</pre>
 */
package org.gpulrp.io.image;
