#!/usr/bin/env python3
"""Small transformers in plain PyTorch, following HuggingFace `transformers`' module structure and parameter names
(which is not installable here), for the import fixtures, the golden relevance and the examples of issue 15.

- `Bert`: a BERT-style encoder classifier (post-norm; word, position and token-type embeddings; pooler with tanh on
  the first token; classifier), as `BertForSequenceClassification`: `bert.embeddings.word_embeddings`, ...,
  `bert.encoder.layer.N.attention.self.query`, ..., `bert.pooler.dense`, `classifier`.
- `Gpt2`: a GPT-2 style decoder LM (learned positions, pre-LayerNorm, GELU-tanh MLP, causal mask, `Conv1D`
  weights stored [in, out] as GPT-2's are, tied `lm_head`), as `GPT2LMHeadModel`: `transformer.wte`, `transformer.h.N
  .attn.c_attn`, ....
- `Llama`: a Llama-style decoder LM (RMSNorm, rotary position embeddings, SiLU-gated MLP, causal mask, no biases), as
  `LlamaForCausalLM`: `model.embed_tokens`, `model.layers.N.self_attn.q_proj`, ..., `model.norm`, `lm_head`.
- `vit(...)`: torchvision's own `VisionTransformer` class at a small size.

The attention is HuggingFace's "eager" form: `softmax(Q K^T / sqrt(d) + mask) V`, the padding mask added as
`(1 - attention_mask) * finfo(float32).min` (HuggingFace's extended mask), the causal mask likewise. Each model takes
`(input_ids, attention_mask[, token_type_ids])` as int64 `[batch, seq]` and returns logits (`[batch, classes]` for
BERT, `[batch, seq, vocab]` for the LMs).

The places where AttnLRP / CP-LRP (LXT, `../shared/oracles/lxt`) modify the backward pass go through the module-level
`OPS` object; by default its methods are plain PyTorch, so the export sees the ordinary model. A reference script can
install another `Ops` (for example one built on LXT's `lxt/efficient/rules.py`) with `use_ops(...)`.

Run by the fixture and example scripts with Debian's python (torch 1.13):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/<script that imports this>.py
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Ops:
    """The hook points of the LRP rules; plain PyTorch here (the forward pass is unchanged by any of them)."""

    def nonlinear(self, fn, x):
        """An elementwise nonlinearity (AttnLRP: identity rule)."""
        return fn(x)

    def divide(self, x, factor):
        """A tensor entering a product of activations (AttnLRP: uniform rule, gradient divided by `factor`)."""
        return x

    def stop(self, x):
        """A tensor treated as a constant (CP-LRP on the attention weights and the gate; the LayerNorm normalizer)."""
        return x

    def attention_inputs(self, q, k, v):
        """Query, key and value entering `softmax(Q K^T) V`: AttnLRP divides q, k by 4 and v by 2; CP-LRP stops q, k."""
        return q, k, v

    def gate(self, g):
        """The gate of a gated MLP before its activation (CP-LRP: a constant)."""
        return g

    def product(self, z):
        """The elementwise product of a gated MLP (AttnLRP: uniform rule, divided by 2)."""
        return z

    explicit_norm = False
    """Whether normalization layers compute their statistics explicitly (with `stop` on the normalizer) instead of
    calling `F.layer_norm` (which the exporter turns into LayerNormalization at opset 17)."""


OPS = Ops()


def use_ops(ops):
    """Installs `ops` as the models' hook points and returns the previous ones."""
    global OPS
    old, OPS = OPS, ops
    return old


MASK_MIN = torch.finfo(torch.float32).min


class LayerNorm(nn.LayerNorm):
    def forward(self, x):
        if not OPS.explicit_norm:
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        std = (var + self.eps).sqrt()
        return (x - mean) / OPS.stop(std) * self.weight + self.bias


class RMSNorm(nn.Module):
    """LlamaRMSNorm: `x / sqrt(mean(x^2) + eps) * weight`."""

    def __init__(self, hidden, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.variance_epsilon = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * OPS.stop(torch.rsqrt(variance + self.variance_epsilon)))


def padding_mask(attention_mask, dtype):
    """HuggingFace's extended attention mask: [batch, 1, 1, seq], 0 where attended, finfo.min where padded."""
    m = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - m) * torch.finfo(dtype).min


def causal_mask(seq, dtype, device=None):
    """[1, 1, seq, seq]: 0 on and below the diagonal, finfo.min above (a query sees itself and earlier keys)."""
    full = torch.full((seq, seq), torch.finfo(dtype).min, dtype=dtype, device=device)
    return torch.triu(full, diagonal=1)[None, None, :, :]


def eager_attention(q, k, v, mask):
    """q, k, v [batch, heads, seq, d]; mask broadcastable to [batch, heads, seq, seq] (additive)."""
    q, k, v = OPS.attention_inputs(q, k, v)
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    scores = scores + mask
    weights = torch.softmax(scores, dim=-1)
    return torch.matmul(weights, v)


def split_heads(x, heads):
    b, s, h = x.shape
    return x.view(b, s, heads, h // heads).permute(0, 2, 1, 3)


def merge_heads(x):
    b, n, s, d = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, s, n * d)


# ---------------------------------------------------------------- BERT

class BertEmbeddings(nn.Module):
    def __init__(self, vocab, hidden, max_positions, type_vocab, eps):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(max_positions, hidden)
        self.token_type_embeddings = nn.Embedding(type_vocab, hidden)
        self.LayerNorm = LayerNorm(hidden, eps=eps)
        self.register_buffer("position_ids", torch.arange(max_positions)[None, :], persistent=False)

    def forward(self, input_ids, token_type_ids):
        seq = input_ids.shape[1]
        x = self.word_embeddings(input_ids)
        x = x + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(self.position_ids[:, :seq])
        return self.LayerNorm(x)


class BertSelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.num_attention_heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, x, mask):
        q = split_heads(self.query(x), self.num_attention_heads)
        k = split_heads(self.key(x), self.num_attention_heads)
        v = split_heads(self.value(x), self.num_attention_heads)
        return merge_heads(eager_attention(q, k, v, mask))


class BertSelfOutput(nn.Module):
    def __init__(self, hidden, eps):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.LayerNorm = LayerNorm(hidden, eps=eps)

    def forward(self, h, x):
        return self.LayerNorm(self.dense(h) + x)


class BertAttention(nn.Module):
    def __init__(self, hidden, heads, eps):
        super().__init__()
        self.self = BertSelfAttention(hidden, heads)
        self.output = BertSelfOutput(hidden, eps)

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, hidden, inner):
        super().__init__()
        self.dense = nn.Linear(hidden, inner)
        self.intermediate_act_fn = nn.GELU()

    def forward(self, x):
        return OPS.nonlinear(self.intermediate_act_fn, self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, hidden, inner, eps):
        super().__init__()
        self.dense = nn.Linear(inner, hidden)
        self.LayerNorm = LayerNorm(hidden, eps=eps)

    def forward(self, h, x):
        return self.LayerNorm(self.dense(h) + x)


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, inner, eps):
        super().__init__()
        self.attention = BertAttention(hidden, heads, eps)
        self.intermediate = BertIntermediate(hidden, inner)
        self.output = BertOutput(hidden, inner, eps)

    def forward(self, x, mask):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, layers, hidden, heads, inner, eps):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(hidden, heads, inner, eps) for _ in range(layers)])

    def forward(self, x, mask):
        for layer in self.layer:
            x = layer(x, mask)
        return x


class BertPooler(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.activation = nn.Tanh()

    def forward(self, x):
        return OPS.nonlinear(self.activation, self.dense(x[:, 0]))


class BertModel(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, inner, max_positions, type_vocab, eps):
        super().__init__()
        self.embeddings = BertEmbeddings(vocab, hidden, max_positions, type_vocab, eps)
        self.encoder = BertEncoder(layers, hidden, heads, inner, eps)
        self.pooler = BertPooler(hidden)

    def forward(self, input_ids, attention_mask, token_type_ids):
        x = self.embeddings(input_ids, token_type_ids)
        return self.pooler(self.encoder(x, padding_mask(attention_mask, x.dtype)))


class Bert(nn.Module):
    """BertForSequenceClassification: `bert` then `classifier` on the pooled first token."""

    def __init__(self, vocab=120, hidden=32, layers=2, heads=4, inner=64, max_positions=64, type_vocab=2, classes=3,
                 eps=1e-12):
        super().__init__()
        self.bert = BertModel(vocab, hidden, layers, heads, inner, max_positions, type_vocab, eps)
        self.classifier = nn.Linear(hidden, classes)

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.classifier(self.bert(input_ids, attention_mask, token_type_ids))


# ---------------------------------------------------------------- GPT-2

class Conv1D(nn.Module):
    """GPT-2's linear layer with its weight stored [in, out]."""

    def __init__(self, out_features, in_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)


class GPT2Attention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.num_heads = heads
        self.c_attn = Conv1D(3 * hidden, hidden)
        self.c_proj = Conv1D(hidden, hidden)

    def forward(self, x, mask):
        q, k, v = self.c_attn(x).split(x.shape[-1], dim=2)
        q, k, v = (split_heads(t, self.num_heads) for t in (q, k, v))
        return self.c_proj(merge_heads(eager_attention(q, k, v, mask)))


class GPT2MLP(nn.Module):
    def __init__(self, hidden, inner):
        super().__init__()
        self.c_fc = Conv1D(inner, hidden)
        self.c_proj = Conv1D(hidden, inner)
        self.act = nn.GELU(approximate="tanh")

    def forward(self, x):
        return self.c_proj(OPS.nonlinear(self.act, self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, hidden, heads, inner, eps):
        super().__init__()
        self.ln_1 = LayerNorm(hidden, eps=eps)
        self.attn = GPT2Attention(hidden, heads)
        self.ln_2 = LayerNorm(hidden, eps=eps)
        self.mlp = GPT2MLP(hidden, inner)

    def forward(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, inner, max_positions, eps):
        super().__init__()
        self.wte = nn.Embedding(vocab, hidden)
        self.wpe = nn.Embedding(max_positions, hidden)
        self.h = nn.ModuleList([GPT2Block(hidden, heads, inner, eps) for _ in range(layers)])
        self.ln_f = LayerNorm(hidden, eps=eps)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        positions = torch.arange(seq, device=input_ids.device)[None, :]
        x = self.wte(input_ids) + self.wpe(positions)
        mask = causal_mask(seq, x.dtype, x.device) + padding_mask(attention_mask, x.dtype)
        mask = torch.clamp(mask, min=torch.finfo(x.dtype).min)
        for block in self.h:
            x = block(x, mask)
        return self.ln_f(x)


class Gpt2(nn.Module):
    """GPT2LMHeadModel: `transformer` then `lm_head` tied to the word embedding."""

    def __init__(self, vocab=96, hidden=32, layers=2, heads=4, inner=128, max_positions=64, eps=1e-5):
        super().__init__()
        self.transformer = GPT2Model(vocab, hidden, layers, heads, inner, max_positions, eps)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids, attention_mask):
        return self.lm_head(self.transformer(input_ids, attention_mask))


# ---------------------------------------------------------------- Llama

def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaRotaryEmbedding(nn.Module):
    def __init__(self, dim, base=10000.0):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), persistent=False)

    def forward(self, seq, dtype):
        # HuggingFace's form: inv_freq [1, d/2, 1] @ position_ids [1, 1, seq], transposed
        positions = torch.arange(seq)[None, None, :].float()
        freqs = (self.inv_freq[None, :, None].float() @ positions).transpose(1, 2)[0]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(dtype)[None, None], emb.sin().to(dtype)[None, None]


class LlamaAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.num_heads = heads
        self.q_proj = nn.Linear(hidden, hidden, bias=False)
        self.k_proj = nn.Linear(hidden, hidden, bias=False)
        self.v_proj = nn.Linear(hidden, hidden, bias=False)
        self.o_proj = nn.Linear(hidden, hidden, bias=False)

    def forward(self, x, mask, cos, sin):
        q = split_heads(self.q_proj(x), self.num_heads)
        k = split_heads(self.k_proj(x), self.num_heads)
        v = split_heads(self.v_proj(x), self.num_heads)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        return self.o_proj(merge_heads(eager_attention(q, k, v, mask)))


class LlamaMLP(nn.Module):
    def __init__(self, hidden, inner):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, inner, bias=False)
        self.up_proj = nn.Linear(hidden, inner, bias=False)
        self.down_proj = nn.Linear(inner, hidden, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        gate = OPS.nonlinear(self.act_fn, OPS.gate(self.gate_proj(x)))
        return self.down_proj(OPS.product(gate * self.up_proj(x)))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, hidden, heads, inner, eps):
        super().__init__()
        self.self_attn = LlamaAttention(hidden, heads)
        self.mlp = LlamaMLP(hidden, inner)
        self.input_layernorm = RMSNorm(hidden, eps)
        self.post_attention_layernorm = RMSNorm(hidden, eps)

    def forward(self, x, mask, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), mask, cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, inner, eps):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList([LlamaDecoderLayer(hidden, heads, inner, eps) for _ in range(layers)])
        self.norm = RMSNorm(hidden, eps)
        self.rotary_emb = LlamaRotaryEmbedding(hidden // heads)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        x = self.embed_tokens(input_ids)
        mask = causal_mask(seq, x.dtype, x.device) + padding_mask(attention_mask, x.dtype)
        mask = torch.clamp(mask, min=torch.finfo(x.dtype).min)
        cos, sin = self.rotary_emb(seq, x.dtype)
        for layer in self.layers:
            x = layer(x, mask, cos, sin)
        return self.norm(x)


class Llama(nn.Module):
    """LlamaForCausalLM: `model` then `lm_head` (untied)."""

    def __init__(self, vocab=96, hidden=32, layers=2, heads=4, inner=64, eps=1e-6):
        super().__init__()
        self.model = LlamaModel(vocab, hidden, layers, heads, inner, eps)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)

    def forward(self, input_ids, attention_mask):
        return self.lm_head(self.model(input_ids, attention_mask))


# ---------------------------------------------------------------- ViT

def vit(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32, mlp_dim=64, num_classes=10):
    """torchvision's own VisionTransformer at a small size (its default initialization)."""
    from torchvision.models.vision_transformer import VisionTransformer
    return VisionTransformer(image_size=image_size, patch_size=patch_size, num_layers=num_layers,
                             num_heads=num_heads, hidden_dim=hidden_dim, mlp_dim=mlp_dim, num_classes=num_classes)


def randomize_norms(model, generator):
    """Gives every LayerNorm/RMSNorm weight and bias random values (defaults are ones and zeros, which would leave
    the scale and shift untested)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.LayerNorm, RMSNorm)):
                m.weight.copy_(1.0 + 0.2 * torch.randn(m.weight.shape, generator=generator))
                if getattr(m, "bias", None) is not None:
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=generator))


def randomize_vit_zeros(model, generator):
    """Gives the parameters that torchvision's VisionTransformer initializes to zero random values: the
    classification head (weight and bias zero: every logit would be exactly 0, the arg-max a tie and every relevance
    0), the class token, and the biases of the patch embedding and of the attention's input and output projections
    (zero) and of the MLP (std 1e-6), so that the fixture's logits and its bias handling are not trivial."""
    with torch.no_grad():
        head = model.heads.head
        head.weight.copy_(torch.randn(head.weight.shape, generator=generator) / math.sqrt(head.in_features))
        model.class_token.copy_(0.02 * torch.randn(model.class_token.shape, generator=generator))
        for name, p in model.named_parameters():
            if name.endswith("bias") and not name.endswith(("ln_1.bias", "ln_2.bias", "ln.bias")):
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))


def token_batch(vocab, lengths, seq, generator, type_vocab=0):
    """Random ids for texts of the given lengths, right-padded with id 0 to `seq`: (input_ids, attention_mask[,
    token_type_ids]) as int64 [len(lengths), seq]; token types 0 on the first half of each text, 1 after."""
    ids = torch.zeros(len(lengths), seq, dtype=torch.int64)
    mask = torch.zeros(len(lengths), seq, dtype=torch.int64)
    types = torch.zeros(len(lengths), seq, dtype=torch.int64)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(1, vocab, (n,), generator=generator)
        mask[b, :n] = 1
        types[b, n // 2:n] = 1 if type_vocab > 1 else 0
    return (ids, mask, types) if type_vocab else (ids, mask)


def export(model, args, names, path, opset, dynamic=True):
    """torch.onnx.export as a user would: batch and sequence dynamic, logits named `logits`."""
    axes = {n: {0: "batch", 1: "sequence"} for n in names} if dynamic else None
    if axes is not None:
        axes["logits"] = {0: "batch"} if len(model(*args).shape) == 2 else {0: "batch", 1: "sequence"}
    torch.onnx.export(model, args, path, input_names=list(names), output_names=["logits"], dynamic_axes=axes,
                      opset_version=opset, do_constant_folding=True)


FIXTURE_LENGTHS = [7, 4, 2]
"""The fixture texts' lengths, right-padded to FIXTURE_SEQ."""
FIXTURE_SEQ = 8


def fixture(name):
    """The import/golden fixture model `name` (bert, gpt2, llama, vit), deterministic: the same weights in every
    script that calls this (default initialization under a fixed seed, then random norm scales and shifts; for vit
    also a random head, class token and biases, which torchvision initializes to zero)."""
    seed = {"bert": 1, "gpt2": 2, "llama": 3, "vit": 4}[name]
    torch.manual_seed(seed)
    model = {"bert": Bert, "gpt2": Gpt2, "llama": Llama, "vit": vit}[name]()
    randomize_norms(model, torch.Generator().manual_seed(100 + seed))
    if name == "vit":
        randomize_vit_zeros(model, torch.Generator().manual_seed(300 + seed))
    return model.eval()


def fixture_inputs(name):
    """The fixture model's inputs, deterministic: for the token models (input_ids, attention_mask[,
    token_type_ids]) int64 [3, FIXTURE_SEQ] with texts of FIXTURE_LENGTHS; for vit one float32 [3, 3, 32, 32]."""
    g = torch.Generator().manual_seed(200)
    if name == "vit":
        return (torch.rand(3, 3, 32, 32, generator=g) * 2 - 1,)
    vocab = 120 if name == "bert" else 96
    return token_batch(vocab, FIXTURE_LENGTHS, FIXTURE_SEQ, g, 2 if name == "bert" else 0)


def input_names(name):
    """The ONNX input names of a fixture model, HuggingFace's."""
    if name == "vit":
        return ["input"]
    return ["input_ids", "attention_mask"] + (["token_type_ids"] if name == "bert" else [])


if __name__ == "__main__":
    # A smoke run: every model's forward on a padded batch, and the padding invariance of the real positions.
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    for name, model, n_types in (("bert", Bert(), 2), ("gpt2", Gpt2(), 0), ("llama", Llama(), 0)):
        randomize_norms(model, g)
        model.eval()
        vocab = 120 if name == "bert" else 96
        short = token_batch(vocab, [5, 3], 5, g, n_types)
        long = tuple(F.pad(t, (0, 4)) for t in short)
        with torch.no_grad():
            a, b = model(*short), model(*long)
        if a.dim() == 3:
            b = b[:, :5]
        print(name, tuple(a.shape), "max |padded - unpadded| on real positions:",
              float((a - b)[short[1].bool()].abs().max() if a.dim() == 3 else (a - b).abs().max()))
    v = vit().eval()
    print("vit", tuple(v(torch.randn(2, 3, 32, 32)).shape))
