"""Reading uploaded CSV files for imports: decoding, header checks and row errors with line numbers.

Shared by the contact import and the consent import, so both report bad input the same way:
every problem as a `RowError` naming the line, the column and the value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

YES = frozenset({"yes", "true", "1", "y"})
NO = frozenset({"no", "false", "0", "n"})


@dataclass(frozen=True)
class RowError:
    """One problem in an import file. `line` is the file's line number (the header is line 1;
    0 when the problem is not on any one line)."""

    line: int
    field: str
    value: str
    message: str
    file: str = ""  # the file of a bundle (OneRoster's users.csv …); empty for a plain CSV

    def __str__(self) -> str:
        where = f"{self.file} " if self.file else ""
        if not self.line:
            return f"{where}{self.message}"  # about the whole file, not one line
        if not self.field:
            return f"{where}line {self.line}: {self.message}"
        return f"{where}line {self.line}, {self.field} '{self.value}': {self.message}"


class CsvImportError(Exception):
    """The file has at least one bad row; nothing was written. `errors` lists every problem."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        count = len(errors)
        first = f": {errors[0]}" if errors else ""
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the file{first}")


@dataclass(frozen=True)
class CsvRow:
    """A data row: its starting line number and its values by (normalized) column name."""

    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "").strip()


def decode(data: bytes) -> tuple[str, list[RowError]]:
    """UTF-8 with or without a byte-order mark; anything else is one clear error."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = (
            "the file is not UTF-8 text (byte "
            f"0x{data[exc.start]:02x} cannot be read); save it as 'CSV UTF-8' and import it again"
        )
        return "", [RowError(line=line, field="", value="", message=message)]


def normalize_column(name: str) -> str:
    return name.strip().lower()


class CsvFile:
    """A decoded CSV file with a header row. Iterate for rows; problems go to `errors`.

    `allowed` says which column names are known; `required` which must be present.
    """

    def __init__(
        self,
        file: BinaryIO,
        *,
        required: tuple[str, ...],
        allowed: Callable[[str], bool],
        name: str = "",
    ) -> None:
        self.name = name  # named in every error: the file within a bundle
        self.errors: list[RowError] = []
        self._read_header(file, required=required, allowed=allowed)
        if name:
            self.errors = [replace(e, file=name) for e in self.errors]

    def _read_header(
        self, file: BinaryIO, *, required: tuple[str, ...], allowed: Callable[[str], bool]
    ) -> None:
        text, self.errors = decode(file.read())
        self.columns: list[str] = []
        self._usable = False
        if self.errors:
            return
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        self._csv = reader
        try:
            header = next(reader, None)
        except csv.Error as exc:
            self.errors.append(RowError(1, "", "", f"the header row cannot be read ({exc})"))
            return
        if header is None or not any(cell.strip() for cell in header):
            self.errors.append(
                RowError(1, "", "", "the file is empty; the first row must name the columns")
            )
            return
        if len(header) == 1:
            for sep, name in ((";", "semicolons"), ("\t", "tabs")):
                if sep in header[0]:
                    self.errors.append(
                        RowError(1, "", "", f"the columns are separated by {name}; save the "
                                 "file as CSV (comma-separated) and import it again")
                    )  # fmt: skip
                    return
        self.columns = [normalize_column(c) for c in header]
        seen: set[str] = set()
        for raw, column in zip(header, self.columns, strict=True):
            if not column:
                continue  # spreadsheets often add unnamed columns; their cells must stay empty
            elif column in seen:
                self.errors.append(RowError(1, raw.strip(), "", "this column appears twice"))
            elif not allowed(column):
                self.errors.append(RowError(1, raw.strip(), "", "unknown column"))
            seen.add(column)
        for column in required:
            if column not in seen:
                self.errors.append(RowError(1, column, "", "required column is missing"))
        self._usable = not self.errors

    def error(self, line: int, field: str, value: str, message: str) -> None:
        self.errors.append(RowError(line, field, value, message, self.name))

    def __iter__(self) -> Iterator[CsvRow]:
        if not self._usable:
            return  # header problems make every row meaningless; they are reported alone
        width = len(self.columns)
        unnamed = [i for i, column in enumerate(self.columns) if not column]
        while True:
            start = self._csv.line_num + 1
            try:
                cells = next(self._csv)
            except StopIteration:
                return
            except csv.Error as exc:
                self.error(start, "", "", f"this row cannot be read as CSV ({exc})")
                return
            if not cells or not any(cell.strip() for cell in cells):
                continue  # blank lines are not rows
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                self.error(
                    start,
                    "",
                    "",
                    f"this row has {len(cells)} values but the header names {width} columns",
                )
                continue
            if unnamed and any(cells[i].strip() for i in unnamed if i < len(cells)):
                self.error(start, "", "", "this row has a value in a column with no name")
                continue
            if any("\x00" in cell for cell in cells):
                # No database stores NUL in text; refuse it here rather than fail mid-write.
                self.error(start, "", "", "this row contains a NUL character")
                continue
            yield CsvRow(line=start, values=dict(zip(self.columns, cells, strict=False)))


def parse_flag(value: str, *, default: bool) -> bool | None:
    """yes/no/true/false/1/0 (any case); blank is the default; None means not a flag."""
    text = value.strip().lower()
    if not text:
        return default
    if text in YES:
        return True
    if text in NO:
        return False
    return None
