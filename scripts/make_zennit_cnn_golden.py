#!/usr/bin/env python3
"""Writes golden LRP relevances for narrow CNN families, computed by Zennit itself, to src/test/resources/zennit-cnn/
(issue 14). The companion of scripts/make_zennit_golden.py (ResNet, VGG, concat); same oracle, same composites.

Oracle: Zennit (https://github.com/chr-peters/zennit) at commit 6b0bbdf (0.5.x), only *run* here to make data files
(it is LGPL; no Zennit code is part of gpulrp, and the canonizers below are this script's own, written against
Zennit's Canonizer API). Needs torch 1.13, torchvision 0.14 and onnx with /usr/bin/python3:
    PYTHONPATH=zennit/src /usr/bin/python3 scripts/make_zennit_cnn_golden.py
Deterministic (fixed seeds, one thread): reruns reproduce every file byte for byte.

Models: torchvision's own classes, narrow, 3 x 24 x 24 inputs, 10 classes, default init (fixed seed), then every
BatchNorm's running statistics and affine parameters and every bias random; .eval(); exported with torch.onnx.export
(opset 17, dynamic batch; the exporter folds each BatchNorm that directly follows a convolution into it).
  densenet      torchvision DenseNet(growth 4, blocks (2, 2), 8 initial features, bn_size 2): conv0 7x7/2, norm0,
                relu0, max pool 3/2/1, _DenseBlock, _Transition (standalone BatchNorm, ReLU, conv, AvgPool2d module),
                _DenseBlock, norm5; its forward's F.relu and F.adaptive_avg_pool2d, classifier
  googlenet     BasicConv2d 3x3/2, MaxPool2d(3, 2, ceil_mode=True) (12 -> 6, floor mode would give 5), googlenet's
                Inception(8, 4, 4, 8, 2, 4, 4) (its pool branch a ceil-mode MaxPool2d(3, 1, 1)), AdaptiveAvgPool2d, fc
  inception_a   inception's BasicConv2d 3x3/2, InceptionA(16, pool_features=32) built through its conv_block argument
                with every hard-coded width divided by 8 (16 -> 8 + 8 + 12 + 4 channels); its branch_pool is
                F.avg_pool2d(3, 1, padding 1), exported as Pad + AveragePool
  squeezenet    conv 3x3/2, ReLU, MaxPool2d(3, 2, ceil_mode=True) (12 -> 6), Fire(16, 4, 8, 8) twice, ceil-mode max
                pool (6 -> 3), Fire(16, 6, 12, 12), AdaptiveAvgPool2d, Linear (Fire convolutions have biases, no BN)
  mobilenet_v2  Conv2dNormActivation(ReLU6) 3x3/2, mobilenetv2 InvertedResidual(8, 8, 1, 2) (residual add),
                (8, 16, 2, 3), (16, 16, 1, 2) (residual add), 1x1 conv, the forward of MobileNetV2
                (F.adaptive_avg_pool2d), Dropout, Linear
  mobilenet_v3  torchvision MobileNetV3 with three blocks: (16, k3, exp 16, 16, SE, ReLU, s1: no expansion, residual),
                (16, k3, exp 32, 24, ReLU, s2), (24, k5, exp 48, 24, SE, Hardswish, s1, residual); SE gates
                Hardsigmoid, last channel 32 (classifier Linear, Hardswish, Dropout, Linear)
  efficientnet  torchvision EfficientNet with MBConvConfig(1, 3, 1, 16, 16, 1) and (4, 3, 2, 16, 24, 2): SiLU
                everywhere (exported as x * Sigmoid(x)), SE with sigmoid gates, residual adds, stochastic depth
                (identity in eval)
  shufflenet_v2 conv 3x3/2 + BN + ReLU, shufflenetv2 InvertedResidual(8, 16, 2) and (16, 16, 1) (chunk/split,
                concat, channel shuffle = reshape/transpose/reshape), 1x1 conv, x.mean([2, 3]), fc
  regnet_y      regnet SimpleStemIN(3, 8), ResBottleneckBlock(8, 16, 2, group_width 4, se_ratio 0.25) (projection +
                sum), ResBottleneckBlock(16, 16, 1, ...) (identity + sum), SE gates sigmoid, AdaptiveAvgPool2d, fc
  mnasnet       conv 3x3/2 + BN + ReLU, mnasnet _InvertedResidual(8, 8, 3, 1, 3) (residual add), (8, 16, 5, 2, 3),
                (16, 16, 3, 1, 3) (residual add), 1x1 conv + BN + ReLU, x.mean([2, 3]), Dropout, Linear

The reference: what gpulrp implements (README "gpulrp and Zennit", docs/DESIGN.md 2.5), computed with Zennit's rules.
Zennit needs a canonical model for some of it; these are the canonizers a Zennit user must add for these
architectures, each checked to leave the forward pass unchanged (float64, max |diff| printed):
  * BatchNorm merge by the data flow (GraphMergeBatchNorm): each BatchNorm whose input is a convolution's output is
    merged into that convolution (Zennit's NamedMergeBatchNorm with the pairs found by a traced forward pass).
    Zennit's SequentialMergeBatchNorm must not be used here: it pairs modules by registration order and would merge
    DenseNet's norm1 (after a concatenation) into the previous layer's conv2. Every other BatchNorm (DenseNet's norm1,
    transition norm, norm5) keeps Zennit's rule for BatchNorm: Pass. The ONNX files are checked to keep exactly
    those as BatchNormalization nodes.
  * Residual additions through Zennit's Sum module (ResidualSumCanonizer): the functional `x + block(x)` /
    `result += input` of mobilenetv2/v3 InvertedResidual, EfficientNet MBConv, RegNet ResBottleneckBlock and MnasNet
    _InvertedResidual become `Sum(stack([a, b], -1))`, which Zennit's layer_map_base explains with Norm (proportional
    split, stabilizer 1e-6), as its own ResNet canonizer does.
  * Functional activations and pools as modules (FunctionalOpsCanonizer): googlenet's and inception's BasicConv2d
    call F.relu, InceptionA calls F.avg_pool2d, DenseNet's and MobileNetV2's forward call F.relu /
    F.adaptive_avg_pool2d, ShuffleNetV2 and MnasNet take x.mean([2, 3]). Zennit hooks modules only, so it would
    differentiate through those (the gradient, not Pass or Norm); the canonizer calls nn.ReLU / nn.AvgPool2d /
    nn.AdaptiveAvgPool2d modules instead (same math), which get Pass and Norm like any activation or pool module.
    The script prints, per model, how far Zennit's result without this canonizer is from the reference.
  * Products of two activations (SE gates, `scale * input`): gpulrp's default (products=gradient) is what Zennit does
    with an op that has no rule, the gradient applied to the relevance: R_input = R_out * scale,
    R_scale[c] = sum over positions of R_out * input; the scale activation (Sigmoid, Hardsigmoid) is an activation
    module, so Pass. No canonizer. For products=constant-gate (the gate is a constant: R_input = R_out, R_scale = 0)
    ConstantGateCanonizer replaces SqueezeExcitation's forward by a product whose backward passes the relevance to the
    input unchanged and nothing to the gate (an autograd Function; forward the same product).
Max pooling (ceil mode too), concatenation, split/chunk, reshape/transpose keep the gradient (Zennit's default).

Cases: Zennit's Gradient attributor with the canonizers above, initial relevance output * onehot(target) (output),
onehot(target) (onehot, composite epsilon only) or logit * onehot(target) (logit; the same as output here, no model
ends in a Softmax), targets = each sample's arg-max of the float64 output (stored). Composites as in
make_zennit_golden.py: epsilon, epsilon-plus, epsilon-alpha2-beta1, epsilon-plus-flat, epsilon-alpha2-beta1-flat,
epsilon-gamma-box with bounds -3, 3 and with ImageNet's per-channel bounds (the first convolution ZBox); uniform rules
on every convolution and dense layer: epsilon, zplus, alpha-beta:2,1, alpha-beta:1,0, gamma:0.25, wsquare, flat.
The SE convolutions (fc1, fc2) are convolutions to Zennit, so they get the composites' convolution rules.
  conv_bias rule    (every model) Zennit on a copy whose bias-free convolutions got a registered zero bias, so that
                    Zennit's rules modify merged BatchNorm biases as the formulas say (gpulrp's ConvBias.RULE).
  conv_bias zennit  (models whose convolutions all have bias=False: densenet, googlenet, inception_a, mobilenet_v2,
                    shufflenet_v2, mnasnet) Zennit on the model as built: merged biases enter the modified passes
                    unchanged (zennit#193; gpulrp's ConvBias.ZENNIT, which applies to every convolution, so it cannot
                    describe the SE models and SqueezeNet, whose convolutions also carry biases of their own).
  products          gradient for every case; the SE models (mobilenet_v3, efficientnet, regnet_y) again with
                    constant-gate (conv_bias rule, init output).

Each case is computed in float64 (kept, stored as float32) and float32; gap = max |R32 - R64| over eight float32
runs: the model as it is (as make_zennit_golden.py), three with the inputs nudged by one float32 step, and four with
every parameter nudged by one step (random directions, seeded per case). The nudged runs are there because a single
float32 run can land close to float64 by luck: with conv_bias zennit the unmodified merged biases make AlphaBeta
denominators nearly cancel (condition numbers sum|terms| / |denominator| of several thousand in inception_a's
branch5x5_2), so the float32 error is heavy-tailed, and gpulrp's summation order draws another sample of it. A case
with gap > 1e-2 max|R64| is skipped as ill-conditioned (listed in the manifest header). Checks before writing: the
canonized forward equals the original; reruns give the same bits; relevance is linear in the initial relevance
(onehot = logit / z_t); conservation on a bias-free copy (all biases, BatchNorm means and shifts zero) under the
epsilon rule with stabilizers 1e-12: sum of input relevance = score to 1e-6 (products=constant-gate on the SE
models; printed, with the non-conservation of products=gradient for the record).
Files: inputs.npy [2, 3, 24, 24]; per model MODEL.onnx, MODEL_relevance.npy [unique cases, 2, 3, 24, 24] and
MODEL_outputs.npy [2, 10] (torch float64 output, stored as float32); models.txt (model, ONNX file, relevance file,
outputs file, targets); manifest.txt (one case per line: model onnx conv_bias products kind spec init index gap
max|R64|).
"""
import copy
import io
import os
import sys
import zlib
from collections import OrderedDict
from functools import partial
from importlib import import_module

import numpy as np
import onnx
import torch
import torch.nn as nn
from torchvision.ops.misc import Conv2dNormActivation, SqueezeExcitation

from zennit.attribution import Gradient
from zennit.canonizers import AttributeCanonizer, NamedMergeBatchNorm
from zennit.composites import (LayerMapComposite, EpsilonPlus, EpsilonAlpha2Beta1, EpsilonPlusFlat,
                               EpsilonAlpha2Beta1Flat, EpsilonGammaBox, layer_map_base)
from zennit.layer import Sum
from zennit.rules import Epsilon, ZPlus, AlphaBeta, Gamma, WSquare, Flat
from zennit.types import Convolution, Linear as AnyLinear

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The BatchNorm/bias randomization, the bias-free-convolution copy and the ImageNet bounds of the first suite.
from make_zennit_golden import channel_bounds, randomize, with_zero_conv_biases  # noqa: E402

# torchvision's model modules (`from torchvision.models import googlenet` would give the function of that name)
densenet, efficientnet, googlenet, inception, mnasnet, mobilenetv2, mobilenetv3, regnet, shufflenetv2, squeezenet = (
    import_module("torchvision.models." + n) for n in ("densenet", "efficientnet", "googlenet", "inception", "mnasnet",
                                                       "mobilenetv2", "mobilenetv3", "regnet", "shufflenetv2",
                                                       "squeezenet"))

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "zennit-cnn")
SIZE = 24
CLASSES = 10
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
ILL_CONDITIONED = 1e-2


# ---- models ------------------------------------------------------------------------------------------------------

def narrow_inception_block(block_in, divisor=8):
    """InceptionA's conv_block argument: inception.BasicConv2d with every hard-coded width divided by `divisor` (the
    block's own input width, which is none of InceptionA's constants, is kept)."""
    def make(in_channels, out_channels, **kwargs):
        cin = in_channels if in_channels == block_in else in_channels // divisor
        return inception.BasicConv2d(cin, out_channels // divisor, **kwargs)
    return make


class GoogLeNetStem(nn.Module):
    """GoogLeNet's names and order: conv1, maxpool1 (ceil mode), one Inception block, avgpool, dropout, fc."""

    def __init__(self):
        super().__init__()
        self.conv1 = googlenet.BasicConv2d(3, 8, kernel_size=3, stride=2, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = googlenet.Inception(8, 4, 4, 8, 2, 4, 4)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(20, CLASSES)

    def forward(self, x):
        x = self.inception3a(self.maxpool1(self.conv1(x)))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


class InceptionV3Stem(nn.Module):
    """Inception3's names: Conv2d_1a_3x3, Mixed_5b (InceptionA), avgpool, dropout, fc."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = inception.BasicConv2d(3, 16, kernel_size=3, stride=2)
        self.Mixed_5b = inception.InceptionA(16, pool_features=32, conv_block=narrow_inception_block(16))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = self.Mixed_5b(self.Conv2d_1a_3x3(x))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


class SqueezeNetSmall(nn.Module):
    """SqueezeNet 1.1's features (conv, ReLU, ceil-mode max pools, Fire blocks), narrow, with a linear head."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            squeezenet.Fire(16, 4, 8, 8), squeezenet.Fire(16, 4, 8, 8),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            squeezenet.Fire(16, 6, 12, 12))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(24, CLASSES)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


class MobileNetV2Small(nn.Module):
    """MobileNetV2's structure and forward (functional adaptive average pool), three blocks."""

    def __init__(self):
        super().__init__()
        bn = nn.BatchNorm2d
        self.features = nn.Sequential(
            Conv2dNormActivation(3, 8, stride=2, norm_layer=bn, activation_layer=nn.ReLU6),
            mobilenetv2.InvertedResidual(8, 8, 1, 2), mobilenetv2.InvertedResidual(8, 16, 2, 3),
            mobilenetv2.InvertedResidual(16, 16, 1, 2),
            Conv2dNormActivation(16, 32, kernel_size=1, norm_layer=bn, activation_layer=nn.ReLU6))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, CLASSES))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v3():
    irc = mobilenetv3.InvertedResidualConfig
    setting = [irc(16, 3, 16, 16, True, "RE", 1, 1, 1.0), irc(16, 3, 32, 24, False, "RE", 2, 1, 1.0),
               irc(24, 5, 48, 24, True, "HS", 1, 1, 1.0)]
    return mobilenetv3.MobileNetV3(setting, last_channel=32, num_classes=CLASSES)


def efficient_net():
    setting = [efficientnet.MBConvConfig(1, 3, 1, 16, 16, 1), efficientnet.MBConvConfig(4, 3, 2, 16, 24, 2)]
    return efficientnet.EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.2, num_classes=CLASSES)


class ShuffleNetV2Small(nn.Module):
    """ShuffleNetV2's names and forward (x.mean([2, 3])), one stage: a stride-2 and a stride-1 block."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
        self.stage2 = nn.Sequential(shufflenetv2.InvertedResidual(8, 16, 2), shufflenetv2.InvertedResidual(16, 16, 1))
        self.conv5 = nn.Sequential(nn.Conv2d(16, 32, 1, 1, 0, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True))
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = self.conv5(self.stage2(self.conv1(x)))
        return self.fc(x.mean([2, 3]))


class RegNetYSmall(nn.Module):
    """RegNet's names and forward: stem, trunk_output (two Y blocks with SE), avgpool, fc."""

    def __init__(self):
        super().__init__()
        bn, act = nn.BatchNorm2d, nn.ReLU
        self.stem = regnet.SimpleStemIN(3, 8, bn, act)
        self.trunk_output = nn.Sequential(
            regnet.ResBottleneckBlock(8, 16, 2, bn, act, group_width=4, bottleneck_multiplier=1.0, se_ratio=0.25),
            regnet.ResBottleneckBlock(16, 16, 1, bn, act, group_width=4, bottleneck_multiplier=1.0, se_ratio=0.25))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, CLASSES)

    def forward(self, x):
        x = self.avgpool(self.trunk_output(self.stem(x)))
        return self.fc(x.flatten(start_dim=1))


class MnasNetSmall(nn.Module):
    """MNASNet's layout and forward (x.mean([2, 3])), three inverted residuals."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, stride=2, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            mnasnet._InvertedResidual(8, 8, 3, 1, 3), mnasnet._InvertedResidual(8, 16, 5, 2, 3),
            mnasnet._InvertedResidual(16, 16, 3, 1, 3),
            nn.Conv2d(16, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, CLASSES))

    def forward(self, x):
        return self.classifier(self.layers(x).mean([2, 3]))


def dense_net():
    return densenet.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2, drop_rate=0,
                             num_classes=CLASSES)


# name, builder, seed, has SE gates
MODELS = [
    ("densenet", dense_net, 21, False),
    ("googlenet", GoogLeNetStem, 22, False),
    ("inception_a", InceptionV3Stem, 23, False),
    ("squeezenet", SqueezeNetSmall, 24, False),
    ("mobilenet_v2", MobileNetV2Small, 25, False),
    ("mobilenet_v3", mobilenet_v3, 26, True),
    ("efficientnet", efficient_net, 27, True),
    ("shufflenet_v2", ShuffleNetV2Small, 28, False),
    ("regnet_y", RegNetYSmall, 29, True),
    ("mnasnet", MnasNetSmall, 30, False),
]


def all_convs_bias_free(model):
    return all(m.bias is None for m in model.modules() if isinstance(m, nn.Conv2d))


def bias_free(model, pairs):
    """A copy with every conv and linear bias zero and every merged BatchNorm's mean and shift zero: a function whose
    LRP conserves relevance exactly up to the stabilizers."""
    m = copy.deepcopy(model)
    merged = {bn for _, bn in pairs}
    with torch.no_grad():
        for name, mod in m.named_modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)) and mod.bias is not None:
                mod.bias.zero_()
            elif isinstance(mod, nn.BatchNorm2d) and name in merged:
                mod.running_mean.zero_()
                mod.bias.zero_()
    return m


# ---- the reference's canonizers ----------------------------------------------------------------------------------

def conv_batchnorm_pairs(model, x):
    """([conv name], batch norm name) for every BatchNorm whose input tensor is a convolution's output (a traced
    forward pass), in call order."""
    names = {m: n for n, m in model.named_modules()}
    produced, alive, pairs, handles = {}, [], [], []

    def after_conv(module, inputs, output):
        produced[id(output)] = names[module]
        alive.append(output)

    def before_bn(module, inputs):
        source = produced.get(id(inputs[0]))
        if source is not None:
            pairs.append(([source], names[module]))

    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            handles.append(mod.register_forward_hook(after_conv))
        elif isinstance(mod, nn.BatchNorm2d):
            handles.append(mod.register_forward_pre_hook(before_bn))
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    convs = [c[0] for c, _ in pairs]
    bns = [b for _, b in pairs]
    assert len(set(convs)) == len(convs) and len(set(bns)) == len(bns), pairs
    return pairs


def graph_merge_batchnorm(pairs):
    """GraphMergeBatchNorm: Zennit's NamedMergeBatchNorm over the traced (conv, BatchNorm) pairs."""
    return NamedMergeBatchNorm([(tuple(c), b) for c, b in pairs])


def _sum(module, a, b):
    return module(torch.stack([a, b], dim=-1))


def _v2_residual(self, x):
    return _sum(self.canonizer_sum, x, self.conv(x))


def _v3_residual(self, input):
    return _sum(self.canonizer_sum, self.block(input), input)


def _mbconv_residual(self, input):
    return _sum(self.canonizer_sum, self.stochastic_depth(self.block(input)), input)


def _regnet_residual(self, x):
    shortcut = x if self.proj is None else self.proj(x)
    return self.activation(_sum(self.canonizer_sum, shortcut, self.f(x)))


def _mnasnet_residual(self, input):
    return _sum(self.canonizer_sum, self.layers(input), input)


class ResidualSumCanonizer(AttributeCanonizer):
    """Routes the functional residual additions of torchvision's mobile blocks through a zennit.layer.Sum module."""

    def __init__(self):
        super().__init__(self._attribute_map)

    @staticmethod
    def _attribute_map(name, module):
        forward = None
        if isinstance(module, mobilenetv2.InvertedResidual) and module.use_res_connect:
            forward = _v2_residual
        elif isinstance(module, mobilenetv3.InvertedResidual) and module.use_res_connect:
            forward = _v3_residual
        elif isinstance(module, efficientnet.MBConv) and module.use_res_connect:
            forward = _mbconv_residual
        elif isinstance(module, regnet.ResBottleneckBlock):
            forward = _regnet_residual
        elif isinstance(module, mnasnet._InvertedResidual) and module.apply_residual:
            forward = _mnasnet_residual
        if forward is None:
            return None
        return {"forward": forward.__get__(module), "canonizer_sum": Sum()}


def _basic_conv_relu(self, x):
    return self.canonizer_relu(self.bn(self.conv(x)))


def _inception_a_branches(self, x):
    b1 = self.branch1x1(x)
    b5 = self.branch5x5_2(self.branch5x5_1(x))
    b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
    bp = self.branch_pool(self.canonizer_avgpool(x))
    return [b1, b5, b3, bp]


def _densenet_head(self, x):
    out = self.canonizer_avgpool(self.canonizer_relu(self.features(x)))
    return self.classifier(torch.flatten(out, 1))


def _mobilenet_v2_head(self, x):
    return self.classifier(torch.flatten(self.canonizer_avgpool(self.features(x)), 1))


def _shufflenet_head(self, x):
    x = self.conv5(self.stage2(self.conv1(x)))
    return self.fc(torch.flatten(self.canonizer_avgpool(x), 1))


def _mnasnet_head(self, x):
    return self.classifier(torch.flatten(self.canonizer_avgpool(self.layers(x)), 1))


class FunctionalOpsCanonizer(AttributeCanonizer):
    """Replaces functional ReLUs and average pools/means in torchvision forwards by modules (same math), so that
    Zennit gives them Pass and Norm as it does to activation and pooling modules."""

    def __init__(self):
        super().__init__(self._attribute_map)

    @staticmethod
    def _attribute_map(name, module):
        if isinstance(module, (googlenet.BasicConv2d, inception.BasicConv2d)):
            return {"forward": _basic_conv_relu.__get__(module), "canonizer_relu": nn.ReLU()}
        if isinstance(module, inception.InceptionA):
            return {"_forward": _inception_a_branches.__get__(module),
                    "canonizer_avgpool": nn.AvgPool2d(kernel_size=3, stride=1, padding=1)}
        if isinstance(module, densenet.DenseNet):
            return {"forward": _densenet_head.__get__(module), "canonizer_relu": nn.ReLU(),
                    "canonizer_avgpool": nn.AdaptiveAvgPool2d((1, 1))}
        heads = {MobileNetV2Small: _mobilenet_v2_head, ShuffleNetV2Small: _shufflenet_head,
                 MnasNetSmall: _mnasnet_head}
        for cls, head in heads.items():
            if isinstance(module, cls):
                return {"forward": head.__get__(module), "canonizer_avgpool": nn.AdaptiveAvgPool2d((1, 1))}
        return None


class _ConstantGateProduct(torch.autograd.Function):
    """gate * x forward; backward: the relevance to x unchanged, zero to the gate (zeros, not None: Zennit's hooks
    in the gate's branch are still visited and need a tensor)."""

    @staticmethod
    def forward(ctx, gate, x):
        ctx.gate_shape = gate.shape
        return gate * x

    @staticmethod
    def backward(ctx, grad):
        return grad.new_zeros(ctx.gate_shape), grad


def _constant_gate_se(self, input):
    return _ConstantGateProduct.apply(self._scale(input), input)


class ConstantGateCanonizer(AttributeCanonizer):
    """products=constant-gate: SqueezeExcitation's gate as a constant (R_input = R_out, R_scale = 0)."""

    def __init__(self):
        super().__init__(self._attribute_map)

    @staticmethod
    def _attribute_map(name, module):
        if isinstance(module, SqueezeExcitation):
            return {"forward": _constant_gate_se.__get__(module)}
        return None


def reference_canonizers(pairs, products, functional=True):
    c = [graph_merge_batchnorm(pairs), ResidualSumCanonizer()]
    if functional:
        c.append(FunctionalOpsCanonizer())
    if products == "constant-gate":
        c.append(ConstantGateCanonizer())
    return c


# ---- composites --------------------------------------------------------------------------------------------------

def composite(spec, canonizers, dtype):
    if spec == "epsilon":
        return LayerMapComposite(layer_map_base() + [(Convolution, Epsilon()), (nn.Linear, Epsilon())],
                                 canonizers=canonizers)
    if spec == "epsilon-1e-12":
        # the conservation check: the stabilizers negligible in float64
        return LayerMapComposite(layer_map_base(1e-12) + [(AnyLinear, Epsilon(epsilon=1e-12))], canonizers=canonizers)
    if spec == "epsilon-plus":
        return EpsilonPlus(canonizers=canonizers)
    if spec == "epsilon-alpha2-beta1":
        return EpsilonAlpha2Beta1(canonizers=canonizers)
    if spec == "epsilon-plus-flat":
        return EpsilonPlusFlat(canonizers=canonizers)
    if spec == "epsilon-alpha2-beta1-flat":
        return EpsilonAlpha2Beta1Flat(canonizers=canonizers)
    if spec == "epsilon-gamma-box:-3,3":
        return EpsilonGammaBox(low=-3.0, high=3.0, canonizers=canonizers)
    if spec == "epsilon-gamma-box:imagenet":
        low, high = channel_bounds()
        return EpsilonGammaBox(low=low.to(dtype), high=high.to(dtype), canonizers=canonizers)
    raise ValueError(spec)


RULES = {
    "epsilon": Epsilon, "zplus": ZPlus, "alpha-beta:2,1": lambda: AlphaBeta(alpha=2, beta=1),
    "alpha-beta:1,0": lambda: AlphaBeta(alpha=1, beta=0), "gamma:0.25": lambda: Gamma(gamma=0.25),
    "wsquare": WSquare, "flat": Flat,
}


def uniform(spec, canonizers):
    return LayerMapComposite(layer_map_base() + [(AnyLinear, RULES[spec]())], canonizers=canonizers)


COMPOSITES = ["epsilon", "epsilon-plus", "epsilon-alpha2-beta1", "epsilon-plus-flat", "epsilon-alpha2-beta1-flat",
              "epsilon-gamma-box:-3,3", "epsilon-gamma-box:imagenet"]


def zennit(model, x, targets, kind, spec, init, canonizers, dtype):
    """Zennit's relevance at the input (and the output) for one case, in dtype."""
    m = copy.deepcopy(model).to(dtype).eval()
    comp = composite(spec, canonizers, dtype) if kind == "composite" else uniform(spec, canonizers)
    xin = x.to(dtype).clone().requires_grad_(True)

    def attr_output(out):
        onehot = torch.zeros_like(out)
        onehot[torch.arange(out.shape[0]), targets] = 1
        return onehot if init == "onehot" else out * onehot

    with Gradient(model=m, composite=comp) as attributor:
        out, rel = attributor(xin, attr_output)
    return out.detach(), rel.detach()


def ulp_nudged(t, generator):
    """t with every entry moved one float32 step up or down (random, seeded)."""
    up = torch.randint(0, 2, t.shape, generator=generator, dtype=torch.bool)
    inf = torch.full_like(t, float("inf"))
    return torch.nextafter(t, torch.where(up, inf, -inf))


NUDGED_INPUTS = 3
NUDGED_PARAMETERS = 4


def float32_gap(model, x, targets, kind, spec, init, canonizers, r64, seed):
    """Zennit's float32 error on a case: max |R32 - R64| over 1 + NUDGED_INPUTS + NUDGED_PARAMETERS float32 runs: the
    model as it is, with the inputs nudged by one float32 step, and with every parameter nudged by one step (seeded).
    One run alone can land close to float64 by luck where denominators nearly cancel (the rounding errors there are
    heavy-tailed); the nudged runs sample the float32 noise that any implementation with another summation order
    sees."""
    g = torch.Generator().manual_seed(seed)
    runs = [(model, x)] + [(model, ulp_nudged(x, g)) for _ in range(NUDGED_INPUTS)]
    for _ in range(NUDGED_PARAMETERS):
        nudged = copy.deepcopy(model)
        with torch.no_grad():
            for p in nudged.parameters():
                p.copy_(ulp_nudged(p, g))
        runs.append((nudged, x))
    gap = 0.0
    for m, xin in runs:
        _, r32 = zennit(m, xin, targets, kind, spec, init, canonizers(), torch.float32)
        gap = max(gap, float((r32.double() - r64).abs().max()))
    return gap


def canonized_forward_gap(model, x, pairs):
    """max |f_canonized(x) - f(x)| in float64 over every reference canonizer set (products both ways)."""
    m = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        want = m(x.double())
    worst = 0.0
    for products in ("gradient", "constant-gate"):
        handles = []
        for c in reference_canonizers(pairs, products):
            handles += c.apply(m)
        with torch.no_grad():
            got = m(x.double())
        for h in reversed(handles):
            h.remove()
        worst = max(worst, float((got - want).abs().max()))
    with torch.no_grad():
        assert torch.equal(m(x.double()), want), "canonizers must be removed cleanly"
    return worst


# ---- main --------------------------------------------------------------------------------------------------------

def export(model, x, path):
    buf = io.BytesIO()
    torch.onnx.export(model, x, buf, opset_version=17, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return onnx.load_from_string(buf.getvalue())


def op_summary(graph):
    counts = OrderedDict()
    for node in graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return " ".join(f"{k}x{v}" for k, v in counts.items())


def cases_for(name, has_se, bias_free_convs):
    """(conv_bias, products, kind, spec, init) of a model."""
    out = []
    for c in COMPOSITES:
        out.append(("rule", "gradient", "composite", c, "output"))
        out.append(("rule", "gradient", "composite", c, "logit"))
        if c == "epsilon":
            out.append(("rule", "gradient", "composite", c, "onehot"))
    out += [("rule", "gradient", "rule", r, "output") for r in RULES]
    if bias_free_convs:
        out += [("zennit", "gradient", "composite", c, "output") for c in COMPOSITES]
        out += [("zennit", "gradient", "rule", r, "output") for r in RULES]
    if has_se:
        out += [("rule", "constant-gate", "composite", c, "output") for c in COMPOSITES]
        out += [("rule", "constant-gate", "rule", r, "output") for r in RULES]
    return out


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    x = (torch.rand(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(14))
         - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    x = x.float()
    assert x.min() > -3 and x.max() < 3, "scalar ZBox bounds must contain the inputs"
    low, high = channel_bounds()
    assert bool((x >= low).all()) and bool((x <= high).all()), "per-channel bounds must contain the inputs"
    np.save(os.path.join(OUT, "inputs.npy"), x.numpy())

    models_txt = ["# model onnx relevance outputs target0 target1 (targets: arg-max of the float64 output; outputs:"
                  " torch's float64 output, stored as float32)"]
    manifest, skipped, table, diagnostics = [], [], [], []
    for name, build, seed, has_se in MODELS:
        torch.manual_seed(seed)
        model = randomize(build(), seed + 1000)
        pairs = conv_batchnorm_pairs(model, x)
        n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
        onnx_file = name + ".onnx"
        graph = export(model, x, os.path.join(OUT, onnx_file)).graph
        kept_bn = sum(n.op_type == "BatchNormalization" for n in graph.node)
        assert kept_bn == n_bn - len(pairs), (name, kept_bn, n_bn, len(pairs))
        fwd_gap = canonized_forward_gap(model, x, pairs)
        assert fwd_gap < 1e-12, (name, fwd_gap)
        with torch.no_grad():
            y64 = copy.deepcopy(model).double()(x.double())
        targets = y64.argmax(1)
        top2 = y64.topk(2, dim=1).values
        margin = float((top2[:, 0] - top2[:, 1]).min())
        assert margin > 1e-4, (name, "arg-max too close to call", margin)
        rel_file, out_file = name + "_relevance.npy", name + "_outputs.npy"
        np.save(os.path.join(OUT, out_file), y64.float().numpy())
        models_txt.append(f"{name} {onnx_file} {rel_file} {out_file} {int(targets[0])} {int(targets[1])}")
        variants = {"rule": with_zero_conv_biases(model), "zennit": model}
        bias_free_convs = all_convs_bias_free(model)
        stored, lines, checks = [], [], {}
        functional_diff = 0.0
        for bias, products, kind, spec, init in cases_for(name, has_se, bias_free_convs):
            m = variants[bias]
            canon = partial(reference_canonizers, pairs, products)
            _, r64 = zennit(m, x, targets, kind, spec, init, canon(), torch.float64)
            label = f"{name} {bias} {products} {kind} {spec} {init}"
            gap = float32_gap(m, x, targets, kind, spec, init, canon, r64, zlib.crc32(label.encode()))
            mx = float(r64.abs().max())
            assert np.isfinite(mx) and mx > 0, (name, bias, spec, init)
            key = (bias, products, kind, spec, init)
            table.append((label, gap, mx))
            if init == "output" and products == "gradient":
                # what Zennit gives without the functional-ops canonizer (its default on these models)
                _, plain = zennit(m, x, targets, kind, spec, init, canon(functional=False), torch.float64)
                functional_diff = max(functional_diff, float((plain - r64).abs().max()) / mx)
                diagnostics.append((label, float((plain - r64).abs().max()) / mx))
            if gap > ILL_CONDITIONED * mx:
                skipped.append(f"{label} gap {gap:.3g} max|R| {mx:.3g}")
                continue
            checks[key] = r64
            r = r64.float().numpy()
            idx = next((k for k, s in enumerate(stored) if np.array_equal(s, r)), None)
            if idx is None:
                idx = len(stored)
                stored.append(r)
            lines.append(f"{name} {onnx_file} {bias} {products} {kind} {spec} {init} {idx} {gap:.9e} {mx:.9e}")
        # reproducible: the first case again gives the same bits
        first = cases_for(name, has_se, bias_free_convs)[0]
        _, again = zennit(variants[first[0]], x, targets, first[2], first[3], first[4],
                          reference_canonizers(pairs, first[1]), torch.float64)
        assert torch.equal(again, checks[first]), (name, "rerun differs")
        # linear in the initial relevance: onehot = logit / z_t per sample; no Softmax here, so logit = output
        zt = y64[torch.arange(2), targets]
        for (bias, products, kind, spec, init), r in checks.items():
            if init == "onehot":
                lg = checks[(bias, products, kind, spec, "logit")]
                err = float((r - lg / zt.view(2, 1, 1, 1)).abs().max() / r.abs().max())
                assert err < 1e-9, (name, spec, err)
            if init == "logit":
                assert torch.equal(r, checks[(bias, products, kind, spec, "output")]), (name, spec)
        # conservation on a bias-free copy under epsilon
        free = bias_free(model, pairs)
        with torch.no_grad():
            yf = copy.deepcopy(free).double()(x.double())
        tf = yf.argmax(1)
        score = yf[torch.arange(2), tf]
        cons = {}
        for products in ("gradient", "constant-gate") if has_se else ("gradient",):
            _, rf = zennit(free, x, tf, "composite", "epsilon-1e-12", "output",
                           reference_canonizers(pairs, products), torch.float64)
            cons[products] = float(((rf.sum((1, 2, 3)) - score).abs() / score.abs()).max())
        must = cons["constant-gate" if has_se else "gradient"]
        assert must < 1e-6, (name, "conservation", cons)
        np.save(os.path.join(OUT, rel_file), np.stack(stored))
        manifest += lines
        print(f"{name}: {len(lines)} cases, {len(stored)} distinct relevances; forward with canonizers "
              f"{fwd_gap:.1e} off; BN merged {len(pairs)}, kept {kept_bn}; conservation (rel. error, bias-free "
              f"epsilon 1e-12) {' '.join(f'{k} {v:.1e}' for k, v in cons.items())}; without FunctionalOpsCanonizer "
              f"max diff/max|R| {functional_diff:.2e}\n  ONNX: {op_summary(graph)}", file=sys.stderr)

    header = ["# Zennit golden cases for CNN families (scripts/make_zennit_cnn_golden.py; Zennit commit 6b0bbdf)",
              "# model onnx conv_bias products kind spec init index gap max|R64|",
              "# gap = max|R32 - R64| of Zennit in float32 vs float64 (max over the plain run and 7 runs with inputs or"
              " parameters nudged by one float32 step); tests allow 4 gap + 1e-4 max|R64|",
              f"# skipped as ill-conditioned (gap > {ILL_CONDITIONED:g} max|R64|): {len(skipped)}"]
    header += ["#   " + s for s in skipped]
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(header + manifest) + "\n")
    with open(os.path.join(OUT, "models.txt"), "w") as f:
        f.write("\n".join(models_txt) + "\n")
    print(f"{'case':80s} {'gap':>10s} {'max|R|':>10s} {'gap/max':>9s}")
    for case, gap, mx in table:
        print(f"{case:80s} {gap:10.3e} {mx:10.3e} {gap / mx:9.2e}")
    print("\nWithout FunctionalOpsCanonizer (Zennit's default on the functional ops), max |diff| / max|R|:")
    for case, d in diagnostics:
        if d > 0:
            print(f"  {case:80s} {d:9.2e}")
    total = 0
    for f in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, f))
        total += size
        print(f, size)
    print("total", total)


if __name__ == "__main__":
    main()
