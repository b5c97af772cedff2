#!/usr/bin/python3
"""Makes the small test images under src/test/resources/images/ and Pillow's reference tensors for them.

Run with Debian's python3 (python3-pil, python3-numpy): /usr/bin/python3 scripts/make_image_fixtures.py
The references follow torchvision's PIL pipeline: Resize(size) (shorter side to size, Pillow BILINEAR),
CenterCrop(crop) with offsets int(round((h - crop) / 2.0)), ToTensor (uint8 / 255 in float32), Normalize.
"""
import os

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'test', 'resources', 'images')
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def known(x, y):
    """The pixel formula the Java test repeats: every channel differs, none saturates."""
    return (10 + 40 * x + 7 * y, 200 - 30 * y - 5 * x, 3 + 40 * x + 50 * y)


def reference(img, size, crop, mean, std):
    """torchvision's Resize(size) + CenterCrop(crop) + ToTensor + Normalize, on a PIL image, as [1, C, H, W]."""
    w, h = img.size
    short, long_ = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long_ / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    img = img.resize((new_w, new_h), Image.BILINEAR)
    top = int(round((new_h - crop) / 2.0))
    left = int(round((new_w - crop) / 2.0))
    img = img.crop((left, top, left + crop, top + crop))
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    t = a.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    t = (t - mean[:, None, None]) / std[:, None, None]
    return t[None].astype(np.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    # 4 wide, 3 high, known values: PNG exact; the same as RGBA (alpha must be ignored), palette and gray PNGs.
    px = np.array([[known(x, y) for x in range(4)] for y in range(3)], dtype=np.uint8)
    Image.fromarray(px, 'RGB').save(os.path.join(OUT, 'known_4x3.png'))
    alpha = np.array([[(17 * (x + 4 * y)) % 256 for x in range(4)] for y in range(3)], dtype=np.uint8)
    Image.fromarray(np.dstack([px, alpha]), 'RGBA').save(os.path.join(OUT, 'known_4x3_rgba.png'))
    Image.fromarray(px, 'RGB').quantize(colors=12, method=Image.Quantize.MEDIANCUT).save(
        os.path.join(OUT, 'known_4x3_palette.png'))
    gray = np.array([[20 * x + 70 * y + 5 for x in range(4)] for y in range(3)], dtype=np.uint8)
    Image.fromarray(gray, 'L').save(os.path.join(OUT, 'gray_4x3.png'))
    # JPEG: two flat 8x8 blocks, 4:4:4, quality 100, so decoders agree with the colours to a level or two.
    blocks = np.zeros((8, 16, 3), dtype=np.uint8)
    blocks[:, :8] = (200, 40, 90)
    blocks[:, 8:] = (30, 160, 220)
    Image.fromarray(blocks, 'RGB').save(os.path.join(OUT, 'blocks_16x8.jpg'), quality=100, subsampling=0)
    # A 40 wide, 30 high smooth image with noise, for resize + crop geometry against Pillow.
    rng = np.random.default_rng(20240601)
    yy, xx = np.mgrid[0:30, 0:40]
    photo = np.stack([
        128 + 100 * np.sin(xx / 6.0) * np.cos(yy / 9.0),
        40 + 5 * xx + 2 * yy,
        255 - 6 * yy - xx,
    ], axis=-1) + rng.normal(0, 12, (30, 40, 3))
    photo = Image.fromarray(photo.clip(0, 255).round().astype(np.uint8), 'RGB')
    photo.save(os.path.join(OUT, 'photo_40x30.png'))
    np.save(os.path.join(OUT, 'photo_r16_c12_imagenet.npy'),
            reference(photo, 16, 12, IMAGENET_MEAN, IMAGENET_STD))
    np.save(os.path.join(OUT, 'photo_r45_c9_imagenet.npy'),
            reference(photo, 45, 9, IMAGENET_MEAN, IMAGENET_STD))
    np.save(os.path.join(OUT, 'photo_gray_r16_c12.npy'),
            reference(photo.convert('L'), 16, 12, np.array([0.5], np.float32), np.array([0.25], np.float32)))


if __name__ == '__main__':
    main()
