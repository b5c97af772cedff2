#!/usr/bin/env python3
"""Writes the state dict fixtures for org.gpulrp.io.torch tests into src/test/resources/torch/.

Run with Debian's python3-torch (1.13) and python3-numpy: /usr/bin/python3 scripts/make_torch_fixtures.py
Each NAME.pth / NAME.safetensors comes with NAME.npz holding the expected float32 values (np.savez layout, uncompressed),
so the Java tests need no Python. Deterministic: fixed seeds and values.
"""
import io
import json
import os
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "torch")


def savez(path, arrays):
    """np.savez's layout (stored NAME.npy entries) with a fixed timestamp, so reruns give identical bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for k, a in arrays.items():
            buf = io.BytesIO()
            np.save(buf, a)
            z.writestr(zipfile.ZipInfo(k + ".npy", date_time=(1980, 1, 1, 0, 0, 0)), buf.getvalue())


def expected(name, tensors):
    savez(os.path.join(OUT, name + ".npz"),
          {k: v.detach().float().contiguous().numpy() for k, v in tensors.items()})


def save(name, tensors, with_expected=True):
    torch.save(tensors, os.path.join(OUT, name + ".pth"))
    if with_expected:
        expected(name, tensors)


def safetensors(name, tensors, metadata):
    """The safetensors layout by hand (Debian has no safetensors package): u64 header length, JSON, data."""
    codes = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.int32: "I32", torch.int64: "I64"}
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for k, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[k] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    js = json.dumps(header, separators=(",", ":")).encode("utf-8")
    js += b" " * ((8 - len(js) % 8) % 8)
    with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(js)) + js + b"".join(blobs))
    expected(name, tensors)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)

    # float64 state dict of a small linear layer with a non-zero bias
    save("f64", nn_linear(3, 2).double().state_dict())

    # float16 and bfloat16, with awkward values: subnormal, negative zero, largest finite, infinity
    h = torch.tensor([[1.0, -2.5, 6e-8, -0.0], [65504.0, float("inf"), 0.1, -3e-5]], dtype=torch.float16)
    b = torch.tensor([1.0, -2.5, 1e-39, 3.0e38, 0.1], dtype=torch.bfloat16)
    save("half", OrderedDict([("h", h), ("b", b)]))

    # integers, a parameter (_rebuild_parameter), a 0-d scalar, an empty tensor, and two views of one storage
    base = torch.arange(12, dtype=torch.float32) * 0.5
    mixed = OrderedDict([
        ("i32", torch.tensor([[1, -2, 3]], dtype=torch.int32)),
        ("i64", torch.tensor([7, -(2 ** 40), 123456789], dtype=torch.int64)),
        ("param", torch.nn.Parameter(torch.tensor([0.25, -0.75]))),
        ("scalar", torch.tensor(4.5)),
        ("empty", torch.zeros(0, 3)),
        ("view_a", base[2:5]),
        ("view_b", base[6:12].view(2, 3)),
    ])
    save("mixed", mixed)

    # a transposed (non-contiguous) tensor: the reader must refuse it
    save("noncontig", OrderedDict([("w", torch.arange(6, dtype=torch.float32).reshape(2, 3).t())]),
         with_expected=False)

    # nn.Sequential(Linear(4,3), ReLU, Dropout, Linear(3,2), Softmax) as safetensors, with inputs and outputs
    model = torch.nn.Sequential(nn_linear(4, 3), torch.nn.ReLU(), torch.nn.Dropout(0.5), nn_linear(3, 2),
                                torch.nn.Softmax(dim=1)).eval()
    safetensors("sequential", model.state_dict(), {"format": "pt"})
    x = torch.randn(3, 4)
    savez(os.path.join(OUT, "sequential-io.npz"), {"x": x.numpy(), "y": model(x).detach().numpy()})

    # every dtype the reader supports, made by the same hand-written safetensors writer
    safetensors("dtypes", OrderedDict([
        ("f64", torch.tensor([1.0, 1e-300, -2.5], dtype=torch.float64)),
        ("f32", torch.tensor([[0.5, -1.5]], dtype=torch.float32)),
        ("i64", torch.tensor([-3, 2 ** 33], dtype=torch.int64)),
        ("i32", torch.tensor([5], dtype=torch.int32)),
        ("f16", torch.tensor([0.1, -6e-8], dtype=torch.float16)),
        ("bf16", torch.tensor([[3.140625], [-0.1]], dtype=torch.bfloat16)),
    ]), {})


def nn_linear(i, o):
    lin = torch.nn.Linear(i, o)
    with torch.no_grad():
        lin.bias.add_(0.1)  # keep biases clearly non-zero
    return lin


if __name__ == "__main__":
    main()
