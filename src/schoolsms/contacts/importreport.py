"""How an import's problems are kept and shown: the first MAX_SHOWN in full, then a count of
each kind, so a file with 50,000 unknown columns gives a short page (one place for every page,
report file and command that shows import errors)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from schoolsms.csvimport import RowError

MAX_SHOWN = 200
MAX_KINDS = 10


def errors_keep(errors: Sequence[RowError]) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """The first MAX_SHOWN errors as plain dicts, and the most common kinds of problem
    (message, how many) among all of them."""
    shown = [
        {
            "file": e.file,
            "line": e.line,
            "field": e.field,
            "value": e.value[:200],
            "message": e.message,
        }
        for e in errors[:MAX_SHOWN]
    ]
    # A header's problems differ by column name ("unknown column" x 50,000): counted together.
    kinds = Counter((e.file, e.field if e.line > 1 else "", e.message) for e in errors)
    common = [[_kind_label(f, c, m), n] for (f, c, m), n in kinds.most_common(MAX_KINDS)]
    return shown, common


def _kind_label(file: str, column: str, message: str) -> str:
    where = " ".join(x for x in (file, column) if x)
    return f"{where}: {message}" if where else message


def errors_text(shown: Sequence[dict[str, Any]], total: int, kinds: Sequence[Sequence[Any]]) -> str:
    """The same, as plain text lines (drop-folder reports)."""
    lines = [
        str(RowError(e["line"], e["field"], e["value"], e["message"], e["file"])) for e in shown
    ]
    if total > len(shown):
        lines.append(f"... and {total - len(shown):,} more problems. Most common:")
        lines.extend(f"  {count:,} x {label}" for label, count in kinds)
    return "\n".join(lines)
