"""Deterministic chat-dataset generator for tests, the demo and the benchmark.

Each line: {"id": int, "source": str, "messages": [{"role": str, "content": str|null}, ...]}
with accents, CJK and emoji in the contents so lengths are counted in code points.
"""
import json
import random
import sys

WORDS = ["data", "split", "parquet", "héllo", "naïve", "日本語", "模型", "emoji😀", "👍🏽", "tokens",
         "the", "a", "of", "training", "validation", "test", "über", "Ωmega", "zstd", "shard"]
ROLES = ["user", "assistant"]


def document(i, rng):
    messages = []
    if i % 5 == 0:
        messages.append({"role": "system", "content": "You are a helpful assistant."})
    for turn in range(rng.randint(1, 6)):
        n = rng.randint(1, 40)
        content = " ".join(rng.choice(WORDS) for _ in range(n))
        if i % 97 == 0 and turn == 1:
            content = None  # a message without content counts 0 characters
        messages.append({"role": ROLES[turn % 2], "content": content})
    if i % 11 == 0:
        messages.append({"role": "tool", "content": json.dumps({"ok": True, "n": i})})
    return {"id": i, "source": rng.choice(["web", "books", "code"]), "messages": messages}


def write_jsonl(path, n, seed=1):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(document(i, rng), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write_jsonl(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
