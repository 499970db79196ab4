"""`schoolsms report sms-log|sms-status`: both reports on the command line."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from schoolsms.accounts.models import Organization
from schoolsms.phones import InvalidPhoneNumber
from schoolsms.reports.exports import (
    SMS_LOG_HEADER,
    SMS_STATUS_HEADER,
    csv_chunks,
    sms_log_csv,
    sms_log_records,
    sms_status_records,
    text_time,
    xlsx_write,
)
from schoolsms.reports.params import ReportInputError, sms_log_filter
from schoolsms.reports.selectors import sms_log_summary
from schoolsms.reports.sms_status import (
    UnknownNumber,
    lookup_as_json,
    sms_status_lookup,
    sms_status_totals,
)

CLI_NAMES = {
    "broadcast": "--broadcast",
    "from": "--from",
    "to": "--to",
    "result": "--result",
    "reason": "--reason",
    "sort": "--sort",
}


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def json_lines(header: list[str], records: Iterable[list[Any]]) -> Iterator[str]:
    """A JSON array written object by object, so memory stays flat."""
    yield "["
    first = True
    for record in records:
        obj = {k: _json_value(v) for k, v in zip(header, record, strict=True)}
        yield ("\n" if first else ",\n") + json.dumps(obj)
        first = False
    yield "\n]\n"


def table_lines(header: list[str], records: Iterable[list[Any]]) -> Iterator[str]:
    """A plain text table with fixed column widths (long values are cut with …)."""
    width = 20

    def cell(value: Any) -> str:
        text = text_time(value) if isinstance(value, dt.datetime) else str(value)
        return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)

    yield " ".join(cell(h) for h in header).rstrip() + "\n"
    for record in records:
        yield " ".join(cell(v) for v in record).rstrip() + "\n"


class Command(BaseCommand):
    help = "Print or save the SMS Log and SMS Status reports of one organization."
    # Read-only: skip the system checks, which import every URL and API module (seconds of
    # start-up that a scripted export pays on every run).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="report", required=True, metavar="{sms-log,sms-status}")
        log = sub.add_parser("sms-log", help="what happened to each text, and why")
        log.add_argument("--org", required=True, metavar="SLUG")
        log.add_argument("--broadcast", action="append", default=[], metavar="ID")
        log.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
        log.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
        log.add_argument("--result", action="append", default=[], metavar="LABEL")
        log.add_argument("--reason", action="append", default=[], metavar="CODE")
        log.add_argument("--search", default="", help="name, external id or number")
        log.add_argument("--sort", default=None, help="date, broadcast, phone, result, delivered")
        log.add_argument("--format", choices=["table", "csv", "json", "xlsx"], default="table")
        log.add_argument("--output", metavar="FILE")
        log.add_argument("--summary", action="store_true", help="totals instead of rows")
        status = sub.add_parser("sms-status", help="opt-in status of the contacts' numbers")
        status.add_argument("--org", required=True, metavar="SLUG")
        which = status.add_mutually_exclusive_group(required=True)
        which.add_argument("--lookup", metavar="NUMBER")
        which.add_argument("--totals", action="store_true")
        which.add_argument("--all", action="store_true")
        status.add_argument("--format", choices=["table", "csv", "json", "xlsx"], default="table")
        status.add_argument("--output", metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.select_related("sender").filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"--org {options['org']!r}: no organization has that slug")
        if options["format"] == "xlsx" and not options["output"]:
            raise CommandError("--format xlsx writes a file: add --output FILE")
        try:
            if options["report"] == "sms-log":
                self.sms_log(org, options)
            else:
                self.sms_status(org, options)
        except ReportInputError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            # A full disk or a file size limit mid-export: no half file left to be taken for
            # the whole report.
            if not options["output"]:
                raise
            Path(options["output"]).unlink(missing_ok=True)
            raise CommandError(
                f"--output {options['output']!r}: {exc.strerror or exc}; the partial file "
                "was removed"
            ) from None

    @contextmanager
    def _out(self, options: dict[str, Any]) -> Iterator[IO[str]]:
        if options["output"]:
            try:
                handle = open(options["output"], "w", encoding="utf-8", newline="")  # noqa: SIM115
            except OSError as exc:
                raise CommandError(f"--output {options['output']!r}: {exc.strerror}") from None
            with handle:
                yield handle
        else:
            yield self.stdout  # type: ignore[misc]

    def _progress(self, total: int | None) -> tqdm[Any]:
        # On stderr, and only when it is a terminal: pipes and logs stay clean.
        return tqdm(total=total, unit=" rows", file=sys.stderr, disable=None, leave=False)

    def _emit(
        self,
        options: dict[str, Any],
        header: list[str],
        records: Any,
        total: int | None,
        sheet: str,
        csv_source: Callable[[Callable[[int], object] | None], Iterable[bytes]] | None = None,
    ) -> None:
        fmt = options["format"]
        with self._progress(total) as bar:
            progress = None if bar.disable else bar.update
            if fmt == "xlsx":
                xlsx_write(options["output"], header, records, sheet=sheet, progress=progress)
                return
            if fmt == "csv":
                chunks = (
                    csv_source(progress)
                    if csv_source
                    else csv_chunks(header, records, progress=progress)
                )
                self._write_bytes(options, chunks)
                return
            with self._out(options) as out:
                counted = self._count(records, bar)
                lines = (
                    json_lines(header, counted) if fmt == "json" else table_lines(header, counted)
                )
                for line in lines:
                    out.write(line)

    def _write_bytes(self, options: dict[str, Any], chunks: Iterable[bytes]) -> None:
        if not options["output"]:
            for chunk in chunks:
                self.stdout.write(chunk.decode(), ending="")
            return
        try:
            handle = open(options["output"], "wb")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"--output {options['output']!r}: {exc.strerror}") from None
        with handle:
            for chunk in chunks:
                handle.write(chunk)

    @staticmethod
    def _count(records: Iterable[list[Any]], bar: tqdm[Any]) -> Iterator[list[Any]]:
        for record in records:
            bar.update(1)
            yield record

    def sms_log(self, org: Organization, options: dict[str, Any]) -> None:
        f = sms_log_filter(
            org,
            broadcasts=options["broadcast"],
            date_from=options["date_from"],
            date_to=options["date_to"],
            results=options["result"],
            reasons=options["reason"],
            search=options["search"],
            sort=options["sort"],
            names=CLI_NAMES,
        )
        if options["summary"]:
            self._summary(sms_log_summary(f), options)
            return
        # The row count costs a query of its own: only worth it when someone watches the bar.
        total = sms_log_summary(f)["total"] if sys.stderr.isatty() else None
        self._emit(
            options,
            SMS_LOG_HEADER,
            sms_log_records(f),
            total,
            "SMS Log",
            csv_source=lambda progress: sms_log_csv(f, progress),
        )

    def _summary(self, summary: dict[str, Any], options: dict[str, Any]) -> None:
        fmt = options["format"]
        if fmt == "xlsx":
            rows = [["result", k, v] for k, v in summary["by_result"].items()]
            rows += [["reason", k, v] for k, v in summary["by_reason"].items()]
            xlsx_write(options["output"], ["group", "key", "count"], rows, sheet="Summary")
            return
        with self._out(options) as out:
            if fmt == "json":
                out.write(json.dumps(summary) + "\n")
            elif fmt == "csv":
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(["group", "key", "count"])
                writer.writerow(["total", "", summary["total"]])
                writer.writerows(["result", k, v] for k, v in summary["by_result"].items())
                writer.writerows(["reason", k, v] for k, v in summary["by_reason"].items())
            else:
                out.write(f"{'Total':<24}{summary['total']:>10}\n")
                for label, n in summary["by_result"].items():
                    out.write(f"{label:<24}{n:>10}\n")
                for code, n in summary["by_reason"].items():
                    out.write(f"  {code:<22}{n:>10}\n")

    def sms_status(self, org: Organization, options: dict[str, Any]) -> None:
        fmt = options["format"]
        if options["lookup"] is not None:
            self._lookup(org, options)
        elif options["totals"]:
            totals = sms_status_totals(org)
            rows = [[label, n] for label, n in totals.items()]
            if fmt == "json":
                with self._out(options) as out:
                    out.write(json.dumps(totals) + "\n")
            else:
                self._emit(options, ["sms_status", "count"], rows, None, "SMS Status totals")
        else:
            self._emit(options, SMS_STATUS_HEADER, sms_status_records(org), None, "SMS Status")

    def _lookup(self, org: Organization, options: dict[str, Any]) -> None:
        try:
            found = lookup_as_json(sms_status_lookup(org, options["lookup"]))
        except (InvalidPhoneNumber, UnknownNumber) as exc:
            raise CommandError(f"--lookup: {exc}") from None
        fmt = options["format"]
        if fmt == "json":
            with self._out(options) as out:
                out.write(json.dumps(found) + "\n")
            return
        contacts = "; ".join(f"{c['name']} ({c['external_id']})" for c in found["contacts"])
        summary = [
            [
                found["phone"],
                found["sms_status"],
                found["status_changed_at"] or "",
                "yes" if found["blocked"] else "no",
                contacts,
            ]
        ]
        header = ["phone", "sms_status", "status_changed_at", "blocked", "contacts"]
        if fmt != "table":
            self._emit(options, header, summary, None, "Lookup")
            return
        with self._out(options) as out:
            for key, value in zip(header, summary[0], strict=True):
                out.write(f"{key:<18}{value}\n")
            out.write("history:\n")
            for e in found["history"]:
                out.write(
                    f"  {e['at']}  {e['from'] or '—'} → {e['to']}  ({e['source']}) {e['text']}\n"
                )
            out.write("texted:\n")
            for t in found["keyword_history"]:
                out.write(f"  {t['at']}  {t['text']!r} ({t['keyword']}): {t['changed']}\n")
