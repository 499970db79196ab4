"""`make bench`: runs bench/bench_*.py; each figure is a ratio to the raw storage limit.

Each module defines `run(scale: float) -> list[Figure]` (Figure is in bench/common.py).
`--scale` shrinks every size (0.01 for a quick look); the issues' targets are for scale 1.
Results go to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure  # noqa: E402


def _ratio_text(figure: Figure) -> str:
    return f"{figure.ratio:.2f}x" if figure.ratio is not None else "-"


def results_table(figures: list[Figure]) -> str:
    """One Markdown table: workload, ours, the limit measured in the same run, ratio, target."""
    lines = [
        "| workload | ours | limit (same run) | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        target = f"<= {f.limit_ratio}x" if f.limit_ratio else "(shown)"
        limit = f"{f.baseline_name} {f.baseline_seconds:.4g}s" if f.baseline_name else "-"
        lines.append(
            f"| {f.name} | {f.ours_seconds:.4g}s | {limit} | {_ratio_text(f)} | {target} "
            f"| {f.verdict or '-'} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    import sqlite3

    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}){memory}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def results_markdown(table: str, scale: float) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "# Benchmark results (`make bench`)\n\n"
        f"Measured {when} at scale {scale} on {machine()}.\n\n"
        "Each figure is our time against a raw limit measured in the same run (ratio = ours / "
        "limit; lower is better). Figures vary from day to day with the machine; the ratios are "
        "what the issues' targets are about.\n\n" + table + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument(
        "--only", action="append", default=[], help="module name, e.g. bench_fanout"
    )
    args = parser.parse_args()
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        modules = [m for m in modules if m in args.only]
    figures: list[Figure] = []
    for name in modules:
        started = time.perf_counter()
        print(f"== {name} (scale {args.scale}) ==", flush=True)
        module = importlib.import_module(name)
        for figure in module.run(args.scale):
            figures.append(figure)
            ratio = f"{figure.ratio:.2f}x" if figure.ratio is not None else "-"
            limit = f" (target <= {figure.limit_ratio}x)" if figure.limit_ratio else ""
            print(
                f"{figure.name}: ours {figure.ours_seconds:.3f}s"
                f" vs {figure.baseline_name} {figure.baseline_seconds:.3f}s = {ratio}{limit}"
                f" {figure.verdict} {figure.extra or ''}",
                flush=True,
            )
        print(f"   ({time.perf_counter() - started:.1f}s)", flush=True)
    table = results_table(figures)
    print("\n" + table, flush=True)
    (HERE / "RESULTS.md").write_text(results_markdown(table, args.scale))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    payload = [{**asdict(f), "ratio": f.ratio, "verdict": f.verdict} for f in figures]
    (out / "latest.json").write_text(json.dumps(payload, indent=2, default=str))
    return 1 if any(f.verdict == "FAIL" for f in figures) else 0


if __name__ == "__main__":
    raise SystemExit(main())
