#!/usr/bin/python3
"""Write the golden LRP fixtures under src/test/resources/golden/ from an
independent float64 reference.

Run with Debian's interpreter (python3-torch, python3-numpy):

    /usr/bin/python3 scripts/make_golden.py

For a few small seeded PyTorch MLPs with non-zero biases this script

  * exports each model to ONNX (opset 17, dynamic batch axis, layers named
    fc1, fc2, ... so the initializers are ``fc1.weight`` etc.) and to a state
    dict (``torch.save(model.state_dict())``);
  * writes seeded inputs (negative values and a few exact zeros) as .npy, and
    the model's float32 outputs on them;
  * computes the input relevance for every rule, preset, initial-relevance
    mode and target listed below with its own float64 implementation of
    DESIGN.md section 3, written as explicit numpy matrix formulas;
  * writes each result as a float32 .npy and lists it in ``manifest.txt``.

Checks done before anything is written (the script stops on a failure):
  * the numpy reference for LRP-epsilon equals gradient x input from torch
    autograd with the epsilon-stabilized backward (float64);
  * every case is well conditioned: the same formulas evaluated in float32
    differ from float64 by less than 1e-5 x max|R| per sample (the Java tests
    compare at 1e-4), and arg-max targets are not near ties.

Deterministic: fixed torch and numpy seeds, one thread.  The Java build and
tests never run this script; they only read its committed outputs.
"""

import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO_ROOT, "src", "test", "resources", "golden")

ROWS = 16
ZERO_FRACTION = 0.08   # share of input values set to exactly 0
INPUT_BOUND = 3.0      # inputs are clipped to [-3, 3], the ZBox bounds
DEFAULT_EPS = 1e-6     # every rule's default stabilizer
CONDITION_LIMIT = 1e-5  # float32-vs-float64 discrepancy allowed in a fixture, relative to max|R| per sample
ARGMAX_MARGIN = 1e-3   # smallest allowed gap between the best and second-best logit

# (name, layer widths, final activation or None, torch seed, fixed class for the fixed-target cases or None)
MODELS = [
    ("sample10", [10, 32, 16, 1], "sigmoid", 101, None),
    ("mlp7", [7, 13, 9, 5], "softmax", 202, 2),
    ("mlp20", [20, 33, 17, 4], None, 303, 3),
]

# Rules applied to every linear layer (the CLI's --rule), by their CLI names.
RULES = ["epsilon", "epsilon:0.25", "epsilon:0", "zplus", "alpha-beta:2,1", "alpha-beta:1,0", "gamma:0.25",
         "zbox:-3,3", "wsquare", "flat"]
# Presets (the CLI's --composite).
COMPOSITES = ["epsilon-plus", "epsilon-alpha2-beta1", "epsilon-plus-flat", "epsilon-alpha2-beta1-flat",
              "epsilon-gamma-box:-3,3"]
INITS = ["output", "onehot", "logit"]


# ---------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------

class Mlp(nn.Module):
    """Linear layers fc1..fcN with ReLU between them and an optional final sigmoid/softmax."""

    def __init__(self, widths, final):
        super().__init__()
        self.depth = len(widths) - 1
        for k in range(self.depth):
            setattr(self, "fc%d" % (k + 1), nn.Linear(widths[k], widths[k + 1]))
        self.final = final

    def forward(self, x):
        for k in range(self.depth):
            x = getattr(self, "fc%d" % (k + 1))(x)
            if k < self.depth - 1:
                x = torch.relu(x)
        if self.final == "sigmoid":
            x = torch.sigmoid(x)
        elif self.final == "softmax":
            x = torch.softmax(x, dim=1)
        return x


def arch_spec(depth, final):
    """The architecture in gpulrp's spec syntax, e.g. fc1:linear,relu,fc2:linear,softmax."""
    parts = []
    for k in range(depth):
        parts.append("fc%d:linear" % (k + 1))
        if k < depth - 1:
            parts.append("relu")
    if final is not None:
        parts.append(final)
    return ",".join(parts)


def make_inputs(rng, n_features, clear_argmax):
    """ROWS seeded rows in [-3, 3] with some exact zeros; rows whose arg-max is near a tie are drawn again."""
    rows = []
    while len(rows) < ROWS:
        x = np.clip(rng.standard_normal(n_features) * 1.3, -INPUT_BOUND, INPUT_BOUND)
        x[rng.random(n_features) < ZERO_FRACTION] = 0.0
        if not rows:
            x[0] = 0.0  # at least one exact zero even for tiny shapes
        x = x.astype(np.float32)
        if clear_argmax(x):
            rows.append(x)
    return np.stack(rows)


# ---------------------------------------------------------------------------
# The reference: DESIGN.md section 3 as numpy matrix formulas.
# Shapes: x [B, K] (layer input), W [J, K] (PyTorch layout, w_ij = W[j, i]),
# b [J], R [B, J] (upper relevance).  Returns R_in [B, K].
# ---------------------------------------------------------------------------

def pos(a):
    return np.where(a > 0, a, 0).astype(a.dtype)


def neg(a):
    return np.where(a < 0, a, 0).astype(a.dtype)


def divide(R, D, eps):
    """g = R / stab(D), stab(d) = d + eps * (1 if d >= 0 else -1); g = 0 where stab(D) == 0."""
    s = D + eps * np.where(D >= 0, 1, -1).astype(D.dtype)
    safe = np.where(s == 0, 1, s).astype(D.dtype)
    return np.where(s == 0, 0, R / safe).astype(D.dtype)


def lrp_epsilon(x, W, b, R, eps):
    z = x @ W.T + b
    g = divide(R, z, eps)
    return x * (g @ W)


def lrp_alpha_beta(x, W, b, R, alpha, beta, eps):
    xp, xn, Wp, Wn = pos(x), neg(x), pos(W), neg(W)
    P = xp @ Wp.T + xn @ Wn.T + pos(b)
    N = xp @ Wn.T + xn @ Wp.T + neg(b)
    gP = divide(R, P, eps)
    gN = divide(R, N, eps)
    return alpha * (xp * (gP @ Wp) + xn * (gP @ Wn)) - beta * (xp * (gN @ Wn) + xn * (gN @ Wp))


def lrp_zplus(x, W, b, R, eps):
    xp, xn, Wp, Wn = pos(x), neg(x), pos(W), neg(W)
    D = xp @ Wp.T + xn @ Wn.T + pos(b)
    g = divide(R, D, eps)
    return xp * (g @ Wp) + xn * (g @ Wn)


def lrp_gamma(x, W, b, R, gamma, eps):
    xp, xn = pos(x), neg(x)
    Wp, Wn = W + gamma * pos(W), W + gamma * neg(W)
    bp, bn = b + gamma * pos(b), b + gamma * neg(b)
    z = x @ W.T + b
    P = xp @ Wp.T + xn @ Wn.T + bp
    N = xp @ Wn.T + xn @ Wp.T + bn
    gP = np.where(z > 0, divide(R, P, eps), 0).astype(x.dtype)
    gN = np.where(z < 0, divide(R, N, eps), 0).astype(x.dtype)
    return xp * (gP @ Wp) + xn * (gP @ Wn) + xp * (gN @ Wn) + xn * (gN @ Wp)


def lrp_zbox(x, W, b, R, low, high, eps):
    Wp, Wn = pos(W), neg(W)
    D = x @ W.T - low * Wp.sum(axis=1) - high * Wn.sum(axis=1)
    g = divide(R, D, eps)
    return x * (g @ W) - low * (g @ Wp) - high * (g @ Wn)


def lrp_wsquare(x, W, b, R, eps):
    D = (W * W).sum(axis=1) + b * b
    g = divide(R, np.broadcast_to(D, R.shape).astype(R.dtype), eps)
    return g @ (W * W)


def lrp_flat(x, W, b, R, eps):
    D = np.full(R.shape, W.shape[1], dtype=R.dtype)
    g = divide(R, D, eps)
    return g @ np.ones_like(W)


def rule_fn(name):
    """A rule from its CLI name: a function (x, W, b, R) -> R_in."""
    head, _, arg = name.partition(":")
    nums = [float(v) for v in arg.split(",")] if arg else []
    if head == "epsilon":
        eps = nums[0] if nums else DEFAULT_EPS
        return lambda x, W, b, R: lrp_epsilon(x, W, b, R, eps)
    if head == "zplus":
        return lambda x, W, b, R: lrp_zplus(x, W, b, R, DEFAULT_EPS)
    if head == "alpha-beta":
        return lambda x, W, b, R: lrp_alpha_beta(x, W, b, R, nums[0], nums[1], DEFAULT_EPS)
    if head == "gamma":
        gamma = nums[0] if nums else 0.25
        return lambda x, W, b, R: lrp_gamma(x, W, b, R, gamma, DEFAULT_EPS)
    if head == "zbox":
        return lambda x, W, b, R: lrp_zbox(x, W, b, R, nums[0], nums[1], DEFAULT_EPS)
    if head == "wsquare":
        return lambda x, W, b, R: lrp_wsquare(x, W, b, R, DEFAULT_EPS)
    if head == "flat":
        return lambda x, W, b, R: lrp_flat(x, W, b, R, DEFAULT_EPS)
    raise ValueError("unknown rule " + name)


def layer_rules(kind, spec, depth):
    """The rule of each linear layer for --rule SPEC or --composite SPEC on a dense-only network."""
    if kind == "rule":
        return [rule_fn(spec)] * depth
    eps = rule_fn("epsilon")
    head, _, arg = spec.partition(":")
    if head in ("epsilon-plus", "epsilon-alpha2-beta1"):
        # their convolution entries match nothing here: Epsilon on every dense layer
        return [eps] * depth
    if head in ("epsilon-plus-flat", "epsilon-alpha2-beta1-flat"):
        return [rule_fn("flat")] + [eps] * (depth - 1)
    if head == "epsilon-gamma-box":
        return [rule_fn("zbox:" + arg)] + [eps] * (depth - 1)
    raise ValueError("unknown composite " + spec)


def forward(layers, final, x):
    """Returns (inputs of each linear layer, logits, final output)."""
    acts = []
    a = x
    for k, (W, b) in enumerate(layers):
        acts.append(a)
        z = a @ W.T + b
        a = np.where(z > 0, z, 0).astype(z.dtype) if k < len(layers) - 1 else z
    logits = a
    if final == "sigmoid":
        out = 1 / (1 + np.exp(-logits))
    elif final == "softmax":
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        out = e / e.sum(axis=1, keepdims=True)
    else:
        out = logits
    return acts, logits, out


def explain(layers, final, x, rules, init, target):
    """Input relevance [B, K] for one rule per linear layer; target is 'argmax' or a class index."""
    acts, logits, out = forward(layers, final, x)
    top = out if init != "logit" else logits  # logit: the network without its final activation
    t = np.argmax(out, axis=1) if target == "argmax" else np.full(x.shape[0], int(target))
    R = np.zeros_like(top)
    rows = np.arange(x.shape[0])
    R[rows, t] = 1 if init == "onehot" else top[rows, t]
    # activations (ReLU, sigmoid, softmax) pass relevance unchanged
    for k in reversed(range(len(layers))):
        W, b = layers[k]
        R = rules[k](acts[k], W, b, R)
    return R


# ---------------------------------------------------------------------------
# Independent check: LRP-epsilon as gradient x input in torch autograd.
# ---------------------------------------------------------------------------

class EpsilonRelu(torch.autograd.Function):
    """relu(z) forward; backward multiplies by relu(z) / stab(z): the epsilon rule's modified gradient."""

    @staticmethod
    def forward(ctx, z, eps):
        a = torch.relu(z)
        ctx.save_for_backward(z, a)
        ctx.eps = eps
        return a

    @staticmethod
    def backward(ctx, grad):
        z, a = ctx.saved_tensors
        s = z + ctx.eps * torch.where(z >= 0, 1.0, -1.0).to(z.dtype)
        return grad * a / s, None


def autograd_epsilon(model, x, init, eps):
    """R = x * grad for LRP-epsilon, target argmax, through the float64 copy of the model."""
    m = model.double()
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    a = xt
    for k in range(m.depth):
        z = getattr(m, "fc%d" % (k + 1))(a)
        a = EpsilonRelu.apply(z, eps) if k < m.depth - 1 else z
    logits = a
    out = {"sigmoid": torch.sigmoid, "softmax": lambda v: torch.softmax(v, dim=1)}.get(m.final, lambda v: v)(logits)
    top = out if init != "logit" else logits
    t = torch.argmax(out, dim=1)
    R = torch.zeros_like(top)
    rows = torch.arange(x.shape[0])
    R[rows, t] = 1.0 if init == "onehot" else top[rows, t].detach()
    s = logits + eps * torch.where(logits >= 0, 1.0, -1.0).to(logits.dtype)
    logits.backward(R / s.detach())
    model.float()
    return (xt * xt.grad).detach().numpy()


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

def per_sample_discrepancy(a, ref):
    scale = np.abs(ref).max(axis=1)
    diff = np.abs(a - ref).max(axis=1)
    return np.where(scale > 0, diff / np.where(scale > 0, scale, 1), diff)


def file_name(kind, spec, init, target):
    s = spec.replace(":", "_").replace(",", "_")
    return "%s-%s-%s-%s.npy" % (kind, s, init, "argmax" if target == "argmax" else "class" + str(target))


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if os.path.isdir(OUT_DIR):
        shutil.rmtree(OUT_DIR)
    os.makedirs(OUT_DIR)
    written = []
    models_txt = ["# model  onnx  state-dict  architecture  inputs  outputs"]
    manifest = ["# model  kind  spec  init  target  file",
                "# kind: rule (one rule on every linear layer) or composite (a preset); spec in the CLI's syntax;",
                "# target: argmax per sample or a class index; file: expected input relevance, float32 [rows, features]"]
    cases = 0
    for mi, (name, widths, final, seed, fixed_class) in enumerate(MODELS):
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        model = Mlp(widths, final).eval()
        layers64 = []
        layers32 = []
        for k in range(len(widths) - 1):  # float32 weights as the model holds them, promoted to float64
            fc = getattr(model, "fc%d" % (k + 1))
            W = fc.weight.detach().numpy().astype(np.float32)
            b = fc.bias.detach().numpy().astype(np.float32)
            assert np.all(b != 0), "biases must be non-zero"
            layers32.append((W, b))
            layers64.append((W.astype(np.float64), b.astype(np.float64)))

        def clear_argmax(row):
            logits = forward(layers64, final, row.astype(np.float64)[None, :])[1][0]
            top2 = np.sort(logits)[-2:]
            return len(logits) == 1 or top2[1] - top2[0] > ARGMAX_MARGIN

        x32 = make_inputs(rng, widths[0], clear_argmax)
        mdir = os.path.join(OUT_DIR, name)
        os.makedirs(mdir)

        torch.save(model.state_dict(), os.path.join(mdir, "model.pth"))
        torch.onnx.export(model, torch.zeros(1, widths[0]), os.path.join(mdir, "model.onnx"), opset_version=17,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        np.save(os.path.join(mdir, "input.npy"), x32)
        with torch.no_grad():
            y32 = model(torch.from_numpy(x32)).numpy().astype(np.float32)
        np.save(os.path.join(mdir, "output.npy"), y32)
        written += [name + "/" + f for f in ("model.pth", "model.onnx", "input.npy", "output.npy")]
        spec = arch_spec(len(widths) - 1, final)
        models_txt.append("%s  %s/model.onnx  %s/model.pth  %s  %s/input.npy  %s/output.npy"
                          % (name, name, name, spec, name, name))

        x64 = x32.astype(np.float64)
        assert (x32 < 0).any() and (x32 == 0).any()

        _, _, out64 = forward(layers64, final, x64)
        assert np.allclose(out64, y32, rtol=1e-5, atol=1e-6), name + ": numpy forward differs from torch"

        # independent check of the reference: LRP-epsilon == gradient x input with the stabilized backward
        for init in INITS:
            for eps in (DEFAULT_EPS, 0.25):
                ref = explain(layers64, final, x64, [rule_fn("epsilon:%r" % eps)] * len(layers64), init, "argmax")
                auto = autograd_epsilon(model, x32, init, eps)
                d = per_sample_discrepancy(auto, ref).max()
                assert d < 1e-12, "%s: numpy epsilon(%g) differs from autograd by %g (%s)" % (name, eps, d, init)
        print("%s: numpy LRP-epsilon == torch autograd gradient x input (3 inits, eps 1e-6 and 0.25)" % name)

        combos = [("rule", r) for r in RULES] + [("composite", c) for c in COMPOSITES]
        targets = ["argmax"] + ([fixed_class] if fixed_class is not None else [])
        for kind, sp in combos:
            rules64 = layer_rules(kind, sp, len(layers64))
            for target in targets:
                for init in INITS:
                    if target != "argmax" and init != "output":
                        continue  # the fixed class runs with the default initial relevance
                    ref = explain(layers64, final, x64, rules64, init, target)
                    r32 = explain(layers32, final, x32, rules64, init, target)
                    cond = per_sample_discrepancy(r32, ref).max()
                    assert cond < CONDITION_LIMIT, ("%s %s %s %s %s: ill-conditioned (float32 vs float64 %g)"
                                                    % (name, kind, sp, init, target, cond))
                    assert np.all(np.isfinite(ref))
                    fn = file_name(kind, sp, init, target)
                    np.save(os.path.join(mdir, fn), ref.astype(np.float32))
                    manifest.append("%s  %s  %s  %s  %s  %s/%s" % (name, kind, sp, init, target, name, fn))
                    written.append(name + "/" + fn)
                    cases += 1

    with open(os.path.join(OUT_DIR, "models.txt"), "w", newline="\n") as f:
        f.write("\n".join(models_txt) + "\n")
    with open(os.path.join(OUT_DIR, "manifest.txt"), "w", newline="\n") as f:
        f.write("\n".join(manifest) + "\n")
    written += ["models.txt", "manifest.txt"]
    total = 0
    for w in written:
        size = os.path.getsize(os.path.join(OUT_DIR, w))
        total += size
        print("wrote %-60s %7d bytes" % (os.path.join("src/test/resources/golden", w), size))
    print("%d cases over %d models; %d files, %d bytes in all (torch %s, numpy %s)"
          % (cases, len(MODELS), len(written), total, torch.__version__, np.__version__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
