"""Broadcasts in the family's language: a text per language, chosen per recipient by the
contact's `language`, through the web form, the CLI and the API; the SMS Log says which."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.messaging import selectors, services
from schoolsms.messaging.models import Broadcast, Message
from schoolsms.messaging.tests.pipeline_helpers import run_worker

pytestmark = pytest.mark.django_db(transaction=True)

ENGLISH = "School is closed today."
SPANISH = "La escuela está cerrada hoy."


@pytest.fixture
def families(org: Any) -> Any:
    testing.create_contact(org, "E1", ["+12025550101"], consent="opted_in", language="en")
    testing.create_contact(org, "S1", ["+12025550102"], consent="opted_in", language="es")
    testing.create_contact(org, "S2", ["+12025550103"], consent="opted_in", language="es-MX")
    # A language with no text of its own gets the English one.
    testing.create_contact(org, "V1", ["+12025550104"], consent="opted_in", language="vi")
    return org


def bodies() -> dict[str, str]:
    return {m.to: m.body for m in SimulatedMessage.objects.all()}


def test_each_recipient_gets_the_text_of_their_language(families: Any) -> None:
    assert selectors.organization_languages(families) == ["es", "vi"]
    broadcast = services.broadcast_create(
        organization=families, name="Snow", text=ENGLISH, texts={"es": SPANISH}
    )
    services.broadcast_send(broadcast=broadcast)
    run_worker()
    assert bodies() == {
        "+12025550101": ENGLISH,
        "+12025550102": SPANISH,
        "+12025550103": SPANISH,
        "+12025550104": ENGLISH,
    }
    languages = dict(Message.objects.values_list("phone", "language"))
    assert languages == {
        "+12025550101": "en",
        "+12025550102": "es",
        "+12025550103": "es",
        "+12025550104": "en",
    }


def test_texts_are_checked_like_the_english_one(families: Any) -> None:
    with pytest.raises(ValidationError, match=r"no contact of .* has language 'fr'"):
        services.broadcast_create(organization=families, name="N", text="Hi", texts={"fr": "Salut"})
    with pytest.raises(ValidationError, match="the Español text: the message is 4 SMS segments"):
        services.broadcast_create(
            organization=families, name="N", text="Hi", texts={"es": "x" * 470}
        )
    # An empty translation is no translation: those families get the English text.
    broadcast = services.broadcast_create(
        organization=families, name="N", text="Hi", texts={"es": "  "}
    )
    assert broadcast.texts == {}


def test_cli_takes_message_lang_options(families: Any) -> None:
    out = io.StringIO()
    call_command(
        "broadcast",
        "send",
        "--org",
        "springfield",
        "--name",
        "Snow",
        "--message",
        ENGLISH,
        "--message-es",
        SPANISH,
        "--message-vi=Trường đóng cửa hôm nay.",
        stdout=out,
        stderr=io.StringIO(),
    )
    broadcast = Broadcast.objects.get()
    assert broadcast.texts == {"es": SPANISH, "vi": "Trường đóng cửa hôm nay."}
    with pytest.raises(CommandError, match=r"no contact of .* has language 'de'"):
        call_command(
            "broadcast", "send", "--org", "springfield", "--name", "N", "--message", "Hi",
            "--message-de", "Hallo", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError, match="--message-es needs the text"):
        call_command("broadcast", "send", "--message-es", stdout=io.StringIO())


def test_api_accepts_texts_per_language(families: Any, client: Client) -> None:
    user = testing.create_user(families, "api@springfield.example.org", "sender")
    key = api_token_create(user=user, name="t")
    response = client.post(
        "/api/v1/broadcasts/",
        {"name": "Snow", "text": ENGLISH, "texts": {"es": SPANISH}},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["texts"] == {"es": SPANISH}
    bad = client.post(
        "/api/v1/broadcasts/",
        {"name": "Snow", "text": ENGLISH, "texts": {"fr": "Salut"}},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert bad.status_code == 400 and "language 'fr'" in bad.json()["detail"]


def test_compose_has_a_text_per_language_and_the_log_says_which(
    families: Any, admin_client: Client
) -> None:
    page = admin_client.get("/broadcasts/new/").content.decode()
    assert "Message in Español" in page and 'name="text_es"' in page
    check = admin_client.post(
        "/broadcasts/new/check/", {"field": "text_es", "text_es": "x" * 161}
    ).content.decode()
    assert 'id="text-check-es"' in check and 'data-segments="2"' in check
    admin_client.post(
        "/broadcasts/new/",
        {
            "name": "Snow",
            "text": ENGLISH,
            "text_es": SPANISH,
            "audience": "all",
            "when": "now",
            "action": "draft",
        },
    )
    broadcast = Broadcast.objects.get()
    assert broadcast.texts == {"es": SPANISH}
    detail = admin_client.get(f"/broadcasts/{broadcast.pk}/").content.decode()
    assert f'data-language="es">{SPANISH}</div>' in detail
    now = timezone.now()
    Message.objects.create(
        broadcast=broadcast,
        organization=families,
        sender=families.sender,
        phone="+12025550102",
        language="es",
        created_at=now,
        updated_at=now,
    )
    log = admin_client.get(f"/reports/sms-log/?broadcast={broadcast.pk}").content.decode()
    assert '<td data-role="language">Español</td>' in log
