#!/usr/bin/env python3
"""Writes the ONNX import fixtures of issue 15 (transformers) to src/test/resources/transformers/.

The four fixture models of scripts/transformer_models.py (`fixture(name)`: a 2-layer BERT classifier, GPT-2 and
Llama-style decoder LMs, torchvision's ViT at 32 px; deterministic weights) exported as a user would, with
`transformer_models.export` (dynamic batch and sequence axes) or, for ViT, `export_image` below (a dynamic batch only:
`export` would make the image's axis 1, its channels, dynamic too), at opsets 14 (the first with
Trilu; LayerNorm decomposed into ReduceMean, Sub, Pow, ...) and 17 (LayerNormalization), so that the Java tests read
both forms of every pattern without running Python.

Per model NAME:
  - NAME-o14.onnx, NAME-o17.onnx;
  - the inputs `fixture_inputs(NAME)`: NAME_input_ids.npy, NAME_attention_mask.npy (and bert_token_type_ids.npy),
    int64 [3, 8] (texts of 7, 4 and 2 tokens right-padded to 8); vit_input.npy float32 [3, 3, 32, 32];
  - NAME_logits.npy: torch's float64 forward of the float32 weights on those inputs ([3, classes] for BERT and ViT,
    [3, 8, vocab] for the LMs, every position including the padded ones);
and models.txt, the list of the ONNX files. About 1 MB in all. Deterministic.

Run from the repository root with Debian's python (torch 1.13, torchvision, onnx); the exporter's warnings about
traced shapes are expected:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/make_transformer_fixtures.py
"""
import copy
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transformer_models as tm  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "transformers")
MODELS = ["bert", "gpt2", "llama", "vit"]
OPSETS = [14, 17]


def export_image(model, args, path, opset):
    """torch.onnx.export of an image model as `transformer_models.export` does it, with only the batch dynamic."""
    torch.onnx.export(model, args, path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=opset,
                      do_constant_folding=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    files = []
    for name in MODELS:
        model = tm.fixture(name)
        args = tm.fixture_inputs(name)
        names = tm.input_names(name)
        for n, a in zip(names, args):
            np.save(os.path.join(OUT, (name + "_" + n if name != "vit" else "vit_input") + ".npy"), a.numpy())
        with torch.no_grad():
            y = copy.deepcopy(model).double()(*(a.double() if a.is_floating_point() else a for a in args))
        np.save(os.path.join(OUT, name + "_logits.npy"), y.numpy().astype(np.float64))
        for opset in OPSETS:
            f = "%s-o%d.onnx" % (name, opset)
            if name == "vit":
                export_image(model, args, os.path.join(OUT, f), opset)
            else:
                tm.export(model, args, names, os.path.join(OUT, f), opset)
            files.append(f)
    with open(os.path.join(OUT, "models.txt"), "w") as out:
        out.write("# written by scripts/make_transformer_fixtures.py\n")
        out.write("\n".join(files) + "\n")
    ours = [f for f in os.listdir(OUT) if os.path.isfile(os.path.join(OUT, f))]
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in ours)
    print("wrote %d files, %.0f kB, to %s" % (len(ours), total / 1024, os.path.normpath(OUT)))


if __name__ == "__main__":
    main()
