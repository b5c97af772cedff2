#!/usr/bin/python3
"""Which torchvision architectures gpulrp loads and explains, and how close it comes to Zennit on each (outside CI).

Oracle: Zennit, the reference LRP library for PyTorch, commit 6b0bbdf (the source tree in ../shared/oracles/zennit,
LGPL-3.0; used as a library, nothing copied). Get it with `pip install zennit` or put its source on PYTHONPATH:

    PYTHONPATH=../shared/oracles/zennit/src /usr/bin/python3 scripts/torchvision_zoo.py \
        [--models alexnet,resnet18] [--composite epsilon-plus] [--products gradient|constant-gate] \
        [--zennit-canonical] [--out zoo.md] [--json zoo.json] [--timeout 1200] [--step-timeout 600]

Needs Debian's python3-torch, python3-torchvision, python3-sklearn and python3-pil (scikit-learn ships the two sample
photographs used as inputs) and the gpulrp jar (`bin/gpulrp` builds it). About 10 minutes for all seventeen
models on 2 cores; run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` where those are set.

Each model runs in a child process of its own with a time limit (`--timeout`), and every gpulrp call has one too
(`--step-timeout`); a failure or a timeout is a row of the table, never the end of the run. Per model:
  1. builds it as a user would, `torchvision.models.<name>(weights=None)` (its default initialization; nothing else
     is passed), and, seeded, gives every BatchNorm random statistics and affine parameters, as
     compare_zennit_fullsize.py does, so that the folded biases are not zero, vit_b_16's classifier head, which
     torchvision initializes to zeros (every logit 0), random weights, and convnext_tiny's layer scales, which it
     initializes to 1e-6 (every block's branch then adds almost nothing to the residual stream), seeded uniform
     values in [0.5, 1]; eval mode;
  2. exports it with torch.onnx.export (opset 17, input `input`, output `logits`, dynamic batch; the exporter folds
     BatchNorm into the convolutions) from a seeded random input of the model's size (299 px for inception_v3,
     224 otherwise);
  3. `gpulrp info --model`: loads or not (with the one-line refusal);
  4. the two photographs through torchvision's ImageNet recipe at the model's size (shorter side to size * 256/224,
     centre crop, mean/std) as one .npy, so that gpulrp reads exactly what Zennit gets; the target is each image's
     arg-max in torch;
  5. `gpulrp explain` on the CPU backend with the composite, initial relevance output (the CLI's default);
  6. Zennit in float64 (and float32, for Zennit's own rounding gap) with the same composite and its canonizers:
     the BatchNorm merge (ResNetCanonizer for ResNets, VGGCanonizer for VGG, SequentialMergeBatchNorm otherwise),
     initial relevance output * onehot(target);
  7. per image, max|R_gpulrp - R_zennit| / max|R_zennit| and the Pearson correlation of the two heatmaps (relevance
     summed over the colour channels); the table shows the worse of the two images.

Zennit's merge leaves the bias it gives a bias-free convolution outside its rules (Zennit issue 193, README "gpulrp
and Zennit"), so a model whose merged convolutions are bias-free is explained with `--conv-bias zennit` for the
plain comparison (which then also keeps the own biases of squeeze-and-excitation convolutions out of the rules, where
Zennit's rules modify them; the table's notes say so). Where the user's canonizer changes the forward pass
(SequentialMergeBatchNorm on DenseNet, which pairs modules in registration order and stops with a shape error), the
BatchNorms are merged by name into the convolutions a traced forward pass shows they feed.

`--zennit-canonical` adds a second comparison, against Zennit made to compute gpulrp's own semantics where a
torchvision forward uses operations Zennit does not hook (it differentiates through them): residual additions go
through `zennit.layer.Sum` (Norm rule), functional ReLUs, average pools and means become modules (Pass, Norm), with
`--products constant-gate` squeeze-and-excitation products give the gated activation all of the relevance, and every
bias-free convolution gets a registered zero bias, so that Zennit's rules modify the merged bias as gpulrp's default
`--conv-bias rule` does. These are make_zennit_cnn_golden.py's canonizers (written there for narrow versions of the
same blocks), plus FullSizeCanonizer for what the full-size models add.

LXT: Zennit has no rule for LayerNorm or attention (it differentiates through them), so on the three transformers
(convnext_tiny, vit_b_16, swin_t) the Zennit columns show a different method, by construction. Where LXT ("LRP
eXplains Transformers", AttnLRP's reference code, commit f043441 in ../shared/oracles/lxt, Clear BSD; used as a
library through scripts/transformer_lrp_reference.py, nothing copied) patches the architecture, vit_b_16, each of
gpulrp's transformer composites is compared with it on the same photographs and targets, LXT in float64 and float32:
`cp-lrp` against LXT's own vit_torch patches on torchvision's classes, `attnlrp` against LXT's rules placed as its
model patches place them on a functional copy of the ViT, `attnlrp-vit` against Zennit's Gamma(0.25) run through
LXT's Zennit patch (transformer_lrp_reference.py's docstring). LXT's linear layers are plain Gradient*Input (epsilon
0) and its identity rule divides by x + 1e-10, where gpulrp's stabilizer is 1e-6, so for vit_b_16 the table also
compares with transformer_lrp_reference.py's explicit rules at 1e-6 (which equal LXT to float64 rounding at 1e-30),
in float64, and gives their own float32 gap; and `cp-lrp` and `attnlrp` run a second time with every stabilizer at
1e-30 (`--rule epsilon:1e-30 --stabilizer 1e-30` and the composite's `--attention` and `--products`), LXT's rules
exactly, so that what is left is float32 rounding. LXT patches no ConvNeXt or Swin; for those two `cp-lrp` is
compared with LXT's vit_torch patches placed on their classes the same way (GELU's identity rule, LayerNorm's
normalizer stopped, ConvNeXt's LayerNorm2d with its channels moved last, Swin's attention weights detached: CP-LRP).

Prints a Markdown table (also written to `--out`) with the date, machine, JDK, torch and the command; progress goes
to stderr.
"""
import argparse
import copy
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision
import zennit
import zennit.composites as zc
from PIL import Image
from sklearn.datasets import load_sample_images
from torchvision.models import convnext, inception, mnasnet, mobilenetv2, shufflenetv2, swin_transformer
from torchvision.ops.misc import SqueezeExcitation
from zennit.attribution import Gradient
from zennit.canonizers import AttributeCanonizer, SequentialMergeBatchNorm
from zennit.torchvision import ResNetBasicBlockCanonizer, ResNetBottleneckCanonizer, ResNetCanonizer, VGGCanonizer

import make_zennit_cnn_golden as golden  # its canonizers for torchvision's CNN blocks (beside this script)
from make_zennit_golden import with_zero_conv_biases

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GPULRP = os.path.join(ROOT, "bin", "gpulrp")

MODELS = ["alexnet", "vgg11_bn", "resnet18", "resnet50", "densenet121", "squeezenet1_1", "googlenet", "inception_v3",
          "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "shufflenet_v2_x1_0", "mnasnet0_5",
          "regnet_y_400mf", "convnext_tiny", "vit_b_16", "swin_t"]
SIZE = {"inception_v3": 299}
COMPOSITES = ["epsilon-plus", "epsilon-alpha2-beta1", "epsilon-plus-flat", "epsilon-alpha2-beta1-flat"]
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

# Where LXT (AttnLRP's reference code) has a patch for the architecture: the composites compared with it (module
# docstring, "LXT"); the other transformers (convnext_tiny, swin_t) have no LRP reference to compare with.
LXT_COMPOSITES = {"vit_b_16": ["cp-lrp", "attnlrp", "attnlrp-vit"], "convnext_tiny": ["cp-lrp"], "swin_t": ["cp-lrp"]}
LAYER_NORMS = {"convnext_tiny", "vit_b_16", "swin_t"}

GAPS = {
    "densenet121": "the forward ends in F.relu and F.adaptive_avg_pool2d, not modules: Zennit applies their gradient "
                   "(the pooled relevance spread evenly over the 7x7 positions), gpulrp the Norm rule (in proportion "
                   "to the activations)",
    "inception_v3": "the pool branches of InceptionA/C/E call F.avg_pool2d: its gradient in Zennit, the Norm rule in "
                    "gpulrp",
    "mobilenet_v2": "the residual additions x + f(x) are not modules: Zennit passes the whole relevance to both "
                    "summands (the gradient of a sum, so it doubles at each block), gpulrp splits it in proportion "
                    "(Norm rule); the global pool is nn.functional.adaptive_avg_pool2d: its gradient in Zennit, the "
                    "Norm rule in gpulrp",
    "mobilenet_v3_small": "residual additions as in mobilenet_v2; the squeeze-and-excitation products scale * x are "
                          "not modules either, but there gpulrp's default (`--products gradient`) computes what "
                          "Zennit does",
    "efficientnet_b0": "residual additions as in mobilenet_v2, squeeze-and-excitation as in mobilenet_v3_small",
    "mnasnet0_5": "residual additions as in mobilenet_v2, and the global pool is x.mean([2, 3]): its gradient in "
                  "Zennit, the Norm rule in gpulrp",
    "shufflenet_v2_x1_0": "the global pool is x.mean([2, 3]): its gradient in Zennit, the Norm rule in gpulrp",
    "regnet_y_400mf": "residual additions as in mobilenet_v2, squeeze-and-excitation as in mobilenet_v3_small",
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------------------------
# The model, its input and the export


def build(name):
    """torchvision's model with its default initialization, seeded random BatchNorm statistics, eval mode; a
    classifier head that torchvision initializes to zeros (vit_b_16's: every logit 0, nothing to explain) gets seeded
    normal weights, standard deviation 1/sqrt(inputs), and a zero bias."""
    torch.manual_seed(20261206)
    m = getattr(torchvision.models, name)(weights=None)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        head = getattr(getattr(m, "heads", None), "head", None)
        if isinstance(head, torch.nn.Linear) and not head.weight.any():
            head.weight.copy_(torch.randn(head.weight.shape, generator=g) / head.in_features ** 0.5)
        for mod in m.modules():
            if isinstance(mod, convnext.CNBlock):
                mod.layer_scale.copy_(torch.rand(mod.layer_scale.shape, generator=g) * 0.5 + 0.5)
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                c = mod.num_features
                mod.running_mean.copy_(torch.rand(c, generator=g) * 0.4 - 0.2)
                mod.running_var.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
                mod.weight.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
                mod.bias.copy_(torch.rand(c, generator=g) * 0.2 - 0.1)
    return m.eval()


def photos(size):
    """scikit-learn's two sample photographs, shorter side to size * 256/224 (bilinear), centre crop, ImageNet
    mean/std: [2, 3, size, size] float32."""
    mean, std = np.array(MEAN, dtype=np.float32), np.array(STD, dtype=np.float32)
    out = []
    for img in load_sample_images().images:
        im = Image.fromarray(img)
        s = round(size * 256 / 224) / min(im.size)
        im = im.resize((round(im.size[0] * s), round(im.size[1] * s)), Image.BILINEAR)
        left, top = (im.size[0] - size) // 2, (im.size[1] - size) // 2
        a = np.asarray(im.crop((left, top, left + size, top + size)), dtype=np.float32) / 255
        out.append(((a - mean) / std).transpose(2, 0, 1))
    return np.stack(out).astype(np.float32)


def export(m, size, path):
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(11))
    torch.onnx.export(m, x, path, opset_version=17, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


# ----------------------------------------------------------------------------------------------------------------
# gpulrp through its command line


def cli(args, timeout):
    """Runs bin/gpulrp; returns (ok, seconds, stdout, the last 'gpulrp: ...' line or the last stderr line)."""
    t = time.monotonic()
    try:
        p = subprocess.run([GPULRP] + args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - t, "", "timed out after %d s" % timeout
    lines = [ln for ln in p.stderr.splitlines() if ln.strip() and not ln.startswith("WARNING: Using incubator")]
    said = [ln for ln in lines if ln.startswith("gpulrp:")]
    line = (said or lines or ["exit code %d" % p.returncode])[-1]
    return p.returncode == 0, time.monotonic() - t, p.stdout, line


# ----------------------------------------------------------------------------------------------------------------
# Zennit: the BatchNorm merge, the canonizers, the reference relevance


def merge_canonizers(name, m, x, pairs):
    """(canonizers, why): Zennit's canonizers for the model as a user would pick them (ResNetCanonizer, VGGCanonizer,
    else SequentialMergeBatchNorm), or, where those do not keep the forward pass (DenseNet), the BatchNorm merge by
    the pairs a traced forward pass finds, with the reason."""
    user = ResNetCanonizer if name.startswith("resnet") else VGGCanonizer if name.startswith("vgg") else \
        SequentialMergeBatchNorm
    why = forward_changed(m, x, user())
    if why is None:
        return (lambda: [user()]), None
    blocks = [ResNetBottleneckCanonizer(), ResNetBasicBlockCanonizer()] if name.startswith("resnet") else []
    return (lambda: [golden.graph_merge_batchnorm(pairs)] + blocks), "%s: %s" % (user.__name__, why)


def forward_changed(m, x, canonizer):
    """None if the canonizer leaves the float64 forward pass as it is, else what went wrong."""
    m = copy.deepcopy(m).double()
    xt = torch.from_numpy(x).double()
    with torch.no_grad():
        want = m(xt)
        try:
            handles = canonizer.apply(m)
            got = m(xt)
        except Exception as e:  # a canonizer that does not fit the model
            return ("%s: %s" % (type(e).__name__, e)).split("\n")[0]
    for h in reversed(handles):
        h.remove()
    gap = float((got - want).abs().max() / want.abs().max())
    return None if gap < 1e-9 else "changes the forward pass by %.1e of max|logit|" % gap


class FullSizeCanonizer(AttributeCanonizer):
    """What make_zennit_cnn_golden.py's canonizers leave out on the full-size models: the functional global pools of
    MobileNetV2 (nn.functional.adaptive_avg_pool2d), ShuffleNetV2 and MNASNet (x.mean([2, 3])) as an
    AdaptiveAvgPool2d module, and the F.avg_pool2d(3, 1, padding 1) of InceptionC and InceptionE as an AvgPool2d
    module (their F is swapped during the call for one that sends avg_pool2d to it), so that Zennit gives them Norm."""

    def __init__(self):
        super().__init__(self._attribute_map)

    @staticmethod
    def _attribute_map(name, module):
        pool = {"canonizer_avgpool": torch.nn.AdaptiveAvgPool2d((1, 1))}
        if isinstance(module, mobilenetv2.MobileNetV2):
            return dict(forward=FullSizeCanonizer._head(module, "features", "classifier"), **pool)
        if isinstance(module, mnasnet.MNASNet):
            return dict(forward=FullSizeCanonizer._head(module, "layers", "classifier"), **pool)
        if isinstance(module, shufflenetv2.ShuffleNetV2):
            return dict(forward=FullSizeCanonizer._head(module, "conv1 maxpool stage2 stage3 stage4 conv5", "fc"),
                        **pool)
        if isinstance(module, (inception.InceptionC, inception.InceptionE)):
            return {"forward": FullSizeCanonizer._avg_pool_as_module(module),
                    "canonizer_avgpool": torch.nn.AvgPool2d(kernel_size=3, stride=1, padding=1)}
        return None

    @staticmethod
    def _head(module, body, classifier):
        def forward(self, x):
            for part in body.split():
                x = getattr(self, part)(x)
            return getattr(self, classifier)(torch.flatten(self.canonizer_avgpool(x), 1))
        return forward.__get__(module)

    @staticmethod
    def _avg_pool_as_module(module):
        original = type(module).forward

        class Routed:
            def __getattr__(self, fn):
                return getattr(torch.nn.functional, fn)

        def forward(self, x):
            routed = Routed()
            routed.avg_pool2d = lambda t, **kwargs: self.canonizer_avgpool(t)
            inception.F = routed
            try:
                return original(self, x)
            finally:
                inception.F = torch.nn.functional
        return forward.__get__(module)


def canonical_canonizers(products):
    """Canonizers that make Zennit compute gpulrp's semantics where torchvision's forwards use functional operations
    (make_zennit_cnn_golden.py's, and FullSizeCanonizer), to go after the BatchNorm merge."""
    out = [golden.ResidualSumCanonizer(), golden.FunctionalOpsCanonizer(), FullSizeCanonizer()]
    return out + ([golden.ConstantGateCanonizer()] if products == "constant-gate" else [])


def zennit_relevance(m, x, targets, composite, canonizers, dtype):
    m = copy.deepcopy(m).to(dtype)
    xt = torch.from_numpy(x).to(dtype)
    onehot = torch.nn.functional.one_hot(torch.from_numpy(targets), 1000).to(dtype)
    with Gradient(model=m, composite=composite(canonizers=canonizers())) as attr:
        _, rel = attr(xt, lambda out: out * onehot)
    return rel.detach().numpy().astype(np.float64)


def compare(g, z):
    """Worse image's max|g - z| / max|z| and heatmap correlation, and both sums."""
    diffs, medians, corrs = [], [], []
    for gi, zi in zip(g, z):
        diffs.append(float(np.abs(gi - zi).max() / np.abs(zi).max()))
        medians.append(float(np.median(np.abs(gi - zi)) / np.abs(zi).max()))
        corrs.append(float(np.corrcoef(gi.sum(0).ravel(), zi.sum(0).ravel())[0, 1]))
    return dict(max_diff=max(diffs), median_diff=max(medians), corr=min(corrs),
                sums_gpulrp=[float(s) for s in g.sum((1, 2, 3))], sums_zennit=[float(s) for s in z.sum((1, 2, 3))])


# ----------------------------------------------------------------------------------------------------------------
# LXT: AttnLRP's reference code, on the transformers it patches


def lxt_relevance(m, x, targets, composite, dtype):
    """LXT's Gradient*Input at the pixels of a copy of m in dtype, through transformer_lrp_reference.py (beside this
    script; it loads LXT from ../shared/oracles): `cp-lrp` with LXT's own vit_torch patches on torchvision's classes
    (GELU's identity rule, LayerNorm's normalizer stopped, q and k of MultiheadAttention stopped), `attnlrp` with its
    LxtOps (q and k divided by 4, v by 2) on its functional copy of the ViT (q, k, v as three Linear modules),
    `attnlrp-vit` with Zennit's Gamma(0.25) on the patch convolution and every Linear through LXT's Zennit patch."""
    import transformer_lrp_reference as ref
    torch.set_num_threads(2)  # the module sets one thread for its own fixtures
    rules = ref.load_lxt()
    model = copy.deepcopy(m).to(dtype)
    xt, t = torch.from_numpy(x).to(dtype), torch.from_numpy(targets)
    if not isinstance(m, torchvision.models.VisionTransformer):
        r = ref.lxt_torchvision_patched(model, xt, t)
    elif composite == "cp-lrp":
        r = ref.lxt_vit_patched(model, xt, rules, t)
    elif composite == "attnlrp":
        r = ref.lxt_pixels(ref.FunctionalVit(model), xt, composite, rules, t)
    else:
        r = ref.lxt_zennit_gamma(ref.FunctionalVit(model), xt, rules, t)
        if r is None:
            raise RuntimeError("Zennit is not importable")
    return r.numpy().astype(np.float64)


def explicit_relevance(m, x, targets, composite, dtype):
    """transformer_lrp_reference.py's explicit rules (checked there against LXT to float64 rounding at a stabilizer of
    1e-30) with gpulrp's stabilizer, 1e-6, at every step, on m's parameters in dtype."""
    import transformer_lrp_reference as ref
    torch.set_num_threads(2)
    p = {k: v.to(dtype) for k, v in ref.params64(m).items()}
    layers = m.encoder.layers
    ex = ref.explain("vit", p, (torch.from_numpy(x).to(dtype),), composite, eps=ref.EPS,
                     targets=torch.from_numpy(targets), layers=len(layers), heads=layers[0].self_attention.num_heads,
                     patch=m.patch_size)
    return ex["pixels"].double().numpy()


# The composite's rules with every stabilizer negligible (LXT has none): the linear layers' Epsilon and the steps
# without a rule (--stabilizer) at 1e-30.
TINY_STABILIZERS = {
    "cp-lrp": ["--rule", "epsilon:1e-30", "--attention", "cp-lrp", "--products", "constant-gate"],
    "attnlrp": ["--rule", "epsilon:1e-30", "--attention", "attnlrp", "--products", "uniform"],
}


def against_lxt(m, onnx, x, xfile, tfile, targets, composite, work, opts):
    """gpulrp explain with the composite against LXT in float64, and LXT's own float32 gap; then against the
    explicit rules with gpulrp's stabilizer in float64, and their float32 gap."""
    rfile = os.path.join(work, "r_lxt.npy")

    def explain(how):
        ok, s, _, line = cli(["explain", "--model", onnx, "--input", xfile, "--target", tfile, "--out", rfile,
                              "--backend", "cpu"] + how, opts.step_timeout)
        if not ok:
            raise RuntimeError("gpulrp explain: " + line)
        r = np.load(rfile).astype(np.float64)
        os.remove(rfile)
        return r, s

    g, s = explain(["--composite", composite])
    tiny = explain(TINY_STABILIZERS[composite] + ["--stabilizer", "1e-30"])[0] \
        if composite in TINY_STABILIZERS else None
    t = time.monotonic()
    l32 = lxt_relevance(m, x, targets, composite, torch.float32)
    s32 = time.monotonic() - t
    l64 = lxt_relevance(m, x, targets, composite, torch.float64)
    own = compare(l32, l64)
    res = dict(gpulrp_s=s, lxt_s=s32, gap32=own["max_diff"], corr32=own["corr"], **compare(g, l64))
    if tiny is not None:
        t = compare(tiny, l64)
        res.update(tiny_max=t["max_diff"], tiny_corr=t["corr"])
    if isinstance(m, torchvision.models.VisionTransformer):
        e64 = explicit_relevance(m, x, targets, composite, torch.float64)
        rules, rules32 = compare(g, e64), compare(explicit_relevance(m, x, targets, composite, torch.float32), e64)
        res.update(rules_max=rules["max_diff"], rules_corr=rules["corr"], rules_gap32=rules32["max_diff"],
                   rules_corr32=rules32["corr"])
    return res


# ----------------------------------------------------------------------------------------------------------------
# One model, in a child process


def worker(name, work, opts):
    """Runs every step for one model, writing what it has after each step to work/<name>.json."""
    torch.set_num_threads(2)
    res = dict(model=name, size=SIZE.get(name, 224))
    out = os.path.join(work, name + ".json")

    def save():
        with open(out + ".tmp", "w") as f:
            json.dump(res, f)
        os.replace(out + ".tmp", out)

    def step(key, fn):
        t = time.monotonic()
        try:
            value = fn()
            res[key] = dict(ok=True, s=time.monotonic() - t, **(value or {}))
        except Exception as e:  # a failed step is a result
            res[key] = dict(ok=False, s=time.monotonic() - t, line=("%s: %s" % (type(e).__name__, e)).split("\n")[0])
        save()
        return res[key]["ok"]

    save()
    onnx = os.path.join(work, name + ".onnx")
    built = []
    if not step("build", lambda: built.append(build(name))) or \
            not step("export", lambda: export(built[0], res["size"], onnx)):
        return
    m = built[0]

    ok, s, stdout, line = cli(["info", "--model", onnx], opts.step_timeout)
    head = stdout.splitlines()[0] if stdout else ""
    res["info"] = dict(ok=ok, s=s, line=line if not ok else head)
    save()
    if not ok:
        return

    x = photos(res["size"])
    xfile, tfile = os.path.join(work, "x.npy"), os.path.join(work, "t.npy")
    np.save(xfile, x)
    with torch.no_grad():
        targets = m(torch.from_numpy(x)).argmax(1).numpy().astype(np.int64)
    np.save(tfile, targets)
    res["targets"] = targets.tolist()

    pairs = golden.conv_batchnorm_pairs(m, torch.from_numpy(x))
    merged = {c[0] for c, _ in pairs}
    convs = {n: mod for n, mod in m.named_modules() if isinstance(mod, torch.nn.Conv2d)}
    plain_bias = res["conv_bias"] = "zennit" if any(convs[n].bias is None for n in merged) else "rule"
    if plain_bias == "zennit":  # convolutions with a bias of their own, which Zennit's rules modify
        res["own_bias_convs"] = sum(1 for n, mod in convs.items() if mod.bias is not None and n not in merged)
    res["gates"] = sum(1 for mod in m.modules() if isinstance(mod, SqueezeExcitation))
    merge, res["merge_by_name"] = merge_canonizers(name, m, x, pairs)
    save()

    relevance = {}

    def explain(conv_bias):
        rfile = os.path.join(work, "r_%s.npy" % conv_bias)
        ok, s, _, line = cli(["explain", "--model", onnx, "--input", xfile, "--target", tfile, "--out", rfile,
                              "--backend", "cpu", "--composite", opts.composite, "--conv-bias", conv_bias]
                             + (["--products", opts.products] if opts.products != "gradient" else []),
                             opts.step_timeout)
        res["explain_" + conv_bias] = dict(ok=ok, s=s, line=line)
        if ok:
            relevance[conv_bias] = np.load(rfile).astype(np.float64)
            os.remove(rfile)
        save()
        return ok

    ok = explain(plain_bias)
    if ok and opts.zennit_canonical and plain_bias != "rule":
        explain("rule")
    if ok:
        for c in LXT_COMPOSITES.get(name, []):
            step("lxt_" + c, lambda: against_lxt(m, onnx, x, xfile, tfile, targets, c, work, opts))
    os.remove(onnx)
    if not ok:
        return

    composite = {"epsilon-plus": zc.EpsilonPlus, "epsilon-alpha2-beta1": zc.EpsilonAlpha2Beta1,
                 "epsilon-plus-flat": zc.EpsilonPlusFlat,
                 "epsilon-alpha2-beta1-flat": zc.EpsilonAlpha2Beta1Flat}[opts.composite]

    def reference(model, canonizers, g):
        t = time.monotonic()
        z32 = zennit_relevance(model, x, targets, composite, canonizers, torch.float32)
        s32 = time.monotonic() - t
        z64 = zennit_relevance(model, x, targets, composite, canonizers, torch.float64)
        own = compare(z32, z64)
        return dict(zennit_s=s32, gap32=own["max_diff"], corr32=own["corr"], **compare(g, z64))

    step("zennit", lambda: reference(m, merge, relevance[plain_bias]))
    if opts.zennit_canonical and "rule" in relevance:
        step("canonical", lambda: reference(with_zero_conv_biases(m),
                                            lambda: merge() + canonical_canonizers(opts.products), relevance["rule"]))


# ----------------------------------------------------------------------------------------------------------------
# The run and the table


def run_one(name, work, opts):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--work", work, "--composite", opts.composite,
           "--products", opts.products, "--step-timeout", str(opts.step_timeout)]
    cmd += ["--zennit-canonical"] if opts.zennit_canonical else []
    t = time.monotonic()
    p = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = p.communicate(timeout=opts.timeout)
        failure = None if p.returncode == 0 else (err.strip().splitlines() or ["exit code %d" % p.returncode])[-1]
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)  # the worker's own session: it and the gpulrp it may be running
        p.wait()
        failure = "timed out after %d s" % opts.timeout
    path = os.path.join(work, name + ".json")
    res = dict(model=name)
    if os.path.exists(path):
        with open(path) as f:
            res = json.load(f)
    res["total_s"] = time.monotonic() - t
    if failure:
        res["failure"] = failure
    for f in os.listdir(work):
        if f.startswith(name + ".onnx") or f.endswith(".npy"):
            os.remove(os.path.join(work, f))
    return res


def cell(text):
    return text.replace("|", "\\|")


def short(line):
    """A gpulrp refusal without the list of supported operators and the temporary file's path."""
    return re.sub(r" \(in /[^)]*\)$", "", line.split("; supported:")[0])


def yes_no(step):
    if step is None:
        return "-"
    return "yes" if step["ok"] else "no: `%s`" % cell(short(step["line"]))


def row(res, opts):
    canonical = opts.zennit_canonical
    failure = res.get("failure")
    before = [k for k in ("build", "export") if k in res and not res[k]["ok"]]
    if before:
        loads = "no (%s failed): `%s`" % (before[0], cell(res[before[0]]["line"]))
    elif "info" not in res and failure:
        loads = "no: `%s`" % cell(failure)
    else:
        loads = yes_no(res.get("info"))
    explain = res.get("explain_%s" % res.get("conv_bias"))
    explains = yes_no(explain) if res.get("info", {}).get("ok") else "-"
    if failure and explain is None and res.get("info", {}).get("ok"):
        explains = "no: `%s`" % cell(failure)
    z = res.get("zennit")
    cols = [res["model"], str(res.get("size", SIZE.get(res["model"], 224))), loads, explains,
            "%.1f" % explain["s"] if explain and explain["ok"] else "-",
            "%.1f" % z["zennit_s"] if z and z["ok"] else "-",
            res["conv_bias"] if explain and explain["ok"] else "-"]
    for v in [z] + ([res.get("canonical")] if canonical else []):
        if v is None:
            cols += ["-", "-"]
        elif not v["ok"]:
            cols += ["Zennit failed: `%s`" % cell(v["line"]), "-"]
        else:
            cols += ["%.2e / %.4f" % (v["max_diff"], v["corr"]), "%.2e / %.4f" % (v["gap32"], v["corr32"])]
    cols.append(", ".join(tag for tag, _ in remarks(res, opts)))
    return "| " + " | ".join(cols) + " |"


def remarks(res, opts):
    """(tag, sentence) for what makes this model's numbers what they are, beyond float32 rounding."""
    out = []
    if res.get("zennit"):
        if res["model"] in GAPS:
            out.append(("functional ops", GAPS[res["model"]]))
        if res.get("merge_by_name"):
            out.append(("merge by name", "%s; it pairs modules in registration order, which here is not the forward "
                        "pass's (DenseNet: a dense layer's last convolution with the next layer's first BatchNorm, "
                        "which reads the concatenation), so Zennit's BatchNorms were merged by name "
                        "(NamedMergeBatchNorm) into the convolutions a traced forward pass shows they follow"
                        % res["merge_by_name"]))
        if res.get("own_bias_convs"):
            out.append(("own biases", "`--conv-bias zennit` also keeps the biases of the %d convolutions that have "
                        "their own (the squeeze-and-excitation layers) out of the rules, where Zennit's rules modify "
                        "them; the canonical comparison has no such difference" % res["own_bias_convs"]))
        if opts.products == "constant-gate" and res.get("gates"):
            out.append(("gates", "with `--products constant-gate` gpulrp gives the gated activation all of the "
                        "relevance of the %d squeeze-and-excitation products; plain Zennit applies the product's "
                        "gradient" % res["gates"]))
        if res["model"] in LAYER_NORMS:
            out.append(("layer norms", "Zennit has no rule for LayerNorm and differentiates through it, normalizer "
                        "included, where gpulrp applies the LayerNorm rule (docs/DESIGN.md 2.9: the normalizer a "
                        "constant, as in LXT); %s" % ("the table against LXT below compares the transformer rules"
                                                      if res["model"] in LXT_COMPOSITES else
                                                      "no LRP reference patches this architecture (LXT has ViT, not "
                                                      "ConvNeXt or Swin), so this row shows that it loads and "
                                                      "explains, not that it agrees")))
    if res.get("failure"):
        out.append(("stopped", res["failure"]))
    return out


def lxt_table(results):
    """The Markdown rows of the comparisons with LXT (none where no model had one)."""
    rows = []
    for res in results:
        for c in LXT_COMPOSITES.get(res["model"], []):
            v = res.get("lxt_" + c)
            if v is None:
                cols = ["-"] * 7
            elif not v["ok"]:
                cols = ["failed: `%s`" % cell(v["line"])] + ["-"] * 6
            else:
                cols = ["%.1f" % v["gpulrp_s"], "%.1f" % v["lxt_s"], "%.2e / %.4f" % (v["max_diff"], v["corr"]),
                        "%.2e / %.4f" % (v["gap32"], v["corr32"])]
                cols.append("%.2e / %.4f" % (v["tiny_max"], v["tiny_corr"]) if "tiny_max" in v else "-")
                cols += ["%.2e / %.4f" % (v["rules_max"], v["rules_corr"]),
                         "%.2e / %.4f" % (v["rules_gap32"], v["rules_corr32"])] if "rules_max" in v else ["-", "-"]
            rows.append("| %s | `%s` | %s |" % (res["model"], c, " | ".join(cols)))
    if not rows:
        return []
    return ["", "Against LXT (AttnLRP's reference code, ../shared/oracles/lxt, through "
            "scripts/transformer_lrp_reference.py), float64, on the same photographs and targets. LXT has no "
            "stabilizer: `at 1e-30` is gpulrp with the composite's rules and every stabilizer at 1e-30 (`--rule "
            "epsilon:1e-30 --stabilizer 1e-30` with the composite's `--attention` and `--products`); the last two "
            "columns compare with the same rules at gpulrp's stabilizer, 1e-6 (the explicit form of "
            "transformer_lrp_reference.py, which equals LXT to float64 rounding at 1e-30), and give that form's own "
            "float32 gap:", "",
            "| model | `--composite` | gpulrp s | LXT f32 s | vs LXT | LXT f32 vs f64 | vs LXT, gpulrp at 1e-30 | "
            "vs the rules at 1e-6 | their f32 vs f64 |", "|---|---|---|---|---|---|---|---|---|"] + rows


def environment(argv):
    cpu = next((ln.split(":", 1)[1].strip() for ln in subprocess.run(["lscpu"], capture_output=True, text=True)
                .stdout.splitlines() if ln.startswith("Model name")), platform.processor())
    jdk = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    return dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                machine="%s, %d CPUs" % (cpu, os.cpu_count()), jdk=jdk, torch=torch.__version__,
                torchvision=torchvision.__version__, gpulrp=commit,
                zennit=os.path.relpath(os.path.dirname(os.path.dirname(zennit.__file__)), ROOT),
                command=" ".join(shlex.quote(a) for a in ["scripts/torchvision_zoo.py"] + argv))


def table(results, opts, env, seconds):
    canonical = opts.zennit_canonical
    lines = ["gpulrp %s against Zennit (%s), composite `%s`%s, 2 photographs per model, gpulrp on its CPU "
             "backend (float32), Zennit in float64." % (env["gpulrp"], env["zennit"], opts.composite,
                                                        ", `--products %s`" % opts.products
                                                        if opts.products != "gradient" else ""),
             "",
             "- date: %s; machine: %s; %s; torch %s, torchvision %s; %d models in %.0f s"
             % (env["date"], env["machine"], env["jdk"], env["torch"], env["torchvision"], len(results), seconds),
             "- command: `%s`" % env["command"],
             "- cells `max / corr`: max\\|R_a - R_b\\| / max\\|R_b\\| and the correlation of the two heatmaps "
             "(relevance summed over the channels), the worse of the two images; `vs`: gpulrp against Zennit's float64 "
             "result; `f32 vs f64`: Zennit's own float32 result against it, the size of float32 rounding there",
             ""]
    head = ["model", "px", "loads", "explains", "gpulrp s", "Zennit f32 s", "`--conv-bias`", "vs Zennit",
            "Zennit f32 vs f64"]
    if canonical:
        head += ["vs canonical Zennit", "canonical f32 vs f64"]
    head += ["notes"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [row(r, opts) for r in results]
    lines += lxt_table(results)
    notes = [(r["model"], remarks(r, opts)) for r in results]
    if any(said for _, said in notes):
        lines += ["", "Notes (where plain Zennit computes something else, by construction):"]
        lines += ["- %s: %s." % (m, "; ".join("%s: %s" % pair for pair in said)) for m, said in notes if said]
    return "\n".join(lines) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated torchvision names (default: all 17)")
    ap.add_argument("--composite", default="epsilon-plus", choices=COMPOSITES)
    ap.add_argument("--products", default="gradient", choices=["gradient", "constant-gate"],
                    help="gpulrp's --products (only passed when not the default, gradient)")
    ap.add_argument("--zennit-canonical", action="store_true",
                    help="also compare against Zennit canonized to gpulrp's semantics (module docstring)")
    ap.add_argument("--out", help="also write the Markdown table to this file")
    ap.add_argument("--json", help="also write every result, step by step, to this file")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per model (default 1200)")
    ap.add_argument("--step-timeout", type=int, default=600, help="seconds per gpulrp call (default 600)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if opts.worker:
        worker(opts.worker, opts.work, opts)
        return
    names = [n for n in opts.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error("unknown models: %s (choose from %s)" % (", ".join(unknown), ", ".join(MODELS)))
    env = environment(argv)
    results, t = [], time.monotonic()
    work = tempfile.mkdtemp(prefix="gpulrp-zoo-")
    try:
        for name in names:
            log("%s ..." % name)
            res = run_one(name, work, opts)
            results.append(res)
            log("%s (%.0f s)" % (row(res, opts), res["total_s"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = table(results, opts, env, time.monotonic() - t)
    sys.stdout.write(text)
    if opts.out:
        with open(opts.out, "w") as f:
            f.write(text)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(dict(env, results=results), f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
