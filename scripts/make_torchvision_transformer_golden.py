#!/usr/bin/python3
"""Golden relevances of small torchvision ConvNeXt and Swin models against LXT (fixtures for TorchvisionLxtGoldenTest).

Run from the repository root with Debian's python (python3-torch 1.13, python3-torchvision, python3-onnx); a few
seconds on one core. Deterministic: seeded weights and inputs. Writes src/test/resources/torchvision-transformers/:
MODEL-o17.onnx, MODEL-input.npy ([3, 3, 32, 32] float32), MODEL-targets.npy, MODEL-logits.npy, MODEL-pixels.npy and
manifest.txt.

The models are torchvision's own classes with their default initialization, small: `ConvNeXt` with two stages (16
and 32 channels, two blocks each) and `SwinTransformer` with patch 4, embedding 16, depths 2 and 2, heads 2 and 4,
window 4 (its second block of the first stage shifts its windows by 2), five classes, 32 x 32 inputs. ConvNeXt's
layer scales, which torchvision initializes to 1e-6 (every block's branch then adds almost nothing to the residual
stream), get seeded uniform values in [0.5, 1], as scripts/torchvision_zoo.py does at full size. Each is exported as a
user would: torch.onnx.export, opset 17, a dynamic batch.

The oracle: LXT ("LRP eXplains Transformers", AttnLRP's reference code, commit f043441 in ../shared/oracles/lxt,
Clear BSD; loaded by path through scripts/transformer_lrp_reference.py, nothing copied). LXT patches neither
architecture; its vit_torch patches are placed on their classes the same way (transformer_lrp_reference.py,
lxt_torchvision_patched): GELU's identity rule, LayerNorm with its normalizer stopped, ConvNeXt's LayerNorm2d with
its channels moved last, Swin's attention weights constants (CP-LRP); Gradient*Input at the pixels, in float64
(float32 weights and inputs promoted exactly), for each input's arg-max class, the relevance starting as that logit.
That is gpulrp's `cp-lrp` with every stabilizer negligible: Epsilon(1e-30) on the linear layers and
`--stabilizer 1e-30` on the rest (LXT has none; its identity rule divides by x + 1e-10).

gap (manifest): max over 8 runs with every parameter and pixel perturbed by 1e-7 relative of max |R_run - R| (the
oracle's own sensitivity, as the other goldens); max_abs: max |R|.
"""
import copy
import os
import sys

import numpy as np
import torch
import torchvision
from torchvision.models.convnext import CNBlock, CNBlockConfig

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import transformer_lrp_reference as ref  # noqa: E402

OUT = os.path.join(HERE, "..", "src", "test", "resources", "torchvision-transformers")
SAMPLES = 3
RUNS = 8


def convnext():
    torch.manual_seed(1)
    m = torchvision.models.ConvNeXt([CNBlockConfig(16, 32, 2), CNBlockConfig(32, None, 2)], num_classes=5)
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, CNBlock):
                mod.layer_scale.copy_(torch.rand(mod.layer_scale.shape, generator=g) * 0.5 + 0.5)
    return m.eval()


def swin():
    torch.manual_seed(3)
    return torchvision.models.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4],
                                              window_size=[4, 4], num_classes=5).eval()


MODELS = {"convnext": convnext, "swin": swin}


def perturbed(model, images, g):
    m = copy.deepcopy(model)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(1 + 1e-7 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return m, images * (1 + 1e-7 * torch.randn(images.shape, generator=g, dtype=images.dtype))


def main():
    torch.set_num_threads(1)
    ref.load_lxt()
    os.makedirs(OUT, exist_ok=True)
    lines = ["# Golden relevances of small torchvision ConvNeXt and Swin models (torchvision's classes, default",
             "# initialization), written by scripts/make_torchvision_transformer_golden.py: LXT's vit_torch patches on",
             "# their classes (CP-LRP), Gradient*Input at the pixels in float64, for the arg-max class, the relevance",
             "# starting as that logit; gpulrp's cp-lrp with Epsilon(1e-30) and stabilizer 1e-30 computes the same.",
             "# gap: max over %d runs with every parameter and pixel perturbed by 1e-7 relative of max |R_run - R|;"
             % RUNS,
             "# max_abs: max |R|. Columns: model gap max_abs sum_relevance_per_sample logit_per_sample"]
    for name, make in MODELS.items():
        model = make()
        images = torch.randn(SAMPLES, 3, 32, 32, generator=torch.Generator().manual_seed(4))
        path = os.path.join(OUT, name + "-o17.onnx")
        torch.onnx.export(model, images[:1], path, opset_version=17, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        m64, x64 = copy.deepcopy(model).double(), images.double()
        with torch.no_grad():
            logits = m64(x64)
        targets = logits.argmax(1)
        rel = ref.lxt_torchvision_patched(m64, x64, targets)  # LXT's Gradient*Input, float64
        g = torch.Generator().manual_seed(5)
        gap = 0.0
        for _ in range(RUNS):
            mp, xp = perturbed(m64, x64, g)
            gap = max(gap, float((ref.lxt_torchvision_patched(mp, xp, targets) - rel).abs().max()))
        scores = logits[torch.arange(SAMPLES), targets]
        sums = rel.sum((1, 2, 3))
        print(f"{name}: logits {scores.tolist()}, relevance sums {sums.tolist()}, gap {gap:.3e}, "
              f"max|R| {float(rel.abs().max()):.3e}")
        np.save(os.path.join(OUT, name + "-input.npy"), images.numpy().astype(np.float32))
        np.save(os.path.join(OUT, name + "-targets.npy"), targets.numpy().astype(np.int64))
        np.save(os.path.join(OUT, name + "-logits.npy"), scores.numpy())
        np.save(os.path.join(OUT, name + "-pixels.npy"), rel.numpy())
        lines.append("%s %.3e %.6e %s %s" % (name, gap, float(rel.abs().max()),
                                              ",".join(repr(float(v)) for v in sums),
                                              ",".join(repr(float(v)) for v in scores)))
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
