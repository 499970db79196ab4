"""Importing OneRoster bundles: mapping, bulk and delta, links, inactivation, limit, refusals."""

from __future__ import annotations

import io
from typing import Any

import pytest

from schoolsms.consent.models import ConsentRecord
from schoolsms.consent.services import consent_change
from schoolsms.contacts.models import Contact, GuardianLink, PhoneNumber
from schoolsms.contacts.oneroster.services import roster_import
from schoolsms.contacts.services import ContactImportError, ImportSummary, TooManyInactivated
from schoolsms.contacts.sync import roster_settings_update
from schoolsms.contacts.tests.rosters import ORGS, bundle, table, user

pytestmark = pytest.mark.django_db


def load(org: Any, data: bytes, **kwargs: Any) -> ImportSummary:
    return roster_import(organization=org, file=io.BytesIO(data), size=len(data), **kwargs)


FAMILY = [
    user("stu-1", "Maya", "Lopez", "student", sms="", agentSourcedIds="par-1"),
    user("stu-2", "Leo", "Lopez", "student", org="org-central", agentSourcedIds="par-1"),
    user("par-1", "Rosa", "Lopez", "parent", email="rosa@example.org", sms="(217) 555-0101",
         phone="217-555-0199", agentSourcedIds="stu-1,stu-2"),
    user("tea-1", "Alan", "Turing", "teacher", org="org-central", sms="217 555 0102"),
    user("aid-1", "Ada", "King", "aide", org="district,org-lincoln", phone="2175550103"),
    user("rel-1", "Gus", "Lopez", "relative", sms="2175550104", enabledUser="false"),
]  # fmt: skip


def snapshot(org: Any) -> list[tuple[Any, ...]]:
    contacts = Contact.objects.filter(organization=org).order_by("external_id")
    return [
        (c.external_id, c.first_name, c.last_name, c.email, c.language, c.role, c.school,
         c.active, [(p.phone, p.sms_enabled) for p in c.phones.all()])
        for c in contacts
    ]  # fmt: skip


def links(org: Any) -> set[tuple[str, str]]:
    return set(
        GuardianLink.objects.filter(guardian__organization=org).values_list(
            "guardian__external_id", "student__external_id"
        )
    )


def test_a_bulk_bundle_maps_users_to_contacts(org: Any) -> None:
    summary = load(org, bundle(FAMILY))
    assert (summary.rows, summary.created, summary.inactivated) == (6, 6, 0)
    assert snapshot(org) == [
        ("aid-1", "Ada", "King", "", "en", "staff", "Lincoln Elementary", True,
         [("+12175550103", False)]),
        ("par-1", "Rosa", "Lopez", "rosa@example.org", "en", "guardian", "Lincoln Elementary",
         True, [("+12175550101", True), ("+12175550199", False)]),
        ("rel-1", "Gus", "Lopez", "", "en", "guardian", "Lincoln Elementary", False,
         [("+12175550104", True)]),
        ("stu-1", "Maya", "Lopez", "", "en", "student", "Lincoln Elementary", True, []),
        ("stu-2", "Leo", "Lopez", "", "en", "student", "Central High", True, []),
        ("tea-1", "Alan", "Turing", "", "en", "staff", "Central High", True,
         [("+12175550102", True)]),
    ]  # fmt: skip
    # Only SMS numbers become Pending Opt-In; a disabled user's number is still recorded.
    assert set(ConsentRecord.objects.values_list("phone", "status")) == {
        ("+12175550101", "pending"),
        ("+12175550102", "pending"),
        ("+12175550104", "pending"),
    }
    assert links(org) == {("par-1", "stu-1"), ("par-1", "stu-2")}
    assert summary.links_added == 2


def test_phone_the_same_as_sms_is_one_sms_number(org: Any) -> None:
    load(org, bundle([user("p", "A", "B", sms="2175550101", phone="(217) 555-0101")]))
    assert list(PhoneNumber.objects.values_list("phone", "sms_enabled")) == [("+12175550101", True)]


def test_importing_the_same_bundle_again_changes_nothing(org: Any) -> None:
    data = bundle(FAMILY)
    load(org, data)
    before = (snapshot(org), links(org), list(Contact.objects.values_list("updated_at")))
    again = load(org, data)
    assert (again.created, again.updated, again.unchanged, again.inactivated) == (0, 0, 6, 0)
    assert (again.links_added, again.links_removed, again.pending_created) == (0, 0, 0)
    assert (snapshot(org), links(org), list(Contact.objects.values_list("updated_at"))) == before


def test_a_guardian_of_two_students_is_linked_to_both_whichever_side_lists_it(org: Any) -> None:
    # Only the students name their guardian here; only the guardian names them in FAMILY.
    load(org, bundle([
        user("stu-1", "Maya", "Lopez", "student", agentSourcedIds="par-1"),
        user("stu-2", "Leo", "Lopez", "student", agentSourcedIds="par-1"),
        user("par-1", "Rosa", "Lopez", "guardian"),
    ]))  # fmt: skip
    assert links(org) == {("par-1", "stu-1"), ("par-1", "stu-2")}
    # A later roster that drops one link drops only that one.
    summary = load(org, bundle([
        user("stu-1", "Maya", "Lopez", "student", agentSourcedIds="par-1"),
        user("stu-2", "Leo", "Lopez", "student"),
        user("par-1", "Rosa", "Lopez", "guardian"),
    ]))  # fmt: skip
    assert links(org) == {("par-1", "stu-1")}
    assert (summary.links_added, summary.links_removed) == (0, 1)


def test_a_user_moving_schools_changes_school_only(org: Any) -> None:
    load(org, bundle(FAMILY))
    moved = [dict(u, orgSourcedIds="org-central") if u["sourcedId"] == "stu-1" else u
             for u in FAMILY]  # fmt: skip
    summary = load(org, bundle(moved))
    assert (summary.updated, summary.unchanged) == (1, 5)
    assert Contact.objects.get(external_id="stu-1").school == "Central High"


def test_leaving_the_roster_makes_inactive_and_coming_back_keeps_consent(org: Any) -> None:
    load(org, bundle(FAMILY))
    consent_change(sender=org.sender, phone="+12175550102", new_status="opted_in",
                   source="keyword", organization=org)  # fmt: skip
    without_teacher = [u for u in FAMILY if u["sourcedId"] != "tea-1"]
    summary = load(org, bundle(without_teacher))
    assert (summary.inactivated, summary.unchanged) == (1, 5)
    teacher = Contact.objects.get(external_id="tea-1")
    assert not teacher.active
    assert list(teacher.phones.values_list("phone", flat=True)) == ["+12175550102"]
    assert ConsentRecord.objects.get(phone="+12175550102").status == "opted_in"

    back = load(org, bundle(FAMILY))
    assert (back.reactivated, back.updated, back.inactivated) == (1, 1, 0)
    teacher.refresh_from_db()
    assert teacher.active
    assert ConsentRecord.objects.get(phone="+12175550102").status == "opted_in"


def test_a_delta_changes_only_what_it_lists(org: Any) -> None:
    load(org, bundle(FAMILY))
    summary = load(org, bundle(
        [user("tea-1", "Alan", "Turing", "teacher", org="org-lincoln", sms="217 555 0102"),
         user("new-1", "Kim", "Park", "parent", sms="2175550110"),
         {"sourcedId": "aid-1", "status": "tobedeleted"}],
        mode="delta", orgs=[],
        files={"orgs.csv": table(["sourcedId", "status", "dateLastModified", "name", "type"], [])},
    ))  # fmt: skip
    assert (summary.created, summary.updated, summary.inactivated) == (1, 1, 1)
    states = dict(Contact.objects.values_list("external_id", "active"))
    assert states == {"aid-1": False, "par-1": True, "rel-1": False, "stu-1": True,
                      "stu-2": True, "tea-1": True, "new-1": True}  # fmt: skip
    # The school comes from the orgs remembered from the earlier bundle.
    assert Contact.objects.get(external_id="tea-1").school == "Lincoln Elementary"
    assert links(org) == {("par-1", "stu-1"), ("par-1", "stu-2")}


def test_a_roster_inactivating_more_than_the_limit_stops_until_confirmed(org: Any) -> None:
    people = [user(f"p{i}", "Pat", f"N{i}", sms=f"217555{i:04d}") for i in range(10)]
    load(org, bundle(people))
    before = snapshot(org)
    with pytest.raises(TooManyInactivated) as stopped:
        load(org, bundle(people[:7]))  # 3 of 10 gone: 30% > 20%
    assert (stopped.value.inactivating, stopped.value.active) == (3, 10)
    assert "3 of 10 active contacts inactive (30%" in str(stopped.value)
    assert snapshot(org) == before
    # 2 of 10 is within the limit; a delta's removals count the same way.
    assert load(org, bundle(people[:8])).inactivated == 2
    with pytest.raises(TooManyInactivated):
        load(org, bundle([{"sourcedId": "p0", "status": "tobedeleted"},
                          {"sourcedId": "p1", "status": "tobedeleted"}], mode="delta"))  # fmt: skip
    assert load(org, bundle(people[:5]), confirmed=True).inactivated == 3
    roster_settings_update(organization=org, inactivate_limit_percent=100)
    assert load(org, bundle(people[:1])).inactivated == 4


def test_language_comes_from_the_metadata_column_the_settings_name(org: Any) -> None:
    people = [user("p1", "Ana", "Diaz", **{"metadata.language": "es"}),
              user("p2", "Bo", "Li", **{"metadata.language": ""})]  # fmt: skip
    load(org, bundle(people))
    assert dict(Contact.objects.values_list("external_id", "language")) == {"p1": "en", "p2": "en"}
    roster_settings_update(organization=org, language_column="metadata.language")
    load(org, bundle(people))
    assert dict(Contact.objects.values_list("external_id", "language")) == {"p1": "es", "p2": "en"}
    with pytest.raises(ContactImportError) as refused:
        load(org, bundle([user("p1", "Ana", "Diaz")]))
    assert [str(e) for e in refused.value.errors] == [
        "users.csv line 1, metadata.language '': the column the roster settings name for the "
        "language is missing"
    ]


def test_a_oneroster_12_bundle_takes_roles_from_roles_csv(org: Any) -> None:
    people = [
        {"sourcedId": "s1", "enabledUser": "true", "givenName": "Maya", "familyName": "Lopez",
         "agentSourcedIds": "g1"},
        {"sourcedId": "g1", "enabledUser": "true", "givenName": "Rosa", "familyName": "Lopez",
         "sms": "2175550101", "primaryOrgSourcedId": "org-central"},
    ]  # fmt: skip
    roles = [
        {"sourcedId": "r1", "userSourcedId": "s1", "roleType": "primary", "role": "student",
         "orgSourcedId": "org-lincoln"},
        {"sourcedId": "r2", "userSourcedId": "g1", "roleType": "primary", "role": "guardian",
         "orgSourcedId": "org-lincoln"},
    ]  # fmt: skip
    load(org, bundle(people, version="1.2", roles=roles))
    assert snapshot(org) == [
        ("g1", "Rosa", "Lopez", "", "en", "guardian", "Central High", True,
         [("+12175550101", True)]),
        ("s1", "Maya", "Lopez", "", "en", "student", "Lincoln Elementary", True, []),
    ]  # fmt: skip
    assert links(org) == {("g1", "s1")}


def test_a_bundle_zipped_from_a_folder_is_read_the_same(org: Any) -> None:
    assert load(org, bundle(FAMILY, folder="export-2026-12-01/")).created == 6


def refused(org: Any, data: bytes) -> list[str]:
    load(org, bundle(FAMILY))
    before = (snapshot(org), links(org), ConsentRecord.objects.count())
    with pytest.raises(ContactImportError) as caught:
        load(org, data)
    assert (snapshot(org), links(org), ConsentRecord.objects.count()) == before
    return [str(e) for e in caught.value.errors]


def test_a_broken_row_refuses_the_bundle_naming_file_line_and_column(org: Any) -> None:
    people = [
        *FAMILY[:2],
        user("x-1", "", "Nobody", "parent", sms="555-01"),
        user("x-2", "Jo", "Ray", "janitor", org="org-nowhere", email="not-an-email"),
        user("x-3", "Al", "Bo", enabledUser="maybe", status="gone"),
    ]
    assert refused(org, bundle(people)) == [
        "users.csv line 4, givenName '': is required",
        "users.csv line 4, sms '555-01': is not a valid phone number for region US",
        "users.csv line 5, role 'janitor': must be one of administrator, aide, counselor, "
        "districtadministrator, guardian, parent, principal, proctor, relative, "
        "siteadministrator, student, systemadministrator, teacher",
        "users.csv line 5, orgSourcedIds 'org-nowhere': names no org of orgs.csv",
        "users.csv line 5, email 'not-an-email': is not an email address",
        "users.csv line 6, status 'gone': must be active or tobedeleted",
        "users.csv line 6, enabledUser 'maybe': must be true or false",
    ]


def test_a_row_that_is_not_csv_refuses_the_bundle(org: Any) -> None:
    users = table(["sourcedId", "givenName", "familyName", "role", "orgSourcedIds"],
                  [{"sourcedId": "a", "givenName": "A", "familyName": "B", "role": "parent",
                    "orgSourcedIds": "org-lincoln"}])  # fmt: skip
    broken = users + 'b,"C,D,parent,org-lincoln\r\n'
    errors = refused(org, bundle([], files={"users.csv": broken}))
    assert len(errors) == 1 and errors[0].startswith("users.csv line 3: this row cannot be read")


@pytest.mark.parametrize("missing", ["manifest.csv", "orgs.csv", "users.csv"])
def test_a_missing_required_file_refuses_the_bundle(org: Any, missing: str) -> None:
    errors = refused(org, bundle(FAMILY, leave_out=[missing]))
    assert len(errors) == 1
    assert errors[0].startswith(f"{missing} ") and f"{missing} is missing" in errors[0]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"version": "1.0"}, "manifest.csv line 3, value '1.0': unknown oneroster.version 1.0; "
                             "this version of SchoolSMS reads 1.1, 1.2"),
        ({"manifest_version": "2.0"}, "manifest.csv line 2, value '2.0': unknown manifest.version "
                                      "2.0; this version of SchoolSMS reads 1.0"),
    ],
)  # fmt: skip
def test_an_unknown_manifest_version_refuses_the_bundle(
    org: Any, kwargs: dict[str, str], expected: str
) -> None:
    assert refused(org, bundle(FAMILY, **kwargs)) == [expected]


def test_a_sourced_id_used_twice_refuses_the_bundle(org: Any) -> None:
    twice = [*FAMILY, user("stu-1", "Other", "Maya", "student")]
    assert refused(org, bundle(twice)) == [
        "users.csv line 8, sourcedId 'stu-1': is used twice (first on line 2)"
    ]
    orgs = [*ORGS, {"sourcedId": "org-central", "name": "Central Again", "type": "school"}]
    assert refused(org, bundle(FAMILY, orgs=orgs)) == [
        "orgs.csv line 5, sourcedId 'org-central': is used twice (first on line 4)"
    ]


def test_a_zip_that_is_not_a_roster_is_refused(org: Any) -> None:
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", b"not a roster")
    errors = refused(org, buffer.getvalue())
    assert errors == [
        "manifest.csv this zip is not a OneRoster bundle: required file manifest.csv is missing"
    ]
