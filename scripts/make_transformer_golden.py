#!/usr/bin/env python3
"""Writes the golden relevances of the transformer fixtures (issue 15: AttnLRP, CP-LRP) to
src/test/resources/transformers/golden/, for the Java golden test of the transformer engine and importer.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/make_transformer_golden.py

(Debian's python with python3-torch 1.13 and python3-torchvision; a few seconds on one core.) Deterministic: one
thread, fixed seeds; reruns reproduce every file byte for byte.

What: for each fixture model of scripts/transformer_models.py (`fixture(name)`, `fixture_inputs(name)`: the weights
and inputs of the importer's ONNX fixtures) and each composite (bert, gpt2, llama: attnlrp, cp-lrp; vit: attnlrp,
cp-lrp, attnlrp-vit), the explicit reference of scripts/transformer_lrp_reference.py at eps = 1e-6, the float32
weights and inputs evaluated in float64. Before writing, that script's checks run: its explicit rules at eps = 1e-30
agree with LXT's Gradient*Input (the AttnLRP paper's reference code, loaded from ../shared/oracles/lxt at fixture time
only; Clear BSD, nothing copied) and, for Gamma, with Zennit's rule through LXT's Zennit patch, to 1e-15 relative;
padded positions get exactly zero; CP-LRP conserves through A V. See that script's header for the rules, the operation
structure and the oracle.

Targets: bert and vit the arg-max class of each sample; gpt2 and llama the arg-max next token at the last real
position of each text (attention_mask.sum() - 1: positions 6, 3, 1). The relevance starts as the logit's value there
(0 elsewhere). The script asserts every arg-max wins by at least 1e-3 (the margins are printed) so that a float32
forward picks the same target.

Gap (the tolerance scale of the Java test): per case the maximum, over 8 runs, of max |R_run - R| over the case's
relevance arrays, where each run perturbs every float parameter (and for vit the pixels) by a relative 1e-7 (one
float32 ulp's scale: `v * (1 + 1e-7 u)`, u uniform in [-1, 1], seeded per model and run) and recomputes the reference
in float64 with the same targets. It measures how far a correct float32 implementation may land from the float64
reference, not a bound; the manifest also gives max |R| so a test can add a relative floor.
Measured: 6e-8 to 8e-7 of max |R| for bert, gpt2, llama and vit attnlrp-vit; 7e-5 to 9e-5 for vit attnlrp and
cp-lrp, whose Epsilon steps meet denominators of a few eps (an A V output of 9e-6, hidden values of 5e-6 against
eps = 1e-6), where a 1e-7 change of the terms moves g = R / stab(z) by percents; at eps = 1e-30 the same ViT gap is
3e-7. A float32 implementation meets the same conditioning.

Files (all little-endian .npy, C order):
  MODEL-outputs.npy              float64: the model's full output (bert [3, 3], vit [3, 10], gpt2/llama [3, 8, 96])
  MODEL-targets.npy              int64: bert, vit [3] (class); gpt2, llama [3, 2] = (position, token) per sample
  MODEL-logits.npy               float64 [3]: the explained logit per sample (the starting relevance)
  MODEL-COMPOSITE-tokens.npy     float64 [3, 8]: token relevance (bert, gpt2, llama): the word embedding output's
                                 relevance summed over hidden, per position; padded positions exactly 0 (or -0)
  bert-COMPOSITE-types.npy       float64 [3, 8]: the token-type embedding's share, summed over hidden, per position
  vit-COMPOSITE-pixels.npy       float64 [3, 3, 32, 32]: relevance at the input pixels
  MODEL-input_ids.npy, MODEL-attention_mask.npy (int64 [3, 8]), bert-token_type_ids.npy (int64 [3, 8]),
  vit-input.npy (float32 [3, 3, 32, 32]): the inputs (fixture_inputs), the same as the importer's fixtures
  manifest.txt                   one case per line (see its header)
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import transformer_lrp_reference as ref  # noqa: E402
import transformer_models as tm  # noqa: E402

OUT = os.path.join(HERE, "..", "src", "test", "resources", "transformers", "golden")
RUNS = 8
NOISE = 1e-7
MARGIN = 1e-3

torch.set_num_threads(1)


def perturbed(p, inputs, name, run):
    """Every float parameter (and vit's pixels) times (1 + 1e-7 u), u uniform in [-1, 1], seeded per model/run."""
    g = torch.Generator().manual_seed(1000 * (ref.MODELS.index(name) + 1) + run)

    def nudge(v):
        return v * (1 + NOISE * (2 * torch.rand(v.shape, generator=g, dtype=torch.float64) - 1))

    q = {k: nudge(v) for k, v in sorted(p.items())}
    return q, ((nudge(inputs[0]),) if name == "vit" else inputs)


def arrays(name, ex):
    return {"pixels": ex["pixels"]} if name == "vit" else dict(
        {"tokens": ex["tokens"]}, **({"types": ex["token_types"]} if name == "bert" else {}))


def save(fname, a):
    np.save(os.path.join(OUT, fname), a)
    return fname


def margins(ex):
    at = ex["logits"] if ex["positions"] is None else ex["logits"][torch.arange(3), ex["positions"]]
    top = at.topk(2, dim=-1).values
    return top[:, 0] - top[:, 1]


def fmt(v):
    return ",".join(f"{float(x):.17g}" for x in v)


def main():
    rules = ref.load_lxt()
    ref.agreement_table(rules)
    ref.sanity()
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy") or f == "manifest.txt":
            os.remove(os.path.join(OUT, f))
    header = [
        "# Golden relevances of the transformer fixtures (issue 15), written by scripts/make_transformer_golden.py:",
        "# the explicit float64 reference of scripts/transformer_lrp_reference.py at eps 1e-6 (float32 weights and",
        "# inputs of transformer_models.fixture / fixture_inputs promoted to float64), checked against LXT's",
        "# Gradient*Input. Targets: bert/vit the arg-max class; gpt2/llama the arg-max token at the last real position",
        "# (targets file columns: position, token). Starting relevance: the logit's value at the target.",
        "# gap: max over 8 runs with every parameter (and vit's pixels) perturbed by 1e-7 relative of max |R_run - R|",
        "# over the case's relevance arrays (float64); max_abs: max |R| over them.",
        "# Columns: model composite relevance_file types_file(- if none) targets_file logits_file gap max_abs",
        "#          sum_relevance_per_sample sum_types_per_sample(- if none) logit_per_sample (comma-separated)",
    ]
    lines, table, written = [], [], []
    for name in ref.MODELS:
        model = tm.fixture(name)
        p = ref.params64(model)
        raw = tm.fixture_inputs(name)
        inputs = ref.inputs64(name, raw)
        for n, a in zip(tm.input_names(name), raw):
            written.append(save(f"{name}-{n}.npy", a.numpy()))
        base = None
        for composite in ref.COMPOSITES[name]:
            ex = ref.explain(name, p, inputs, composite)
            if base is None:
                base = ex
                m = margins(ex)
                print(f"{name}: targets {ex['targets'].tolist()}"
                      + (f" at positions {ex['positions'].tolist()}" if ex["positions"] is not None else "")
                      + f", arg-max margins {' '.join(f'{float(v):.3g}' for v in m)}")
                assert float(m.min()) >= MARGIN, f"{name}: arg-max margin {float(m.min()):.2e} below {MARGIN}"
                targets = ex["targets"] if ex["positions"] is None else torch.stack([ex["positions"], ex["targets"]],
                                                                                    dim=1)
                written.append(save(f"{name}-targets.npy", targets.numpy().astype(np.int64)))
                written.append(save(f"{name}-logits.npy", ex["scores"].numpy()))
                written.append(save(f"{name}-outputs.npy", ex["logits"].numpy()))
            assert torch.equal(ex["targets"], base["targets"]) and torch.equal(ex["scores"], base["scores"])
            rel = arrays(name, ex)
            gap = 0.0
            for run in range(RUNS):
                q, qin = perturbed(p, inputs, name, run)
                pe = ref.explain(name, q, qin, composite, targets=ex["targets"])
                for k, v in arrays(name, pe).items():
                    gap = max(gap, float((v - rel[k]).abs().max()))
            mx = max(float(v.abs().max()) for v in rel.values())
            main_key = "pixels" if name == "vit" else "tokens"
            files = {k: save(f"{name}-{composite}-{k}.npy", v.numpy()) for k, v in rel.items()}
            written += files.values()
            sums = rel[main_key].flatten(1).sum(1)
            type_sums = fmt(rel["types"].sum(1)) if "types" in rel else "-"
            lines.append(f"{name} {composite} {files[main_key]} {files.get('types', '-')} {name}-targets.npy "
                         f"{name}-logits.npy {gap:.3e} {mx:.6e} {fmt(sums)} {type_sums} {fmt(ex['scores'])}")
            table.append((name, composite, gap, mx, sums, rel.get("types"), ex["scores"]))
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(header + lines) + "\n")
    written.append("manifest.txt")
    print(f"\n{'case':20s} {'gap':>10s} {'max|R|':>10s} {'gap/max':>9s}  sum R / logit per sample"
          f" (bert: words, + types)")
    for name, composite, gap, mx, sums, types_, scores in table:
        ratio = " ".join(f"{float(v):.4f}" for v in sums / scores)
        if types_ is not None:
            ratio += "  (+types: " + " ".join(f"{float(v):.4f}" for v in (sums + types_.sum(1)) / scores) + ")"
        print(f"{name + ' ' + composite:20s} {gap:10.3e} {mx:10.3e} {gap / mx:9.2e}  {ratio}")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in written)
    print(f"\nwrote {len(written)} files, {total} bytes, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
