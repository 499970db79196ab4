"""Formula protection for every exported text cell: the one rule, for Python and for SQL.

Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with
= + - @ tab or carriage return as a formula, so every such text cell gets a leading apostrophe.
One exception keeps phone numbers readable: an E.164 number (`+` then ASCII digits only, e.g.
+12175550123) cannot be a formula that does anything, so it is written as it is.

`safe_text` applies the rule to a value; `safe_text_sql` writes the same rule as an SQL
expression for the database-side CSV writers (a test runs both on the same cells).
"""

from __future__ import annotations

FORMULA_START = "-=+@\t\r"  # "-" first: it is then literal in a GLOB character class


def safe_text(value: str) -> str:
    """The text a spreadsheet shows as text, never runs."""
    if value[:1] in FORMULA_START and value:
        rest = value[1:]
        if not (value[0] == "+" and rest.isascii() and rest.isdigit()):
            return "'" + value
    return value


def safe_text_sql(expr: str, vendor: str, *, test: str | None = None) -> str:
    """`safe_text` as an SQL expression over the text `expr`, for "postgresql" or "sqlite".

    `test`, when given, is a plain column that starts and is shaped like `expr` (the column
    `expr` is built from): SQLite then tests the cheap column read instead of the expression."""
    if vendor == "postgresql":
        starts = ", ".join(_pg_char(c) for c in FORMULA_START)
        return (
            f"CASE WHEN left({expr}, 1) IN ({starts})"
            f" AND {expr} !~ '^[+][0-9]+$' THEN '''' || {expr} ELSE {expr} END"
        )
    if vendor == "sqlite":
        # Literal patterns with the real tab and CR characters in them: nothing built per row.
        t = test or expr
        return (
            f"CASE WHEN {t} GLOB '[{FORMULA_START}]*'"
            f" THEN CASE WHEN {t} GLOB '+[0-9]*' AND NOT {t} GLOB '+*[^0-9]*'"
            f" THEN {expr} ELSE '''' || {expr} END ELSE {expr} END"
        )
    raise ValueError(f"no SQL formula protection for {vendor!r}")


def _pg_char(char: str) -> str:
    return f"'{char}'" if char.isprintable() else f"chr({ord(char)})"
