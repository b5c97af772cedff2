#!/usr/bin/env python3
"""Writes the small CNN ONNX fixtures of src/test/resources/onnx-cnn/ and torch's outputs for them.

Each model NAME gets NAME.onnx (torch.onnx.export, opset 13 (convnet: 10), eval mode), NAME_input.npy (float32 [2, C, H, W]) and
NAME_output.npy (torch's float32 output for that input); convbn also gets convbn.pth (its state dict, for the
architecture spec conv:conv2d(padding=1),bn:batchnorm2d,relu,maxpool2d(2),flatten,fc:linear). Deterministic: fixed seeds. Run from the repository root:
    /usr/bin/python3 scripts/make_cnn_onnx_fixtures.py
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "onnx-cnn")


class ConvNet(nn.Module):
    """Padding, stride, dilation, groups, an explicit zero Pad, average pooling."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2)
        self.conv3 = nn.Conv2d(6, 4, 2)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(4 * 2 * 2, 3)

    def forward(self, x):                       # [N, 2, 11, 11]
        x = F.relu(self.conv1(x))               # [N, 4, 11, 11]
        x = F.relu(self.conv2(x))               # [N, 6, 6, 6]
        x = F.pad(x, (1, 1, 1, 1))              # [N, 6, 8, 8]
        x = F.relu(self.conv3(x))               # [N, 4, 7, 7]
        x = F.max_pool2d(x, 3, 2, 1)            # [N, 4, 4, 4]
        x = self.pool(x)                        # [N, 4, 2, 2]
        return self.fc(torch.flatten(x, 1))


class ResBlock(nn.Module):
    """A ResNet basic block with BatchNorm, a max pool stem and global average pooling."""

    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(4)
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):                       # [N, 3, 8, 8]
        x = F.relu(self.bn0(self.conv0(x)))
        x = F.max_pool2d(x, 2)                  # [N, 4, 4, 4]
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        x = F.relu(x + h)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


class TinyVgg(nn.Module):
    """torchvision VGG's shape: features, AdaptiveAvgPool2d to a fixed size, a classifier with Dropout."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2),
                                      nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(nn.Linear(8 * 2 * 2, 16), nn.ReLU(True), nn.Dropout(), nn.Linear(16, 4))

    def forward(self, x):                       # [N, 3, 16, 16]
        x = self.avgpool(self.features(x))      # [N, 8, 4, 4] -> [N, 8, 2, 2]
        return self.classifier(torch.flatten(x, 1))


class ConcatNet(nn.Module):
    """Two branches joined by channel concatenation, then features joined by concatenation."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 3, 3, padding=1)
        self.b = nn.Conv2d(2, 2, 1)
        self.fc1 = nn.Linear(5 * 3 * 3, 4)
        self.fc2 = nn.Linear(5 * 3 * 3, 3)
        self.out = nn.Linear(7, 2)

    def forward(self, x):                       # [N, 2, 6, 6]
        x = torch.cat([F.relu(self.a(x)), F.relu(self.b(x))], 1)
        x = torch.flatten(F.max_pool2d(x, 2), 1)
        return self.out(torch.cat([F.relu(self.fc1(x)), torch.sigmoid(self.fc2(x))], 1))


class ConvBn(nn.Module):
    """A chain for the state-dict architecture spec: conv, batch norm, pooling, linear (saved as convbn.pth)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1, stride=1)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3 * 3 * 3, 4)

    def forward(self, x):                       # [N, 2, 6, 6]
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(x, 1))


def randomize_bn(model):
    g = torch.Generator().manual_seed(7)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g) + 0.5
            m.bias.data = torch.randn(n, generator=g) * 0.3
            m.running_mean.data = torch.randn(n, generator=g) * 0.3
            m.running_var.data = torch.rand(n, generator=g) + 0.5


def export(name, model, shape, folding=True, opset=13):
    model.eval()
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x, os.path.join(OUT, name + ".onnx"), input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=opset,
                      do_constant_folding=folding,
                      training=torch.onnx.TrainingMode.EVAL if folding else torch.onnx.TrainingMode.PRESERVE)
    np.save(os.path.join(OUT, name + "_input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + "_output.npy"), y.numpy().astype(np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    export("convnet", ConvNet(), (2, 11, 11), opset=10)  # opset 10: Pad takes its pads as an attribute
    torch.manual_seed(1)
    res = ResBlock()
    randomize_bn(res)
    export("resblock_bn", res, (3, 8, 8), folding=False)
    export("resblock_folded", res, (3, 8, 8), folding=True)
    torch.manual_seed(4)
    convbn = ConvBn()
    randomize_bn(convbn)
    export("convbn", convbn, (2, 6, 6))
    torch.save(convbn.state_dict(), os.path.join(OUT, "convbn.pth"))
    torch.manual_seed(2)
    export("tinyvgg", TinyVgg(), (3, 16, 16))
    torch.manual_seed(3)
    export("concat", ConcatNet(), (2, 6, 6))


if __name__ == "__main__":
    main()
