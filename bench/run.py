"""`make bench`: runs bench/bench_*.py; each figure is a ratio to the raw storage limit.

Each module defines `run(scale: float) -> list[Figure]` (Figure is in bench/common.py).
`--scale` shrinks every size (0.01 for a quick look); the issues' targets are for scale 1.
Results go to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure  # noqa: E402


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
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    payload = [{**asdict(f), "ratio": f.ratio, "verdict": f.verdict} for f in figures]
    (out / "latest.json").write_text(json.dumps(payload, indent=2, default=str))
    return 1 if any(f.verdict == "FAIL" for f in figures) else 0


if __name__ == "__main__":
    raise SystemExit(main())
