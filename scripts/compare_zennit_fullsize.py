#!/usr/bin/python3
"""gpulrp against Zennit on full-size torchvision models (outside CI; a few minutes on 2 cores).

Oracle: Zennit, the reference LRP library for PyTorch, commit 6b0bbdf (the source tree in ../shared/oracles/zennit,
LGPL-3.0; used as a library, nothing copied). Get it with `pip install zennit` or put its source on PYTHONPATH:

    PYTHONPATH=../shared/oracles/zennit/src /usr/bin/python3 scripts/compare_zennit_fullsize.py [resnet18 resnet50 vgg16]

Needs Debian's python3-torch, python3-torchvision, python3-sklearn, python3-pil (scikit-learn ships the two sample
photographs used as inputs) and the gpulrp jar (`bin/gpulrp` builds it).

What it does, per model (torchvision's own class, weights=None, i.e. its default initialization, with seeded random
BatchNorm statistics and affine parameters so that the folded biases are not zero; eval mode):
  1. exports it with torch.onnx.export (opset 17, dynamic batch; the exporter folds BatchNorm into the convolutions);
  2. preprocesses the two photographs as torchvision's ImageNet recipe does (resize 256, centre crop 224, mean/std),
     and fixes each image's target to the model's arg-max;
  3. explains them with Zennit in float64 (and float32, for Zennit's own rounding gap) with its canonizer
     (ResNetCanonizer / VGGCanonizer), initial relevance output * onehot(target), for every composite;
  4. explains them with `gpulrp explain` on the CPU backend and prints max and median |gpulrp - Zennit64| as a share
     of max|R|, beside Zennit's own float32-vs-float64 gap and the sums of the input relevance.

torchvision's ResNets build their convolutions with bias=False; Zennit's BatchNorm merge then leaves the merged bias
outside its rules' parameter modifiers (its issue 193), so for ResNets each composite is compared twice: Zennit as it
is against `gpulrp --conv-bias zennit`, and Zennit on the same model with a registered zero bias on every bias-free
convolution (the same function; Zennit then applies its rules' formulas to the merged bias) against gpulrp's default.
"""
import copy
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision
from PIL import Image
from sklearn.datasets import load_sample_images

from zennit.attribution import Gradient
from zennit.composites import (EpsilonAlpha2Beta1, EpsilonAlpha2Beta1Flat, EpsilonGammaBox, EpsilonPlus,
                               EpsilonPlusFlat, LayerMapComposite, layer_map_base)
from zennit.rules import Epsilon
from zennit.torchvision import ResNetCanonizer, VGGCanonizer
from zennit.types import Convolution

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
LOW = (0 - MEAN) / STD
HIGH = (1 - MEAN) / STD


def images():
    """The two sample photographs, resized (shorter side 256, bilinear), centre-cropped to 224, normalized."""
    out = []
    for img in load_sample_images().images:
        im = Image.fromarray(img)
        w, h = im.size
        s = 256 / min(w, h)
        im = im.resize((round(w * s), round(h * s)), Image.BILINEAR)
        w, h = im.size
        left, top = (w - 224) // 2, (h - 224) // 2
        a = np.asarray(im.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255
        out.append(((a - MEAN) / STD).transpose(2, 0, 1))
    return np.stack(out).astype(np.float32)


def model(name):
    torch.manual_seed(20261206)
    m = getattr(torchvision.models, name)(weights=None)
    g = torch.Generator().manual_seed(7)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            c = mod.num_features
            mod.running_mean.copy_(torch.rand(c, generator=g) * 0.4 - 0.2)
            mod.running_var.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
            mod.weight.data.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
            mod.bias.data.copy_(torch.rand(c, generator=g) * 0.2 - 0.1)
    return m.eval()


def with_registered_biases(m):
    """The same function, every bias-free convolution given a registered zero bias parameter."""
    m = copy.deepcopy(m)
    for mod in m.modules():
        if isinstance(mod, torch.nn.Conv2d) and mod.bias is None:
            mod.bias = torch.nn.Parameter(torch.zeros(mod.out_channels))
    return m


def composites(canonizer):
    low, high = torch.tensor(LOW).view(1, 3, 1, 1), torch.tensor(HIGH).view(1, 3, 1, 1)
    box = "epsilon-gamma-box:%s,%s" % (":".join("%.9g" % v for v in LOW), ":".join("%.9g" % v for v in HIGH))
    return [
        ("epsilon", lambda: LayerMapComposite(layer_map_base() + [(Convolution, Epsilon()),
                                                                  (torch.nn.Linear, Epsilon())],
                                              canonizers=[canonizer()])),
        ("epsilon-plus", lambda: EpsilonPlus(canonizers=[canonizer()])),
        ("epsilon-plus-flat", lambda: EpsilonPlusFlat(canonizers=[canonizer()])),
        ("epsilon-alpha2-beta1", lambda: EpsilonAlpha2Beta1(canonizers=[canonizer()])),
        ("epsilon-alpha2-beta1-flat", lambda: EpsilonAlpha2Beta1Flat(canonizers=[canonizer()])),
        (box, lambda: EpsilonGammaBox(low=low, high=high, canonizers=[canonizer()])),
    ]


def zennit(m, x, targets, make, dtype):
    m = copy.deepcopy(m).to(dtype)
    x = torch.from_numpy(x).to(dtype)
    onehot = torch.nn.functional.one_hot(torch.from_numpy(targets), 1000).to(dtype)
    with Gradient(model=m, composite=make()) as attr:
        _, rel = attr(x, lambda out: out * onehot)
    return rel.detach().numpy().astype(np.float64)


def gpulrp(onnx, xfile, tfile, spec, conv_bias, work):
    out = os.path.join(work, "r.npy")
    cmd = [os.path.join(ROOT, "bin", "gpulrp"), "explain", "--model", onnx, "--input", xfile, "--out", out,
           "--target", tfile, "--backend", "cpu", "--quiet", "--conv-bias", conv_bias]
    cmd += ["--composite", spec] if spec != "epsilon" else ["--rule", "epsilon"]
    subprocess.run(cmd, check=True)
    return np.load(out).astype(np.float64)


def main(names):
    torch.set_num_threads(2)
    x = images()
    print("| model | composite | conv bias | max diff | median diff | Zennit f32 gap (max) | sum gpulrp | sum Zennit |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        xfile = os.path.join(work, "x.npy")
        np.save(xfile, x)
        for name in names:
            m = model(name)
            onnx = os.path.join(work, name + ".onnx")
            torch.onnx.export(m, torch.from_numpy(x), onnx, opset_version=17, input_names=["input"],
                              output_names=["output"], dynamic_axes={"input": {0: "b"}, "output": {0: "b"}})
            with torch.no_grad():
                targets = m(torch.from_numpy(x)).argmax(1).numpy()
            tfile = os.path.join(work, "t.npy")
            np.save(tfile, targets.astype(np.int64))
            resnet = name.startswith("resnet")
            canon = ResNetCanonizer if resnet else VGGCanonizer
            variants = [("zennit", m), ("rule", with_registered_biases(m))] if resnet else [("rule", m)]
            for spec, make in composites(canon):
                for conv_bias, zm in variants:
                    r64 = zennit(zm, x, targets, make, torch.float64)
                    r32 = zennit(zm, x, targets, make, torch.float32)
                    g = gpulrp(onnx, xfile, tfile, spec, conv_bias, work)
                    top = np.abs(r64).max()
                    d = np.abs(g - r64)
                    shown = spec.split(":")[0] + (":imagenet" if ":" in spec else "")
                    print("| %s | %s | %s | %.2e | %.2e | %.2e | %s | %s |" % (
                        name, shown, conv_bias, d.max() / top, np.median(d) / top, np.abs(r32 - r64).max() / top,
                        " ".join("%.4g" % s for s in g.sum((1, 2, 3))),
                        " ".join("%.4g" % s for s in r64.sum((1, 2, 3)))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["resnet18", "resnet50", "vgg16"])
