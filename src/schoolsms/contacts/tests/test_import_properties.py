"""Property: any contacts file either imports fully or changes nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from schoolsms.consent.models import ConsentEvent, ConsentRecord
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.contacts.services import ContactImportError, contacts_import
from schoolsms.phones import to_e164

pytestmark = pytest.mark.django_db

COLUMNS = ["external_id", "first_name", "last_name", "email", "role", "phone1", "sms1", "phone2"]

# Mostly good values with a few bad ones, so examples land on both sides.
GOOD_NAMES = ["Ann", "José", "O'Brien", "Lee, Jr.", 'Say "hi"', "Zoë\nNewline", " Pad "]
names = st.one_of(
    st.sampled_from([*GOOD_NAMES, ""]), st.text(min_size=1, max_size=8).filter(str.strip)
)
emails = st.sampled_from(["", "", "", "a@example.com", "x@y.org", "Ann.Lee@example.org", "bad"])
roles = st.sampled_from(["", "", "guardian", "guardian", "STAFF", "student", "teacher"])
phones = st.one_of(
    st.just(""),
    st.builds(lambda n: f"(217) 555-01{n:02d}", st.integers(0, 99)),
    st.builds(lambda n: f"312.555.01{n:02d}", st.integers(0, 9)),
    st.sampled_from(["555-01", "+1 217 555 0100", "12175550101"]),
)
flags = st.sampled_from(["", "", "yes", "no", "0", "TRUE", "1", "false", "maybe"])
ids = st.sampled_from([*(str(n) for n in range(30)), " 7 ", ""])
rows = st.lists(st.tuples(ids, names, names, emails, roles, phones, flags, phones), max_size=4)


def state() -> tuple[list[Any], ...]:
    return (
        list(Contact.objects.order_by("id").values_list()),
        list(PhoneNumber.objects.order_by("id").values_list()),
        list(ConsentRecord.objects.order_by("id").values_list()),
        list(ConsentEvent.objects.order_by("id").values_list()),
    )


def encode(table: list[tuple[str, ...]], bom: bool) -> io.BytesIO:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    writer.writerows(table)
    return io.BytesIO(("\ufeff" if bom else "").encode() + text.getvalue().encode())


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(table=rows, bom=st.booleans())
def test_any_file_imports_fully_or_changes_nothing(
    org: Any, table: list[tuple[str, ...]], bom: bool
) -> None:
    before = state()
    try:
        summary = contacts_import(organization=org, file=encode(table, bom))
    except ContactImportError as exc:
        event("refused")
        assert exc.errors
        assert all(e.line >= 1 and str(e).startswith(f"line {e.line}") for e in exc.errors)
        assert state() == before
        return
    event("imported")
    assert summary.rows == len([row for row in table if any(v.strip() for v in row)])
    assert summary.created + summary.updated + summary.unchanged == len(table)
    for external_id, first, last, email, role, phone1, _, phone2 in table:
        if not any(v.strip() for v in (external_id, first, last, email, role, phone1, phone2)):
            continue  # a blank line is not a row
        contact = Contact.objects.get(organization=org, external_id=external_id.strip())
        assert (contact.first_name, contact.last_name, contact.email) == (
            first.strip(),
            last.strip(),
            email,
        )
        assert contact.role == (role.lower() or "guardian")
        expected = list(dict.fromkeys(to_e164(p) for p in (phone1, phone2) if p))
        assert [p.phone for p in contact.phones.all()] == expected
        for number in contact.phones.filter(sms_enabled=True):
            assert ConsentRecord.objects.filter(sender=org.sender, phone=number.phone).exists()
    # Importing the same file again changes nothing at all.
    after = state()
    again = contacts_import(organization=org, file=encode(table, bom))
    assert again.unchanged == len(table)
    assert state() == after
