#!/usr/bin/python3
"""Train the article's SampleModel on the Wisconsin breast cancer data and
write the built-in gpulrp example into examples/breast-cancer/.

Run with Debian's interpreter (python3-torch, python3-sklearn, python3-numpy):

    /usr/bin/python3 scripts/train_sample_model.py

The run is deterministic: fixed seeds, one CPU thread, deterministic torch
algorithms, full-batch training.  Running it twice gives identical .npy/.csv
files.  The Java build and tests never run this script; they only read its
committed outputs.
"""

import os
import random
import sys

import numpy as np
import sklearn
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

SEED = 42
TEST_FRACTION = 0.2
EPOCHS = 500
LEARNING_RATE = 0.001  # small lr, no early stopping: keeps the model from overfitting/saturating
N_FEATURES = 10  # the ten "mean ..." features, sklearn columns 0..9
HELDOUT_PER_CLASS = 4

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO_ROOT, "examples", "breast-cancer")


class SampleModel(nn.Module):
    """Exactly the article's model: 10 -> 32 -> 16 -> 1, ReLU, ReLU, sigmoid."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.fc2 = nn.Linear(32, 16)
        self.fc3 = nn.Linear(16, 1)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return torch.sigmoid(self.fc3(x))


def seed_everything():
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    try:
        torch.use_deterministic_algorithms(True)
    except Exception as e:  # pragma: no cover - depends on torch build
        print("warning: use_deterministic_algorithms unavailable:", e)


def write_csv(path, header, rows):
    # Plain '\n' line endings; values are already formatted strings.
    with open(path, "w", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")


def main():
    seed_everything()
    os.makedirs(OUT_DIR, exist_ok=True)

    data = load_breast_cancer()
    feature_names = [str(n) for n in data.feature_names[:N_FEATURES]]
    X = np.asarray(data.data[:, :N_FEATURES], dtype=np.float64)
    # sklearn's target is 0 = malignant, 1 = benign.  We flip it so that
    # label 1 = malignant (the "positive" class the sigmoid output scores),
    # label 0 = benign.
    y = (1 - np.asarray(data.target)).astype(np.int64)

    idx = np.arange(X.shape[0])
    idx_train, idx_test = train_test_split(
        idx, test_size=TEST_FRACTION, random_state=SEED, stratify=y)
    X_train, y_train = X[idx_train], y[idx_train]
    X_test, y_test = X[idx_test], y[idx_test]

    # Standardize with the training split's statistics (population std, ddof=0).
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0, ddof=0)

    def standardize(a):
        # Computed in float64, then rounded to float32 for the model.
        return ((a - mean) / std).astype(np.float32)

    xt_train = torch.from_numpy(standardize(X_train))
    yt_train = torch.from_numpy(y_train.astype(np.float32)).reshape(-1, 1)
    xt_test = torch.from_numpy(standardize(X_test))

    model = SampleModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.BCELoss()
    model.train()
    for epoch in range(EPOCHS):
        optimizer.zero_grad()
        loss = loss_fn(model(xt_train), yt_train)
        loss.backward()
        optimizer.step()
        if (epoch + 1) % 50 == 0:
            print(f"epoch {epoch + 1:4d}  loss {loss.item():.6f}")
    model.eval()

    with torch.no_grad():
        p_train = model(xt_train).numpy().reshape(-1)
        p_test = model(xt_test).numpy().reshape(-1)
    train_acc = float(np.mean((p_train >= 0.5).astype(np.int64) == y_train))
    test_acc = float(np.mean((p_test >= 0.5).astype(np.int64) == y_test))
    print(f"torch {torch.__version__}, sklearn {sklearn.__version__}, numpy {np.__version__}")
    print(f"train: {len(y_train)} rows ({int(y_train.sum())} malignant), "
          f"test: {len(y_test)} rows ({int(y_test.sum())} malignant)")
    print(f"train accuracy {train_acc:.4f} ({int(round(train_acc * len(y_train)))}/{len(y_train)})")
    print(f"test accuracy  {test_acc:.4f} ({int(round(test_acc * len(y_test)))}/{len(y_test)})")

    # --- model_weights.pth -------------------------------------------------
    state = model.state_dict()
    torch.save(state, os.path.join(OUT_DIR, "model_weights.pth"))

    # --- one .npy per tensor (float32, C order, PyTorch [out, in] layout) ---
    for name, tensor in state.items():
        arr = np.ascontiguousarray(tensor.detach().cpu().numpy().astype(np.float32))
        np.save(os.path.join(OUT_DIR, name + ".npy"), arr)

    # --- model.onnx --------------------------------------------------------
    dummy = torch.zeros(1, N_FEATURES, dtype=torch.float32)
    onnx_path = os.path.join(OUT_DIR, "model.onnx")
    export_kwargs = dict(input_names=["input"], output_names=["output"],
                         dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    try:
        torch.onnx.export(model, dummy, onnx_path, opset_version=17, **export_kwargs)
        print("onnx: exported with opset 17")
    except Exception as e:
        print("onnx: opset 17 failed (%s), retrying with opset 13" % e)
        torch.onnx.export(model, dummy, onnx_path, opset_version=13, **export_kwargs)
        print("onnx: exported with opset 13")

    # --- scaler.csv --------------------------------------------------------
    write_csv(os.path.join(OUT_DIR, "scaler.csv"), ["feature", "mean", "std"],
              [[n, repr(float(m)), repr(float(s))]
               for n, m, s in zip(feature_names, mean, std)])

    # --- heldout.csv / heldout-labels.csv ----------------------------------
    # The first HELDOUT_PER_CLASS malignant, then the first HELDOUT_PER_CLASS
    # benign rows of the test split (in test-split order).
    mal = [i for i in range(len(y_test)) if y_test[i] == 1][:HELDOUT_PER_CLASS]
    ben = [i for i in range(len(y_test)) if y_test[i] == 0][:HELDOUT_PER_CLASS]
    chosen = mal + ben
    X_held = X_test[chosen]
    y_held = y_test[chosen]
    with torch.no_grad():
        p_held = model(torch.from_numpy(standardize(X_held))).numpy().reshape(-1)
    write_csv(os.path.join(OUT_DIR, "heldout.csv"), feature_names,
              [[repr(float(v)) for v in row] for row in X_held])
    write_csv(os.path.join(OUT_DIR, "heldout-labels.csv"),
              ["row", "label", "diagnosis", "model_probability"],
              [[str(i), str(int(lbl)), "malignant" if lbl == 1 else "benign",
                repr(float(np.float32(p)))]
               for i, (lbl, p) in enumerate(zip(y_held, p_held))])
    for i, (lbl, p) in enumerate(zip(y_held, p_held)):
        print(f"heldout row {i}: label {int(lbl)}  p(malignant) {float(p)!r}")
    print("wrote", OUT_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
