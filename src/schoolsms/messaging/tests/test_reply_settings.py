"""Settings > Text replies: admins edit the automatic texts per language, within CTIA's rules
and the segment limit; the handler then answers with them."""

from __future__ import annotations

from typing import Any

import pytest

from schoolsms import testing
from schoolsms.messaging.gateway import InboundMessage
from schoolsms.messaging.inbound import inbound_receive
from schoolsms.messaging.models import ReplyText
from schoolsms.messaging.replies import BUILT_IN, reply_problems

pytestmark = pytest.mark.django_db
URL = "/settings/replies/"


def _form(language: str, **changes: str) -> dict[str, str]:
    return {"language": language, **BUILT_IN[language], **changes}


def test_the_page_shows_the_built_in_texts_filled_in(admin_client: Any, org: Any) -> None:
    page = admin_client.get(URL + "?language=es").content.decode()
    assert "Responda Y para recibir mensajes de {program}" in page
    assert f"Responda Y para recibir mensajes de {org.sender.program_name}" in page
    assert "segment" in page
    assert "<title>Text replies · Settings · SchoolSMS</title>" in page
    assert page.count('id="invite-title"') == 1  # the invitations switch, once, below the texts


def test_an_admin_saves_a_wording_and_the_next_reply_uses_it(admin_client: Any, org: Any) -> None:
    wording = (
        "{program}: alerts from Springfield. Questions: {help_contact}. "
        "Msg & data rates may apply. Text STOP to quit."
    )
    response = admin_client.post(URL, _form("en", help=wording))
    assert response.status_code == 302
    assert ReplyText.objects.get(organization=org, language="en", kind="help").text == wording
    # The texts left as built in are not copied.
    assert ReplyText.objects.filter(organization=org).count() == 1
    outcome = inbound_receive(
        sender=org.sender,
        inbound=InboundMessage(sender_phone="+12175550160", to="67587", body="help"),
        channel="cli",
    )
    assert outcome.reply == wording.replace("{program}", org.sender.program_name).replace(
        "{help_contact}", org.sender.help_contact
    )


@pytest.mark.parametrize(
    "kind, text, problem",
    [
        ("help", "{program}: call {help_contact}. Msg & data rates may apply.", "STOP"),
        ("help", "{program}: Reply STOP to end. Msg & data rates may apply.", "contact"),
        ("opt_in", "{program}: subscribed. Reply HELP for help, STOP to end.", "rates"),
        ("opt_out", "You are unsubscribed.", "program"),
        ("opt_out", "{program}: unsubscribed. See https://example.org", "links"),
        ("invitation", "{program}: HELP for help, STOP to end.", "reply Y"),
        ("help", "{program} {help_contact} Msg & data rates may apply. STOP " + "x" * 500, "limit"),
    ],
)
def test_a_text_breaking_a_rule_is_refused_and_nothing_is_saved(
    admin_client: Any, org: Any, kind: str, text: str, problem: str
) -> None:
    response = admin_client.post(URL, _form("en", **{kind: text}))
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert not ReplyText.objects.filter(organization=org).exists()


def test_only_admins_may_change_the_texts(client: Any, org: Any) -> None:
    client.force_login(testing.create_user(org, "sender@springfield.example.org", "sender"))
    assert client.get(URL).status_code == 403
    assert client.post(URL, _form("en")).status_code == 403


def test_every_built_in_text_keeps_the_rules_it_asks_of_admins(org: Any) -> None:
    for language, texts in BUILT_IN.items():
        for kind, template in texts.items():
            problems = reply_problems(
                template=template, kind=kind, language=language, organization=org
            )
            assert problems == [], (language, kind)
