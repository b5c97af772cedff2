#!/usr/bin/env python3
"""Writes held-out fortunes of examples/text for `gpulrp evaluate` (README "Which composite should I use?").

The test split of scripts/train_text_classifier.py (same files, same entry parsing, same seeded permutation; this
script needs numpy only, not torch), in split order: the entries of MIN_WORDS to MAX_WORDS words, the first COUNT
of them, one per line.

usage: scripts/fortune_test_texts.py OUT.txt [COUNT]
"""
import os
import re
import sys

import numpy as np

FORTUNES = "/usr/share/games/fortunes"
LABELS = ["computers", "politics", "science"]  # train_text_classifier.LABELS
SEED = 15  # train_text_classifier.SEED
TEST_FRACTION = 0.2  # train_text_classifier.TEST_FRACTION
MIN_WORDS, MAX_WORDS = 12, 30


def read_fortunes(name):
    """The entries of one fortune file (also train_text_classifier's): overstrikes (char, backspace) resolved to the
    character typed last, whitespace collapsed, empty entries dropped."""
    with open(os.path.join(FORTUNES, name), encoding="utf-8") as f:
        text = f.read()
    entries = []
    for e in re.split(r"^%$", text, flags=re.M):
        while True:
            resolved = re.sub(r"[^\x08]\x08", "", e)
            if resolved == e:
                break
            e = resolved
        e = " ".join(e.replace("\x08", "").split())
        if e:
            entries.append(e)
    return entries


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    texts = []
    for name in LABELS:
        texts += read_fortunes(name)
    order = np.random.RandomState(SEED).permutation(len(texts))
    test = order[:int(round(TEST_FRACTION * len(texts)))]
    chosen = [i for i in test if MIN_WORDS <= len(texts[i].split()) <= MAX_WORDS][:count]
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(texts[i] + "\n" for i in chosen)
    print(f"{out}: {len(chosen)} of the {len(test)} held-out fortunes ({MIN_WORDS} to {MAX_WORDS} words)")


if __name__ == "__main__":
    main()
