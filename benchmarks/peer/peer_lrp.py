#!/usr/bin/python3
"""The peer baseline for benchmarks/run: LRP in PyTorch through autograd, the way Zennit computes it.

Each linear layer's rule is evaluated as Zennit's hooks do: the layer's modified forward passes (one per
(input part, parameter modifier) pair) are recomputed on the stored input, the upper relevance is divided by the
stabilized sum, and one autograd backward through the modified passes gives the lower relevance. Pooling gets the
gradient (relevance goes to the arg-max); activations pass relevance unchanged. Same models, batch sizes and
composites as the JMH suite (random weights, He init, seeded; inputs N(0,1)).

Also measured in the same run: the plain PyTorch forward pass (no_grad) and OpenBLAS sgemm through numpy.

Best settings for the peer (/work/shared DESIGN section 6; policies.py): OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
unset in the measuring process, the OpenBLAS kernel printed, both OMP_WAIT_POLICY settings run (one child process
each) and the faster kept per case, median of --reps (default 5) after a warm-up.

Usage: /usr/bin/python3 benchmarks/peer/peer_lrp.py [--models sample,mlp,cnn,vgg16]
           [--composites epsilon,epsilon-plus,epsilon-gamma-box] [--reps N] [--out FILE.tsv] [--check]
           [--export DIR]
Needs Debian's python3-torch, python3-numpy, python3-threadpoolctl and libopenblas0-pthread.
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import policies  # noqa: E402

THREADS = 2
EPS = 1e-6
GAMMA = 0.25
BOX_LOW, BOX_HIGH = -3.0, 3.0
BATCH = {"sample": 65536, "mlp": 4096, "cnn": 1024, "vgg16": 8}


# ----------------------------------------------------------------------------------------------------- models

def he(gen, shape, fan_in):
    return torch.randn(*shape, generator=gen) * (2.0 / fan_in) ** 0.5


def small_bias(gen, n):
    return torch.randn(n, generator=gen) * 0.01


def build(model):
    """A list of (kind, params) layers; kinds: dense, conv, relu, sigmoid, maxpool, flatten."""
    gen = torch.Generator().manual_seed(42)
    layers = []
    if model in ("sample", "mlp"):
        widths = [10, 32, 16, 1] if model == "sample" else [784, 1024, 1024, 1024, 10]
        for l in range(1, len(widths)):
            layers.append(("dense", (he(gen, (widths[l], widths[l - 1]), widths[l - 1]), small_bias(gen, widths[l]))))
            if l + 1 < len(widths):
                layers.append(("relu", None))
        if model == "sample":
            layers.append(("sigmoid", None))
        return layers, (widths[0],)
    vgg = model == "vgg16"
    plan = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0] if vgg else [32, 0, 64, 0]
    shape = (3, 224, 224) if vgg else (1, 28, 28)
    c, h, w = shape
    first = True
    for out in plan:
        if out == 0:
            layers.append(("maxpool", None))
            h, w = h // 2, w // 2
            continue
        layers.append(("conv", (he(gen, (out, c, 3, 3), c * 9), small_bias(gen, out), first)))
        layers.append(("relu", None))
        first = False
        c = out
    layers.append(("flatten", None))
    dense = [4096, 4096, 1000] if vgg else [128, 10]
    inp = c * h * w
    for l, out in enumerate(dense):
        layers.append(("dense", (he(gen, (out, inp), inp), small_bias(gen, out))))
        if l + 1 < len(dense):
            layers.append(("relu", None))
        inp = out
    return layers, shape


def linear_fn(kind):
    if kind == "dense":
        return lambda x, w, b: F.linear(x, w, b)
    return lambda x, w, b: F.conv2d(x, w, b, padding=1)


def forward(layers, x):
    """Returns the inputs of every layer and the output (no autograd)."""
    inputs = []
    with torch.no_grad():
        for kind, p in layers:
            inputs.append(x)
            if kind in ("dense", "conv"):
                x = linear_fn(kind)(x, p[0], p[1])
            elif kind == "relu":
                x = torch.relu(x)
            elif kind == "sigmoid":
                x = torch.sigmoid(x)
            elif kind == "maxpool":
                x = F.max_pool2d(x, 2, 2)
            elif kind == "flatten":
                x = x.flatten(1)
    return inputs, x


# ------------------------------------------------------------------------------------------------------ rules

def stab(d):
    return d + EPS * torch.where(d >= 0, torch.ones_like(d), -torch.ones_like(d))


def pos(t):
    return t.clamp(min=0)


def neg(t):
    return t.clamp(max=0)


def rule_epsilon(fn, x, w, b, r):
    x = x.detach().requires_grad_(True)
    z = fn(x, w, b)
    (c,) = torch.autograd.grad(z, x, r / stab(z.detach()))
    return x.detach() * c


def rule_zplus(fn, x, w, b, r):
    xp = pos(x).requires_grad_(True)
    xn = neg(x).requires_grad_(True)
    z = fn(xp, pos(w), pos(b)) + fn(xn, neg(w), None)
    cp, cn = torch.autograd.grad(z, (xp, xn), r / stab(z.detach()))
    return xp.detach() * cp + xn.detach() * cn


def rule_gamma(fn, x, w, b, r):
    wp, wn = w + GAMMA * pos(w), w + GAMMA * neg(w)
    bp, bn = b + GAMMA * pos(b), b + GAMMA * neg(b)
    xp = pos(x).requires_grad_(True)
    xn = neg(x).requires_grad_(True)
    p = fn(xp, wp, bp) + fn(xn, wn, None)
    n = fn(xp, wn, bn) + fn(xn, wp, None)
    with torch.no_grad():
        z = fn(x, w, b)
        gp = torch.where(z > 0, r / stab(p), torch.zeros_like(r))
        gn = torch.where(z < 0, r / stab(n), torch.zeros_like(r))
    cp, cn = torch.autograd.grad((p, n), (xp, xn), (gp, gn))
    return xp.detach() * cp + xn.detach() * cn


def rule_zbox(fn, x, w, b, r):
    x = x.detach().requires_grad_(True)
    lo = torch.full_like(x, BOX_LOW, requires_grad=True)
    hi = torch.full_like(x, BOX_HIGH, requires_grad=True)
    z = fn(x, w, None) - fn(lo, pos(w), None) - fn(hi, neg(w), None)
    c, cl, ch = torch.autograd.grad(z, (x, lo, hi), r / stab(z.detach()))
    return x.detach() * c + lo.detach() * cl + hi.detach() * ch


def rule_for(composite, kind, first_conv):
    if kind == "dense" or composite == "epsilon":
        return rule_epsilon
    if composite == "epsilon-plus":
        return rule_zplus
    return rule_zbox if first_conv else rule_gamma


def explain(layers, x, composite):
    inputs, out = forward(layers, x)
    target = out.argmax(dim=1, keepdim=True)
    r = torch.zeros_like(out).scatter_(1, target, out.gather(1, target))
    for (kind, p), xin in zip(reversed(layers), reversed(inputs)):
        if kind in ("dense", "conv"):
            rule = rule_for(composite, kind, kind == "conv" and p[2])
            r = rule(linear_fn(kind), xin, p[0], p[1], r)
        elif kind == "maxpool":
            xi = xin.detach().requires_grad_(True)
            (r,) = torch.autograd.grad(F.max_pool2d(xi, 2, 2), xi, r)
        elif kind == "flatten":
            r = r.reshape(xin.shape)
    return r, out


# ---------------------------------------------------------------------------------------------------- timing

def time_calls(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def sgemm_gflops(reps):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4096, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    times = time_calls(lambda: a @ b, reps)
    return 2.0 * 4096 * 1024 * 1024 / min(times) / 1e9, 2.0 * 4096 * 1024 * 1024 / statistics.median(times) / 1e9


def check():
    """Conservation and an epsilon-vs-gradient*input identity on small batches (self-test of the peer)."""
    ok = True
    for model in ("sample", "cnn"):
        layers, shape = build(model)
        x = torch.randn(16, *shape, generator=torch.Generator().manual_seed(3))
        for comp in ("epsilon", "epsilon-plus", "epsilon-gamma-box"):
            r, out = explain(layers, x, comp)
            if not torch.isfinite(r).all():
                print(f"check: {model}/{comp}: non-finite relevance", file=sys.stderr)
                ok = False
            total = r.flatten(1).sum(1)
            score = out.max(1).values
            print(f"check: {model}/{comp}: sum R / score median {float((total / score).median()):.4f}")
    return ok


def export(directory):
    """Writes the small CNN as ONNX, 64 inputs and the peer's relevances, for a cross-check against gpulrp."""
    layers, shape = build("cnn")
    mods = []
    for kind, p in layers:
        if kind == "conv":
            m = torch.nn.Conv2d(p[0].shape[1], p[0].shape[0], 3, padding=1)
        elif kind == "dense":
            m = torch.nn.Linear(p[0].shape[1], p[0].shape[0])
        else:
            m = {"relu": torch.nn.ReLU(), "maxpool": torch.nn.MaxPool2d(2, 2), "flatten": torch.nn.Flatten()}[kind]
        if kind in ("conv", "dense"):
            m.weight.data.copy_(p[0])
            m.bias.data.copy_(p[1])
        mods.append(m)
    net = torch.nn.Sequential(*mods).eval()
    x = torch.randn(64, *shape, generator=torch.Generator().manual_seed(11))
    os.makedirs(directory, exist_ok=True)
    torch.onnx.export(net, x[:1], os.path.join(directory, "cnn.onnx"), opset_version=17, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    np.save(os.path.join(directory, "x.npy"), x.numpy())
    for comp in ("epsilon", "epsilon-plus", "epsilon-gamma-box"):
        r, _ = explain(layers, x, comp)
        np.save(os.path.join(directory, f"peer-{comp}.npy"), r.numpy())


def measure(models, composites, reps):
    """Runs in a child process with one OMP_WAIT_POLICY (policies.py): prints one result row per case."""
    print(f"# OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, thread pools: {policies.kernels()}",
          file=sys.stderr)
    best, median = sgemm_gflops(reps)
    policies.row("sgemm-4096x1024x1024", "-", "numpy-openblas", "-", median, best, "GFLOP/s: median; best")
    for model in models:
        if model not in BATCH:
            continue  # a transformer case: benchmarks/peer/peer_transformer.py
        layers, shape = build(model)
        batch = BATCH[model]
        x = torch.randn(batch, *shape, generator=torch.Generator().manual_seed(7))
        n = reps if model != "sample" else 5 * reps
        t = time_calls(lambda: forward(layers, x), n)
        policies.row(model, batch, "torch-forward", "-", batch / statistics.median(t), statistics.median(t) * 1e3)
        for comp in composites:
            t = time_calls(lambda: explain(layers, x, comp), n)
            policies.row(model, batch, "torch-autograd-lrp", comp, batch / statistics.median(t),
                         statistics.median(t) * 1e3, f"median of {n}, {min(t) * 1e3:.1f}-{max(t) * 1e3:.1f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="sample,mlp,cnn,vgg16")
    ap.add_argument("--composites", default="epsilon,epsilon-plus,epsilon-gamma-box")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=None, help="write a TSV of the results here")
    ap.add_argument("--check", action="store_true", help="self-test the peer and exit")
    ap.add_argument("--export", metavar="DIR", help="write the CNN as ONNX, inputs and peer relevances, and exit")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if not (a.child or a.check or a.export):
        policies.best_of_policies(__file__, ["--models", a.models, "--composites", a.composites,
                                             "--reps", str(a.reps)], THREADS, a.out)
        return
    torch.set_num_threads(THREADS)
    with threadpool_limits(limits=THREADS):
        if a.export:
            export(a.export)
        elif a.check:
            sys.exit(0 if check() else 1)
        else:
            measure(a.models.split(","), a.composites.split(","), a.reps)


if __name__ == "__main__":
    main()
