"""A 200,000-contact district file imported through the web page of the real server (issue 11):
the import runs in the background worker while the Contacts page is timed every half second;
each answer must come within a second (the figure: the slowest answer against that second)."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Figure  # noqa: E402

from schoolsms.contacts.tests.serve_import import served_import  # noqa: E402


def run(scale: float) -> list[Figure]:
    rows = max(int(200_000 * scale), 1000)
    folder = Path(tempfile.mkdtemp(prefix="schoolsms-bench-web-import-"))
    try:
        result = served_import(folder, rows, timeout=1800)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if result.status != "done":
        raise RuntimeError(f"the web import ended {result.status}")
    times = result.page_seconds or [0.0]
    return [
        Figure(
            name=f"Contacts page during a {rows:,}-row web import (slowest answer)",
            ours_seconds=max(times),
            baseline_name="one second",
            baseline_seconds=1.0,
            limit_ratio=1.0,
            rows=rows,
            extra={
                "answers": len(times),
                "median_seconds": round(statistics.median(times), 3),
                "upload_seconds": round(result.upload_seconds, 1),
                "import_seconds": round(result.import_seconds, 1),
                # distinct row counts the progress bar showed while the worker checked the file
                "progress_steps": len({done for done, total in result.progress if total}),
            },
        )
    ]
