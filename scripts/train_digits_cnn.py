#!/usr/bin/python3
"""Train a small CNN on scikit-learn's 8x8 handwritten digits and write the
gpulrp image example into examples/digits/.

Run with Debian's interpreter (python3-torch, python3-sklearn, python3-numpy):

    /usr/bin/python3 scripts/train_digits_cnn.py

The run is deterministic: fixed seeds, one CPU thread, deterministic torch
algorithms, a seeded generator for the mini-batch order.  Running it twice
gives byte-identical files.  PNGs are written by a small zlib-based writer in
this file, so no imaging library is needed.  The Java build and tests never
run this script; they only read its committed outputs.
"""

import os
import random
import struct
import sys
import zlib

import numpy as np
import sklearn
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 42
TEST_FRACTION = 0.2
EPOCHS = 40
BATCH_SIZE = 64
LEARNING_RATE = 0.002
GREY_LEVELS = 16.0  # load_digits pixels are integers 0..16

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO_ROOT, "examples", "digits")
IMAGE_DIR = os.path.join(OUT_DIR, "images")

# The same network as a gpulrp --arch spec (kernel sizes and channel counts
# come from the weight shapes; padding 1, stride 1; max pool 2x2 stride 2).
ARCH = ("conv1:conv2d(padding=1),relu,conv2:conv2d(padding=1),relu,"
        "maxpool2d(2),flatten,fc1:linear,relu,fc2:linear")


class DigitsCNN(nn.Module):
    """1x8x8 -> conv 8 -> conv 16 -> max pool 2 -> 256 -> 32 -> 10 logits."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.flatten(self.pool(x))
        x = F.relu(self.fc1(x))
        return self.fc2(x)  # logits: no softmax in the model


def seed_everything(seed=SEED):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def train(model, optimizer, x, y, epochs, batch_size, gen, every, digits=6, schedule=None):
    """Mini-batch cross-entropy training in a seeded order; the mean loss printed every `every` epochs."""
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(y), generator=gen)
        total = 0.0
        for start in range(0, len(order), batch_size):
            b = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[b]), y[b])
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            total += loss.item() * len(b)
        if (epoch + 1) % every == 0:
            print(f"epoch {epoch + 1:3d}  mean loss {total / len(order):.{digits}f}")
    model.eval()


def write_png_grey8(path, pixels):
    """Writes an 8-bit greyscale PNG (colour type 0, no filter, no metadata)."""
    h, w = pixels.shape
    raw = b"".join(b"\x00" + bytes(int(v) for v in row) for row in pixels)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9))
           + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def onnx_summary(path):
    """(ir_version, opsets, op types in order, input names, initializer names)
    read with a minimal protobuf wire decoder, so the onnx package is not needed."""

    def fields(buf):
        i = 0
        while i < len(buf):
            key, i = varint(buf, i)
            num, wire = key >> 3, key & 7
            if wire == 0:
                val, i = varint(buf, i)
            elif wire == 1:
                val, i = buf[i:i + 8], i + 8
            elif wire == 2:
                n, i = varint(buf, i)
                val, i = buf[i:i + n], i + n
            elif wire == 5:
                val, i = buf[i:i + 4], i + 4
            else:
                raise ValueError("unsupported protobuf wire type %d" % wire)
            yield num, val

    def varint(buf, i):
        shift = result = 0
        while True:
            b = buf[i]
            i += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result, i
            shift += 7

    with open(path, "rb") as f:
        model = f.read()
    ir, opsets, ops, inputs, inits = None, [], [], [], []
    for num, val in fields(model):
        if num == 1:
            ir = val
        elif num == 8:
            d = dict(fields(val))
            opsets.append((d.get(1, b"").decode(), d.get(2)))
        elif num == 7:
            for gnum, gval in fields(val):
                if gnum == 1:
                    ops.append(dict(fields(gval))[4].decode())
                elif gnum == 5:
                    inits.append(dict(fields(gval))[8].decode())
                elif gnum == 11:
                    inputs.append(dict(fields(gval))[1].decode())
    return ir, opsets, ops, inputs, inits


def write_csv(path, header, rows):
    with open(path, "w", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")


def main():
    seed_everything()
    os.makedirs(IMAGE_DIR, exist_ok=True)

    data = load_digits()
    images = np.asarray(data.images, dtype=np.float64)  # [1797, 8, 8], 0..16
    y = np.asarray(data.target, dtype=np.int64)
    X = (images / GREY_LEVELS).astype(np.float32).reshape(-1, 1, 8, 8)  # exact: k/16

    idx = np.arange(len(y))
    idx_train, idx_test = train_test_split(
        idx, test_size=TEST_FRACTION, random_state=SEED, stratify=y)
    xt_train, yt_train = torch.from_numpy(X[idx_train]), torch.from_numpy(y[idx_train])
    xt_test = torch.from_numpy(X[idx_test])

    model = DigitsCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    gen = torch.Generator().manual_seed(SEED)
    train(model, optimizer, xt_train, yt_train, EPOCHS, BATCH_SIZE, gen, every=5)

    with torch.no_grad():
        pred_train = model(xt_train).argmax(1).numpy()
        logits_test = model(xt_test).numpy()
    pred_test = logits_test.argmax(1)
    y_train, y_test = y[idx_train], y[idx_test]
    n_train_ok = int((pred_train == y_train).sum())
    n_test_ok = int((pred_test == y_test).sum())
    print(f"torch {torch.__version__}, sklearn {sklearn.__version__}, numpy {np.__version__}")
    print(f"train accuracy {n_train_ok / len(y_train):.4f} ({n_train_ok}/{len(y_train)})")
    print(f"test accuracy  {n_test_ok / len(y_test):.4f} ({n_test_ok}/{len(y_test)})")

    # --- model_weights.pth -------------------------------------------------
    state = model.state_dict()
    torch.save(state, os.path.join(OUT_DIR, "model_weights.pth"))
    for name, t in state.items():
        print(f"state dict {name} {list(t.shape)}")

    # --- model.onnx --------------------------------------------------------
    onnx_path = os.path.join(OUT_DIR, "model.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), onnx_path, opset_version=17,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    ir, opsets, ops, inputs, inits = onnx_summary(onnx_path)
    print(f"onnx: ir_version {ir}, opsets {opsets}, inputs {inputs}")
    print(f"onnx: ops {', '.join(ops)}")
    print(f"onnx: initializers {', '.join(inits)}")

    # --- images/, images.npy, labels.csv -----------------------------------
    # Per class, the first test-split image (in test-split order) that the
    # model classifies correctly; classes 0..9 in order.
    chosen = []
    for c in range(10):
        k = next(k for k in range(len(y_test)) if y_test[k] == c and pred_test[k] == c)
        chosen.append(k)
    for old in os.listdir(IMAGE_DIR):
        if old.endswith(".png"):
            os.remove(os.path.join(IMAGE_DIR, old))
    rows = []
    for k in chosen:
        i = int(idx_test[k])  # index into load_digits()
        name = f"digit{y[i]}_test{i}.png"
        # value/16*255 rounded half up; v = 8 gives 127.5 -> 128, the only tie.
        pix = np.floor(images[i] * 255.0 / GREY_LEVELS + 0.5).astype(np.uint8)
        write_png_grey8(os.path.join(IMAGE_DIR, name), pix)
        z = logits_test[k].astype(np.float64)
        p = np.exp(z - z.max())
        p /= p.sum()
        pred = int(pred_test[k])
        rows.append([f"images/{name}", str(int(y[i])), str(pred), repr(float(np.float32(p[pred])))])
        print(f"{name}: label {y[i]} predicted {pred} p {float(np.float32(p[pred]))!r}")
    np.save(os.path.join(OUT_DIR, "images.npy"),
            np.ascontiguousarray(X[idx_test[chosen]], dtype=np.float32))
    write_csv(os.path.join(OUT_DIR, "labels.csv"), ["file", "label", "predicted", "probability"], rows)
    print("wrote", OUT_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
