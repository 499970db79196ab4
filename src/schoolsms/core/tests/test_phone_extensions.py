"""Phone extensions ("217-555-0422 x12") are refused, the same way everywhere: a text cannot
reach an extension, and dropping it silently would text an office's main line instead of the
person. The CSV import reports the row and column and imports nothing; pages and the API say
why; nothing is stored."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from schoolsms.accounts.services import api_token_create
from schoolsms.consent.models import BlockedNumber
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.contacts.services import ContactImportError, contacts_import
from schoolsms.phones import InvalidPhoneNumber, to_e164

EXTENSIONS = [
    "217-555-0422 x12",
    "(217) 555-0422 ext. 12",
    "+1 217 555 0422;ext=12",
    "2175550422#12",
]


@pytest.mark.parametrize("typed", EXTENSIONS)
def test_parsing_refuses_an_extension_and_says_why(typed: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match="extension"):
        to_e164(typed, "US")


def test_the_plain_number_still_parses() -> None:
    assert to_e164("217-555-0422", "US") == "+12175550422"


CSV = (
    "external_id,first_name,last_name,phone1,sms1\n"
    "S1,Ann,Lee,217-555-0101,yes\n"
    "S2,Bob,Ray,217-555-0422 x12,yes\n"
)


def test_csv_import_refuses_the_row_and_imports_nothing(org: Any) -> None:
    with pytest.raises(ContactImportError) as caught:
        contacts_import(organization=org, file=io.BytesIO(CSV.encode()))
    (error,) = caught.value.errors
    text = str(error)
    assert "3" in text and "phone1" in text and "extension" in text
    assert not Contact.objects.exists() and not PhoneNumber.objects.exists()


def test_cli_import_refuses_it_too(org: Any, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(CSV)
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("contacts", "import", "--org", org.slug, str(path), stderr=err)
    assert "extension" in err.getvalue()
    assert not Contact.objects.exists()


def test_web_block_form_refuses_it(admin_client: Any, org: Any) -> None:
    response = admin_client.post("/contacts/blocked/add/", {"phone": "217-555-0422 x12"})
    assert "extension" in response.content.decode()
    assert not BlockedNumber.objects.exists()


def test_api_refuses_it(client: Any, admin_user: Any, org: Any) -> None:
    key = api_token_create(user=admin_user)
    response = client.post(
        "/api/v1/consent/block",
        {"phone": "217-555-0422 x12"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 422
    assert "extension" in response.json()["detail"]
    assert not BlockedNumber.objects.exists()
