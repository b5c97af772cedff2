"""Runs a peer script under its best settings (/work/shared DESIGN section 6) and keeps the faster of two runs.

The peer's OpenBLAS must use its own best kernel: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (set on these machines for
old OpenBLAS builds) are removed from the child's environment, and the child prints the kernel threadpoolctl reports.
OpenMP's wait policy changes PyTorch's speed by up to 2x either way on shared 2-core machines, so the script runs
once with OMP_WAIT_POLICY=PASSIVE and once with ACTIVE, one child process each, and each case keeps its faster run.

A child prints result rows on stdout as `ROW<TAB>model<TAB>batch<TAB>peer<TAB>composite<TAB>value<TAB>ms<TAB>detail`
(value: samples/s or GFLOP/s, higher is better) and anything else as progress; lines on stderr starting with `#`
are relayed.
"""
import os
import subprocess
import sys

POLICIES = ("PASSIVE", "ACTIVE")
HEADER = "model\tbatch\tpeer\tcomposite\tsamples_per_s_or_gflops\tms_or_best\n"


def child_environment(policy, threads):
    env = dict(os.environ, OMP_WAIT_POLICY=policy, OMP_NUM_THREADS=str(threads))
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    return env


def kernels():
    """`{thread pool: OpenBLAS kernel}` as threadpoolctl reports it in this process."""
    from threadpoolctl import threadpool_info
    return {i.get("internal_api"): i.get("architecture") for i in threadpool_info()}


def row(model, batch, peer, composite, value, ms, detail=""):
    """One result row for the parent (see the module's docstring)."""
    print(f"ROW\t{model}\t{batch}\t{peer}\t{composite}\t{value:.4f}\t{ms:.2f}\t{detail}", flush=True)


def best_of_policies(script, child_args, threads, out=None):
    """Runs `script --child child_args` under each policy; prints every row and writes the best per case to out."""
    best = {}
    for policy in POLICIES:
        done = subprocess.run([sys.executable, os.path.abspath(script), "--child", *child_args],
                              env=child_environment(policy, threads), check=True, capture_output=True, text=True)
        sys.stderr.write("".join(l + "\n" for l in done.stderr.splitlines() if l.startswith("#")))
        for line in done.stdout.splitlines():
            if not line.startswith("ROW\t"):
                continue
            _, model, batch, peer, composite, value, ms, detail = line.split("\t")
            print(f"{model} batch {batch} {peer} {composite} ({policy}): {float(value):,.3f} per s, {ms} ms"
                  f"{' (' + detail + ')' if detail else ''}", flush=True)
            key = (model, batch, peer, composite)
            if key not in best or float(value) > float(best[key][4]):
                best[key] = (model, batch, peer, composite, value, ms, policy)
    for model, batch, peer, composite, value, ms, policy in best.values():
        print(f"best: {model} {peer} {composite}: {float(value):,.3f} per s ({policy})", flush=True)
    if out:
        with open(out, "w") as f:
            f.write(HEADER)
            for model, batch, peer, composite, value, ms, _ in best.values():
                f.write(f"{model}\t{batch}\t{peer}\t{composite}\t{value}\t{ms}\n")
    return best
