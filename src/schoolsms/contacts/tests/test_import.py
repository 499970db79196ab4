"""The contact CSV import service: upsert, phone lists, consent, all-or-nothing, error reports."""

from __future__ import annotations

import io
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.consent.models import ConsentEvent, ConsentRecord
from schoolsms.consent.services import consent_change
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.contacts.services import ContactImportError, RowError, contacts_import

pytestmark = pytest.mark.django_db

HEADER = "external_id,first_name,last_name,email,language,role,school,phone1,sms1,phone2,sms2"


def csv_file(*lines: str, header: str = HEADER, bom: bool = False) -> io.BytesIO:
    text = "\n".join([header, *lines]) + "\n"
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + text.encode())


def do_import(org: Any, *lines: str, **kwargs: Any) -> Any:
    return contacts_import(organization=org, file=csv_file(*lines, **kwargs))


def errors_of(org: Any, *lines: str, **kwargs: Any) -> list[str]:
    with pytest.raises(ContactImportError) as info:
        do_import(org, *lines, **kwargs)
    return [str(e) for e in info.value.errors]


def phones_of(org: Any, external_id: str) -> list[tuple[str, bool]]:
    contact = Contact.objects.get(organization=org, external_id=external_id)
    return [(p.phone, p.sms_enabled) for p in contact.phones.all()]


ANN = "A1,Ann,Lee,ann@example.com,en,guardian,Lincoln Elementary,(217) 555-0101,yes,217.555.0102,no"
BOB = "B2,Bob,Ray,,es,staff,Roosevelt High,+1 312 555 0150,,,"


def test_import_creates_contacts_numbers_and_pending_consent(org: Any) -> None:
    summary = do_import(org, ANN, BOB)
    assert (summary.rows, summary.created, summary.updated, summary.unchanged) == (2, 2, 0, 0)
    assert summary.numbers == 3
    assert summary.pending_created == 2  # 217-555-0102 is sms=no
    ann = Contact.objects.get(organization=org, external_id="A1")
    assert (ann.first_name, ann.email, ann.role, ann.school) == (
        "Ann",
        "ann@example.com",
        "guardian",
        "Lincoln Elementary",
    )
    assert phones_of(org, "A1") == [("+12175550101", True), ("+12175550102", False)]
    assert phones_of(org, "B2") == [("+13125550150", True)]
    assert Contact.objects.get(external_id="B2").language == "es"
    records = dict(ConsentRecord.objects.values_list("phone", "status"))
    assert records == {"+12175550101": "pending", "+13125550150": "pending"}
    event = ConsentEvent.objects.get(record__phone="+12175550101")
    assert (event.old_status, event.new_status, event.source) == ("", "pending", "import")
    assert event.organization == org


def test_reimporting_the_same_file_changes_nothing(org: Any) -> None:
    do_import(org, ANN, BOB)
    before = list(Contact.objects.order_by("id").values_list("id", "updated_at"))
    phone_ids = list(PhoneNumber.objects.order_by("id").values_list("id", flat=True))
    events = ConsentEvent.objects.count()
    summary = do_import(org, ANN, BOB)
    assert (summary.created, summary.updated, summary.unchanged, summary.pending_created) == (
        0,
        0,
        2,
        0,
    )
    assert list(Contact.objects.order_by("id").values_list("id", "updated_at")) == before
    assert list(PhoneNumber.objects.order_by("id").values_list("id", flat=True)) == phone_ids
    assert ConsentEvent.objects.count() == events


def test_a_changed_row_updates_the_contact_and_replaces_its_phone_list(org: Any) -> None:
    do_import(org, ANN, BOB)
    PhoneNumber.objects.filter(phone="+12175550101").update(sms_capable=False)
    ann_before = Contact.objects.get(external_id="A1")
    summary = do_import(
        org,
        "A1,Ann,Lee-Park,ann@example.com,en,guardian,Lincoln Elementary,312-555-0199,,"
        "(217) 555-0101,yes",
        BOB,
    )
    assert (summary.updated, summary.unchanged, summary.pending_created) == (1, 1, 1)
    ann = Contact.objects.get(external_id="A1")
    assert ann.last_name == "Lee-Park" and ann.updated_at > ann_before.updated_at
    assert phones_of(org, "A1") == [("+13125550199", True), ("+12175550101", True)]
    # A number that stays keeps what delivery failures taught us about it.
    assert not PhoneNumber.objects.get(phone="+12175550101").sms_capable
    assert PhoneNumber.objects.get(phone="+13125550199").sms_capable
    # Dropping every number empties the list.
    do_import(org, "A1,Ann,Lee-Park,ann@example.com,en,guardian,Lincoln Elementary,,,,")
    assert phones_of(org, "A1") == []
    assert Contact.objects.filter(external_id="B2").exists()  # not in the file: left alone


def test_existing_consent_is_never_changed_by_an_import(org: Any) -> None:
    consent_change(
        sender=org.sender, phone="+12175550101", new_status="opted_out", source="keyword"
    )
    consent_change(sender=org.sender, phone="+13125550150", new_status="opted_in", source="web")
    summary = do_import(org, ANN, BOB)
    assert summary.pending_created == 0
    records = dict(ConsentRecord.objects.values_list("phone", "status"))
    assert records == {"+12175550101": "opted_out", "+13125550150": "opted_in"}
    assert ConsentEvent.objects.count() == 2


def test_a_number_turned_on_for_sms_later_gets_pending_then(org: Any) -> None:
    do_import(org, ANN)
    assert not ConsentRecord.objects.filter(phone="+12175550102").exists()
    do_import(org, ANN.replace("217.555.0102,no", "217.555.0102,yes"))
    assert ConsentRecord.objects.get(phone="+12175550102").status == "pending"


def test_utf8_with_and_without_bom(org: Any) -> None:
    row = "N1,José,Núñez,,es,guardian,Lincoln Elementary,2175550110,1,,"
    do_import(org, row, bom=True)
    contact = Contact.objects.get(external_id="N1")
    assert (contact.first_name, contact.last_name) == ("José", "Núñez")
    assert do_import(org, row).unchanged == 1  # the BOM did not become part of a column name


def test_a_file_that_is_not_utf8_is_one_clear_error(org: Any) -> None:
    data = (HEADER + "\nN1,Jos\xe9,Lee,,,,,,,,\n").encode("latin-1")
    with pytest.raises(ContactImportError) as info:
        contacts_import(organization=org, file=io.BytesIO(data))
    (error,) = info.value.errors
    assert error.line == 2
    assert "not UTF-8" in error.message and "CSV UTF-8" in error.message
    assert not Contact.objects.exists()


def test_every_bad_row_is_reported_and_nothing_is_written(org: Any) -> None:
    errors = errors_of(
        org,
        ANN,
        "C3,,Doe,not-an-email,en,teacher,,555-01,maybe,,",
        "A1,Ann,Again,,,,,,,,",
        "D4,Dee,Doe,,english,,,(217) 555-0120,,+44 20 7946 0000,",
        BOB,
    )
    assert errors == [
        "line 3, first_name '': is required",
        "line 3, email 'not-an-email': is not an email address",
        "line 3, role 'teacher': must be one of guardian, staff, student",
        "line 3, sms1 'maybe': must be yes/no, true/false or 1/0",
        "line 4, external_id 'A1': appears again (first on line 2)",
        "line 5, language 'english': is not a language code like en or es",
    ]
    assert not Contact.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_invalid_numbers_name_the_row_column_and_value(org: Any) -> None:
    errors = errors_of(org, "C3,Cy,Doe,,,,,555-01,,,", "C4,Cy,Doe,,,,,,,call me,")
    assert errors[0].startswith("line 2, phone1 '555-01': ")
    assert errors[1].startswith("line 3, phone2 'call me': ")
    assert "555-01" not in errors[0].split(": ", 1)[1]  # the reason does not repeat the value


def test_header_problems(org: Any) -> None:
    assert errors_of(org, "1,Ann,Lee,x", header="external_id,first_name,last_name,nickname") == [
        "line 1, nickname '': unknown column"
    ]
    assert errors_of(org, "1,Ann", header="external_id,first_name") == [
        "line 1, last_name '': required column is missing"
    ]
    assert errors_of(org, "1,Ann,Lee,yes", header="external_id,first_name,last_name,sms3") == [
        "line 1, sms3 '': there is no phone3 column for it to describe"
    ]
    with pytest.raises(ContactImportError, match="the file is empty"):
        contacts_import(organization=org, file=io.BytesIO(b""))


def test_unnamed_empty_columns_from_spreadsheets_are_ignored(org: Any) -> None:
    header = "external_id,first_name,last_name,,"
    assert do_import(org, "1,Ann,Lee,,", header=header).created == 1
    assert errors_of(org, "2,Bob,Ray,,oops", header=header) == [
        "line 2: this row has a value in a column with no name"
    ]


def test_a_semicolon_separated_file_gets_a_hint(org: Any) -> None:
    assert errors_of(org, "1;Ann;Lee", header="external_id;first_name;last_name") == [
        "line 1: the columns are separated by semicolons; save the file as CSV "
        "(comma-separated) and import it again"
    ]


def test_header_names_are_case_insensitive_and_phone_columns_order_by_number(org: Any) -> None:
    do_import(
        org,
        "X1,Al,Bo,2175550110,2175550111,2175550112",
        header="External_ID, First_Name ,LAST_NAME,Phone10,phone2,PHONE1",
    )
    assert [p for p, _ in phones_of(org, "X1")] == ["+12175550112", "+12175550111", "+12175550110"]


def test_a_row_with_more_values_than_columns_is_an_error(org: Any) -> None:
    assert errors_of(org, "1,Ann,Lee,extra", header="external_id,first_name,last_name") == [
        "line 2: this row has 4 values but the header names 3 columns"
    ]


def test_quoted_multiline_values_keep_line_numbers_right(org: Any) -> None:
    errors = errors_of(
        org,
        '1,Ann,Lee,,,,"Lincoln\nElementary",,,,',
        "2,Bob,,,,,,,,,",
        bom=True,
    )
    assert errors == ["line 4, last_name '': is required"]


def test_the_same_number_twice_on_a_contact_is_one_number(org: Any) -> None:
    do_import(org, "1,Ann,Lee,,,,,(217) 555-0101,no,217-555-0101,yes")
    assert phones_of(org, "1") == [("+12175550101", True)]


def test_numbers_are_read_in_the_organizations_region(db: Any) -> None:
    london = testing.create_org("london", sender_code="+447700900123")
    london.phone_region = "GB"
    london.save()
    do_import(london, "1,Ann,Lee,,,,,020 7946 0018,,,")
    assert phones_of(london, "1") == [("+442079460018", True)]


def test_organizations_are_separate(org: Any, other_org: Any) -> None:
    do_import(org, ANN)
    summary = do_import(other_org, ANN)
    assert summary.created == 1
    assert Contact.objects.filter(external_id="A1").count() == 2
    # Each sender has its own consent record for the number.
    assert ConsentRecord.objects.filter(phone="+12175550101").count() == 2


def test_progress_reports_rows_checked(org: Any) -> None:
    seen: list[int] = []
    rows = [f"E{i},Ann,Lee,,,,,,,," for i in range(2500)]
    contacts_import(organization=org, file=csv_file(*rows), progress=seen.append)
    assert seen == [1000, 2000, 2500]


def test_saving_is_announced_once_every_row_is_checked_and_before_anything_is_written(
    org: Any,
) -> None:
    steps: list[tuple[str, int]] = []

    def saving(rows: int) -> None:
        steps.append(("saving", rows))
        steps.append(("contacts so far", Contact.objects.filter(organization=org).count()))

    rows = [f"E{i},Ann,Lee,,,,,,,," for i in range(2500)]
    contacts_import(
        organization=org,
        file=csv_file(*rows),
        progress=lambda n: steps.append(("checked", n)),
        saving=saving,
    )
    assert steps == [
        ("checked", 1000),
        ("checked", 2000),
        ("checked", 2500),
        ("saving", 2500),
        ("contacts so far", 0),
    ]
    assert Contact.objects.filter(organization=org).count() == 2500
    steps.clear()
    with pytest.raises(ContactImportError):
        contacts_import(organization=org, file=csv_file("E1,,Lee,,,,,,,,"), saving=saving)
    assert steps == []  # a file with a bad row never gets to saving


def test_row_error_text() -> None:
    assert str(RowError(7, "phone2", "555-01", "too short")) == "line 7, phone2 '555-01': too short"
    assert str(RowError(3, "", "", "cannot be read")) == "line 3: cannot be read"
