#!/usr/bin/env python3
"""An explicit float64 reference of gpulrp's LRP rules for transformers (AttnLRP, CP-LRP; issue 15), for the four
fixture models of scripts/transformer_models.py, checked against LXT's Gradient*Input formulation (and, for the Gamma
rule, Zennit's). scripts/make_transformer_golden.py imports it to write the golden files; run on its own it prints the
agreement table and the sanity properties and fails loudly when any of them does not hold:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/transformer_lrp_reference.py

(Debian's python with python3-torch 1.13 and python3-torchvision; a few seconds.)

What: `explain(name, params, inputs, composite, eps)` runs the model's forward pass in float64 from the float32
weights (promoted exactly), recording every operation on a tape, then walks the tape backwards applying the rule of
each operation in its explicit relevance form (hand-written, one function per operation kind below). The forward is
written here from the weights' names (HuggingFace's and torchvision's), independently of transformer_models.py's
modules, and checked against them (float64, max |diff| printed and asserted). The rules (gpulrp's list for issue 15,
`stab(d) = d + (d >= 0 ? eps : -eps)`, `g = R / stab(d)`, `g = 0` where `stab(d) == 0`, eps = 1e-6 for the goldens):
  - Linear / Conv1D / the patch-embedding Conv2d: Epsilon `R_x = x * (W^T g)`, `g = R / stab(z)` (z with the bias);
    under `attnlrp-vit` Zennit's Gamma (gamma 0.25; docs/DESIGN.md 2.2 with biases by ConvBias.RULE: `b + gamma b+` in
    P, `b + gamma b-` in N; `hP = [z > 0] R / stab(P)`, `hN = [z < 0] R / stab(N)`). The patch embedding (kernel =
    stride = 8, no padding) is computed as the patches (a permutation: by position) times the flattened kernel.
  - LayerNorm, the whole affine map with the normalizer constant: `s = R / stab(y)`,
    `R_x = x (gamma s - mean(gamma s)) / sd`; RMSNorm `R_x = x gamma s / rms`.
  - GELU, GELU-tanh, SiLU, Tanh: identity, `R_x = R_y`.
  - Softmax: AttnLRP `R_x = x (R - s sum(R))` per row; CP-LRP nothing (the attention weights are constants).
  - MatMul of two activations (Q K^T, A V): AttnLRP `R_a = a (g b^T) / 2`, `R_b = b (a^T g) / 2`; CP-LRP on A V:
    `R_A = 0`, `R_V = V (A^T g)` (Q K^T then receives nothing).
  - Product of two activations (Llama's `act(gate) * up`): AttnLRP `R_gate = R_up = (z / stab(z)) R / 2`; CP-LRP the
    gate is a constant: `R_up = R`, `R_gate = 0`.
  - Addition of two activations (residuals, word + token-type embeddings): `R_k = x_k g`, `g = R / stab(z)`.
  - Addition of a constant (position embeddings, the attention masks, the class token):
    `R_x = x g`. The class token is ONNX's Concat with a constant as gpulrp imports it (docs/DESIGN.md 2.9: an Index
    leaves room, an Offset adds the token there and 0 elsewhere): a zero slot by position, then an addition of the
    constant over all positions, so the patches' relevance passes `x R / stab(x)` (the stabilizer's share where a
    patch embedding is near 0) and the class slot keeps nothing.
  - Multiplication or division by a constant (1/sqrt(d), rotary cos/sin, the -1 of rotate_half): `R_x = z g` with
    `z = x s`.
  - Reshape, transpose, head split/merge, slices, concatenation, the class-token and first-token selection: by
    position (the adjoint of the permutation/selection, taken with torch.autograd on that op alone).
  - Embeddings: relevance stops at the lookup outputs; token relevance = sum over hidden at the word embedding; for
    BERT the token-type embedding's share (at the word + type addition) summed over hidden is reported separately.
Composites: `attnlrp` (Epsilon on linear layers, AttnLRP in attention and products), `cp-lrp` (Epsilon, CP-LRP),
`attnlrp-vit` (vit only: Gamma 0.25 on every linear layer and the patch embedding, CP-LRP inside attention). The
relevance starts as the explained logit's value at the target, 0 elsewhere; the LMs are explained at the last real
position of each text (attention_mask.sum() - 1) for the arg-max next token there.

Operation structure (the order matters at the stabilizer's level, 1e-6 / |z|, which is above the goldens' gap): BERT
and the LMs divide Q K^T by sqrt(d) after the product (their eager attention), then add the mask (a constant:
`(1 - mask) * finfo(float32).min`, for the LMs the causal mask plus the padding mask clamped to finfo(float32).min);
torchvision's ViT (torch.nn.MultiheadAttention, exported by torch 1.13 as it computes it) divides q by sqrt(d)
before the product and has no mask. BERT adds word + token type, then the position embedding; GPT-2 word + position.
Llama's rotary embedding `q cos + rotate_half(q) sin` (cos, sin: the float32 constants): a constant scale on each
term, rotate_half = slices, a scale by -1 and a concatenation, then an addition of two activations. LXT leaves rotary
to plain Gradient*Input, which equals this at eps -> 0 (a scale by a constant passes x s g = R; the addition splits
by x_k g), so the two agree exactly there; at eps = 1e-6 the explicit form loses the usual stabilizer share.

The oracle (the independent check): LXT, "LRP eXplains Transformers" (github rachtibat/LRP-eXplains-Transformers,
commit f043441, ../shared/oracles/lxt; Clear BSD without patent grant). Its package __init__ imports HuggingFace
transformers (not installable here), so this script loads only `lxt/efficient/rules.py` by path
(importlib.util.spec_from_file_location; it needs only torch) and, for one extra ViT row, `patches.py` and
`zennit_patches.py` under stub parent packages; no LXT code is copied into gpulrp or into this script. LXT's
formulation is Gradient*Input: relevance = input embedding x gradient, with the rules expressed as gradient
modifications. The check installs an `Ops` (transformer_models.use_ops) built on LXT's `identity_rule_implicit`,
`divide_gradient` and `stop_gradient`, with `explicit_norm = True`, mirroring LXT's model patches: AttnLRP divides the
gradient of q, k by 4 and of v by 2 (LXT's patch_attention for GPT-2 and Llama; its BERT patch divides the scores
and the context by 2 each, the same thing), the nonlinearities get the identity rule, LayerNorm/RMSNorm stop the
gradient through the normalizer (layer_norm_forward, rms_norm_forward), the gated MLP divides the product by 2
(gated_mlp_forward); CP-LRP stops q and k (patch_cp_attention, cp_multi_head_attention_forward) and the gate
(cp_gated_mlp_forward). The explicit reference is run with eps = 1e-30 (zero-safe) and compared with float64 LXT:
  - bert, gpt2, llama: the full relevance at the word embedding output [3, 8, 32] (and for bert at the token-type
    embedding output), max |diff| / max |R|;
  - vit attnlrp, cp-lrp: the pixels [3, 3, 32, 32], through a functional ViT with torchvision's weights (q, k, v as
    three Linear modules from in_proj, checked equal to torchvision's forward) and the same Ops; vit cp-lrp also with
    LXT's own vit_torch patches (non_linear_forward, layer_norm_forward, cp_multi_head_attention_forward) applied to
    torchvision's module classes;
  - vit attnlrp-vit (Gamma): LXT has no Gradient*Input form of Gamma itself; it runs Zennit's rules through its
    zennit_patches (BasicHook converted to Gradient*Input). The check uses exactly that: Zennit's Gamma(0.25,
    stabilizer 1e-30) registered on the patch Conv2d and every Linear of the functional ViT, LXT's monkey_patch_zennit,
    and the CP-LRP Ops, compared at the pixels. Zennit: github chr5tphr/zennit commit 6b0bbdf
    (../shared/oracles/zennit/src, LGPL-3.0), only run here. Without Zennit that row is skipped with a message.
Each row is computed twice: with LXT as it is, whose identity rule divides by (x + 1e-10) and whose Zennit patch by
stab(x, 1e-10), so that the agreement is 1e-8 to 1e-10 relative (asserted < 1e-7), and with those two epsilons made
negligible (the identity rule's Function called with its own epsilon argument 0; the name `stabilize` that the Zennit
patch calls given epsilon 1e-300), where the agreement is float64 rounding, 1e-16 to 1e-15 (asserted < 1e-9; the
measure is max |diff| / max |R| over the compared array).

Sanity properties (printed and asserted): the explicit forward equals transformer_models' float64 forward (and the
functional ViT torchvision's) to 1e-12; padded positions get |R| <= 1e-30 (they get exactly 0 or -0) in every case at
eps 1e-6 and 1e-30; CP-LRP conserves through every A V (sum R_V = sum R_out per sample, 1e-9 relative at eps =
1e-30); conservation on BERT copies: with every Linear bias and LayerNorm shift zero, sum(words + token types) /
logit is 0.804, 0.002, 0.804 (attnlrp) and 0.911, -0.419, 0.925 (cp-lrp) for the three samples, because the position
embeddings (constants, N(0, 1) as large as the word embeddings) absorb their share; with the position embeddings
zero too, cp-lrp conserves (0.99998, the stabilizer's share; asserted to 1e-4) and attnlrp gives 0.917, 0.979,
0.875: AttnLRP's softmax rule is not conservative, and at eps = 1e-30 the script asserts that the logit equals the
token relevance plus the leaks of the softmax steps (added up on the tape) to 1e-9, i.e. every other step conserves.

Licence note: LXT is Clear BSD and Zennit LGPL-3.0; both are only loaded at fixture time from
../shared/oracles (override with ORACLES=/path/to/oracles); gpulrp's tests read the committed .npy files and never
run Python.
"""
import copy
import importlib
import importlib.util
import math
import os
import sys
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import transformer_models as tm  # noqa: E402

ORACLES = os.environ.get("ORACLES", os.path.join(HERE, "..", "..", "shared", "oracles"))
EPS = 1e-6
EPS_ZERO = 1e-30
MASK_MIN = float(torch.finfo(torch.float32).min)
MODELS = ["bert", "gpt2", "llama", "vit"]
COMPOSITES = {"bert": ["attnlrp", "cp-lrp"], "gpt2": ["attnlrp", "cp-lrp"], "llama": ["attnlrp", "cp-lrp"],
              "vit": ["attnlrp", "cp-lrp", "attnlrp-vit"]}
GAMMA = 0.25
AGREEMENT = 1e-9
AGREEMENT_AS_IS = 1e-7

torch.set_num_threads(1)


# ---- the tape: forward values in float64, the rule of each operation --------------------------------------------

class Node:
    __slots__ = ("v", "i")

    def __init__(self, v, i):
        self.v, self.i = v, i


class Tape:
    """Records each operation's output node, input nodes and relevance function; `backward` walks them in reverse.
    `composite` picks the linear rule (epsilon or gamma) and the attention/product rules (attnlrp or cp)."""

    def __init__(self, composite, eps):
        assert composite in ("attnlrp", "cp-lrp", "attnlrp-vit"), composite
        self.linear_rule = "gamma" if composite == "attnlrp-vit" else "epsilon"
        self.attn = "attnlrp" if composite == "attnlrp" else "cp"
        self.eps = eps
        self.ops = []
        self.count = 0
        self.av_sums = []  # CP-LRP A V: (sum R_out, sum R_V) per sample
        self.softmax_leaks = []  # AttnLRP softmax: sum R_out - sum R_in per sample

    def node(self, v):
        self.count += 1
        return Node(v, self.count - 1)

    def source(self, v):
        return self.node(v)

    def op(self, v, inputs, back):
        out = self.node(v)
        self.ops.append((out, inputs, back))
        return out

    def backward(self, out, r0):
        rel = {out.i: r0}
        for node, inputs, back in reversed(self.ops):
            r = rel.pop(node.i, None)
            if r is None:
                continue
            for x, rx in zip(inputs, back(r)):
                if rx is not None:
                    rel[x.i] = rel[x.i] + rx if x.i in rel else rx
        return rel

    # the stabilized ratio
    def g(self, r, d):
        s = d + torch.where(d >= 0, self.eps, -self.eps)
        return torch.where(s == 0, torch.zeros_like(r), r / torch.where(s == 0, torch.ones_like(s), s))

    # -- linear layers
    def linear(self, x, w, b=None):
        """z = x W^T + b, W [out, in]."""
        z = x.v @ w.T
        if b is not None:
            z = z + b
        xv = x.v

        def epsilon(r):
            return [xv * (self.g(r, z) @ w)]

        def gamma(r):
            wp, wn = w + GAMMA * w.clamp(min=0), w + GAMMA * w.clamp(max=0)
            zero = torch.zeros(w.shape[0], dtype=w.dtype)
            bb = zero if b is None else b
            bp, bn = bb + GAMMA * bb.clamp(min=0), bb + GAMMA * bb.clamp(max=0)
            xp, xn = xv.clamp(min=0), xv.clamp(max=0)
            p = (xp @ wp.T + bp) + xn @ wn.T
            n = (xp @ wn.T + bn) + xn @ wp.T
            hp = (z > 0).to(z) * self.g(r, p)
            hn = (z < 0).to(z) * self.g(r, n)
            return [xp * (hp @ wp + hn @ wn) + xn * (hp @ wn + hn @ wp)]

        return self.op(z, [x], gamma if self.linear_rule == "gamma" else epsilon)

    # -- normalizations
    def layer_norm(self, x, gamma, beta, eps_norm):
        mean = x.v.mean(-1, keepdim=True)
        sd = ((x.v - mean) ** 2).mean(-1, keepdim=True).add(eps_norm).sqrt()
        y = (x.v - mean) / sd * gamma + beta
        xv = x.v

        def back(r):
            t = gamma * self.g(r, y)
            return [xv * (t - t.mean(-1, keepdim=True)) / sd]

        return self.op(y, [x], back)

    def rms_norm(self, x, gamma, eps_norm):
        inv = torch.rsqrt(x.v.pow(2).mean(-1, keepdim=True) + eps_norm)
        y = gamma * (x.v * inv)
        xv = x.v
        return self.op(y, [x], lambda r: [xv * gamma * self.g(r, y) * inv])

    # -- elementwise
    def nonlinear(self, fn, x):
        return self.op(fn(x.v), [x], lambda r: [r])

    def softmax(self, x):
        s = torch.softmax(x.v, dim=-1)
        xv = x.v
        if self.attn == "cp":
            return self.op(s, [x], lambda r: [None])

        def back(r):
            rx = xv * (r - s * r.sum(-1, keepdim=True))
            self.softmax_leaks.append(r.flatten(1).sum(1) - rx.flatten(1).sum(1))
            return [rx]

        return self.op(s, [x], back)

    def matmul(self, a, b, a_is_softmax=False):
        z = a.v @ b.v
        av, bv = a.v, b.v

        def uniform(r):
            g = self.g(r, z)
            return [0.5 * av * (g @ bv.transpose(-1, -2)), 0.5 * bv * (av.transpose(-1, -2) @ g)]

        def constant_a(r):
            rb = bv * (av.transpose(-1, -2) @ self.g(r, z))
            self.av_sums.append((r.flatten(1).sum(1), rb.flatten(1).sum(1)))
            return [None, rb]

        return self.op(z, [a, b], constant_a if (self.attn == "cp" and a_is_softmax) else uniform)

    def product(self, gate, up):
        """The gated MLP's act(gate) * up."""
        z = gate.v * up.v
        if self.attn == "cp":
            return self.op(z, [gate, up], lambda r: [None, r])

        def back(r):
            half = 0.5 * z * self.g(r, z)
            return [half, half]

        return self.op(z, [gate, up], back)

    def add(self, a, b):
        z = a.v + b.v
        av, bv = a.v, b.v

        def back(r):
            g = self.g(r, z)
            return [av * g, bv * g]

        return self.op(z, [a, b], back)

    def add_const(self, x, c):
        z = x.v + c
        xv = x.v
        return self.op(z, [x], lambda r: [xv * self.g(r, z)])

    def scale(self, x, s, divide=False):
        z = x.v / s if divide else x.v * s
        return self.op(z, [x], lambda r: [z * self.g(r, z)])

    # -- by position
    def route(self, fn, *xs):
        z = fn(*[x.v for x in xs])

        def back(r):
            leaves = [x.v.detach().requires_grad_() for x in xs]
            return list(torch.autograd.grad(fn(*leaves), leaves, r, allow_unused=True))

        return self.op(z, list(xs), back)


# ---- the four models, from their weights --------------------------------------------------------------------------

def split_heads(t, x, heads):
    return t.route(lambda v: tm.split_heads(v, heads), x)


def attention(t, q, k, v, heads, mask=None, scale_query=False):
    """softmax(Q K^T / sqrt(d) + mask) V on [b, s, hidden] projections; merged back to [b, s, hidden]."""
    q, k, v = (split_heads(t, x, heads) if x.v.dim() == 3 else x for x in (q, k, v))
    d = q.v.shape[-1]
    if scale_query:
        q = t.scale(q, math.sqrt(d), divide=True)
    scores = t.matmul(q, t.route(lambda x: x.transpose(-1, -2), k))
    if not scale_query:
        scores = t.scale(scores, math.sqrt(d), divide=True)
    if mask is not None:
        scores = t.add_const(scores, mask)
    out = t.matmul(t.softmax(scores), v, a_is_softmax=True)
    return t.route(tm.merge_heads, out)


def padding_mask(attention_mask):
    return (1.0 - attention_mask.double())[:, None, None, :] * MASK_MIN


def causal_padding_mask(attention_mask):
    seq = attention_mask.shape[1]
    causal = torch.triu(torch.full((seq, seq), MASK_MIN, dtype=torch.float64), diagonal=1)[None, None]
    return torch.clamp(causal + padding_mask(attention_mask), min=MASK_MIN)


def bert_forward(t, p, input_ids, attention_mask, token_type_ids, layers=2, heads=4):
    e = "bert.embeddings."
    seq = input_ids.shape[1]
    words = t.source(p[e + "word_embeddings.weight"][input_ids])
    types_ = t.source(p[e + "token_type_embeddings.weight"][token_type_ids])
    x = t.add_const(t.add(words, types_), p[e + "position_embeddings.weight"][:seq][None])
    x = t.layer_norm(x, p[e + "LayerNorm.weight"], p[e + "LayerNorm.bias"], 1e-12)
    mask = padding_mask(attention_mask)
    for i in range(layers):
        pre = f"bert.encoder.layer.{i}."
        a = pre + "attention."
        q, k, v = (t.linear(x, p[a + f"self.{n}.weight"], p[a + f"self.{n}.bias"]) for n in ("query", "key", "value"))
        h = t.linear(attention(t, q, k, v, heads, mask), p[a + "output.dense.weight"], p[a + "output.dense.bias"])
        x = t.layer_norm(t.add(h, x), p[a + "output.LayerNorm.weight"], p[a + "output.LayerNorm.bias"], 1e-12)
        h = t.linear(x, p[pre + "intermediate.dense.weight"], p[pre + "intermediate.dense.bias"])
        h = t.nonlinear(F.gelu, h)
        h = t.linear(h, p[pre + "output.dense.weight"], p[pre + "output.dense.bias"])
        x = t.layer_norm(t.add(h, x), p[pre + "output.LayerNorm.weight"], p[pre + "output.LayerNorm.bias"], 1e-12)
    first = t.route(lambda v: v[:, 0], x)
    pooled = t.nonlinear(torch.tanh, t.linear(first, p["bert.pooler.dense.weight"], p["bert.pooler.dense.bias"]))
    return t.linear(pooled, p["classifier.weight"], p["classifier.bias"]), {"words": words, "types": types_}


def gpt2_forward(t, p, input_ids, attention_mask, layers=2, heads=4):
    seq, hidden = input_ids.shape[1], p["transformer.wte.weight"].shape[1]
    words = t.source(p["transformer.wte.weight"][input_ids])
    x = t.add_const(words, p["transformer.wpe.weight"][:seq][None])
    mask = causal_padding_mask(attention_mask)
    gelu_tanh = lambda v: F.gelu(v, approximate="tanh")  # noqa: E731
    for i in range(layers):
        pre = f"transformer.h.{i}."
        h = t.layer_norm(x, p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], 1e-5)
        qkv = t.linear(h, p[pre + "attn.c_attn.weight"].T, p[pre + "attn.c_attn.bias"])
        q, k, v = (t.route(lambda z, j=j: z[..., j * hidden:(j + 1) * hidden], qkv) for j in range(3))
        h = attention(t, q, k, v, heads, mask)
        x = t.add(x, t.linear(h, p[pre + "attn.c_proj.weight"].T, p[pre + "attn.c_proj.bias"]))
        h = t.layer_norm(x, p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], 1e-5)
        h = t.nonlinear(gelu_tanh, t.linear(h, p[pre + "mlp.c_fc.weight"].T, p[pre + "mlp.c_fc.bias"]))
        x = t.add(x, t.linear(h, p[pre + "mlp.c_proj.weight"].T, p[pre + "mlp.c_proj.bias"]))
    x = t.layer_norm(x, p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], 1e-5)
    return t.linear(x, p["lm_head.weight"]), {"words": words}


def rotary(t, x, cos, sin):
    half = x.v.shape[-1] // 2
    x1 = t.route(lambda v: v[..., :half], x)
    x2 = t.route(lambda v: v[..., half:], x)
    rotated = t.route(lambda a, b: torch.cat((a, b), dim=-1), t.scale(x2, -1.0), x1)
    return t.add(t.scale(x, cos), t.scale(rotated, sin))


def llama_forward(t, p, input_ids, attention_mask, layers=2, heads=4):
    seq, hidden = input_ids.shape[1], p["model.embed_tokens.weight"].shape[1]
    words = t.source(p["model.embed_tokens.weight"][input_ids])
    x = words
    mask = causal_padding_mask(attention_mask)
    cos, sin = (c.double() for c in tm.LlamaRotaryEmbedding(hidden // heads)(seq, torch.float32))
    for i in range(layers):
        pre = f"model.layers.{i}."
        h = t.rms_norm(x, p[pre + "input_layernorm.weight"], 1e-6)
        q, k, v = (split_heads(t, t.linear(h, p[pre + f"self_attn.{n}_proj.weight"]), heads) for n in "qkv")
        q, k = rotary(t, q, cos, sin), rotary(t, k, cos, sin)
        h = attention(t, q, k, v, heads, mask)
        x = t.add(x, t.linear(h, p[pre + "self_attn.o_proj.weight"]))
        h = t.rms_norm(x, p[pre + "post_attention_layernorm.weight"], 1e-6)
        gate = t.nonlinear(F.silu, t.linear(h, p[pre + "mlp.gate_proj.weight"]))
        up = t.linear(h, p[pre + "mlp.up_proj.weight"])
        x = t.add(x, t.linear(t.product(gate, up), p[pre + "mlp.down_proj.weight"]))
    x = t.rms_norm(x, p["model.norm.weight"], 1e-6)
    return t.linear(x, p["lm_head.weight"]), {"words": words}


def vit_forward(t, p, images, layers=2, heads=4, patch=8):
    pixels = t.source(images)
    n, c, hh, ww = images.shape
    w = p["conv_proj.weight"]
    hidden = w.shape[0]

    def patches(v):  # [n, c, H, W] -> [n, patches (row-major), c * patch * patch]
        v = v.reshape(n, c, hh // patch, patch, ww // patch, patch).permute(0, 2, 4, 1, 3, 5)
        return v.reshape(n, (hh // patch) * (ww // patch), c * patch * patch)

    x = t.linear(t.route(patches, pixels), w.reshape(hidden, -1), p["conv_proj.bias"])
    # the class token as gpulrp imports ONNX's Concat with a constant (docs/DESIGN.md 2.9, Gathers and Offsets): an
    # Index leaves room (a zero slot) by position, then an Offset adds the token there and 0 at the patches, explained
    # by the epsilon rule on the whole map: the patches pass x R / stab(x), the class slot (x = 0) keeps nothing
    cls = p["class_token"].expand(n, -1, -1)
    x = t.route(lambda v: torch.cat([torch.zeros_like(cls), v], dim=1), x)
    x = t.add_const(x, torch.cat([cls, torch.zeros_like(x.v[:, 1:])], dim=1))
    x = t.add_const(x, p["encoder.pos_embedding"])
    for i in range(layers):
        pre = f"encoder.layers.encoder_layer_{i}."
        a = pre + "self_attention."
        y = t.layer_norm(x, p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], 1e-6)
        wq, wk, wv = p[a + "in_proj_weight"].chunk(3)
        bq, bk, bv = p[a + "in_proj_bias"].chunk(3)
        q, k, v = t.linear(y, wq, bq), t.linear(y, wk, bk), t.linear(y, wv, bv)
        h = attention(t, q, k, v, heads, scale_query=True)
        x = t.add(t.linear(h, p[a + "out_proj.weight"], p[a + "out_proj.bias"]), x)
        y = t.layer_norm(x, p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], 1e-6)
        y = t.nonlinear(F.gelu, t.linear(y, p[pre + "mlp.0.weight"], p[pre + "mlp.0.bias"]))
        x = t.add(x, t.linear(y, p[pre + "mlp.3.weight"], p[pre + "mlp.3.bias"]))
    x = t.layer_norm(x, p["encoder.ln.weight"], p["encoder.ln.bias"], 1e-6)
    first = t.route(lambda v: v[:, 0], x)
    return t.linear(first, p["heads.head.weight"], p["heads.head.bias"]), {"pixels": pixels}


FORWARD = {"bert": bert_forward, "gpt2": gpt2_forward, "llama": llama_forward, "vit": vit_forward}


def params64(model):
    """The model's float32 parameters and buffers promoted (exactly) to float64, by name."""
    return {k: v.detach().double() for k, v in model.state_dict().items() if v.is_floating_point()}


def inputs64(name, inputs):
    return tuple(x.double() for x in inputs) if name == "vit" else tuple(inputs)


def last_positions(attention_mask):
    return attention_mask.sum(1) - 1


def explain(name, p, inputs, composite, eps=EPS, targets=None, **dims):
    """The explicit reference. `p`: float64 parameters by name; `inputs`: the model's inputs (int64 tensors, or the
    float64 images for vit); `targets`: None (the arg-max) or the class per sample (bert, vit) or the token per sample
    (the LMs, explained at the last real position); `dims`: the forward's sizes where they are not the fixtures'
    (e.g. layers=12, heads=12, patch=16 for torchvision's vit_b_16). Returns a dict: logits (all outputs), targets,
    positions (LMs), scores (the explained logits), the relevance at the sources ("words", "types" [b, s, hidden];
    "pixels"), "tokens" and "token_types" (summed over hidden), and the CP-LRP A V sums."""
    t = Tape(composite, eps)
    out, sources = FORWARD[name](t, p, *inputs, **dims)
    logits = out.v
    b = logits.shape[0]
    rows = torch.arange(b)
    if logits.dim() == 3:
        positions = last_positions(inputs[1])
        at = logits[rows, positions]
    else:
        positions, at = None, logits
    if targets is None:
        targets = at.argmax(-1)
    r0 = torch.zeros_like(logits)
    if positions is None:
        r0[rows, targets] = logits[rows, targets]
    else:
        r0[rows, positions, targets] = logits[rows, positions, targets]
    rel = t.backward(out, r0)
    result = {"logits": logits, "targets": targets, "positions": positions, "scores": at[rows, targets],
              "av_sums": t.av_sums, "softmax_leak": sum(t.softmax_leaks, torch.zeros(b, dtype=torch.float64))}
    for key, node in sources.items():
        result[key] = rel.get(node.i, torch.zeros_like(node.v))
    if "words" in result:
        result["tokens"] = result["words"].sum(-1)
    if "types" in result:
        result["token_types"] = result["types"].sum(-1)
    return result


# ---- the oracle: LXT's Gradient*Input -----------------------------------------------------------------------------

def load_lxt():
    """LXT's rules.py loaded by path (its package __init__ needs HuggingFace transformers); stub parent packages let
    patches.py and zennit_patches.py import it as `lxt.efficient.rules`."""
    root = os.path.join(ORACLES, "lxt", "lxt")
    if not os.path.isfile(os.path.join(root, "efficient", "rules.py")):
        sys.exit(f"LXT not found under {root}: set ORACLES to the folder holding lxt/ (and zennit/)")
    for pkg, path in (("lxt", root), ("lxt.efficient", os.path.join(root, "efficient"))):
        if pkg not in sys.modules:
            mod = types.ModuleType(pkg)
            mod.__path__ = [path]
            sys.modules[pkg] = mod
    if "lxt.efficient.rules" not in sys.modules:
        spec = importlib.util.spec_from_file_location("lxt.efficient.rules", os.path.join(root, "efficient",
                                                                                          "rules.py"))
        rules = importlib.util.module_from_spec(spec)
        sys.modules["lxt.efficient.rules"] = rules
        spec.loader.exec_module(rules)
    return sys.modules["lxt.efficient.rules"]


class LxtOps(tm.Ops):
    """transformer_models' hook points with LXT's rules (Gradient*Input), as LXT's model patches place them."""
    explicit_norm = True

    def __init__(self, rules, composite, exact_identity=False):
        self.r = rules
        self.cp = composite != "attnlrp"
        self.exact_identity = exact_identity

    def nonlinear(self, fn, x):
        if self.exact_identity:  # LXT's identity rule Function with its epsilon argument 0 instead of 1e-10
            return self.r.identity_rule_implicit_fn.apply(fn, x, 0.0)
        return self.r.identity_rule_implicit(fn, x)

    def divide(self, x, factor):
        return self.r.divide_gradient(x, factor)

    def stop(self, x):
        return self.r.stop_gradient(x)

    def attention_inputs(self, q, k, v):
        if self.cp:
            return self.r.stop_gradient(q), self.r.stop_gradient(k), v
        return self.r.divide_gradient(q, 4), self.r.divide_gradient(k, 4), self.r.divide_gradient(v, 2)

    def gate(self, g):
        return self.r.stop_gradient(g) if self.cp else g

    def product(self, z):
        return z if self.cp else self.r.divide_gradient(z, 2)


class FunctionalVit(nn.Module):
    """torchvision's VisionTransformer forward with its weights, written with modules LXT's and Zennit's hooks can
    reach: q, k, v as three Linear modules (the rows of in_proj), LayerNorm through transformer_models.LayerNorm (the
    normalizer under Ops.stop), GELU through Ops.nonlinear, the attention inputs through Ops.attention_inputs."""

    def __init__(self, vit):
        super().__init__()
        self.heads = vit.encoder.layers[0].self_attention.num_heads
        self.conv_proj = copy.deepcopy(vit.conv_proj)
        self.class_token = nn.Parameter(vit.class_token.detach().clone())
        self.pos_embedding = nn.Parameter(vit.encoder.pos_embedding.detach().clone())
        self.layers = nn.ModuleList()
        for block in vit.encoder.layers:
            attn = block.self_attention
            hidden = attn.embed_dim
            layer = nn.Module()
            layer.ln_1, layer.ln_2 = (self._norm(block.ln_1), self._norm(block.ln_2))
            for name, w, b in zip("qkv", attn.in_proj_weight.detach().chunk(3), attn.in_proj_bias.detach().chunk(3)):
                lin = nn.Linear(hidden, hidden).to(w.dtype)
                lin.weight.data.copy_(w)
                lin.bias.data.copy_(b)
                setattr(layer, name, lin)
            layer.out_proj = nn.Linear(hidden, hidden).to(attn.out_proj.weight.dtype)
            layer.out_proj.load_state_dict(attn.out_proj.state_dict())
            layer.fc1, layer.act, layer.fc2 = copy.deepcopy(block.mlp[0]), nn.GELU(), copy.deepcopy(block.mlp[3])
            self.layers.append(layer)
        self.ln = self._norm(vit.encoder.ln)
        self.head = copy.deepcopy(vit.heads.head)

    @staticmethod
    def _norm(ln):
        m = tm.LayerNorm(ln.normalized_shape, eps=ln.eps).to(ln.weight.dtype)
        m.load_state_dict(ln.state_dict())
        return m

    def forward(self, x):
        n = x.shape[0]
        x = self.conv_proj(x)
        x = x.reshape(n, x.shape[1], -1).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1) + self.pos_embedding
        for layer in self.layers:
            y = layer.ln_1(x)
            q, k, v = (tm.split_heads(lin(y), self.heads) for lin in (layer.q, layer.k, layer.v))
            q, k, v = tm.OPS.attention_inputs(q, k, v)
            q = q / math.sqrt(q.shape[-1])
            h = torch.matmul(torch.softmax(torch.matmul(q, k.transpose(-1, -2)), dim=-1), v)
            x = layer.out_proj(tm.merge_heads(h)) + x
            x = x + layer.fc2(tm.OPS.nonlinear(layer.act, layer.fc1(layer.ln_2(x))))
        return self.head(self.ln(x)[:, 0])


EMBEDDINGS = {"bert": {"words": "bert.embeddings.word_embeddings", "types": "bert.embeddings.token_type_embeddings"},
              "gpt2": {"words": "transformer.wte"}, "llama": {"words": "model.embed_tokens"}}


def select(out, targets, positions):
    rows = torch.arange(out.shape[0])
    return (out[rows, targets] if positions is None else out[rows, positions, targets]).sum()


def lxt_tokens(name, model64, inputs, composite, rules, targets, positions, exact=False):
    """LXT's Gradient*Input on a float64 copy of a token model: embedding output x gradient (per hidden)."""
    captured, handles = {}, []
    modules = dict(model64.named_modules())
    for key, mname in EMBEDDINGS[name].items():
        def hook(mod, inp, out, key=key):
            out.retain_grad()
            captured[key] = out
        handles.append(modules[mname].register_forward_hook(hook))
    old = tm.use_ops(LxtOps(rules, composite, exact))
    try:
        out = model64(*inputs)
        select(out, targets, positions).backward()
    finally:
        tm.use_ops(old)
        for h in handles:
            h.remove()
    return {k: (v * v.grad).detach() for k, v in captured.items()}


def lxt_pixels(model, images, composite, rules, targets, exact=False):
    """LXT's Gradient*Input at the pixels of the functional ViT (Ops as above)."""
    x = images.clone().requires_grad_()
    old = tm.use_ops(LxtOps(rules, composite, exact))
    try:
        select(model(x), targets, None).backward()
    finally:
        tm.use_ops(old)
    return (x * x.grad).detach()


def lxt_vit_patched(vit64, images, rules, targets):
    """LXT's own vit_torch CP-LRP patches (GELU identity rule, LayerNorm with the normalizer stopped, q and k of
    MultiheadAttention stopped) on torchvision's classes, restored afterwards."""
    patches = importlib.import_module("lxt.efficient.patches")
    classes = (nn.GELU, nn.LayerNorm, nn.MultiheadAttention)
    saved = {c: c.__dict__.get("forward") for c in classes}
    try:
        nn.GELU.original_forward = nn.GELU.forward
        nn.GELU.forward = patches.non_linear_forward
        nn.LayerNorm.forward = patches.layer_norm_forward
        nn.MultiheadAttention.original_forward = nn.MultiheadAttention.forward
        nn.MultiheadAttention.forward = patches.cp_multi_head_attention_forward
        x = images.clone().requires_grad_()
        select(vit64(x), targets, None).backward()
    finally:
        for c, f in saved.items():
            c.forward = f
            if "original_forward" in c.__dict__:
                del c.original_forward
    return (x * x.grad).detach()


def lxt_torchvision_patched(model, images, targets):
    """CP-LRP as LXT's vit_torch patches place it, on torchvision's ConvNeXt and Swin classes (LXT patches neither):
    GELU's identity rule (non_linear_forward), LayerNorm with its normalizer stopped (layer_norm_forward; ConvNeXt's
    LayerNorm2d with its channels moved last), Swin's attention weights constants (its module's softmax detached);
    Gradient*Input at the pixels. Needs load_lxt() first; restored afterwards."""
    from torchvision.models import convnext, swin_transformer
    patches = importlib.import_module("lxt.efficient.patches")

    class Routed:  # swin_transformer's F, with a softmax whose result is a constant
        def __getattr__(self, fn):
            return getattr(F, fn)

        @staticmethod
        def softmax(*args, **kwargs):
            return F.softmax(*args, **kwargs).detach()

    saved = {c: c.__dict__.get("forward") for c in (nn.GELU, nn.LayerNorm, convnext.LayerNorm2d)}
    try:
        nn.GELU.original_forward = nn.GELU.forward
        nn.GELU.forward = patches.non_linear_forward
        nn.LayerNorm.forward = patches.layer_norm_forward
        convnext.LayerNorm2d.forward = \
            lambda self, v: patches.layer_norm_forward(self, v.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        swin_transformer.F = Routed()
        x = images.clone().requires_grad_()
        select(model(x), targets, None).backward()
    finally:
        swin_transformer.F = F
        for c, f in saved.items():
            c.forward = f
        del nn.GELU.original_forward
    return (x * x.grad).detach()


def lxt_zennit_gamma(fvit, images, rules, targets, exact=False):
    """Zennit's Gamma(0.25) on the patch Conv2d and every Linear, through LXT's Gradient*Input patch of Zennit's
    BasicHook, CP-LRP Ops elsewhere. None when Zennit is not importable."""
    try:
        import zennit  # noqa: F401
    except ImportError:
        sys.path.insert(0, os.path.join(ORACLES, "zennit", "src"))
        try:
            import zennit  # noqa: F401
        except ImportError:
            return None
    from zennit.core import BasicHook, stabilize
    from zennit.rules import Gamma
    zp = importlib.import_module("lxt.efficient.zennit_patches")
    if BasicHook.backward is not zp.backward:
        zp.monkey_patch_zennit()
    handles = []
    for m in fvit.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            handles.append(Gamma(gamma=GAMMA, stabilizer=EPS_ZERO).register(m))
    if exact:  # the patched hook's division by stabilize(input, 1e-10) with 1e-300 instead (the name it calls)
        zp.stabilize = lambda x, epsilon: stabilize(x, epsilon=1e-300)
    try:
        return lxt_pixels(fvit, images, "attnlrp-vit", rules, targets, exact)
    finally:
        zp.stabilize = stabilize
        for h in handles:
            h.remove()


# ---- checks -------------------------------------------------------------------------------------------------------

def rel_diff(a, b):
    return float((a - b).abs().max() / b.abs().max())


def agreement_table(rules):
    """Explicit reference at eps = 1e-30 against LXT's Gradient*Input (and Zennit's Gamma), each row twice: LXT as it
    is (its identity rule divides by x + 1e-10) and with the identity rule's epsilon argument 0. Asserts each row."""
    rows = []

    def row(name, composite, what, ours_as_is, ours_exact, ex):
        rows.append((name, composite, what, rel_diff(ex, ours_as_is),
                     None if ours_exact is None else rel_diff(ex, ours_exact), float(ours_as_is.abs().max())))

    for name in MODELS:
        model = tm.fixture(name)
        p = params64(model)
        inputs = inputs64(name, tm.fixture_inputs(name))
        model64 = copy.deepcopy(model).double()
        with torch.no_grad():
            reference = model64(*inputs)
        fvit = FunctionalVit(model64) if name == "vit" else None
        for composite in COMPOSITES[name]:
            ex = explain(name, p, inputs, composite, eps=EPS_ZERO)
            fwd = rel_diff(ex["logits"], reference)
            assert fwd < 1e-12, f"{name}: explicit forward differs from transformer_models by {fwd:.2e}"
            if name == "vit":
                with torch.no_grad():
                    fdiff = rel_diff(fvit(inputs[0]), reference)
                assert fdiff < 1e-12, f"functional ViT differs from torchvision's by {fdiff:.2e}"
                if composite == "attnlrp-vit":
                    pair = [lxt_zennit_gamma(fvit, inputs[0], rules, ex["targets"], exact) for exact in (False, True)]
                    if pair[0] is None:
                        print(f"  {name} {composite}: skipped (Zennit not importable; ORACLES/zennit/src)")
                        continue
                    row(name, composite, "pixels; Zennit Gamma(0.25) via LXT's zennit_patches + CP-LRP LxtOps",
                        *pair, ex["pixels"])
                else:
                    pair = [lxt_pixels(fvit, inputs[0], composite, rules, ex["targets"], exact)
                            for exact in (False, True)]
                    row(name, composite, "pixels; LxtOps on the functional ViT", *pair, ex["pixels"])
                if composite == "cp-lrp":
                    row(name, composite, "pixels; LXT's own vit_torch patches on torchvision's classes",
                        lxt_vit_patched(model64, inputs[0], rules, ex["targets"]), None, ex["pixels"])
            else:
                pair = [lxt_tokens(name, model64, inputs, composite, rules, ex["targets"], ex["positions"], exact)
                        for exact in (False, True)]
                row(name, composite, "word embedding [3, 8, 32]; LxtOps", pair[0]["words"], pair[1]["words"],
                    ex["words"])
                if "types" in pair[0]:
                    row(name, composite, "token-type embedding [3, 8, 32]; LxtOps", pair[0]["types"],
                        pair[1]["types"], ex["types"])
    print(f"explicit reference (eps = {EPS_ZERO:g}) vs LXT Gradient*Input, float64, max |diff| / max |R|:")
    print(f"  {'model':6s} {'composite':12s} {'LXT as is':>10s} {'id. eps 0':>10s} {'max|R|':>10s}  compared at")
    for name, composite, what, d, d0, mx in rows:
        d0s = "-" if d0 is None else f"{d0:.2e}"
        print(f"  {name:6s} {composite:12s} {d:10.2e} {d0s:>10s} {mx:10.3e}  {what}")
    bad = [r for r in rows if not (r[3] < AGREEMENT_AS_IS and (r[4] is None or r[4] < AGREEMENT))]
    assert not bad, f"explicit reference and LXT disagree: {bad}"
    return rows


def sanity():
    """Padding, CP-LRP conservation through A V, near-conservation on a bias-free BERT."""
    print("sanity:")
    for name in MODELS:
        p = params64(tm.fixture(name))
        inputs = inputs64(name, tm.fixture_inputs(name))
        for composite in COMPOSITES[name]:
            for eps in (EPS, EPS_ZERO):
                ex = explain(name, p, inputs, composite, eps=eps)
                if name != "vit":
                    pad = ~inputs[1].bool()
                    worst = max(float(ex[k][pad].abs().max()) for k in ("tokens", "token_types") if k in ex)
                    assert worst <= 1e-30, f"{name} {composite} eps {eps:g}: padded |R| = {worst:.2e}"
                if ex["av_sums"] and eps == EPS_ZERO:
                    worst = max(float(((a - b).abs() / a.abs().clamp(min=1e-300)).max()) for a, b in ex["av_sums"]
                                if a.abs().max() > 0)
                    assert worst < 1e-9, f"{name} {composite}: CP-LRP A V not conservative ({worst:.2e})"
                    print(f"  {name:6s} {composite:12s} CP-LRP through {len(ex['av_sums'])} A V: "
                          f"max |sum R_V - sum R_out| / |sum R_out| = {worst:.1e} (eps 1e-30)")
        if name != "vit":
            print(f"  {name:6s} padded positions: |R| <= 1e-30 in every case (eps 1e-6 and 1e-30)")
    # BERT without biases (Linear biases, LayerNorm shifts), then also without position embeddings
    for zero_positions in (False, True):
        p = params64(tm.fixture("bert"))
        for k in p:
            if k.endswith(".bias") or (zero_positions and k == "bert.embeddings.position_embeddings.weight"):
                p[k] = torch.zeros_like(p[k])
        inputs = tm.fixture_inputs("bert")
        what = "biases and position embeddings zero" if zero_positions else "biases zero"
        for composite in COMPOSITES["bert"]:
            for eps in (EPS, EPS_ZERO):
                ex = explain("bert", p, inputs, composite, eps=eps)
                total, score = ex["tokens"].sum(1) + ex["token_types"].sum(1), ex["scores"]
                if zero_positions and eps == EPS_ZERO:
                    # every step conserves but AttnLRP's softmax rule, whose leak the tape adds up
                    off = float(((score - total - ex["softmax_leak"]) / score).abs().max())
                    assert off < 1e-9, f"bias-free BERT {composite}: relevance not accounted for ({off:.2e})"
                if eps == EPS:
                    print(f"  bert {composite:8s} {what:36s} sum(words + token types) / logit = "
                          f"{' '.join(f'{float(v):.5f}' for v in total / score)}")
                    if zero_positions and composite == "cp-lrp":
                        worst = float((total / score - 1).abs().max())
                        assert worst < 1e-4, f"bias-free BERT cp-lrp does not conserve ({worst:.2e})"
    print("  bert without biases and position embeddings, eps 1e-30: logit = sum(words + token types) + the "
          "softmax rule's leak, to 1e-9 (both composites)")


def main():
    rules = load_lxt()
    agreement_table(rules)
    sanity()


if __name__ == "__main__":
    main()
