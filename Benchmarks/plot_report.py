#!/usr/bin/env python3
"""Draws bench-results/report.png from bench-results/results.json (bench.py calls it).

    .venv-bench/bin/python Benchmarks/plot_report.py results.json report.png

Four panels: codec decode and encode as speed relative to pymongo (goal lines drawn), the
one-way TCP stream in documents/s per document kind, and ping-pong round trips per kind.
Uses matplotlib (installed into .venv-bench by `make bench`).
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {
    "ours-document": "#d9480f", "ours-view": "#f08c00", "ours-codable": "#fab005", "libbson-swift": "#868e96",
    "libbson-c": "#adb5bd", "pymongo": "#1c7ed6", "pybson": "#74c0fc", "jsonserialization": "#37b24d",
    "jsoncodable": "#8ce99a",
    "ours-obj": "#d9480f", "ours-nio": "#f08c00", "c-decode": "#868e96", "ours": "#d9480f", "c": "#868e96",
}
SHORT = {
    "ours-document": "ours BSONDocument", "ours-view": "ours lazy view", "ours-codable": "ours Codable",
    "libbson-swift": "libbson from Swift", "libbson-c": "libbson from C", "pymongo": "pymongo (C ext.)",
    "pybson": "py-bson", "jsonserialization": "JSONSerialization", "jsoncodable": "JSONDecoder/Encoder",
    "ours-obj": "ours recvObj", "ours-nio": "ours NIO", "c-decode": "C floor (libbson)", "ours": "ours blocking",
    "c": "C floor (raw echo)",
}


def grouped(ax, groups, series, values, errors, title, ylabel, log=False, goal=None, annotate=None):
    width = 0.8 / max(1, len(series))
    for index, ident in enumerate(series):
        xs = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ys = [values.get((group, ident), 0) for group in groups]
        lo = [max(0, y - errors.get((group, ident), (y, y))[0]) for group, y in zip(groups, ys)]
        hi = [max(0, errors.get((group, ident), (y, y))[1] - y) for group, y in zip(groups, ys)]
        bars = ax.bar(xs, ys, width, label=SHORT.get(ident, ident), color=COLORS.get(ident, "#495057"),
                      yerr=[lo, hi], capsize=2, error_kw={"elinewidth": 0.8})
        if annotate:
            for bar, y, group in zip(bars, ys, groups):
                if y > 0:
                    # Above the whisker, so the two never overlap.
                    top = max(y, errors.get((group, ident), (y, y))[1])
                    ax.annotate(annotate(y), (bar.get_x() + bar.get_width() / 2, top), ha="center", va="bottom",
                                fontsize=6.5, rotation=90, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    ax.set_title(title, fontsize=11, fontweight="bold")
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
        top = max([v for v in values.values() if v > 0] + [1])
        bottom = min([v for v in values.values() if v > 0] or [1])
        # Headroom above the tallest bar for the labels and the legend.
        ax.set_ylim(bottom / 2, top * 12)
    if goal:
        ax.axhline(goal, color="#c92a2a", linestyle="--", linewidth=1)
        ax.text(len(groups) - 0.5, goal, f" goal {goal}×", color="#c92a2a", va="bottom", ha="right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7.5, ncol=4, loc="upper left", framealpha=0.9)


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        report = json.load(handle)
    codec, transport = report["codec"], report["transport"]
    fig, axes = plt.subplots(2, 2, figsize=(15, 11))

    names = ["flat", "deep", "full"]
    for ax, op, goal, ids in (
        (axes[0][0], "decode", 1.5, ["ours-document", "ours-view", "ours-codable", "libbson-swift", "pymongo",
                                    "pybson", "jsonserialization"]),
        (axes[0][1], "encode", 1.2, ["ours-document", "ours-codable", "libbson-swift", "pymongo", "pybson",
                                    "jsonserialization"]),
    ):
        values, errors = {}, {}
        for row in codec["rows"]:
            if row["op"] == op and row["id"] in ids:
                values[(row["document"], row["id"])] = row["vs_pymongo"]["median"]
                errors[(row["document"], row["id"])] = (row["vs_pymongo"]["min"], row["vs_pymongo"]["max"])
        grouped(ax, names, ids, values, errors, f"Codec {op}: speed relative to pymongo (higher is better)",
                "× pymongo (log scale)", log=True, goal=goal, annotate=lambda y: f"{y:.2f}×")

    kinds = [k for k in ["rich1k", "small_doc", "tweet", "flat", "64k", "large_doc"] if k in transport["kinds"]]
    ids = ["ours-obj", "ours-nio", "c-decode", "pymongo", "pybson"]
    values, errors = {}, {}
    for row in transport["stream_rows"]:
        if row["id"] in ids:
            values[(row["kind"], row["id"])] = row["mb_s"]["median"]
            errors[(row["kind"], row["id"])] = (row["mb_s"]["min"], row["mb_s"]["max"])
    grouped(axes[1][0], kinds, ids, values, errors, "One-way stream over TCP loopback, decoded (higher is better)",
            "MB/s (log scale)", log=True, annotate=lambda y: f"{y:,.0f}" if y >= 10 else f"{y:.1f}")

    ids = ["ours", "ours-nio", "c", "pymongo", "pybson"]
    values, errors = {}, {}
    for row in transport["ping_rows"]:
        values[(row["kind"], row["id"])] = row["p50_us"]["median"]
        errors[(row["kind"], row["id"])] = (row["p50_us"]["min"], row["p50_us"]["max"])
    grouped(axes[1][1], kinds, ids, values, errors, "Ping-pong round trip over TCP, median (lower is better)",
            "µs (log scale)", log=True, annotate=lambda y: f"{y:,.0f}")

    m = report["machine"]
    fig.suptitle(f"swift-bson-socket vs pymongo, py-bson, libbson and Foundation — {report['date'][:10]}, "
                 f"{m['cpu']} ({m['cores']} cores, shared); medians, whiskers = min–max of rounds",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
