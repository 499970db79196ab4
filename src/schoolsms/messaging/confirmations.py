"""What the Broadcasts pages say before a text goes out: the audience breakdown in words, and
the questions of the confirmation pages (with their numbers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import HttpRequest, HttpResponse

from schoolsms.messaging import selectors
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Reason
from schoolsms.messaging.selectors import BREAKDOWN_ORDER
from schoolsms.webutil import confirm_page, when

# Each reason a number of the audience would not be texted, as the compose page names it.
SKIP_LABELS = {
    Reason.PENDING_OPT_IN.value: "Pending Opt-In",
    Reason.OPTED_OUT.value: "Opted Out",
    Reason.NOT_OPTED_IN.value: "Never opted in",
    Reason.BLOCKED.value: "Blocked",
    Reason.NO_SMS_NUMBER.value: "No SMS number",
    Reason.DUPLICATE_NUMBER.value: "Duplicates",
}


def breakdown_display(breakdown: dict[str, Any]) -> dict[str, Any]:
    """The selector's breakdown with what the templates show: skipped total and labelled rows."""
    reasons = [
        (code, SKIP_LABELS[code], breakdown["by_reason"][code]) for code in BREAKDOWN_ORDER if code
    ]
    return {**breakdown, "skipped": sum(n for _, _, n in reasons), "reasons": reasons}


def plural(n: int, word: str) -> str:
    return f"{intcomma(n)} {word}{'' if n == 1 else 's'}"


def skipped_sentence(breakdown: dict[str, Any]) -> str:
    shown = breakdown_display(breakdown)
    if not shown["skipped"]:
        return "No number of this audience will be skipped."
    parts = [f"{intcomma(n)} {label}" for _, label, n in shown["reasons"] if n]
    return f"{intcomma(shown['skipped'])} will be skipped: {', '.join(parts)}."


def send_question(*, breakdown: dict[str, Any], at: dt.datetime | None) -> tuple[str, str]:
    """(question, button label) for sending now or at `at`."""
    numbers = plural(breakdown["to_send"], "number")
    if at is None:
        return f"Text {numbers} now?", f"Yes, text {numbers} now"
    return (
        f"Schedule a text to {numbers} for {when(at)}?",
        f"Yes, schedule it for {when(at)}",
    )


def cancel_question(*, broadcast: Broadcast, counts: dict[str, Any]) -> tuple[str, list[str]]:
    """(question, facts) for canceling a scheduled or sending broadcast."""
    by_result = counts["by_result"]
    waiting = by_result[DeliveryResult.NOT_SENT_YET.label]
    done = by_result[DeliveryResult.SENT.label] + by_result[DeliveryResult.SENDING.label]
    facts = []
    if broadcast.status == BroadcastStatus.SCHEDULED:
        at = f" at {when(broadcast.scheduled_at)}" if broadcast.scheduled_at else ""
        facts.append(f"It will not go out{at}; nobody will be texted.")
    else:
        facts.append(f"{plural(waiting, 'message')} not sent yet will never be sent.")
        if done:
            facts.append(
                f"{plural(done, 'message')} already handed to the carrier cannot be called back."
            )
    facts.append("A canceled broadcast cannot be sent again; you would create a new one.")
    return f"Cancel “{broadcast.name}”?", facts


def breakdown_of(broadcast: Broadcast) -> dict[str, Any]:
    return selectors.audience_breakdown(
        organization=broadcast.organization,
        roles=broadcast.audience_roles,
        schools=broadcast.audience_schools,
        external_ids=broadcast.audience_external_ids,
    )


def confirm_send(
    request: HttpRequest,
    *,
    breakdown: dict[str, Any],
    at: dt.datetime | None,
    back_url: str,
    back_posts: bool,
) -> HttpResponse:
    question, label = send_question(breakdown=breakdown, at=at)
    facts = [skipped_sentence(breakdown)]
    if at is not None:
        facts.append("Counted now: who gets it is decided again when it goes out.")
    return confirm_page(
        request,
        question=question,
        facts=facts,
        confirm_label=label,
        back_url=back_url,
        back_label="Go back and edit" if back_posts else "Go back",
        back_posts=back_posts,
        extra={"breakdown": breakdown_display(breakdown)},
    )
