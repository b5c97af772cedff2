#!/usr/bin/env python3
"""Writes golden LRP relevances computed by Zennit itself to src/test/resources/zennit/ (issue 12, item 4).

Oracle: Zennit (https://github.com/chr-peters/zennit), the reference LRP library for PyTorch, at commit 6b0bbdf
(0.5.x). Get it with `pip install zennit` or put its source tree on PYTHONPATH:
    git clone https://github.com/chr-peters/zennit && git -C zennit checkout 6b0bbdf
    PYTHONPATH=zennit/src /usr/bin/python3 scripts/make_zennit_golden.py
Zennit is LGPL-licensed: it is only *run* here, to make data files; no Zennit code is part of gpulrp. Needs torch
(1.13) and torchvision (0.14) with /usr/bin/python3. Deterministic (fixed seeds, one thread): reruns reproduce every
file byte for byte.

Models (torchvision's own block classes and module names, so that Zennit's canonizers recognize them; narrow
widths; 3 x 32 x 32 inputs; every BatchNorm's running statistics and affine parameters and every bias random):
  rn18    ResNet stem (conv1 7x7/2 bias=False, bn1, relu, maxpool 3/2/1), layer1 BasicBlock(8, 8),
          layer2 BasicBlock(8, 16, stride 2, downsample conv1x1 + BN), avgpool, fc -> 10
  rn50    the same stem, layer1 Bottleneck(8, 4) (-> 16, downsample), layer2 Bottleneck(16, 8, stride 2) (-> 32)
  vgg     torchvision.models.vgg.make_layers([8, M, 16, M, 16, M]), AdaptiveAvgPool2d((2, 2)),
          classifier Linear-ReLU-Dropout-Linear
  vgg_bn  the same with batch_norm=True, ending in a Softmax module (so init output and logit differ)
  concat  two conv branches (3x3 and 5x5) concatenated on channels, conv, max pool, adaptive avg pool, fc
Each is exported with torch.onnx.export (opset 17, dynamic batch; the exporter fuses BatchNorm into the conv), and
rn18 once more with training=PRESERVE and no constant folding (BatchNorm kept as nodes; gpulrp folds it).

Cases: Zennit's Gradient attributor with the canonizer (ResNetCanonizer for rn*, VGGCanonizer otherwise), the
initial relevance output * onehot(target) (init output), onehot(target) (onehot) or, on the model without its final
Softmax, logit * onehot(target) (logit), targets = each sample's arg-max (stored). Composites: epsilon
(layer_map_base + Epsilon on convolutions and dense layers), epsilon-plus, epsilon-alpha2-beta1, epsilon-plus-flat,
epsilon-alpha2-beta1-flat, epsilon-gamma-box with scalar bounds -3, 3 and with ImageNet's per-channel bounds; each
with inits output, onehot, logit. Uniform rules (init output): every convolution and dense layer (zennit.types.Linear)
one rule. Every composite also maps torch.nn.Softmax to Pass: Zennit leaves a Softmax module unhooked (it is not one
of its Activation types) and would differentiate through it, while gpulrp passes relevance through the final
activation unchanged.

ResNet bias quirk (Zennit issue 193): torchvision's ResNet convolutions have bias=False; Zennit's BatchNorm merge sets
the merged bias as a plain attribute that its parameter modifiers never see, so the merged bias enters every modified
forward pass unchanged (gpulrp: ConvBias.ZENNIT, --conv-bias zennit). The rule's formula (gpulrp's default
ConvBias.RULE) is what Zennit computes when the conv has a registered bias parameter. So each rn* case is computed
twice: on the model as built (conv_bias zennit) and on a copy whose bias-free convs got a registered zero bias
(conv_bias rule); the ONNX file is the same.

Each case is computed in float64 (kept, stored as float32) and float32; gap = max |R32 - R64| over the case says how
well conditioned it is; a case with gap > 1e-2 max|R64| would be skipped (listed in the manifest header).
Files: inputs.npy [2, 3, 32, 32]; per model MODEL.onnx and MODEL_relevance.npy [unique cases, 2, 3, 32, 32]
(identical results, e.g. init logit on a model without Softmax, are stored once); models.txt (model, ONNX file,
relevance file, targets); manifest.txt (one case per line).
"""
import copy
import io
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1
from torchvision.models.vgg import make_layers

from zennit.attribution import Gradient
from zennit.canonizers import SequentialMergeBatchNorm  # noqa: F401  (VGGCanonizer is one)
from zennit.composites import (LayerMapComposite, EpsilonPlus, EpsilonAlpha2Beta1, EpsilonPlusFlat,
                               EpsilonAlpha2Beta1Flat, EpsilonGammaBox, layer_map_base)
from zennit.rules import Epsilon, ZPlus, AlphaBeta, Gamma, WSquare, Flat, Pass
from zennit.torchvision import ResNetCanonizer, VGGCanonizer
from zennit.types import Convolution, Linear as AnyLinear

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "zennit")
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
ILL_CONDITIONED = 1e-2


# ---- models ------------------------------------------------------------------------------------------------------

class ResNet(nn.Module):
    """torchvision.models.resnet.ResNet's structure and names, two stages."""

    def __init__(self, block, layer1, layer2, width, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(layer1)
        self.layer2 = nn.Sequential(layer2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def rn18():
    l1 = BasicBlock(8, 8)
    l2 = BasicBlock(8, 16, stride=2, downsample=nn.Sequential(conv1x1(8, 16, 2), nn.BatchNorm2d(16)))
    return ResNet(BasicBlock, l1, l2, 16)


def rn50():
    l1 = Bottleneck(8, 4, downsample=nn.Sequential(conv1x1(8, 16), nn.BatchNorm2d(16)))
    l2 = Bottleneck(16, 8, stride=2, downsample=nn.Sequential(conv1x1(16, 32, 2), nn.BatchNorm2d(32)))
    return ResNet(Bottleneck, l1, l2, 32)


class VGG(nn.Module):
    """torchvision.models.vgg.VGG's structure and names (features / avgpool / classifier), optional Softmax."""

    def __init__(self, batch_norm, softmax):
        super().__init__()
        self.features = make_layers([8, "M", 16, "M", 16, "M"], batch_norm=batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(nn.Linear(16 * 2 * 2, 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, 10))
        self.softmax = nn.Softmax(dim=1) if softmax else None

    def forward(self, x):
        x = self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
        return x if self.softmax is None else self.softmax(x)


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_a = nn.Conv2d(3, 4, 3, padding=1)
        self.relu_a = nn.ReLU()
        self.conv_b = nn.Conv2d(3, 4, 5, padding=2)
        self.relu_b = nn.ReLU()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(2)
        self.avgpool = nn.AdaptiveAvgPool2d((4, 4))
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = torch.cat([self.relu_a(self.conv_a(x)), self.relu_b(self.conv_b(x))], dim=1)
        x = self.avgpool(self.maxpool(self.relu(self.conv(x))))
        return self.fc(torch.flatten(x, 1))


def randomize(model, seed):
    """Random BatchNorm statistics and affine parameters, random biases (weights keep torch's default init)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_((torch.rand(n, generator=g) - 0.5) * 0.4)
            elif isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.copy_((torch.rand(m.bias.shape, generator=g) - 0.5) * 0.2)
    return model.eval()


def with_zero_conv_biases(model):
    """A copy whose bias-free convolutions got a registered zero bias (same function; Zennit then modifies the merged
    bias as the rule says)."""
    m = copy.deepcopy(model)
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d) and mod.bias is None:
            mod.bias = nn.Parameter(torch.zeros(mod.out_channels, dtype=mod.weight.dtype))
    return m


# ---- composites --------------------------------------------------------------------------------------------------

SOFTMAX_PASS = [(nn.Softmax, Pass())]


def channel_bounds():
    low = torch.tensor([(0 - m) / s for m, s in zip(MEAN, STD)]).view(1, 3, 1, 1)
    high = torch.tensor([(1 - m) / s for m, s in zip(MEAN, STD)]).view(1, 3, 1, 1)
    return low, high


def composite(spec, canonizer, dtype):
    c = [canonizer()]
    if spec == "epsilon":
        return LayerMapComposite(SOFTMAX_PASS + layer_map_base() + [(Convolution, Epsilon()), (nn.Linear, Epsilon())],
                                 canonizers=c)
    if spec == "epsilon-plus":
        return EpsilonPlus(layer_map=SOFTMAX_PASS, canonizers=c)
    if spec == "epsilon-alpha2-beta1":
        return EpsilonAlpha2Beta1(layer_map=SOFTMAX_PASS, canonizers=c)
    if spec == "epsilon-plus-flat":
        return EpsilonPlusFlat(layer_map=SOFTMAX_PASS, canonizers=c)
    if spec == "epsilon-alpha2-beta1-flat":
        return EpsilonAlpha2Beta1Flat(layer_map=SOFTMAX_PASS, canonizers=c)
    if spec == "epsilon-gamma-box:-3,3":
        return EpsilonGammaBox(low=-3.0, high=3.0, layer_map=SOFTMAX_PASS, canonizers=c)
    if spec == "epsilon-gamma-box:imagenet":
        low, high = channel_bounds()
        return EpsilonGammaBox(low=low.to(dtype), high=high.to(dtype), layer_map=SOFTMAX_PASS, canonizers=c)
    raise ValueError(spec)


RULES = {
    "epsilon": Epsilon, "zplus": ZPlus, "alpha-beta:2,1": lambda: AlphaBeta(alpha=2, beta=1),
    "alpha-beta:1,0": lambda: AlphaBeta(alpha=1, beta=0), "gamma:0.25": lambda: Gamma(gamma=0.25),
    "wsquare": WSquare, "flat": Flat,
}


def uniform(spec, canonizer):
    return LayerMapComposite(SOFTMAX_PASS + layer_map_base() + [(AnyLinear, RULES[spec]())],
                             canonizers=[canonizer()])


COMPOSITES = ["epsilon", "epsilon-plus", "epsilon-alpha2-beta1", "epsilon-plus-flat", "epsilon-alpha2-beta1-flat",
              "epsilon-gamma-box:-3,3", "epsilon-gamma-box:imagenet"]
INITS = ["output", "onehot", "logit"]


def zennit(model, x, targets, kind, spec, init, canonizer, dtype):
    m = copy.deepcopy(model).to(dtype).eval()
    if init == "logit" and getattr(m, "softmax", None) is not None:
        m.softmax = None
    comp = composite(spec, canonizer, dtype) if kind == "composite" else uniform(spec, canonizer)
    xin = x.to(dtype).clone().requires_grad_(True)

    def attr_output(out):
        onehot = torch.zeros_like(out)
        onehot[torch.arange(out.shape[0]), targets] = 1
        return onehot if init == "onehot" else out * onehot

    with Gradient(model=m, composite=comp) as attributor:
        out, rel = attributor(xin, attr_output)
    return out.detach(), rel.detach()


# ---- main --------------------------------------------------------------------------------------------------------

def export(model, x, path, keep_bn=False):
    buf = io.BytesIO()
    kw = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False) if keep_bn else {}
    torch.onnx.export(model, x, buf, opset_version=17, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **kw)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    torch.manual_seed(0)
    x = (torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(5))
         - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    x = x.float()
    assert x.min() > -3 and x.max() < 3, "scalar ZBox bounds must contain the inputs"
    low, high = channel_bounds()
    assert bool((x >= low).all()) and bool((x <= high).all()), "per-channel bounds must contain the inputs"
    np.save(os.path.join(OUT, "inputs.npy"), x.numpy())

    builders = [("rn18", rn18, ResNetCanonizer, 18), ("rn50", rn50, ResNetCanonizer, 50),
                ("vgg", lambda: VGG(False, False), VGGCanonizer, 11), ("vgg_bn", lambda: VGG(True, True), VGGCanonizer, 13),
                ("concat", Concat, VGGCanonizer, 7)]
    models_txt = ["# model onnx relevance target0 target1 (targets: arg-max of the float64 output)"]
    manifest = []
    skipped = []
    table = []
    for name, build, canon, seed in builders:
        torch.manual_seed(seed)
        model = randomize(build(), seed + 1000)
        onnx_file = name + ".onnx"
        export(model, x, os.path.join(OUT, onnx_file))
        extra_onnx = []
        if name == "rn18":
            export(model, x, os.path.join(OUT, "rn18_keepbn.onnx"), keep_bn=True)
            extra_onnx.append("rn18_keepbn.onnx")
        with torch.no_grad():
            y64 = copy.deepcopy(model).double()(x.double())
        targets = y64.argmax(1)
        rel_file = name + "_relevance.npy"
        models_txt.append(f"{name} {onnx_file} {rel_file} {int(targets[0])} {int(targets[1])}")
        variants = [("zennit", model), ("rule", with_zero_conv_biases(model))] if name.startswith("rn") \
            else [("rule", model)]
        cases = [("composite", c, i) for c in COMPOSITES for i in INITS] + [("rule", r, "output") for r in RULES]
        stored = []
        lines = []
        checks = {}
        for bias, m in variants:
            for kind, spec, init in cases:
                _, r64 = zennit(m, x, targets, kind, spec, init, canon, torch.float64)
                out32, r32 = zennit(m, x, targets, kind, spec, init, canon, torch.float32)
                gap = float((r32.double() - r64).abs().max())
                mx = float(r64.abs().max())
                assert np.isfinite(mx) and mx > 0, (name, bias, spec, init)
                table.append((f"{name} {bias} {kind} {spec} {init}", gap, mx))
                if gap > ILL_CONDITIONED * mx:
                    skipped.append(f"{name} {bias} {kind} {spec} {init} gap {gap:.3g} max|R| {mx:.3g}")
                    continue
                r = r64.float().numpy()
                checks[(bias, kind, spec, init)] = r64
                idx = next((k for k, s in enumerate(stored) if np.array_equal(s, r)), None)
                if idx is None:
                    idx = len(stored)
                    stored.append(r)
                for f in [onnx_file] + (extra_onnx if init == "output" else []):
                    lines.append(f"{name} {f} {bias} {kind} {spec} {init} {idx} {gap:.9e} {mx:.9e}")
        # Relevance is linear in the initial relevance: init output / onehot are init logit scaled per sample by
        # p_t / z_t and 1 / z_t (checks that Softmax is passed, as gpulrp does).
        with torch.no_grad():
            m0 = copy.deepcopy(model).double()
            sm = m0.softmax if getattr(m0, "softmax", None) is not None else None
            m0.softmax = None
            z = m0(x.double())
        zt = z[torch.arange(2), targets]
        pt = (sm(z) if sm is not None else z)[torch.arange(2), targets]
        for (bias, kind, spec, init), r in checks.items():
            if init == "logit":
                lg = r
                for other, scale in (("output", pt / zt), ("onehot", 1 / zt)):
                    o = checks[(bias, kind, spec, other)]
                    want = lg * scale.view(2, 1, 1, 1)
                    err = float((o - want).abs().max() / want.abs().max())
                    assert err < 1e-9, (name, bias, spec, other, err)
        np.save(os.path.join(OUT, rel_file), np.stack(stored))
        manifest += lines
        print(f"{name}: {len(lines)} cases, {len(stored)} distinct relevances", file=sys.stderr)

    header = ["# Zennit golden cases (scripts/make_zennit_golden.py; Zennit commit 6b0bbdf)",
              "# model onnx conv_bias kind spec init index gap max|R64|",
              "# gap = max|R32 - R64| of Zennit in float32 vs float64; tests allow 4 gap + 1e-4 max|R64|",
              f"# skipped as ill-conditioned (gap > {ILL_CONDITIONED:g} max|R64|): {len(skipped)}"]
    header += ["#   " + s for s in skipped]
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(header + manifest) + "\n")
    with open(os.path.join(OUT, "models.txt"), "w") as f:
        f.write("\n".join(models_txt) + "\n")
    print(f"{'case':70s} {'gap':>10s} {'max|R|':>10s} {'gap/max':>9s}")
    for case, gap, mx in table:
        print(f"{case:70s} {gap:10.3e} {mx:10.3e} {gap / mx:9.2e}")
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


if __name__ == "__main__":
    main()
