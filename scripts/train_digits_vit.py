#!/usr/bin/python3
"""Train torchvision's VisionTransformer, at a small size, on scikit-learn's 8x8 handwritten digits and write the
gpulrp ViT example into examples/vit/: the model as ONNX (opset 17, dynamic batch), ten held-out test images (one
per class, 16x16 PNG) and the same images as exact inputs (images.npy).

The images are the digits upscaled 2x (nearest neighbour) to 16x16 and repeated over the three colour channels
torchvision's ViT takes, values v / 16 in [0, 1] (v the data set's levels 0..16). The PNGs store round(v / 16 * 255)
as gray, which gpulrp's default image preprocessing reads back as RGB with each value / 255: the model's input to
within 0.5/255, as in examples/digits.

Run with Debian's interpreter (python3-torch 1.13, python3-torchvision 0.14, python3-sklearn, python3-numpy):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/train_digits_vit.py

Seeded: split (stratified), initialization and batch order; one thread, deterministic algorithms.
"""
import os
import sys

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transformer_models as tm  # noqa: E402
from train_digits_cnn import onnx_summary, seed_everything, train, write_png_grey8  # noqa: E402

SEED = 42
TEST_FRACTION = 0.2
EPOCHS = 60
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 0.05
GREY_LEVELS = 16.0
SIZE, PATCH, LAYERS, HEADS, HIDDEN, MLP = 16, 4, 2, 4, 64, 128

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO_ROOT, "examples", "vit")
IMAGE_DIR = os.path.join(OUT_DIR, "images")


def main():
    seed_everything(SEED)

    data = load_digits()
    levels = np.asarray(data.images, dtype=np.float64)  # [1797, 8, 8], 0..16
    up = levels.repeat(2, axis=1).repeat(2, axis=2)  # [1797, 16, 16], nearest neighbour
    X = np.repeat((up / GREY_LEVELS).astype(np.float32)[:, None], 3, axis=1)  # [1797, 3, 16, 16]
    y = np.asarray(data.target, dtype=np.int64)
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=TEST_FRACTION, random_state=SEED,
                                           stratify=y)
    xt, yt = torch.from_numpy(X[idx_train]), torch.from_numpy(y[idx_train])
    xs = torch.from_numpy(X[idx_test])

    model = tm.vit(image_size=SIZE, patch_size=PATCH, num_layers=LAYERS, num_heads=HEADS, hidden_dim=HIDDEN,
                   mlp_dim=MLP, num_classes=10)
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    steps = EPOCHS * ((len(yt) + BATCH_SIZE - 1) // BATCH_SIZE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LEARNING_RATE, total_steps=steps)
    gen = torch.Generator().manual_seed(SEED)
    train(model, opt, xt, yt, EPOCHS, BATCH_SIZE, gen, every=10, digits=4, schedule=schedule)
    with torch.no_grad():
        pred_train = model(xt).argmax(1).numpy()
        logits = model(xs).numpy()
    pred = logits.argmax(1)
    y_train, y_test = y[idx_train], y[idx_test]
    ok_train, ok = int((pred_train == y_train).sum()), int((pred == y_test).sum())
    print(f"torch {torch.__version__}")
    print(f"train accuracy {ok_train / len(y_train):.4f} ({ok_train}/{len(y_train)})")
    print(f"held-out test accuracy {ok / len(y_test):.4f} ({ok}/{len(y_test)})")

    os.makedirs(IMAGE_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, "digits-vit.onnx")
    torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), path, opset_version=17, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    ir, opsets, ops, inputs, _ = onnx_summary(path)
    print(f"onnx: ir_version {ir}, opsets {opsets}, inputs {inputs}, {len(ops)} nodes: {', '.join(sorted(set(ops)))}")

    # Per class, the first test image (in test-split order) that the model classifies correctly.
    for old in os.listdir(IMAGE_DIR):
        if old.endswith(".png"):
            os.remove(os.path.join(IMAGE_DIR, old))
    chosen = [next(k for k in range(len(y_test)) if y_test[k] == c and pred[k] == c) for c in range(10)]
    for k in chosen:
        i = int(idx_test[k])
        name = f"digit{y[i]}_test{i}.png"
        write_png_grey8(os.path.join(IMAGE_DIR, name), np.floor(up[i] * 255.0 / GREY_LEVELS + 0.5).astype(np.uint8))
        print(f"{name}: label {y[i]}, predicted {pred[k]}, logit {logits[k, pred[k]]:.4f}")
    np.save(os.path.join(OUT_DIR, "images.npy"), np.ascontiguousarray(X[idx_test[chosen]], dtype=np.float32))
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT_DIR) for f in fs)
    print(f"wrote {OUT_DIR} ({total} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
