"""Importing consent statuses from another system: validation, history, what is left alone."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from schoolsms.consent.importer import ConsentImportError, consent_import, parse_changed_at
from schoolsms.consent.models import ConsentEvent, ConsentRecord
from schoolsms.consent.services import consent_change, consent_create_pending
from schoolsms.phones import to_e164

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def run(org: Any, *lines: str, header: str = "phone,sms_status,changed_at") -> Any:
    data = ("\n".join([header, *lines]) + "\n").encode()
    return consent_import(organization=org, file=io.BytesIO(data))


def status(phone: str) -> str:
    return ConsentRecord.objects.get(phone=phone).status


def test_import_sets_statuses_with_history_at_the_files_times(org: Any) -> None:
    org.timezone = "America/Chicago"
    org.save()
    summary = run(
        org,
        "(217) 555-0101,opted_in,2025-08-20",
        "217.555.0102,OPTED_OUT,2025-09-01T07:30:00",
        "+13125550150,pending,2025-09-02T12:00:00Z",
        "3125550151,opted_in,",
    )
    assert (summary.rows, summary.changed, summary.unchanged, summary.kept_newer) == (4, 4, 0, 0)
    event = ConsentEvent.objects.get(record__phone="+12175550101")
    assert (event.old_status, event.new_status, event.source) == ("", "opted_in", "import")
    assert event.created_at == dt.datetime(2025, 8, 20, tzinfo=CHICAGO)
    assert event.record.changed_at == event.created_at
    assert event.text == f"imported from another system on {timezone.localdate()}"
    assert ConsentEvent.objects.get(record__phone="+12175550102").created_at == dt.datetime(
        2025, 9, 1, 7, 30, tzinfo=CHICAGO
    )
    assert ConsentEvent.objects.get(record__phone="+13125550150").created_at == dt.datetime(
        2025, 9, 2, 12, tzinfo=dt.UTC
    )
    assert timezone.now() - ConsentRecord.objects.get(phone="+13125550151").changed_at < (
        dt.timedelta(minutes=1)
    )
    assert status("+12175550102") == "opted_out"


def test_progress_counts_rows_checked_before_the_write_begins(org: Any) -> None:
    # The import page polls the job from another connection: what is reported inside the
    # write's transaction would not be seen until it ends, so checking is what is counted.
    said: list[tuple[str, int]] = []
    data = "phone,sms_status\n" + "".join(f"+1217555{i:04d},opted_in\n" for i in range(2500))
    summary = consent_import(
        organization=org,
        file=io.BytesIO(data.encode()),
        progress=lambda done: said.append(("checked", done)),
        saving=lambda rows: said.append(("saving", rows)),
    )
    assert summary.changed == 2500
    assert said == [("checked", 1000), ("checked", 2000), ("checked", 2500), ("saving", 2500)]


def test_reimport_changes_nothing(org: Any) -> None:
    lines = ("2175550101,opted_in,2025-08-20", "2175550102,opted_out")
    run(org, *lines)
    summary = run(org, *lines)
    assert (summary.changed, summary.unchanged) == (0, 2)
    assert ConsentEvent.objects.count() == 2


def test_a_later_change_in_the_registry_wins_over_an_older_file(org: Any) -> None:
    consent_change(
        sender=org.sender,
        phone="+12175550101",
        new_status="opted_out",
        source="keyword",
        text="STOP",
        at=dt.datetime(2025, 10, 1, tzinfo=dt.UTC),
    )
    summary = run(org, "2175550101,opted_in,2025-08-20")
    assert (summary.changed, summary.kept_newer) == (0, 1)
    assert status("+12175550101") == "opted_out"
    # A newer row does change it, and history keeps both.
    run(org, "2175550101,opted_in,2025-10-02")
    assert status("+12175550101") == "opted_in"
    assert ConsentEvent.objects.filter(record__phone="+12175550101").count() == 2


def test_pending_from_a_contact_import_is_no_decision_so_the_file_wins(org: Any) -> None:
    consent_create_pending(sender=org.sender, phones=["+12175550101"], organization=org)
    summary = run(org, "2175550101,opted_in,2024-01-05")
    assert summary.changed == 1
    assert status("+12175550101") == "opted_in"


def test_every_bad_row_is_reported_and_nothing_is_written(org: Any) -> None:
    with pytest.raises(ConsentImportError) as info:
        run(
            org,
            "2175550101,opted_in,2025-08-20",
            "555-01,opted_in,",
            "2175550102,subscribed,",
            "2175550103,opted_out,yesterday",
            "217-555-0101,opted_out,",
            "2175550104,opted_in,2999-01-01",
        )
    messages = [str(e) for e in info.value.errors]
    assert messages[0].startswith("line 3, phone '555-01': ")
    assert messages[1:] == [
        "line 4, sms_status 'subscribed': must be one of pending, opted_in, opted_out",
        "line 5, changed_at 'yesterday': is not a date (2025-08-20) or date-time "
        "(2025-08-20T14:30)",
        "line 6, phone '217-555-0101': appears again (first on line 2)",
        "line 7, changed_at '2999-01-01': is in the future",
    ]
    assert not ConsentRecord.objects.exists()


def test_header_must_name_phone_and_status(org: Any) -> None:
    with pytest.raises(ConsentImportError) as info:
        run(org, "2175550101,yes", header="phone,consent")
    assert [str(e) for e in info.value.errors] == [
        "line 1, consent '': unknown column",
        "line 1, sms_status '': required column is missing",
    ]


def test_parse_changed_at() -> None:
    assert parse_changed_at("2025-08-20", CHICAGO) == dt.datetime(2025, 8, 20, tzinfo=CHICAGO)
    assert parse_changed_at("2025-08-20T10:00-04:00", CHICAGO).utcoffset() == dt.timedelta(hours=-4)
    with pytest.raises(ValueError):
        parse_changed_at("20/08/2025", CHICAGO)


def registry() -> tuple[list[Any], list[Any]]:
    return (
        list(ConsentRecord.objects.order_by("id").values_list()),
        list(ConsentEvent.objects.order_by("id").values_list()),
    )


consent_rows = st.lists(
    st.tuples(
        st.one_of(
            st.builds(lambda n: f"(217) 555-01{n:02d}", st.integers(0, 30)),
            st.sampled_from(["+1 312 555 0150", "312-555-0151", "555-01"]),
        ),
        st.sampled_from(
            ["opted_in", "OPTED_OUT", "pending", "opted_in", "opted_out"] * 2 + ["yes"]
        ),
        st.sampled_from(["", "2025-08-20", "2025-09-01T07:30", "", "2025-01-01Z"] * 2 + ["soon"]),
    ),
    max_size=4,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(table=consent_rows)
def test_any_consent_file_imports_fully_or_changes_nothing(
    org: Any, table: list[tuple[str, str, str]]
) -> None:
    before = registry()
    lines = [",".join(row) for row in table]
    try:
        summary = run(org, *lines)
    except ConsentImportError as exc:
        event("refused")
        assert exc.errors and registry() == before
        return
    event("imported")
    rows = [row for row in table if any(row)]
    assert summary.changed + summary.unchanged + summary.kept_newer == summary.rows == len(rows)
    for phone, status_text, _ in rows:
        record = ConsentRecord.objects.get(sender=org.sender, phone=to_e164(phone))
        assert record.status == status_text.lower() or summary.kept_newer
    assert ConsentEvent.objects.count() == len(before[1]) + summary.changed
