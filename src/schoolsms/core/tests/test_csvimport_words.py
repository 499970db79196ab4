"""CSV syntax problems are told in the words of someone editing a spreadsheet."""

from __future__ import annotations

import io

from schoolsms.csvimport import CsvFile


def test_a_broken_quote_is_explained_in_plain_words() -> None:
    data = io.BytesIO(b'external_id,first_name\nA1,"Ana\n')
    csv_file = CsvFile(data, required=("external_id",), allowed=lambda c: True)
    list(csv_file)
    [error] = csv_file.errors
    assert error.line == 2
    assert "a quoted value is never closed" in error.message and "EOF" not in error.message
