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
        # as Zennit: ZBox goes to the first convolution only, so a dense-only network gets Epsilon everywhere
        return [eps] * depth
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



# ---------------------------------------------------------------------------
# Convolutional networks (issue 4): the same formulas on explicit matrices built from each layer's geometry.
# Written to golden/cnn_models.txt and golden/cnn_manifest.txt so that the dense fixtures above stay unchanged.
# ---------------------------------------------------------------------------

CNN_ROWS = 12
CNN_RULES = ["epsilon", "zplus", "gamma:0.25", "alpha-beta:2,1"]
CNN_COMPOSITES = COMPOSITES


class SmallCnn(nn.Module):
    """(a) conv(pad 1) relu conv(stride 2) relu maxpool flatten dense, on 1x8x8."""
    shape = (1, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(6 * 2 * 2, 5)

    def forward(self, x, mod=None):
        mod = mod or (lambda v: v)
        x = torch.relu(mod(self.conv1(x)))
        x = torch.relu(mod(self.conv2(x)))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)


class ResBlock(nn.Module):
    """(b) stem conv relu, then conv-bn-relu-conv-bn plus the skip, relu, global average pool, flatten, dense; 2x8x8."""
    shape = (2, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(2, 6, 3, padding=1)
        self.conv1 = nn.Conv2d(6, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 6, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(6)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 3)

    def forward(self, x, mod=None):
        mod = mod or (lambda v: v)
        s = torch.relu(mod(self.conv0(x)))
        y = torch.relu(mod(self.bn1(self.conv1(s))))
        y = mod(self.bn2(self.conv2(y)))
        y = torch.relu(mod(y + s))
        y = torch.flatten(mod(self.pool(y)), 1)
        return self.fc(y)


class SmallVgg(nn.Module):
    """(c) two conv-conv-maxpool stages (dilation 2 and groups 2 in the second), adaptive average pool to 1x1,
    flatten, dense relu dense; 3x8x8."""
    shape = (3, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(4, 6, 3, padding=2, dilation=2)
        self.conv4 = nn.Conv2d(6, 6, 3, padding=1, groups=2)
        self.pool2 = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x, mod=None):
        mod = mod or (lambda v: v)
        x = torch.relu(mod(self.conv1(x)))
        x = torch.relu(mod(self.conv2(x)))
        x = self.pool1(x)
        x = torch.relu(mod(self.conv3(x)))
        x = torch.relu(mod(self.conv4(x)))
        x = self.pool2(x)
        x = torch.flatten(mod(self.gap(x)), 1)
        x = torch.relu(mod(self.fc1(x)))
        return self.fc2(x)


# (name, module class, torch seed)
CNN_MODELS = [
    ("cnn_a", SmallCnn, 404),
    ("cnn_b", ResBlock, 505),
    ("cnn_c", SmallVgg, 606),
]


def conv_matrix(conv, shape, dtype, bn=None):
    """The convolution as an explicit matrix W [J, K] over NCHW-flattened input and output, its bias [J] and the
    connectivity mask M [J, K] (1 where an output reads an input, taps in the padding excluded); with bn, the batch
    norm that follows is folded in first (in float64 from the float32 parameters when dtype is float64)."""
    w = conv.weight.detach().numpy().astype(np.float32).astype(dtype)
    b = conv.bias.detach().numpy().astype(np.float32).astype(dtype)
    if bn is not None:
        gamma, beta, mean, var = (t.detach().numpy().astype(np.float32).astype(dtype)
                                  for t in (bn.weight, bn.bias, bn.running_mean, bn.running_var))
        s = gamma / np.sqrt(var + dtype(bn.eps))
        w = w * s[:, None, None, None]
        b = (b - mean) * s + beta
    C, H, Wd = shape
    O, cpg, kh, kw = w.shape
    sh, sw = conv.stride
    ph, pw = conv.padding
    dh, dw = conv.dilation
    groups = conv.groups
    opg = O // groups
    OH = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    OW = (Wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    J, K = O * OH * OW, C * H * Wd
    Wm = np.zeros((J, K), dtype=dtype)
    M = np.zeros((J, K), dtype=dtype)
    bm = np.zeros(J, dtype=dtype)
    for o in range(O):
        g = o // opg
        for oy in range(OH):
            for ox in range(OW):
                j = (o * OH + oy) * OW + ox
                bm[j] = b[o]
                for cl in range(cpg):
                    c = g * cpg + cl
                    for ky in range(kh):
                        iy = oy * sh - ph + ky * dh
                        if iy < 0 or iy >= H:
                            continue
                        for kx in range(kw):
                            ix = ox * sw - pw + kx * dw
                            if ix < 0 or ix >= Wd:
                                continue
                            i = (c * H + iy) * Wd + ix
                            Wm[j, i] += w[o, cl, ky, kx]
                            M[j, i] = 1
    return Wm, bm, M, (O, OH, OW)


def pool_windows(shape, k, s):
    """For each output of a k x k, stride s pooling without padding: its input indices in scan order."""
    C, H, Wd = shape
    OH, OW = (H - k) // s + 1, (Wd - k) // s + 1
    idx = np.zeros((C * OH * OW, k * k), dtype=np.int64)
    for c in range(C):
        for oy in range(OH):
            for ox in range(OW):
                j = (c * OH + oy) * OW + ox
                idx[j] = [(c * H + oy * s + ky) * Wd + ox * s + kx for ky in range(k) for kx in range(k)]
    return idx, (C, OH, OW)


def avg_matrix(shape, k, s, dtype):
    """Average pooling as its own linear map: 1 / (k*k) on each window."""
    idx, out = pool_windows(shape, k, s)
    A = np.zeros((idx.shape[0], shape[0] * shape[1] * shape[2]), dtype=dtype)
    for j in range(idx.shape[0]):
        A[j, idx[j]] = dtype(1) / dtype(k * k)
    return A, out


def dense_node(fc, dtype):
    W = fc.weight.detach().numpy().astype(np.float32).astype(dtype)
    b = fc.bias.detach().numpy().astype(np.float32).astype(dtype)
    return W, b, np.ones_like(W)


def cnn_graph(name, model, dtype):
    """The network as nodes (name, op, inputs, params) in topological order; 'input' is the network input.
    ops: linear (conv or dense, params (W, b, M, kind)), relu, maxpool (window indices), avgpool (matrix), add."""
    nodes = []
    if name == "cnn_a":
        W, b, M, s1 = conv_matrix(model.conv1, model.shape, dtype)
        nodes += [("conv1", "linear", ["input"], (W, b, M, "conv")), ("relu1", "relu", ["conv1"], None)]
        W, b, M, s2 = conv_matrix(model.conv2, s1, dtype)
        nodes += [("conv2", "linear", ["relu1"], (W, b, M, "conv")), ("relu2", "relu", ["conv2"], None)]
        idx, _ = pool_windows(s2, 2, 2)
        nodes += [("pool", "maxpool", ["relu2"], idx)]
        W, b, M = dense_node(model.fc, dtype)
        nodes += [("fc", "linear", ["pool"], (W, b, M, "dense"))]
    elif name == "cnn_b":
        W, b, M, s0 = conv_matrix(model.conv0, model.shape, dtype)
        nodes += [("conv0", "linear", ["input"], (W, b, M, "conv")), ("relu0", "relu", ["conv0"], None)]
        W, b, M, _ = conv_matrix(model.conv1, s0, dtype, model.bn1)
        nodes += [("conv1", "linear", ["relu0"], (W, b, M, "conv")), ("relu1", "relu", ["conv1"], None)]
        W, b, M, _ = conv_matrix(model.conv2, s0, dtype, model.bn2)
        nodes += [("conv2", "linear", ["relu1"], (W, b, M, "conv")), ("add", "add", ["conv2", "relu0"], None),
                  ("relu2", "relu", ["add"], None)]
        A, _ = avg_matrix(s0, s0[1], 1, dtype)
        nodes += [("gap", "avgpool", ["relu2"], A)]
        W, b, M = dense_node(model.fc, dtype)
        nodes += [("fc", "linear", ["gap"], (W, b, M, "dense"))]
    elif name == "cnn_c":
        W, b, M, s1 = conv_matrix(model.conv1, model.shape, dtype)
        nodes += [("conv1", "linear", ["input"], (W, b, M, "conv")), ("relu1", "relu", ["conv1"], None)]
        W, b, M, s2 = conv_matrix(model.conv2, s1, dtype)
        nodes += [("conv2", "linear", ["relu1"], (W, b, M, "conv")), ("relu2", "relu", ["conv2"], None)]
        idx, s3 = pool_windows(s2, 2, 2)
        nodes += [("pool1", "maxpool", ["relu2"], idx)]
        W, b, M, s4 = conv_matrix(model.conv3, s3, dtype)
        nodes += [("conv3", "linear", ["pool1"], (W, b, M, "conv")), ("relu3", "relu", ["conv3"], None)]
        W, b, M, s5 = conv_matrix(model.conv4, s4, dtype)
        nodes += [("conv4", "linear", ["relu3"], (W, b, M, "conv")), ("relu4", "relu", ["conv4"], None)]
        idx, s6 = pool_windows(s5, 2, 2)
        nodes += [("pool2", "maxpool", ["relu4"], idx)]
        A, _ = avg_matrix(s6, s6[1], 1, dtype)
        nodes += [("gap", "avgpool", ["pool2"], A)]
        W, b, M = dense_node(model.fc1, dtype)
        nodes += [("fc1", "linear", ["gap"], (W, b, M, "dense")), ("relu5", "relu", ["fc1"], None)]
        W, b, M = dense_node(model.fc2, dtype)
        nodes += [("fc2", "linear", ["relu5"], (W, b, M, "dense"))]
    else:
        raise ValueError(name)
    return nodes


def graph_forward(nodes, x):
    """Every node's output [B, n] (NCHW-flattened), keyed by name, 'input' included; flatten is the identity."""
    v = {"input": x}
    for name, op, ins, p in nodes:
        a = v[ins[0]]
        if op == "linear":
            v[name] = a @ p[0].T + p[1]
        elif op == "relu":
            v[name] = np.where(a > 0, a, 0).astype(a.dtype)
        elif op == "maxpool":
            v[name] = a[:, p].max(axis=2)
        elif op == "avgpool":
            v[name] = a @ p.T
        elif op == "add":
            v[name] = sum(v[i] for i in ins)
    return v


def cnn_flat(x, W, b, R, M, eps):
    """Flat on a masked layer: the denominator is the number of connected inputs."""
    g = divide(R, np.broadcast_to(M.sum(axis=1), R.shape).astype(R.dtype), eps)
    return g @ M


def cnn_wsquare(x, W, b, R, M, eps):
    D = (W * W).sum(axis=1) + b * b
    g = divide(R, np.broadcast_to(D, R.shape).astype(R.dtype), eps)
    return g @ (W * W)


def cnn_rule(spec):
    """A rule (x, W, b, R, M) -> R_in from its CLI name; flat and wsquare use the connectivity mask."""
    head = spec.partition(":")[0]
    if head == "flat":
        return lambda x, W, b, R, M: cnn_flat(x, W, b, R, M, DEFAULT_EPS)
    if head == "wsquare":
        return lambda x, W, b, R, M: cnn_wsquare(x, W, b, R, M, DEFAULT_EPS)
    f = rule_fn(spec)
    return lambda x, W, b, R, M: f(x, W, b, R)


def cnn_layer_rules(kind, spec, kinds):
    """The rule of each linear layer (kinds: 'conv' or 'dense' in forward order) for --rule or --composite."""
    if kind == "rule":
        return [cnn_rule(spec)] * len(kinds)
    head, _, arg = spec.partition(":")
    conv = {"epsilon-plus": "zplus", "epsilon-alpha2-beta1": "alpha-beta:2,1", "epsilon-plus-flat": "zplus",
            "epsilon-alpha2-beta1-flat": "alpha-beta:2,1", "epsilon-gamma-box": "gamma:0.25"}[head]
    rules = [cnn_rule(conv if k == "conv" else "epsilon") for k in kinds]
    if head.endswith("-flat"):
        rules[0] = cnn_rule("flat")
    elif head == "epsilon-gamma-box" and "conv" in kinds:
        rules[kinds.index("conv")] = cnn_rule("zbox:" + arg)  # the first convolution, as Zennit
    return rules


def graph_explain(nodes, x, rules, init, target):
    """Input relevance [B, K]: rules[k] on the k-th linear node; ReLU passes; max pooling sends each output's
    relevance to the first maximum of its window; average pooling and Add use Epsilon(1e-6) on their own linear
    map; relevance reaching a node from several readers is summed."""
    v = graph_forward(nodes, x)
    out = v[nodes[-1][0]]
    t = np.argmax(out, axis=1) if target == "argmax" else np.full(x.shape[0], int(target))
    rows = np.arange(x.shape[0])
    R = {n[0]: np.zeros_like(v[n[0]]) for n in nodes}
    R["input"] = np.zeros_like(x)
    R[nodes[-1][0]][rows, t] = 1 if init == "onehot" else out[rows, t]
    lin = [n[0] for n in nodes if n[1] == "linear"]
    for name, op, ins, p in reversed(nodes):
        r = R[name]
        a = v[ins[0]]
        if op == "linear":
            R[ins[0]] += rules[lin.index(name)](a, p[0], p[1], r, p[2])
        elif op == "relu":
            R[ins[0]] += r
        elif op == "maxpool":
            win = a[:, p]                        # [B, J, k*k]
            first = np.argmax(win, axis=2)       # first maximum in scan order
            src = p[np.arange(p.shape[0])[None, :], first]
            for bi in range(x.shape[0]):
                np.add.at(R[ins[0]][bi], src[bi], r[bi])
        elif op == "avgpool":
            R[ins[0]] += lrp_epsilon(a, p, np.zeros(p.shape[0], dtype=a.dtype), r, DEFAULT_EPS)
        elif op == "add":
            g = divide(r, v[name], DEFAULT_EPS)
            for i in ins:
                R[i] += v[i] * g
    return R["input"]


class EpsilonMod(torch.autograd.Function):
    """Identity forward; backward multiplies by z / stab(z): placed after each linear map (conv, conv+bn, pooling
    average, residual sum), it turns gradient x input into LRP-epsilon."""

    @staticmethod
    def forward(ctx, z, eps):
        ctx.save_for_backward(z)
        ctx.eps = eps
        return z.clone()

    @staticmethod
    def backward(ctx, grad):
        z, = ctx.saved_tensors
        s = z + ctx.eps * torch.where(z >= 0, 1.0, -1.0).to(z.dtype)
        return grad * z / s, None


def cnn_autograd_epsilon(model, x, init, eps):
    """R = x * grad for LRP-epsilon(eps) on every linear map, target argmax, through the float64 copy of the torch
    model (its own convolutions, batch norm, pooling and residual sum)."""
    m = model.double()
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    logits = m(xt, lambda z: EpsilonMod.apply(z, eps))
    t = torch.argmax(logits, dim=1)
    R = torch.zeros_like(logits)
    rows = torch.arange(x.shape[0])
    R[rows, t] = 1.0 if init == "onehot" else logits[rows, t].detach()
    s = logits + eps * torch.where(logits >= 0, 1.0, -1.0).to(logits.dtype)
    logits.backward(R / s.detach())
    model.float()
    return (xt * xt.grad).detach().numpy().reshape(x.shape[0], -1)


def make_cnn_models():
    """(name, model, input shape) for each CNN, seeded, eval mode, with non-zero biases and non-trivial batch norm."""
    out = []
    for name, cls, seed in CNN_MODELS:
        torch.manual_seed(seed)
        model = cls()
        with torch.no_grad():
            for mod in model.modules():
                if isinstance(mod, nn.BatchNorm2d):
                    n = mod.num_features
                    mod.weight.copy_(0.5 + torch.rand(n))
                    mod.bias.copy_(torch.randn(n) * 0.2)
                    mod.running_mean.copy_(torch.randn(n) * 0.3)
                    mod.running_var.copy_(0.5 + torch.rand(n))
        model.eval()
        for pname, prm in model.named_parameters():
            if pname.endswith("bias"):
                assert bool((prm != 0).all()), name + ": biases must be non-zero"
        out.append((name, model, cls.shape))
    return out


def write_cnns():
    """Writes the CNN fixtures; returns (files written relative to OUT_DIR, number of cases)."""
    written = []
    models_txt = ["# model  onnx  state-dict  inputs  outputs",
                  "# convolutional networks; their graphs are described in scripts/make_golden.py (SmallCnn,"
                  " ResBlock, SmallVgg)"]
    manifest = ["# model  kind  spec  init  target  file",
                "# as manifest.txt, for the convolutional networks of cnn_models.txt; file: float32 [rows, C, H, W]"]
    cases = 0
    for name, model, shape in make_cnn_models():
        seed = dict((n, s) for n, _, s in CNN_MODELS)[name]
        rng = np.random.default_rng(seed)
        g64 = cnn_graph(name, model, np.float64)
        g32 = cnn_graph(name, model, np.float32)
        K = shape[0] * shape[1] * shape[2]

        def clear_argmax(row):
            logits = graph_forward(g64, row.astype(np.float64)[None, :])[g64[-1][0]][0]
            top2 = np.sort(logits)[-2:]
            return top2[1] - top2[0] > ARGMAX_MARGIN

        rows = []
        while len(rows) < CNN_ROWS:
            xr = np.clip(rng.standard_normal(K) * 1.3, -INPUT_BOUND, INPUT_BOUND)
            xr[rng.random(K) < ZERO_FRACTION] = 0.0
            xr[0] = 0.0
            xr = xr.astype(np.float32)
            if clear_argmax(xr):
                rows.append(xr)
        x32 = np.stack(rows)
        x64 = x32.astype(np.float64)
        assert (x32 < 0).any() and (x32 == 0).any()

        mdir = os.path.join(OUT_DIR, name)
        os.makedirs(mdir)
        torch.save(model.state_dict(), os.path.join(mdir, "model.pth"))
        torch.onnx.export(model, torch.zeros(1, *shape), os.path.join(mdir, "model.onnx"), opset_version=17,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        xin = x32.reshape(CNN_ROWS, *shape)
        np.save(os.path.join(mdir, "input.npy"), xin)
        with torch.no_grad():
            y32 = model(torch.from_numpy(xin)).numpy().astype(np.float32)
        np.save(os.path.join(mdir, "output.npy"), y32)
        written += [name + "/" + f for f in ("model.pth", "model.onnx", "input.npy", "output.npy")]
        models_txt.append("%s  %s/model.onnx  %s/model.pth  %s/input.npy  %s/output.npy" % ((name,) * 5))

        out64 = graph_forward(g64, x64)[g64[-1][0]]
        assert np.allclose(out64, y32, rtol=1e-5, atol=1e-5), name + ": numpy forward differs from torch"
        # arg-max agrees with torch's float32 outputs (the Java tests resolve targets from them)
        assert np.array_equal(np.argmax(out64, axis=1), np.argmax(y32, axis=1)), name + ": arg-max differs"

        kinds = [p[3] for _, op, _, p in g64 if op == "linear"]
        # Add and average pooling always use eps 1e-6, so the check runs the rule at 1e-6 (one autograd model)
        for init in INITS:
            ref = graph_explain(g64, x64, [cnn_rule("epsilon")] * len(kinds), init, "argmax")
            auto = cnn_autograd_epsilon(model, xin, init, DEFAULT_EPS)
            d = per_sample_discrepancy(auto, ref).max()
            assert d < 1e-9, "%s: numpy epsilon differs from autograd by %g (%s)" % (name, d, init)
        print("%s: numpy LRP-epsilon == torch autograd gradient x input (conv, batch norm, pooling, add; 3 inits)"
              % name)

        combos = [("rule", r) for r in CNN_RULES] + [("composite", c) for c in CNN_COMPOSITES]
        for kind, sp in combos:
            rules = cnn_layer_rules(kind, sp, kinds)
            ref = graph_explain(g64, x64, rules, "output", "argmax")
            r32 = graph_explain(g32, x32, rules, "output", "argmax")
            cond = per_sample_discrepancy(r32, ref).max()
            assert cond < CONDITION_LIMIT, ("%s %s %s: ill-conditioned (float32 vs float64 %g)"
                                            % (name, kind, sp, cond))
            assert np.all(np.isfinite(ref)) and (np.abs(ref).max(axis=1) > 0).all(), name + " " + sp + ": zero row"
            fn = file_name(kind, sp, "output", "argmax")
            np.save(os.path.join(mdir, fn), ref.astype(np.float32).reshape(CNN_ROWS, *shape))
            manifest.append("%s  %s  %s  output  argmax  %s/%s" % (name, kind, sp, name, fn))
            written.append(name + "/" + fn)
            cases += 1
            print("%s %s %s: float32 vs float64 %.2g" % (name, kind, sp, cond))

    with open(os.path.join(OUT_DIR, "cnn_models.txt"), "w", newline="\n") as f:
        f.write("\n".join(models_txt) + "\n")
    with open(os.path.join(OUT_DIR, "cnn_manifest.txt"), "w", newline="\n") as f:
        f.write("\n".join(manifest) + "\n")
    written += ["cnn_models.txt", "cnn_manifest.txt"]
    return written, cases


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
    cnn_written, cnn_cases = write_cnns()
    written += cnn_written
    cases += cnn_cases
    total = 0
    for w in written:
        size = os.path.getsize(os.path.join(OUT_DIR, w))
        total += size
        print("wrote %-60s %7d bytes" % (os.path.join("src/test/resources/golden", w), size))
    print("%d cases over %d models; %d files, %d bytes in all (torch %s, numpy %s)"
          % (cases, len(MODELS) + len(CNN_MODELS), len(written), total, torch.__version__, np.__version__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
