#!/usr/bin/python3
"""src/test/resources/onnx-dedup/: a small CNN as a user makes it (PyTorch's default initialization, eval mode),
exported by torch.onnx.export (opset 17, dynamic batch). Its freshly initialized BatchNorms (ones and zeros) fold into
identical zero biases, which the exporter stores once and hands to the second convolution through an Identity node
that reads an initializer. Also writes seeded inputs and torch's float64 outputs.

    /usr/bin/python3 scripts/make_dedup_fixture.py        (Debian's python3-torch, python3-onnx)
Deterministic: reruns reproduce the files byte for byte (torch 1.13).
"""
import os

import numpy as np
import onnx
import torch

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src", "test", "resources",
                   "onnx-dedup")


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.conv2 = torch.nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4 * 8 * 8, 5)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


def main():
    torch.manual_seed(1213)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    m = Net().eval()
    path = os.path.join(OUT, "model.onnx")
    torch.onnx.export(m, torch.zeros(1, 3, 8, 8), path, opset_version=17, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    g = onnx.load(path).graph
    names = {t.name for t in g.initializer}
    assert any(n.op_type == "Identity" and n.input[0] in names for n in g.node), "no deduplicated initializer"
    x = torch.randn(4, 3, 8, 8)
    with torch.no_grad():
        y = m.double()(x.double())
    np.save(os.path.join(OUT, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, "output.npy"), y.numpy())
    for f in sorted(os.listdir(OUT)):
        print("wrote", os.path.join(OUT, f), os.path.getsize(os.path.join(OUT, f)), "bytes")


if __name__ == "__main__":
    main()
