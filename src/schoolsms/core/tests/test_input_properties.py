"""Property tests (hypothesis) on what arrives from outside: any bytes as a contacts or consent
CSV either import fully or change nothing; any text given as a phone number parses to E.164 or
is refused with InvalidPhoneNumber; any Twilio-form status callback or inbound text, correctly
signed, is taken without an unhandled error and leaves every message in one valid result."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schoolsms.carriers import twilio_wire
from schoolsms.carriers.simulator.config import auth_token
from schoolsms.consent.importer import ConsentImportError, consent_import
from schoolsms.contacts.services import ContactImportError, contacts_import
from schoolsms.messaging.models import DeliveryResult, Message
from schoolsms.phones import InvalidPhoneNumber, to_e164
from schoolsms.reports.tests.factories import make_broadcast, make_message

pytestmark = pytest.mark.django_db

FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _state() -> dict[str, list[str]]:
    snapshot = {}
    for label in ("contacts.Contact", "contacts.PhoneNumber", "consent.ConsentRecord"):
        rows = apps.get_model(label).objects.order_by("pk").values()
        snapshot[label] = [json.dumps(r, default=str, sort_keys=True) for r in rows]
    return snapshot


HEADERS = [
    "external_id,first_name,last_name,phone1,sms1",
    "external_id,first_name,last_name,phone1,sms1,phone2,sms2,email,role",
    "phone,sms_status,changed_at",
    "phone,sms_status",
]
CELLS = st.one_of(
    st.sampled_from(["", "S1", "Ann", "yes", "no", "opted_in", "Opted Out", "2026-01-02"]),
    st.sampled_from(["217-555-0101", "(217) 555-0422 x12", "+44 20 7946 0958", "555"]),
    st.text(max_size=12),
)
LINES = st.lists(st.lists(CELLS, min_size=0, max_size=10).map(",".join), max_size=6)
FILES = st.one_of(
    st.builds(lambda h, rows: "\n".join([h, *rows]).encode(), st.sampled_from(HEADERS), LINES),
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@FAST
@given(data=FILES)
def test_any_contacts_file_imports_fully_or_changes_nothing(org: Any, data: bytes) -> None:
    before = _state()
    try:
        contacts_import(organization=org, file=io.BytesIO(data))
    except ContactImportError as exc:
        assert exc.errors, "a refusal names at least one row or column"
        assert _state() == before


@FAST
@given(data=FILES)
def test_any_consent_file_imports_fully_or_changes_nothing(org: Any, data: bytes) -> None:
    before = _state()
    try:
        consent_import(organization=org, file=io.BytesIO(data))
    except ConsentImportError as exc:
        assert exc.errors
        assert _state() == before


PHONES = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\+?[0-9 ().x#;=ext-]{0,25}", fullmatch=True),
    st.builds(lambda n: f"(217) 555-{n:04d}", st.integers(0, 9999)),
)


@settings(max_examples=400, deadline=None)
@given(text=PHONES, region=st.sampled_from(["US", "CA", "GB", "MX", "ZZ"]))
def test_any_text_parses_to_e164_or_is_refused(text: str, region: str) -> None:
    try:
        e164 = to_e164(text, region)
    except InvalidPhoneNumber as exc:
        assert str(exc)
        return
    assert e164.startswith("+") and e164[1:].isdigit() and len(e164) <= 16
    assert to_e164(e164, region) == e164  # stable: stored numbers parse to themselves


STATUSES = st.one_of(st.sampled_from([*twilio_wire.STATUSES, "read", ""]), st.text(max_size=8))
CODES = st.one_of(st.sampled_from(["", "30003", "30007", "21610", "30034"]), st.text(max_size=10))
FORM_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=40,
)


@FAST
@given(
    which=st.integers(0, 2),
    status=STATUSES,
    code=CODES,
    done=st.one_of(st.just(""), st.from_regex(r"[0-9]{10}", fullmatch=True), FORM_TEXT),
    extra=st.dictionaries(st.sampled_from(["AccountSid", "To", "From", "ApiVersion"]), FORM_TEXT),
)
def test_any_signed_status_callback_is_taken_safely(
    org: Any, which: int, status: str, code: str, done: str, extra: dict[str, str]
) -> None:
    broadcast = make_broadcast(org, "Callbacks")
    if not Message.objects.exists():
        for n in range(2):
            make_message(broadcast, None, f"+1217555010{n}", result="sending")
        for n, m in enumerate(Message.objects.order_by("pk")):
            Message.objects.filter(pk=m.pk).update(carrier_message_id=f"SM{n:032x}")
    # A retryable failure clears a row's sid for its next attempt: ask about those still held.
    sids = [
        *Message.objects.exclude(carrier_message_id=None).values_list(
            "carrier_message_id", flat=True
        ),
        "SMunknown",
    ]
    form = {
        **extra,
        "MessageSid": sids[which % len(sids)],
        "MessageStatus": status,
        "ErrorCode": code,
    }
    if done:
        form["RawDlrDoneDate"] = done
    path = f"/carriers/simulator/{org.sender.code}/status"
    url = django_settings.SCHOOLSMS_PUBLIC_URL + path
    signature = twilio_wire.sign(url=url, params=form, auth_token=auth_token(org.sender))
    client = Client(raise_request_exception=False)
    response = client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200, response.content[:300]
    for result in Message.objects.values_list("result", flat=True):
        assert result in DeliveryResult.values


@FAST
@given(sender_phone=FORM_TEXT, body=FORM_TEXT)
def test_any_signed_inbound_text_is_taken_safely(org: Any, sender_phone: str, body: str) -> None:
    path = f"/carriers/simulator/{org.sender.code}/inbound"
    form = {"From": sender_phone, "To": org.sender.code, "Body": body, "MessageSid": "SMin"}
    url = django_settings.SCHOOLSMS_PUBLIC_URL + path
    signature = twilio_wire.sign(url=url, params=form, auth_token=auth_token(org.sender))
    response = Client(raise_request_exception=False).post(
        path, form, HTTP_X_TWILIO_SIGNATURE=signature
    )
    assert response.status_code in (200, 400), response.content[:300]
