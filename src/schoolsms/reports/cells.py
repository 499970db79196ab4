"""Formula protection for every exported text cell.

Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with
= + - @ tab or carriage return as a formula, so every such text cell gets a leading apostrophe.
One exception keeps phone numbers readable: an E.164 number (`+` then ASCII digits only, e.g.
+12175550123) cannot be a formula that does anything, so it is written as it is.
"""

from __future__ import annotations

FORMULA_START = frozenset("=+-@\t\r")


def safe_text(value: str) -> str:
    """The text a spreadsheet shows as text, never runs."""
    if value[:1] in FORMULA_START and value:
        rest = value[1:]
        if not (value[0] == "+" and rest.isascii() and rest.isdigit()):
            return "'" + value
    return value
