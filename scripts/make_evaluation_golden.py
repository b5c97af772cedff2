#!/usr/bin/env python3
"""Golden values for gpulrp's region perturbation (docs/DESIGN.md section 2.10), computed independently in numpy.

Two cases, each a small model with seeded weights, inputs and a given relevance (random values with deliberate
ties, standing in for any explanation): a tabular MLP (one feature per region, baseline noise:3) and a CNN on
6 x 7 images with 4 x 4 patches (edge patches smaller, baseline blur:1.2). For each order (morf, lerf, random with
seed 5) the script removes the regions one by one, runs the model forward in float64 and writes the curves, AOPC
and ABPC. The Java test (EvaluationGoldenTest) rebuilds the models from the same files and compares.

Run with Debian's python: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/make_evaluation_golden.py
"""
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "src", "test", "resources", "evaluation")
M64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


class Stream:
    """SplitMix64, one stream per sample: the state starts at mix(seed + sample * gamma)."""

    def __init__(self, seed, sample):
        self.state = mix((seed + sample * GAMMA) & M64)

    def next(self):
        self.state = (self.state + GAMMA) & M64
        return mix(self.state)


def rank(scores, order, seed, sample):
    n = len(scores)
    if order == "random":
        p = list(range(n))
        r = Stream(seed, sample)
        for i in range(n - 1, 0, -1):
            j = r.next() % (i + 1)
            p[i], p[j] = p[j], p[i]
        return p
    keyed = sorted(range(n), key=lambda i: (-scores[i] if order == "morf" else scores[i], i))
    return keyed


def region_scores(rel_row, region_of, count):
    s = [0.0] * count
    for i, r in enumerate(region_of):
        s[r] += float(rel_row[i])
    return s


def noise_baseline(x, seed):
    lo, hi = float(x.min()), float(x.max())
    flat = x.reshape(x.shape[0], -1)
    out = np.empty_like(flat)
    for b in range(flat.shape[0]):
        r = Stream(seed, b)
        for i in range(flat.shape[1]):
            u = (r.next() >> 40) * 2.0 ** -24
            out[b, i] = np.float32(lo + (hi - lo) * u)
    return out.reshape(x.shape)


def blur_baseline(x, sigma):
    rad = int(4 * sigma + 0.5)
    w = [math.exp(-0.5 * t * t / (sigma * sigma)) for t in range(-rad, rad + 1)]
    total = sum(w)
    w = [v / total for v in w]

    def mirror(i, n):
        m = i % (2 * n)
        return m if m < n else 2 * n - 1 - m

    n_, c_, h, wd = x.shape
    out = np.empty_like(x)
    for b in range(n_):
        for c in range(c_):
            plane = x[b, c].astype(np.float64)
            rows = np.zeros((h, wd))
            for t in range(-rad, rad + 1):
                rows += w[t + rad] * plane[:, [mirror(xx + t, wd) for xx in range(wd)]]
            cols = np.zeros((h, wd))
            for t in range(-rad, rad + 1):
                cols += w[t + rad] * rows[[mirror(yy + t, h) for yy in range(h)], :]
            out[b, c] = cols.astype(np.float32)
    return out


def curves(model, x, rel, targets, region_of, count, base, order, steps, seed):
    n = x.shape[0]
    flat = x.reshape(n, -1).astype(np.float32)
    bflat = base.reshape(n, -1)
    members = [[i for i, r in enumerate(region_of) if r == k] for k in range(count)]
    out = np.zeros((n, steps + 1))
    for b in range(n):
        order_b = rank(region_scores(rel.reshape(n, -1)[b], region_of, count), order, seed, b)
        cur = flat[b].copy()
        out[b, 0] = model(cur.reshape((1,) + x.shape[1:]))[0, targets[b]]
        for k in range(1, steps + 1):
            for i in members[order_b[k - 1]]:
                cur[i] = bflat[b, i]
            out[b, k] = model(cur.reshape((1,) + x.shape[1:]))[0, targets[b]]
    return out


def aopc(c):
    return float(np.mean([sum(row[0] - row[k] for k in range(len(row))) / len(row) for row in c]))


def abpc(morf, lerf):
    return float(np.mean([sum(lerf[b][k] - morf[b][k] for k in range(morf.shape[1])) / morf.shape[1]
                          for b in range(morf.shape[0])]))


def write_case(name, model, x, rel, targets, region_of, count, base, steps, seed, spec, params):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "x.npy"), x.astype(np.float32))
    np.save(os.path.join(d, "relevance.npy"), rel.astype(np.float32))
    np.save(os.path.join(d, "targets.npy"), np.asarray(targets, dtype=np.int32))
    np.save(os.path.join(d, "baseline.npy"), base.astype(np.float32))
    for k, v in params.items():
        np.save(os.path.join(d, k + ".npy"), v.astype(np.float32))
    lines = ["# " + spec, "order,aopc,abpc,steps"]
    cs = {}
    for order in ("morf", "lerf", "random"):
        cs[order] = curves(model, x, rel, targets, region_of, count, base, order, steps, seed)
        np.save(os.path.join(d, "curve-" + order + ".npy"), cs[order])
    ab = abpc(cs["morf"], cs["lerf"])
    for order in ("morf", "lerf", "random"):
        lines.append("%s,%.17g,%.17g,%d" % (order, aopc(cs[order]), ab, steps))
    with open(os.path.join(d, "golden.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    rng = np.random.default_rng(16)
    # Tabular: Linear 6-5, ReLU, Linear 5-3.
    w1 = rng.normal(0, 0.7, (5, 6)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 5).astype(np.float32)
    w2 = rng.normal(0, 0.7, (3, 5)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 3).astype(np.float32)

    def mlp(v):
        h = np.maximum(v.astype(np.float64) @ w1.T.astype(np.float64) + b1, 0)
        return h @ w2.T.astype(np.float64) + b2

    x = rng.normal(0, 1, (7, 6)).astype(np.float32)
    rel = rng.normal(0, 1, (7, 6)).astype(np.float32)
    rel[0, 3] = rel[0, 1]          # ties: resolved by index in both sorted orders
    rel[2, :] = 0.5
    targets = np.argmax(mlp(x), axis=1)
    write_case("tabular", mlp, x, rel, targets, list(range(6)), 6, noise_baseline(x, 3), 4, 5,
               "tabular: regions = features, baseline noise:3, steps 4, seed 5",
               {"w1": w1, "b1": b1, "w2": w2, "b2": b2})

    # Images [2, 6, 7]: Conv 2->3 (3x3, padding 1), ReLU, flatten, Linear 126-4.
    cw = rng.normal(0, 0.4, (3, 2, 3, 3)).astype(np.float32)
    cb = rng.normal(0, 0.1, 3).astype(np.float32)
    dw = rng.normal(0, 0.15, (4, 3 * 6 * 7)).astype(np.float32)
    db = rng.normal(0, 0.1, 4).astype(np.float32)

    def cnn(v):
        v = v.astype(np.float64)
        n = v.shape[0]
        p = np.pad(v, ((0, 0), (0, 0), (1, 1), (1, 1)))
        y = np.zeros((n, 3, 6, 7))
        for o in range(3):
            for i in range(2):
                for dy in range(3):
                    for dx in range(3):
                        y[:, o] += cw[o, i, dy, dx] * p[:, i, dy:dy + 6, dx:dx + 7]
            y[:, o] += cb[o]
        y = np.maximum(y, 0).reshape(n, -1)
        return y @ dw.T.astype(np.float64) + db

    xi = rng.uniform(0, 1, (5, 2, 6, 7)).astype(np.float32)
    reli = rng.normal(0, 1, (5, 2, 6, 7)).astype(np.float32)
    ti = np.argmax(cnn(xi), axis=1)
    patch = 4
    region_of = [(yy // patch) * 2 + xx // patch for c in range(2) for yy in range(6) for xx in range(7)]
    write_case("image", cnn, xi, reli, ti, region_of, 4, blur_baseline(xi, 1.2), 4, 5,
               "image [2, 6, 7]: 4 x 4 patches (edges 2 x 3, 4 x 3, 2 x 4), baseline blur:1.2, steps 4, seed 5",
               {"conv_w": cw, "conv_b": cb, "dense_w": dw, "dense_b": db})


if __name__ == "__main__":
    main()
