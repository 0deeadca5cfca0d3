#!/usr/bin/env python3
"""Prints bench/results.json as the Markdown tables the README shows, one per regime:
    python3 bench/markdown.py [bench/results.json]"""
import json
import sys

ORDER = ["loopback", "wan-50", "wan-10"]


def regime_title(key, r):
    gb_in, gb_out = r["input_bytes"] / 1e9, r["output_bytes"] / 1e9
    head = f"**{key}** ({r['docs'] / 1e6:g}M documents, {gb_in:.2f} GB JSONL → {gb_out:.2f} GB Parquet; median of {r['runs']}"
    if r.get("link_rate_mb_s"):
        head += f", link {r['link_rate_mb_s']:g} MB/s each way (pure transfer of the output: {r['pure_transfer_s']:.1f} s)"
    return head + "):"


def regime_table(r):
    lines = ["| command | wall s | × splitship | client CPU s/GB | peak RSS | read back |", "|---|---|---|---|---|---|"]
    for name, m in r["results"].items():
        lines.append(f"| {name} | {m['wall_s']:.1f} | {m['time_vs_splitship']:.2f} | {m['cpu_s_per_gb']:.1f} | "
                     f"{m['peak_rss_mib']:.0f} MiB | {m['bytes_sent_back'] / 1e6:.1f} MB |")
    targets = "; ".join(f"`{k}`: {v:.2f}" for k, v in r["targets"].items())
    return "\n".join(lines) + f"\n\nTargets: {targets}"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "bench/results.json"
    with open(path, encoding="utf-8") as f:
        results = json.load(f)
    keys = [k for k in ORDER if k in results] + sorted(k for k in results if k not in ORDER)
    print("\n\n".join(regime_title(k, results[k]) + "\n\n" + regime_table(results[k]) for k in keys))


if __name__ == "__main__":
    main()
