#!/usr/bin/python3
"""The peer for the transformer cases of benchmarks/run: AttnLRP / CP-LRP in PyTorch as LXT computes them.

LXT ("LRP eXplains Transformers", ../shared/oracles/lxt) explains a transformer with one forward and one backward
pass in its Gradient*Input form: its rule functions (`identity_rule_implicit` on the nonlinearities, `divide_gradient`
on the attention's query, key and value (AttnLRP) or `stop_gradient` on query and key (CP-LRP), the LayerNorm's
normalizer stopped) are loaded from LXT's own `lxt/efficient/rules.py` and placed as LXT's patches place them by
`scripts/transformer_lrp_reference.py` (`LxtOps`, `FunctionalVit`: torchvision's ViT forward with q, k, v as
separate linear maps, so both composites apply), which the golden fixtures check against LXT's own patches. The
relevance is the input embedding times its gradient. Same shapes and batch sizes as the JMH suite: `bert-base` (12
layers, hidden 768, 12 heads, inner 3072, 128 tokens, batch 32) and `vit-b16` (torchvision's `vit_b_16`, 224 px,
batch 8), random weights, float32.

Best settings for the peer (/work/shared DESIGN section 6): the model's parameters frozen (`requires_grad=False`, as
LXT's documentation advises; GPULRP_PEER_WEIGHT_GRADS=1 keeps them, which costs the weight gradients' GEMMs), OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for this
process (benchmarks/run does it), 2 threads in torch and OpenBLAS, the OpenBLAS kernel printed, both OMP_WAIT_POLICY
settings tried (one child process each) and the faster kept, median of --reps repetitions after a warm-up.

Usage: /usr/bin/python3 benchmarks/peer/peer_transformer.py [--models bert-base,vit-b16]
           [--composites attnlrp,cp-lrp] [--reps 5] [--out FILE.tsv]
Writes rows in peer_lrp.py's TSV format (model, batch, peer, composite, samples/s, ms).
"""
import argparse
import os
import statistics
import sys
import time

import policies

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
THREADS = 2
BATCH = {"bert-base": 32, "vit-b16": 8}
SEQ = 128
# Off for the peer's best setting; GPULRP_PEER_WEIGHT_GRADS=1 times what an unfrozen model pays (issue 15's first run).
WEIGHT_GRADS = os.environ.get("GPULRP_PEER_WEIGHT_GRADS") == "1"


def case(model_name, composite, reps):
    """(samples/s, median ms, min ms, max ms) of one explanation per batch: forward, backward, input x gradient."""
    import torch
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import transformer_models as tm
    from transformer_lrp_reference import FunctionalVit, LxtOps, load_lxt

    torch.manual_seed(0)
    tm.use_ops(LxtOps(load_lxt(), composite))
    batch = BATCH[model_name]
    if model_name == "bert-base":
        model = tm.Bert(vocab=30522, hidden=768, layers=12, heads=12, inner=3072, max_positions=512, classes=2)
        ids = torch.randint(1, 30522, (batch, SEQ), generator=torch.Generator().manual_seed(7))
        args = (ids, torch.ones_like(ids), torch.zeros_like(ids))
        embedding = model.bert.embeddings.word_embeddings
    else:
        from torchvision.models import vit_b_16
        model = FunctionalVit(vit_b_16(weights=None))
        args = (torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(7)),)
        embedding = model.conv_proj
    model.eval()
    if not WEIGHT_GRADS:
        # LXT's advice (lxt/explicit/core.py): parameter gradients are not needed for the explanation, so they are
        # switched off; the backward then computes only the activations' gradients, one GEMM per linear layer.
        for param in model.parameters():
            param.requires_grad_(False)
    captured = {}

    def keep(_module, _inputs, output):
        # The embedding's output is the leaf the relevance is read at (LXT: inputs_embeds.requires_grad_()).
        leaf = output.detach().requires_grad_()
        captured["x"] = leaf
        return leaf

    embedding.register_forward_hook(keep)

    def explain():
        out = model(*args)
        target = out.argmax(dim=1)
        score = out.gather(1, target[:, None]).sum()
        score.backward()
        x = captured["x"]
        return (x * x.grad).sum(dim=-1 if model_name == "bert-base" else 1)

    explain()
    times = []
    for _ in range(reps):
        model.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        explain()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return batch / med, med * 1e3, min(times) * 1e3, max(times) * 1e3


def child(models, composites, reps):
    """Runs in a process with one OMP_WAIT_POLICY; prints one result row per case (policies.row)."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(THREADS)
    with threadpool_limits(limits=THREADS):
        print(f"# OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, thread pools: {policies.kernels()}",
              file=sys.stderr)
        for m in models:
            for c in composites:
                r = case(m, c, reps)
                if r is not None:
                    policies.row(m, BATCH[m], "torch-autograd-lrp", c, r[0], r[1],
                                 f"median of {reps}, {r[2]:.1f}-{r[3]:.1f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="bert-base,vit-b16")
    ap.add_argument("--composites", default="attnlrp,cp-lrp")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=None)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    models = [m for m in a.models.split(",") if m in BATCH]
    composites = a.composites.split(",")
    if a.child:
        child(models, composites, a.reps)
        return
    policies.best_of_policies(__file__, ["--models", ",".join(models), "--composites", ",".join(composites),
                                         "--reps", str(a.reps)], THREADS, a.out)


if __name__ == "__main__":
    main()
