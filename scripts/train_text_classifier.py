#!/usr/bin/python3
"""Train a small BERT classifier on three of Debian's fortune files and write the gpulrp text example into
examples/text/: the model as ONNX, a HuggingFace tokenizer.json written by hand, labels.txt, and the ids this
script's own tokenizer gives for a few texts (src/test/resources/text/tokenizer_ids.json), which the Java tests
compare with what DJL's binding of HuggingFace's tokenizers makes of tokenizer.json.

Data: the `fortunes` package (fortune-mod 1.99.1, BSD licence, see /usr/share/doc/fortunes/copyright):
/usr/share/games/fortunes/{computers,politics,science}, entries separated by lines holding '%'. The task: which of
the three files a fortune comes from. The corpus itself is not copied into the repository; this script reads it from
the installed package (`apt-get install fortunes`).

Run with Debian's interpreter (python3-torch 1.13, python3-numpy):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/train_text_classifier.py

Seeded: split, initialization and batch order; one thread, deterministic algorithms.

The tokenizer (the `tokenizers` package cannot be installed here, so both its file and its algorithm are written out
below, following HuggingFace's Rust implementation): BertNormalizer (clean text, CJK spacing, accents stripped,
lower case), BertPreTokenizer (split on whitespace, every punctuation character a word of its own), WordPiece over a
vocabulary built from the training split: the special tokens, every character seen in training alone and as a
`##` continuation (so any word of those characters can be split), then the whole words seen at least MIN_COUNT
times; TemplateProcessing `[CLS] $A [SEP]` (pairs `[CLS] $A [SEP] $B:1 [SEP]:1`).
"""
import collections
import json
import os
import sys
import unicodedata

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transformer_models as tm  # noqa: E402
from train_digits_cnn import seed_everything  # noqa: E402
from fortune_test_texts import read_fortunes  # noqa: E402

SEED = 15
LABELS = ["computers", "politics", "science"]
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1
MAX_LENGTH = 64
MIN_COUNT = 3
EPOCHS = 30
BATCH_SIZE = 32
LEARNING_RATE = 5e-4
WARMUP_EPOCHS = 2  # the learning rate rises linearly over these, then falls linearly to 0 at the last epoch
WEIGHT_DECAY = 0.1
WORD_DROPOUT = 0.25  # the model has no dropout layers: in training, this share of the words' ids becomes [UNK]
PRIOR_SCALE = 2.0  # word embeddings start with each word's class log-odds on the training split in their first dims
HIDDEN, LAYERS, HEADS, INNER = 64, 2, 4, 128
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
PAD, UNK, CLS, SEP = range(4)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO_ROOT, "examples", "text")
FIXTURE = os.path.join(REPO_ROOT, "src", "test", "resources", "text", "tokenizer_ids.json")

# Texts the Java test tokenizes with DJL and compares with this script's ids: upper case, accents, punctuation,
# digits, characters the vocabulary lacks, a word longer than any in the vocabulary, runs of whitespace, a pair.
CHECK_TEXTS = [
    "The computer crashed and the programmer lost all his files.",
    "Politicians promise taxes will fall; voters don't believe them!",
    "E = mc^2, said Einstein -- and the physicists nodded.",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c5ngstr\u00f6m",
    "Unbelievably   spaced\u00a0text\nacross lines",
    "antidisestablishmentarianism supercalifragilistic",
    "Snowman \u2603 and \u00bfquestions? \u00abquoted\u00bb \u4e2d\u6587",
    "",
]
CHECK_PAIR = ("Is the kernel stable?", "Only on Tuesdays.")


# ------------------------------------------------------------------ data: fortune_test_texts.read_fortunes

# ------------------------------------------------------------------ tokenizer (HuggingFace's algorithms)

def _is_control(c):
    return c not in "\t\n\r" and unicodedata.category(c).startswith("C")


def _is_whitespace(c):
    return c in "\t\n\r" or unicodedata.category(c) in ("Zs", "Zl", "Zp")


def _is_chinese(c):
    cp = ord(c)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF
            or 0x2F800 <= cp <= 0x2FA1F)


def normalize(text):
    """BertNormalizer(clean_text, handle_chinese_chars, strip_accents=None (follows lowercase), lowercase)."""
    text = "".join(" " if _is_whitespace(c) else c for c in text
                   if not (ord(c) == 0 or ord(c) == 0xFFFD or _is_control(c)))
    text = "".join(" " + c + " " if _is_chinese(c) else c for c in text)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return text.lower()


def _is_punctuation(c):
    return (c.isascii() and not c.isalnum() and 33 <= ord(c) <= 126) or unicodedata.category(c).startswith("P")


def pre_tokenize(text):
    """BertPreTokenizer: whitespace splits (removed), each punctuation character a word of its own."""
    words = []
    for chunk in text.split():
        cur = ""
        for c in chunk:
            if _is_punctuation(c):
                if cur:
                    words.append(cur)
                words.append(c)
                cur = ""
            else:
                cur += c
        if cur:
            words.append(cur)
    return words


def wordpiece(word, vocab, max_chars=100):
    """Greedy longest match first; a word that cannot be split entirely is one [UNK]."""
    if len(word) > max_chars:
        return [UNK]
    out, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return [UNK]
        out.append(found)
        start = end
    return out


def encode(text, vocab, pair=None, max_length=None):
    """ids and token type ids as the tokenizer.json below gives them; truncated (right, longest first) to
    max_length with the special tokens kept."""
    a = [i for w in pre_tokenize(normalize(text)) for i in wordpiece(w, vocab)]
    b = None if pair is None else [i for w in pre_tokenize(normalize(pair)) for i in wordpiece(w, vocab)]
    if max_length is not None:
        room = max_length - (2 if b is None else 3)
        if b is None:
            a = a[:room]
        else:
            while len(a) + len(b) > room:
                if len(a) >= len(b):
                    a = a[:-1]
                else:
                    b = b[:-1]
    ids = [CLS] + a + [SEP]
    types = [0] * len(ids)
    if b is not None:
        ids += b + [SEP]
        types += [1] * (len(b) + 1)
    return ids, types


def build_vocab(texts):
    counts = collections.Counter(w for t in texts for w in pre_tokenize(normalize(t)))
    chars = sorted({c for w in counts for c in w})
    words = sorted((w for w, n in counts.items() if n >= MIN_COUNT and len(w) > 1), key=lambda w: (-counts[w], w))
    tokens = SPECIAL + chars + ["##" + c for c in chars] + words
    return {t: i for i, t in enumerate(tokens)}


def tokenizer_json(vocab):
    """A HuggingFace tokenizer.json (format 1.0) for the tokenizer above."""
    special = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
                "special": True} for i, t in enumerate(SPECIAL)]

    def tok(name, type_id):
        return {"SpecialToken": {"id": name, "type_id": type_id}}

    def seq(name, type_id):
        return {"Sequence": {"id": name, "type_id": type_id}}

    return {
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": MAX_LENGTH, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": None, "pad_id": PAD,
                    "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": special,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [tok("[CLS]", 0), seq("A", 0), tok("[SEP]", 0)],
            "pair": [tok("[CLS]", 0), seq("A", 0), tok("[SEP]", 0), seq("B", 1), tok("[SEP]", 1)],
            "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


# ------------------------------------------------------------------ training

def batch(encoded, rows, drop=None):
    """Right-padded (input_ids, attention_mask, token_type_ids) int64 [len(rows), longest]; with `drop` (a
    generator), WORD_DROPOUT of the non-special ids replaced by [UNK]."""
    seq = max(len(encoded[r][0]) for r in rows)
    ids = torch.zeros(len(rows), seq, dtype=torch.int64)
    mask = torch.zeros(len(rows), seq, dtype=torch.int64)
    types = torch.zeros(len(rows), seq, dtype=torch.int64)
    for k, r in enumerate(rows):
        i, t = encoded[r]
        ids[k, :len(i)] = torch.tensor(i)
        mask[k, :len(i)] = 1
        types[k, :len(t)] = torch.tensor(t)
    if drop is not None:
        hit = (torch.rand(ids.shape, generator=drop) < WORD_DROPOUT) & (ids > SEP)
        ids = torch.where(hit, torch.full_like(ids, UNK), ids)
    return ids, mask, types


def accuracy(model, encoded, labels, rows):
    ok = 0
    with torch.no_grad():
        for s in range(0, len(rows), 256):
            r = rows[s:s + 256]
            ok += int((model(*batch(encoded, r)).argmax(1) == torch.tensor(labels[r])).sum())
    return ok / len(rows), ok


def main():
    seed_everything(SEED)

    texts, labels = [], []
    for k, name in enumerate(LABELS):
        entries = read_fortunes(name)
        print(f"{name}: {len(entries)} entries")
        texts += entries
        labels += [k] * len(entries)
    labels = np.array(labels)
    order = np.random.RandomState(SEED).permutation(len(texts))
    n_test = int(round(TEST_FRACTION * len(texts)))
    n_val = int(round(VALIDATION_FRACTION * len(texts)))
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    print(f"split: {len(train)} train, {len(val)} validation, {len(test)} test (seed {SEED})")

    vocab = build_vocab([texts[i] for i in train])
    print(f"vocabulary: {len(vocab)} tokens")
    encoded = [encode(t, vocab, max_length=MAX_LENGTH) for t in texts]
    unk = sum(i.count(UNK) for i, _ in encoded) / sum(len(i) for i, _ in encoded)
    print(f"[UNK] share of all tokens: {unk:.4f}")

    model = tm.Bert(vocab=len(vocab), hidden=HIDDEN, layers=LAYERS, heads=HEADS, inner=INNER,
                    max_positions=MAX_LENGTH, type_vocab=2, classes=len(LABELS))
    if PRIOR_SCALE:
        # 1.6k short jokes are few for a transformer trained from nothing (it overfits at about 55% held-out
        # accuracy, where a bag of words reaches 71%); so each word's embedding starts with its naive-Bayes class
        # log-odds on the training split (add-one smoothed, centred over the classes, scaled to unit spread) in its
        # first len(LABELS) dimensions, the rest as PyTorch initializes it. Training then changes all of it.
        counts = np.ones((len(vocab), len(LABELS)))
        for r in train:
            for i in encoded[r][0]:
                counts[i, labels[r]] += 1
        logodds = np.log(counts / counts.sum(0, keepdims=True))
        logodds -= logodds.mean(1, keepdims=True)
        logodds /= logodds[SEP + 1:].std()
        with torch.no_grad():
            model.bert.embeddings.word_embeddings.weight[SEP + 1:, :len(LABELS)] = torch.tensor(
                PRIOR_SCALE * logodds[SEP + 1:], dtype=torch.float32)
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    steps_per_epoch = (len(train) + BATCH_SIZE - 1) // BATCH_SIZE
    warmup, total_steps = WARMUP_EPOCHS * steps_per_epoch, EPOCHS * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (total_steps - s) / (total_steps - warmup)))
    gen = torch.Generator().manual_seed(SEED)
    best, best_state = -1.0, None
    for epoch in range(EPOCHS):
        model.train()
        perm = train[torch.randperm(len(train), generator=gen).numpy()]
        total = 0.0
        for s in range(0, len(perm), BATCH_SIZE):
            r = perm[s:s + BATCH_SIZE]
            opt.zero_grad()
            loss = F.cross_entropy(model(*batch(encoded, r, gen)), torch.tensor(labels[r]))
            loss.backward()
            opt.step()
            schedule.step()
            total += loss.item() * len(r)
        model.eval()
        acc, _ = accuracy(model, encoded, labels, val)
        if acc > best:
            best, best_state = acc, {k: v.clone() for k, v in model.state_dict().items()}
        print(f"epoch {epoch + 1:2d}  loss {total / len(perm):.4f}  validation accuracy {acc:.4f}")
    model.load_state_dict(best_state)
    model.eval()
    train_acc, _ = accuracy(model, encoded, labels, train)
    val_acc, _ = accuracy(model, encoded, labels, val)
    test_acc, test_ok = accuracy(model, encoded, labels, test)
    print(f"torch {torch.__version__}")
    print(f"train accuracy {train_acc:.4f}, validation accuracy {val_acc:.4f} (epoch chosen by it)")
    print(f"held-out test accuracy {test_acc:.4f} ({test_ok}/{len(test)}); majority class "
          f"{np.bincount(labels[test]).max() / len(test):.4f}")

    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab), f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(OUT_DIR, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    args = batch([encode(CHECK_TEXTS[0], vocab)], [0])
    tm.export(model, args, ["input_ids", "attention_mask", "token_type_ids"],
              os.path.join(OUT_DIR, "fortune-bert.onnx"), 17)

    fixture = {"texts": [{"text": t, "ids": encode(t, vocab)[0]} for t in CHECK_TEXTS],
               "pair": {"text": CHECK_PAIR[0], "pair": CHECK_PAIR[1],
                        "ids": encode(CHECK_PAIR[0], vocab, CHECK_PAIR[1])[0],
                        "types": encode(CHECK_PAIR[0], vocab, CHECK_PAIR[1])[1]},
               "truncated": {"text": CHECK_TEXTS[0], "max_length": 8,
                             "ids": encode(CHECK_TEXTS[0], vocab, max_length=8)[0]}}
    with torch.no_grad():
        ids, mask, types = batch([encode(t, vocab) for t in CHECK_TEXTS[:3]], [0, 1, 2])
        fixture["logits"] = {"texts": CHECK_TEXTS[:3], "values": model(ids, mask, types).tolist()}
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    with open(FIXTURE, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    tokens = {i: t for t, i in vocab.items()}
    for t in CHECK_TEXTS[:3]:
        print(f"{t!r}: {' '.join(tokens[i] for i in encode(t, vocab)[0])}")
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"wrote {OUT_DIR} ({total} bytes) and {FIXTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
