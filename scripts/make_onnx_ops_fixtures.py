#!/usr/bin/env python3
"""Writes small ONNX exports built from torchvision's own block classes to src/test/resources/onnx-ops/.

Each model wraps one or two torchvision blocks (DenseNet's _DenseBlock/_Transition, GoogLeNet's Inception,
Inception v3's InceptionA, MobileNet v2/v3 InvertedResidual, EfficientNet's MBConv, ShuffleNet v2's
InvertedResidual, RegNet's ResBottleneckBlock, MNASNet's _InvertedResidual, SqueezeNet's Fire) in a small stem and
head so that the output is [N, classes]; "misc" adds the operators no block above exports (Mul/Div by constants,
an average pooling with count_include_pad=False, Split and Slice along channels, a 4-group channel shuffle). Widths
and inputs are small to keep the files small. Default initialization with a fixed seed, BatchNorm running
statistics randomized (so that folding them matters), eval mode.

Per model NAME: NAME_input.npy (float32 [3, C, H, W], seeded), NAME_output.npy (torch's float64 forward of the
float32 weights for those inputs) and NAME-o<opset>-<fold|nofold>.onnx for opsets 11, 13 and 17, all with a dynamic
batch axis (dynamic_axes on input and logits), with and without do_constant_folding. The list of files is written
to models.txt. Deterministic. Run from the repository root with Debian's python (torch 1.13, torchvision, onnx):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/make_onnx_ops_fixtures.py
"""
import copy
import functools
import importlib
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
# torchvision.models re-exports a builder function under each module's name: import the modules themselves
densenet, efficientnet, googlenet, inception, mnasnet, mobilenetv2, mobilenetv3, regnet, shufflenetv2, squeezenet = (
    importlib.import_module("torchvision.models." + m) for m in ("densenet", "efficientnet", "googlenet", "inception",
                                                                 "mnasnet", "mobilenetv2", "mobilenetv3", "regnet",
                                                                 "shufflenetv2", "squeezenet"))

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "onnx-ops")
BATCH = 3
CLASSES = 5
VARIANTS = [(11, False), (11, True), (13, True), (17, True), (17, False)]


def stem(c_out, stride=1):
    return nn.Sequential(nn.Conv2d(3, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class Net(nn.Module):
    """stem -> body -> global average (pooling, or x.mean([2, 3]) as MNASNet and ShuffleNet do) -> flatten -> fc."""

    def __init__(self, stem_module, body, c_last, mean=False):
        super().__init__()
        self.stem = stem_module
        self.body = body
        self.mean = mean
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_last, CLASSES)

    def forward(self, x):
        x = self.body(self.stem(x))
        x = x.mean([2, 3]) if self.mean else torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def small_conv_block(c_in):
    """An InceptionA conv_block with every internal width divided by 8 (the block's input width kept)."""

    def make(i, o, **kw):
        return inception.BasicConv2d(i if i == c_in else i // 8, o // 8, **kw)

    return make


class Misc(nn.Module):
    """Operators no block above exports: constants, count_include_pad=False, Split, Slice, a 4-group shuffle."""

    def __init__(self):
        super().__init__()
        self.stem = stem(8)
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, 8).reshape(8, 1, 1), requires_grad=False)
        self.conv = nn.Conv2d(6, 8, 1)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.fc = nn.Linear(8, CLASSES)

    def forward(self, x):
        x = self.stem(x)
        x = x * self.scale  # per-channel constant
        x = x / 2.0  # scalar constant
        a, b = torch.split(x, [3, 5], dim=1)  # Split with sizes
        x = torch.cat([F.hardsigmoid(a), b[:, 1:4]], dim=1)  # Slice along channels, HardSigmoid
        x = self.conv(x)
        n, c, h, w = x.size()
        x = x.view(n, 4, c // 4, h, w).transpose(1, 2).reshape(n, c, h, w)  # channel shuffle, 4 groups
        x = self.pool(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def models():
    bn = nn.BatchNorm2d
    bn3 = functools.partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
    out = {}
    out["densenet"] = (Net(stem(8), nn.Sequential(
        densenet._DenseBlock(num_layers=2, num_input_features=8, bn_size=2, growth_rate=4, drop_rate=0),
        densenet._Transition(num_input_features=16, num_output_features=8), nn.ReLU()), 8), 16)
    out["googlenet"] = (Net(stem(8), nn.Sequential(
        nn.MaxPool2d(3, stride=2, ceil_mode=True),
        googlenet.Inception(8, 4, 4, 6, 2, 4, 4)), 18), 16)
    c_in = 8
    out["inception"] = (Net(stem(c_in), inception.InceptionA(c_in, pool_features=32,
                                                             conv_block=small_conv_block(c_in)), 8 + 8 + 12 + 4), 12)
    out["mobilenet_v2"] = (Net(stem(8, 2), nn.Sequential(
        mobilenetv2.InvertedResidual(8, 8, 1, 2), mobilenetv2.InvertedResidual(8, 12, 2, 3),
        nn.Conv2d(12, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6()), 16), 16)
    cnf = mobilenetv3.InvertedResidualConfig
    out["mobilenet_v3"] = (Net(stem(8, 2), nn.Sequential(
        mobilenetv3.InvertedResidual(cnf(8, 3, 16, 8, True, "HS", 1, 1, 1.0), bn3),
        mobilenetv3.InvertedResidual(cnf(8, 3, 16, 16, True, "RE", 2, 1, 1.0), bn3),
        mobilenetv3.InvertedResidual(cnf(16, 3, 24, 16, False, "HS", 1, 1, 1.0), bn3), nn.Hardswish()), 16), 16)
    mb = efficientnet.MBConvConfig
    out["efficientnet"] = (Net(stem(8), nn.Sequential(
        efficientnet.MBConv(mb(1, 3, 1, 8, 8, 1), 0.0, bn), efficientnet.MBConv(mb(2, 3, 2, 8, 16, 1), 0.0, bn),
        efficientnet.MBConv(mb(2, 3, 1, 16, 16, 1), 0.0, bn), nn.SiLU()), 16), 16)
    out["shufflenet"] = (Net(stem(8), nn.Sequential(
        shufflenetv2.InvertedResidual(8, 16, 2), shufflenetv2.InvertedResidual(16, 16, 1)), 16, mean=True), 16)
    out["regnet"] = (Net(stem(8), nn.Sequential(
        regnet.ResBottleneckBlock(8, 16, 2, bn, nn.ReLU, group_width=8, bottleneck_multiplier=1.0, se_ratio=0.25),
        regnet.ResBottleneckBlock(16, 16, 1, bn, nn.ReLU, group_width=8, bottleneck_multiplier=1.0,
                                  se_ratio=0.25)), 16), 16)
    out["mnasnet"] = (Net(stem(8), nn.Sequential(
        mnasnet._InvertedResidual(8, 8, 3, 1, 3), mnasnet._InvertedResidual(8, 12, 5, 2, 3)), 12, mean=True), 16)
    out["squeezenet"] = (Net(stem(8, 2), nn.Sequential(
        nn.MaxPool2d(3, stride=2, ceil_mode=True), squeezenet.Fire(8, 4, 8, 8), squeezenet.Fire(16, 4, 8, 8),
        nn.Dropout(0.5), nn.Conv2d(16, 12, 1), nn.ReLU()), 12), 16)
    out["misc"] = (Misc(), 16)
    return out


def randomize_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    files = []
    for i, (name, (model, size)) in enumerate(models().items()):
        gen = torch.Generator().manual_seed(100 + i)
        with torch.no_grad():
            randomize_batchnorm(model, gen)
        model.eval()
        x = torch.randn(BATCH, 3, size, size, generator=gen)
        with torch.no_grad():
            y = copy.deepcopy(model).double()(x.double())
        np.save(os.path.join(OUT, name + "_input.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(OUT, name + "_output.npy"), y.numpy().astype(np.float64))
        for opset, fold in VARIANTS:
            f = "%s-o%d-%s.onnx" % (name, opset, "fold" if fold else "nofold")
            torch.onnx.export(model, x[:1], os.path.join(OUT, f), opset_version=opset, do_constant_folding=fold,
                              input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
            files.append(f)
    with open(os.path.join(OUT, "models.txt"), "w") as out:
        out.write("# written by scripts/make_onnx_ops_fixtures.py\n")
        out.write("\n".join(files) + "\n")


if __name__ == "__main__":
    main()
