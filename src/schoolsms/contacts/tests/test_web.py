"""Contacts tab through the real HTTP stack: search, detail with consent history, block, import."""

from __future__ import annotations

from typing import Any

import pytest

from schoolsms import testing
from schoolsms.consent.models import BlockedNumber, ConsentRecord
from schoolsms.consent.services import consent_change
from schoolsms.contacts.models import Contact, PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org: Any) -> dict[str, Contact]:
    return {
        "ana": testing.create_contact(
            org,
            "S-1",
            ["+12175550142", ("+12175550143", False)],
            first_name="Ana",
            last_name="García",
            email="ana@example.org",
            school="Lincoln Elementary",
            consent="opted_in",
        ),
        "bo": testing.create_contact(
            org,
            "S-2",
            ["+12175550150"],
            first_name="Bo",
            last_name="Nguyen",
            role="staff",
            school="Central High",
            consent="pending",
        ),
        "cy": testing.create_contact(org, "S-3", [], first_name="Cy", last_name="Adams"),
    }


def _names(response: Any) -> list[str]:
    return [f"{c.first_name} {c.last_name}" for c, _ in response.context["rows"]]


def test_list_shows_each_number_with_its_sms_status(admin_client: Any, people: Any) -> None:
    response = admin_client.get("/contacts/")
    assert response.status_code == 200
    assert _names(response) == ["Cy Adams", "Ana García", "Bo Nguyen"]
    html = response.content.decode()
    assert "(217) 555-0142" in html
    assert "Opted In" in html and "Pending Opt-In" in html and "SMS off" in html
    assert "No phone number" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ana", ["Ana García"]),
        ("garcía ana", ["Ana García"]),
        ("S-2", ["Bo Nguyen"]),
        ("ANA@EXAMPLE", ["Ana García"]),
        ("(217) 555-0150", ["Bo Nguyen"]),
        ("+1 217 555 0150", ["Bo Nguyen"]),
        ("217.555.0143", ["Ana García"]),  # a number without SMS is still the contact's
        ("0150", ["Bo Nguyen"]),
        ("nobody", []),
    ],
)
def test_search_by_name_id_email_and_phone_in_any_format(
    admin_client: Any, people: Any, query: str, expected: list[str]
) -> None:
    response = admin_client.get("/contacts/", {"q": query})
    assert _names(response) == expected


def test_filters_by_role_and_school(admin_client: Any, people: Any) -> None:
    assert _names(admin_client.get("/contacts/", {"role": "staff"})) == ["Bo Nguyen"]
    response = admin_client.get("/contacts/", {"school": "Lincoln Elementary"})
    assert _names(response) == ["Ana García"]
    assert "Central High" in response.content.decode()  # offered as a choice


def test_the_school_filter_offers_each_school_once_in_order(
    admin_client: Any, people: Any, org: Any, other_org: Any
) -> None:
    for i, school in enumerate(["Lincoln Elementary", "Adams Middle", "Adams Middle", ""]):
        testing.create_contact(org, f"M{i}", school=school)
    testing.create_contact(other_org, "T-9", school="Shelbyville Academy")
    form = admin_client.get("/contacts/").context["form"]
    assert [label for _, label in form.fields["school"].choices] == [
        "All schools",
        "Adams Middle",
        "Central High",
        "Lincoln Elementary",
    ]


def test_a_search_that_finds_a_page_or_less_is_counted_from_its_rows(
    admin_client: Any, people: Any, django_assert_max_num_queries: Any
) -> None:
    page = admin_client.get("/contacts/", {"q": "ana"})
    assert page.context["page"].paginator.count == 1
    assert "1 contact found" in page.content.decode()
    with django_assert_max_num_queries(20) as captured:
        admin_client.get("/contacts/", {"q": "adams"})
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert not any("contacts_contact" in sql for sql in counts)  # read once, not counted


def test_pagination_keeps_the_search(admin_client: Any, org: Any) -> None:
    Contact.objects.bulk_create(
        Contact(organization=org, external_id=f"X{i:03}", first_name="Kim", last_name=f"Z{i:03}")
        for i in range(120)
    )
    first = admin_client.get("/contacts/", {"q": "kim"})
    assert first.context["page"].paginator.count == 120
    assert len(first.context["rows"]) == 50
    assert "q=kim&amp;page=2" in first.content.decode()
    last = admin_client.get("/contacts/", {"q": "kim", "page": 3})
    assert _names(last)[-1] == "Kim Z119" and len(last.context["rows"]) == 20


def test_detail_shows_numbers_status_and_history(
    admin_client: Any, admin_user: Any, people: Any, org: Any
) -> None:
    ana = people["ana"]
    consent_change(
        sender=org.sender,
        phone="+12175550142",
        new_status="opted_out",
        source="keyword",
        text="STOP please",
    )
    consent_change(
        sender=org.sender,
        phone="+12175550142",
        new_status="opted_in",
        source="web",
        actor=admin_user,
    )
    response = admin_client.get(f"/contacts/{ana.pk}/")
    assert response.status_code == 200
    numbers = response.context["numbers"]
    assert [(n.phone, n.sms_enabled, n.status) for n in numbers] == [
        ("+12175550142", True, "opted_in"),
        ("+12175550143", False, None),
    ]
    assert [(e.old_status, e.new_status, e.source) for e in numbers[0].history] == [
        ("", "opted_in", "admin"),
        ("opted_in", "opted_out", "keyword"),
        ("opted_out", "opted_in", "web"),
    ]
    html = response.content.decode()
    assert "STOP please" in html
    assert "admin@springfield.example.org" in html
    assert "Keyword texted to the short code" in html
    assert "No consent record" in html


def test_block_and_unblock_from_the_contact_page(admin_client: Any, people: Any, org: Any) -> None:
    ana = people["ana"]
    page = f"/contacts/{ana.pk}/"
    response = admin_client.post(
        "/contacts/blocked/add/",
        {"phone": "+12175550142", "reason": "asked by phone", "next": page},
        follow=True,
    )
    assert response.redirect_chain == [(page, 302)]
    blocked = BlockedNumber.objects.get(organization=org)
    assert (blocked.phone, blocked.reason) == ("+12175550142", "asked by phone")
    assert response.context["numbers"][0].blocked
    assert "Blocked" in response.content.decode()
    # Blocking never touches consent.
    assert ConsentRecord.objects.get(phone="+12175550142").status == "opted_in"

    data = {"phone": "+12175550142", "next": page}
    asked = admin_client.post("/contacts/blocked/remove/", data).content.decode()
    assert "Unblock (217) 555-0142?" in asked and f'href="{page}"' in asked
    assert BlockedNumber.objects.exists()
    admin_client.post("/contacts/blocked/remove/", {**data, "confirmed": "yes"})
    assert not BlockedNumber.objects.exists()


def test_admin_clears_the_cannot_take_sms_mark(client: Any, people: Any, org: Any) -> None:
    ana = people["ana"]
    PhoneNumber.objects.filter(phone="+12175550142").update(sms_capable=False)
    page = f"/contacts/{ana.pk}/"
    sender = testing.create_user(org, "sender@springfield.example.org", "sender")
    client.force_login(sender)
    assert "Cannot take SMS" in client.get(page).content.decode()
    assert client.post("/contacts/capability-reset/", {"phone": "+12175550142"}).status_code == 403

    client.force_login(testing.create_user(org, "boss@springfield.example.org", "admin"))
    response = client.post(
        "/contacts/capability-reset/", {"phone": "(217) 555-0142", "next": page}, follow=True
    )
    assert response.redirect_chain == [(page, 302)]
    assert "will be texted again" in response.content.decode()
    assert PhoneNumber.objects.get(phone="+12175550142").sms_capable
    assert "Cannot take SMS" not in response.content.decode()


def test_block_list_page_accepts_any_format_and_rejects_garbage(
    admin_client: Any, org: Any
) -> None:
    admin_client.post("/contacts/blocked/add/", {"phone": "(217) 555-0199", "reason": "x"})
    assert list(BlockedNumber.objects.values_list("phone", flat=True)) == ["+12175550199"]
    listing = admin_client.get("/contacts/blocked/")
    assert "(217) 555-0199" in listing.content.decode()
    bad = admin_client.post("/contacts/blocked/add/", {"phone": "call me"})
    assert bad.status_code == 400
    assert "is not a phone number" in bad.content.decode()


def test_next_must_stay_on_this_site(admin_client: Any, org: Any) -> None:
    response = admin_client.post(
        "/contacts/blocked/add/", {"phone": "2175550199", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/contacts/blocked/"


def test_search_finds_a_name_as_lists_show_it_and_filters_by_sms_status(
    admin_client: Any, org: Any
) -> None:
    testing.create_contact(
        org, "A1", ["+12175550191"], first_name="William", last_name="Adams", consent="pending"
    )
    testing.create_contact(
        org, "A2", ["+12175550192"], first_name="Willa", last_name="Adamson", consent="opted_in"
    )
    landline = testing.create_contact(org, "A3", [], first_name="Lan", last_name="Dline")
    landline.phones.create(position=1, phone="+12175550193", sms_capable=False)
    page = admin_client.get("/contacts/", {"q": "Adams, William"}).content.decode()
    assert "1 contact found" in page and "A1" in page and "Adamson" not in page
    page = admin_client.get("/contacts/", {"sms_status": "opted_in"}).content.decode()
    assert "1 contact found" in page and "A2" in page
    page = admin_client.get("/contacts/", {"sms_status": "cannot_take_sms"}).content.decode()
    assert "1 contact found" in page and "A3" in page
    assert '<option value="cannot_take_sms" selected>Cannot take SMS</option>' in page
    assert page.count('<span class="badge badge-muted">Cannot take SMS</span>') == 1  # its row


def test_numbers_read_in_the_organizations_national_format(admin_client: Any, org: Any) -> None:
    org.phone_region = "GB"
    org.save()
    contact = testing.create_contact(
        org, "UK1", ["+442079460018", "+12175550101"], first_name="Ada", last_name="Lovelace"
    )
    page = admin_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "020 7946 0018" in page  # national: the organization is in the United Kingdom
    assert "+1 217-555-0101" in page  # another country's number: international
    assert "<dt>Language</dt><dd>English</dd>" in page  # a language by its name, not "en"
    listing = admin_client.get("/contacts/").content.decode()
    assert "020 7946 0018" in listing
