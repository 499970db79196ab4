"""The one inbound handler: keywords and stop requests change consent with their evidence,
replies per CTIA in the contact's language, replays change nothing; `schoolsms inbound`."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from schoolsms import testing
from schoolsms.consent.models import ConsentEvent, ConsentRecord
from schoolsms.messaging.gateway import InboundMessage
from schoolsms.messaging.inbound import InboundOutcome, inbound_receive
from schoolsms.messaging.models import InboundText, ReplyText
from schoolsms.messaging.replies import BUILT_IN

pytestmark = pytest.mark.django_db

PHONE = "+12175550150"


def text(org: Any, body: str, sid: str = "", phone: str = PHONE) -> InboundOutcome:
    message = InboundMessage(sender_phone=phone, to=org.sender.code, body=body, carrier_id=sid)
    return inbound_receive(sender=org.sender, inbound=message, channel="twilio")


def status(org: Any, phone: str = PHONE) -> str | None:
    return (
        ConsentRecord.objects.filter(sender=org.sender, phone=phone)
        .values_list("status", flat=True)
        .first()
    )


def test_stop_opts_out_and_keeps_the_text_time_id_and_channel_as_evidence(org: Any) -> None:
    testing.create_contact(org, "a", [PHONE], consent="opted_in")
    outcome = text(org, "Stop.", sid="SM100")
    assert status(org) == "opted_out"
    assert outcome.reply is not None and "no more messages" in outcome.reply
    handled = InboundText.objects.get(carrier_message_id="SM100")
    event = handled.consent_event
    assert event is not None
    assert (event.old_status, event.new_status, event.source, event.text) == (
        "opted_in",
        "opted_out",
        "keyword",
        "Stop.",
    )
    assert (handled.channel, handled.phone, handled.kind, handled.reply) == (
        "twilio",
        PHONE,
        "opt_out",
        outcome.reply,
    )
    assert event.created_at == handled.received_at
    assert event.organization_id == org.pk


def test_a_replayed_message_id_changes_nothing_and_gets_no_reply(org: Any) -> None:
    testing.create_contact(org, "a", [PHONE], consent="opted_in")
    assert text(org, "STOP", sid="SM1").reply
    assert text(org, "START", sid="SM2").reply
    events = ConsentEvent.objects.count()
    replay = text(org, "STOP", sid="SM1")
    assert replay == InboundOutcome(reply=None, duplicate=True)
    assert status(org) == "opted_in"
    assert ConsentEvent.objects.count() == events
    assert InboundText.objects.filter(carrier_message_id="SM1").count() == 1


def test_the_same_id_from_another_number_is_another_message(org: Any) -> None:
    assert not text(org, "STOP", sid="SM7").duplicate
    assert not text(org, "STOP", sid="SM7", phone="+12175550151").duplicate
    assert status(org, "+12175550151") == "opted_out"


def test_one_confirmation_per_change_and_none_when_nothing_changed(org: Any) -> None:
    testing.create_contact(org, "a", [PHONE], consent="opted_in")
    assert text(org, "stop", sid="SM1").reply
    assert text(org, "STOP", sid="SM2").reply is None  # already opted out
    assert text(org, "unsubscribe", sid="SM3").reply is None
    assert text(org, "yes", sid="SM4").reply
    assert text(org, "start", sid="SM5").reply is None
    kinds = list(ConsentEvent.objects.filter(source="keyword").values_list("new_status", flat=True))
    assert kinds == ["opted_out", "opted_in"]
    # Every text is kept, changed something or not.
    assert InboundText.objects.filter(phone=PHONE).count() == 5


def test_help_is_answered_even_for_an_unknown_number_and_changes_nothing(org: Any) -> None:
    stranger = "+12175550199"
    for sid in ("SM1", "SM2"):
        reply = text(org, "HELP", sid=sid, phone=stranger).reply
        assert reply is not None
        assert org.sender.program_name in reply and org.sender.help_contact in reply
        assert "Msg & data rates may apply" in reply and "STOP" in reply
    assert status(org, stranger) is None


def test_a_text_that_plainly_asks_to_stop_opts_out(org: Any) -> None:
    testing.create_contact(org, "a", [PHONE], consent="opted_in")
    assert text(org, "stop by the office at 3", sid="SM1").reply is None
    assert status(org) == "opted_in"
    assert text(org, "Please stop texting me!", sid="SM2").reply
    assert status(org) == "opted_out"


def test_look_alike_characters_still_opt_out(org: Any) -> None:
    testing.create_contact(org, "a", [PHONE], consent="opted_in")
    text(org, "ＳТ\u200bОР", sid="SM1")  # full-width S, Cyrillic Т О Р, a zero-width space
    assert status(org) == "opted_out"


def test_the_contacts_language_picks_the_reply_and_an_admins_wording_wins(org: Any) -> None:
    testing.create_contact(org, "a", [PHONE], consent="pending", language="es-MX")
    reply = text(org, "Y", sid="SM1").reply
    program = org.sender.program_name
    assert reply == BUILT_IN["es"]["opt_in"].replace("{program}", program)
    ReplyText.objects.create(
        organization=org, language="es", kind="opt_out", text="{program}: Baja confirmada."
    )
    assert text(org, "ALTO por favor", sid="SM2").reply == f"{program}: Baja confirmada."
    assert text(org, "STOP", sid="SM3").reply is None  # already opted out
    # An unknown number gets English.
    reply = text(org, "HELP", sid="SM4", phone="+12175550198").reply
    assert reply == BUILT_IN["en"]["help"].replace("{program}", program).replace(
        "{help_contact}", org.sender.help_contact
    )


def test_on_a_shared_sender_the_contacts_organization_answers(org: Any) -> None:
    other = testing.create_org("shelbyville", sender_code=org.sender.code, name="Shelbyville")
    testing.create_contact(other, "b", [PHONE])
    ReplyText.objects.create(
        organization=other,
        language="en",
        kind="help",
        text="{program}: Shelbyville office {help_contact}. Msg & data rates apply. STOP to end",
    )
    reply = text(org, "help", sid="SM1").reply
    assert reply is not None and "Shelbyville office" in reply
    assert InboundText.objects.get(carrier_message_id="SM1").organization_id == other.pk


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("inbound", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_cli_takes_the_same_path_and_prints_the_reply(org: Any) -> None:
    out, _ = run("--sender", "67587", "--from", "(217) 555-0150", "--body", "STOP")
    assert "no more messages" in out
    assert status(org) == "opted_out"
    assert InboundText.objects.get(phone=PHONE).channel == "cli"
    out, _ = run("--sender", "67587", "--from", "(217) 555-0150", "--body", "stop")
    assert out == ""  # nothing changed: no reply
    out, _ = run(
        "--sender", "67587", "--from", "2175550150", "--body", "hello", "--message-id", "X"
    )
    out, err = run("--sender", "67587", "--from", "2175550150", "--body", "Y", "--message-id", "X")
    assert out == "" and "handled before" in err
    assert status(org) == "opted_out"


def test_cli_names_the_bad_parameter(org: Any) -> None:
    with pytest.raises(CommandError, match="--sender"):
        run("--sender", "99999", "--from", "2175550150", "--body", "STOP")
    with pytest.raises(CommandError, match="--from"):
        run("--sender", "67587", "--from", "not a number", "--body", "STOP")


@pytest.mark.django_db(transaction=True)
def test_copies_of_one_message_arriving_at_once_are_applied_once() -> None:
    org = testing.create_org()
    testing.create_contact(org, "a", [PHONE], consent="opted_in")
    start = threading.Barrier(6)
    outcomes: list[InboundOutcome] = []

    def deliver() -> None:
        try:
            start.wait()
            outcomes.append(text(org, "STOP", sid="SMsame"))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.duplicate for o in outcomes) == [False] + [True] * 5
    assert [o.reply is not None for o in outcomes if not o.duplicate] == [True]
    assert ConsentEvent.objects.filter(source="keyword").count() == 1
    assert InboundText.objects.count() == 1
