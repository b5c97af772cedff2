#!/usr/bin/env python3
"""Writes torchvision-style VGG and ResNet ONNX exports to src/test/resources/torchvision/, with torch's outputs.

torchvision is not needed: the modules below rebuild torchvision's VGG (features / avgpool / classifier, with and
without BatchNorm) and ResNet (stem, BasicBlock or Bottleneck layers with 1x1-conv downsample, avgpool, fc) with the
same module names, so the state dicts have torchvision's keys (features.0.weight, layer1.0.conv1.weight,
layer2.0.downsample.0.weight, fc.weight, ...). Widths and inputs are small to keep the files small.

Per model NAME: NAME_input.npy (float32 [3, C, H, W], seeded), NAME_output.npy (torch's float64 forward of the float32
weights, for those inputs), NAME.pth (the state dict; random weights, BatchNorm running statistics randomized so that
folding them matters) and one .onnx file per export variant, named NAME-<variant>.onnx, where the variant says
opset (o11/o13/o17), batch axis (dyn: dynamic_axes on input and logits; static: fixed batch 3), constant folding
(fold/nofold) and, for "keepbn", training=PRESERVE (torch 1.13 otherwise fuses BatchNorm into the conv while
exporting). resnet18v uses the older torchvision flatten x.view(x.size(0), -1), which exports as a
Shape/Gather/Unsqueeze/Concat/Reshape chain. The list of files is written to models.txt. Deterministic.
Run from the repository root:
    /usr/bin/python3 scripts/make_torchvision_fixtures.py
"""
import os

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "torchvision")
BATCH = 2


# ---- VGG ---------------------------------------------------------------------------------------------------------

def vgg_features(cfg, batch_norm):
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(c, v, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            c = v
    return nn.Sequential(*layers), c


class VGG(nn.Module):
    """torchvision.models.VGG's layout; hidden is 4096 in torchvision."""

    def __init__(self, cfg, batch_norm, hidden, classes):
        super().__init__()
        self.features, c = vgg_features(cfg, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(nn.Linear(c * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(p=0.5),
                                        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(p=0.5),
                                        nn.Linear(hidden, classes))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


# ---- ResNet ------------------------------------------------------------------------------------------------------

def conv3x3(i, o, stride=1):
    return nn.Conv2d(i, o, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(i, o, stride=1):
    return nn.Conv2d(i, o, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """torchvision's v1.5 bottleneck: the stride sits on the 3x3 conv."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision.models.ResNet's layout; widths are (64, 128, 256, 512) in torchvision."""

    def __init__(self, block, layers, widths, classes, old_flatten=False):
        super().__init__()
        self.inplanes = widths[0]
        self.old_flatten = old_flatten
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        x = x.view(x.size(0), -1) if self.old_flatten else torch.flatten(x, 1)
        return self.fc(x)


# ---- fixtures ----------------------------------------------------------------------------------------------------

def randomize(model, seed):
    """Seeded weights; BatchNorm affine parameters and running statistics away from the identity."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            m.weight.data = torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5
            if m.bias is not None:
                m.bias.data = torch.randn(m.bias.shape, generator=g) * 0.1
        elif isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g) + 0.5
            m.bias.data = torch.randn(n, generator=g) * 0.3
            m.running_mean.data = torch.randn(n, generator=g) * 0.3
            m.running_var.data = torch.rand(n, generator=g) + 0.5
            m.num_batches_tracked.fill_(10)


VARIANTS = {
    # name: (opset, dynamic batch, constant folding, keep BatchNorm nodes)
    "o17-dyn-fold": (17, True, True, False),
    "o17-static-fold": (17, False, True, False),
    "o17-dyn-nofold": (17, True, False, False),
    "o17-dyn-keepbn": (17, True, False, True),
    "o13-dyn-fold": (13, True, True, False),
    "o11-static-nofold": (11, False, False, False),
    "o11-dyn-keepbn": (11, True, True, True),
}


def export(name, model, shape, variants, listing, reference=True, state_dict=False):
    """Writes the inputs, torch's float64 outputs and (state_dict) the .pth of model NAME (unless reference is
    False: then the model has the weights and outputs of an earlier one), and one .onnx per variant."""
    model.eval()
    x = torch.randn(BATCH, *shape, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        y = model.double()(x.double()).numpy()
        model.float()
    if reference:
        np.save(os.path.join(OUT, name + "_input.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(OUT, name + "_output.npy"), y.astype(np.float64))
    if state_dict:
        torch.save(model.state_dict(), os.path.join(OUT, name + ".pth"))
    for v in variants:
        opset, dyn, fold, keep = VARIANTS[v.removeprefix("view-")]
        torch.onnx.export(model, x, os.path.join(OUT, name + "-" + v + ".onnx"), opset_version=opset,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}} if dyn else None,
                          do_constant_folding=fold,
                          training=torch.onnx.TrainingMode.PRESERVE if keep else torch.onnx.TrainingMode.EVAL)
        listing.append(name + "-" + v + ".onnx")


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    torch.manual_seed(0)
    listing = []
    # vgg11's configuration (64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M) with widths / 8 .. / 64, cut
    # after the second pool so that a 28-px input reaches the classifier as 7x7 (AdaptiveAvgPool2d((7, 7)) is then
    # a 1x1 AveragePool); classifier width 16 (torchvision: 4096).
    vgg = VGG([8, "M", 8, "M", 8, 8], False, 16, 10)
    randomize(vgg, 1)
    export("vgg", vgg, (3, 28, 28), ["o17-dyn-fold", "o17-static-fold", "o17-dyn-nofold", "o13-dyn-fold",
                                      "o11-static-nofold"], listing, state_dict=True)
    # vgg11_bn the same with one pool less: a 14x14 map, so the adaptive pool becomes a 2x2 stride-2 AveragePool.
    vgg_bn = VGG([8, "M", 8, 8, 8], True, 16, 10)
    randomize(vgg_bn, 2)
    export("vgg_bn", vgg_bn, (3, 28, 28), ["o17-dyn-fold", "o17-static-fold", "o17-dyn-keepbn", "o11-dyn-keepbn"],
           listing, state_dict=True)
    # resnet18: BasicBlock x (2, 2, 2, 2), widths / 32, 32-px input (layer4 is 1x1, then AdaptiveAvgPool2d((1, 1))).
    r18 = ResNet(BasicBlock, [2, 2, 2, 2], [2, 4, 8, 16], 10)
    randomize(r18, 3)
    export("resnet18", r18, (3, 32, 32), ["o17-dyn-fold", "o17-static-fold", "o17-dyn-keepbn", "o13-dyn-fold",
                                          "o11-static-nofold"], listing)
    # the same weights with older torchvision's x.view(x.size(0), -1): a Shape/Gather/Unsqueeze/Concat/Reshape chain
    # (same outputs as resnet18, so it has no reference files of its own).
    r18v = ResNet(BasicBlock, [2, 2, 2, 2], [2, 4, 8, 16], 10, old_flatten=True)
    r18v.load_state_dict(r18.state_dict())
    export("resnet18", r18v, (3, 32, 32), ["view-o17-dyn-fold", "view-o17-dyn-nofold", "view-o17-static-fold",
                                           "view-o11-dyn-keepbn"], listing, reference=False)
    # resnet50: Bottleneck x (3, 4, 6, 3), planes (1, 2, 4, 8) (block outputs 4 .. 32 channels; torchvision: 64 ..).
    r50 = ResNet(Bottleneck, [3, 4, 6, 3], [1, 2, 4, 8], 10)
    randomize(r50, 5)
    export("resnet50", r50, (3, 32, 32), ["o17-dyn-fold", "o17-dyn-keepbn", "o13-dyn-fold", "o11-static-nofold"],
           listing)
    with open(os.path.join(OUT, "models.txt"), "w") as f:
        f.write("# ONNX files; each reads NAME_input.npy and matches NAME_output.npy, NAME = the text before '-'\n")
        f.write("\n".join(listing) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(len(os.listdir(OUT)), "files,", total, "bytes")


if __name__ == "__main__":
    main()
