#!/usr/bin/env python3
"""Writes data/gsm8k/fewshot.json: the 5 train exemplars lm-evaluation-harness v0.4.8 draws for each GSM8K test
question, as indices into train.jsonl.

lm-eval's default ContextSampler holds the fewshot split as a list of docs and calls `rnd.sample(docs, 5)` once per
test doc, in test order, on one `random.Random(1234)` stream (fewshot_random_seed=1234, set by simple_evaluate).
Since fewshot_split (train) differs from test_split (test), it draws exactly num_fewshot docs and drops none.
This script draws from the same list of train docs the same way and records which positions were drawn, so the
TypeScript side needs no re-implementation of Python's generator. Run once; the output is checked in.

    python3 scripts/gsm8k-fewshot.py            # (re)writes data/gsm8k/fewshot.json
"""
import json
import random
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
data = root / "data" / "gsm8k"


def load(name):
    with open(data / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    train = load("train.jsonl")
    test = load("test.jsonl")
    position = {id(doc): i for i, doc in enumerate(train)}
    rnd = random.Random(1234)
    indices = []
    for _ in test:
        drawn = rnd.sample(train, 5)
        indices.append([position[id(doc)] for doc in drawn])
    out = {
        "schemaVersion": 1,
        "source": "lm-evaluation-harness v0.4.8 gsm8k: default sampler, random.Random(1234), sample(train, 5) per test doc in order",
        "generator": f"scripts/gsm8k-fewshot.py (Python {sys.version.split()[0]})",
        "trainItems": len(train),
        "testItems": len(test),
        "indices": indices,
    }
    text = json.dumps(out, separators=(",", ":")).replace("],[", "],\n[")
    (data / "fewshot.json").write_text(text + "\n", encoding="utf-8")
    print(f"wrote {data / 'fewshot.json'}: {len(indices)} x 5 indices")


if __name__ == "__main__":
    main()
