"""`make bench`: runs every bench/bench_*.py; each figure is a ratio to a limit measured in the
same run.

A bench is found by its file name: bench/bench_<what>.py defining
`run(scale: float) -> list[Figure]` (Figure is in bench/common.py) is picked up and run in name
order. `--scale` shrinks every size: `small` (0.01, a quick look), `full` (1, the default: the
issues' targets are for it) or a number. The table goes to bench/RESULTS.md with the date and
the machine (not with --only), and every figure to bench/results/latest.json.
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
import traceback
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure  # noqa: E402

SCALES = {"small": 0.01, "full": 1.0}


def _ratio_text(figure: Figure) -> str:
    return f"{figure.ratio:.2f}x" if figure.ratio is not None else "-"


def _amount(seconds: float, unit: str) -> str:
    return f"{seconds:.4g}{unit}"


def _verdict_text(figure: Figure) -> str:
    why = figure.skipped or "; ".join(figure.problems)
    return f"{figure.verdict} ({why})" if why else figure.verdict or "-"


def scale_value(text: str) -> float:
    """`small`, `full` or a number (the fraction of the issues' sizes)."""
    if text in SCALES:
        return SCALES[text]
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"scale {text!r}: use {' or '.join(SCALES)}, or a number such as 0.1"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"scale {text!r}: must be more than 0")
    return value


def results_table(figures: list[Figure]) -> str:
    """One Markdown table: workload, ours, the limit measured in the same run, ratio, target."""
    lines = [
        "| workload | ours | limit (same run) | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        target = f"<= {f.limit_ratio}x" if f.limit_ratio else "(shown)"
        if f.skipped:
            lines.append(f"| {f.name} | - | - | - | {target} | {_verdict_text(f)} |")
            continue
        limit = (
            f"{f.baseline_name} {_amount(f.baseline_seconds, f.unit)}" if f.baseline_name else "-"
        )
        lines.append(
            f"| {f.name} | {_amount(f.ours_seconds, f.unit)} | {limit} | {_ratio_text(f)} "
            f"| {target} | {_verdict_text(f)} |"
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
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}{_postgresql()}"
    )


def _postgresql() -> str:
    import psycopg
    from bench_workers import PG_URL

    try:
        with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3) as conn:
            version = conn.info.server_version
    except psycopg.OperationalError:
        return ", no PostgreSQL"
    return f", PostgreSQL {version // 10_000}.{version % 100}"


def _load() -> str:
    return ", ".join(f"{n:.1f}" for n in os.getloadavg())


def results_markdown(table: str, scale: float, load_before: str) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "# Benchmark results (`make bench`)\n\n"
        f"Measured {when} at scale {scale} on {machine()}. Load average (1, 5, 15 min) "
        f"{load_before} when the run began, {_load()} when it ended.\n\n"
        "Each figure is our time against a raw limit measured in the same run (ratio = ours / "
        "limit; lower is better). Figures vary from day to day with the machine; the ratios are "
        "what the issues' targets are about.\n\n" + table + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scale", type=scale_value, default=scale_value(os.environ.get("BENCH_SCALE") or "full")
    )
    parser.add_argument(
        "--only", action="append", default=[], help="module name, e.g. bench_fanout"
    )
    args = parser.parse_args()
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        modules = [m for m in modules if m in args.only]
    figures: list[Figure] = []
    load_before = _load()
    for name in modules:
        started = time.perf_counter()
        print(f"== {name} (scale {args.scale}) ==", flush=True)
        try:
            measured = importlib.import_module(name).run(args.scale)
        except Exception as exc:  # one broken bench must not cost the others' table
            traceback.print_exc()
            measured = [Figure(name=name, ours_seconds=0, problems=[f"the bench failed: {exc!r}"])]
        for figure in measured:
            figures.append(figure)
            limit = f" (target <= {figure.limit_ratio}x)" if figure.limit_ratio else ""
            print(
                f"{figure.name}: ours {_amount(figure.ours_seconds, figure.unit)}"
                f" vs {figure.baseline_name} {_amount(figure.baseline_seconds, figure.unit)}"
                f" = {_ratio_text(figure)}{limit} {_verdict_text(figure)} {figure.extra or ''}",
                flush=True,
            )
        print(f"   ({time.perf_counter() - started:.1f}s)", flush=True)
    table = results_table(figures)
    print("\n" + table, flush=True)
    if not args.only:  # a partial run would replace the full table with a piece of it
        (HERE / "RESULTS.md").write_text(results_markdown(table, args.scale, load_before))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    payload = [{**asdict(f), "ratio": f.ratio, "verdict": f.verdict} for f in figures]
    (out / "latest.json").write_text(json.dumps(payload, indent=2, default=str))
    return 1 if any(f.verdict == "FAIL" for f in figures) else 0


if __name__ == "__main__":
    raise SystemExit(main())
