"""Helpers shared by the project's management commands: --org lookup, progress bars, row errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.core.management.base import CommandError, OutputWrapper
from tqdm import tqdm

from schoolsms.accounts.models import Organization
from schoolsms.csvimport import CsvImportError


def organization_get(slug: str) -> Organization:
    organization = Organization.objects.select_related("sender").filter(slug=slug).first()
    if organization is None:
        raise CommandError(f"--org: no organization with slug {slug!r}")
    return organization


def open_csv(path: str) -> BinaryIO:
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None


def count_rows(path: str) -> int:
    """Lines after the header: a good guess at the row count for a progress bar."""
    with Path(path).open("rb") as f:
        return max(0, sum(1 for _ in f) - 1)


@contextmanager
def progress_bar(total: int, unit: str = "row") -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr (only on a terminal); yields a callback taking the running count."""
    with tqdm(total=total, unit=unit, unit_scale=True, disable=None, leave=False) as bar:

        def update(done: int) -> None:
            bar.update(done - bar.n)

        yield update


def report_import_errors(exc: CsvImportError, stderr: OutputWrapper, path: str) -> CommandError:
    """Print every bad row to stderr; returns the error to raise (exit code 1)."""
    for error in exc.errors:
        stderr.write(f"{path}: {error}")
    count = len(exc.errors)
    return CommandError(
        f"{count} problem{'s' if count != 1 else ''} found; nothing was imported", returncode=1
    )
