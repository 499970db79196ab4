from __future__ import annotations

import random
from typing import Any

import pytest

from schoolsms import testing
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Reason
from schoolsms.messaging.tests.helpers import add_messages, make_audience
from schoolsms.messaging.text import GSM7_BASIC, GSM7_EXTENSION, text_check

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

QUOTE = "\N{RIGHT SINGLE QUOTATION MARK}"


def assert_page_counts_like_the_server(page: Any) -> None:
    """The page's counter and messaging/text.py agree on boundary cases and random texts."""
    rng = random.Random(7)
    alphabet = GSM7_BASIC + GSM7_EXTENSION + "éúçñ“”😀👍🏽€☕漢" + QUOTE
    texts = ["", "a" * 160, "a" * 161, "a" * 152 + "€b", "€" * 81, "😀" * 35, "😀" * 36]
    texts += [QUOTE * 66 + "😀xxx", "x" * 153 * 3, "x" * 460]
    for _ in range(150):
        size = rng.choice([5, 70, 140, 161, 200, 330, 480])
        pool = alphabet if rng.random() < 0.5 else GSM7_BASIC + GSM7_EXTENSION
        texts.append("".join(rng.choice(pool) for _ in range(size)))
    answers = page.evaluate(
        """texts => texts.map(t => { const r = window.smsTextCheck(t);
            return [r.encoding, r.units, r.segments, r.remaining, [...r.forcing.keys()]]; })""",
        texts,
    )
    for text, answer in zip(texts, answers, strict=True):
        check = text_check(text)
        forcing = list(dict.fromkeys(f.char for f in check.forcing))
        expected = [check.encoding, check.units, check.segments, check.remaining, forcing]
        assert answer == expected, text


def test_compose_counts_live_then_sends_and_progress_updates(
    page: Any, login: Any, live_server: Any, org: Any
) -> None:
    from playwright.sync_api import expect

    make_audience(org)
    testing.create_user(org, "sender@springfield.example.org", "sender")
    login("sender@springfield.example.org")
    page.goto(f"{live_server.url}/broadcasts/new/")
    check = page.locator("#text-check")
    expect(page.locator("#audience-count")).to_contain_text("5 contacts")
    assert_page_counts_like_the_server(page)

    page.get_by_label("Name").fill("Early dismissal")
    page.locator("#id_text").press_sequentially("Early dismissal at 1pm {today}")
    # 30 characters, two of them extension characters: 32 septets, 128 left.
    expect(check.locator("[data-role=remaining]")).to_have_text("128")
    expect(check).to_have_attribute("data-encoding", "GSM-7")

    page.locator("#id_text").press_sequentially(f" {QUOTE}")
    # The page's own counter answers at once; the server's check replaces it shortly after.
    expect(check).to_have_attribute("data-encoding", "UCS-2")
    expect(check.locator(".forcing-list")).to_contain_text("U+2019 at position 32")
    expect(page.locator("#text-check[data-source=server]")).to_have_attribute(
        "data-encoding", "UCS-2"
    )
    expect(check.locator("[data-role=remaining]")).to_have_text("38")

    page.get_by_label("By role and school").check()
    page.get_by_label("Staff").check()
    expect(page.locator("#audience-count")).to_contain_text("2 contacts")
    # T1's number will get it; T2 has no SMS number: the breakdown says so, live.
    expect(page.locator("#audience-count [data-role=to-send]")).to_have_text("1")
    expect(page.locator("#audience-count [data-reason=no_sms_number]")).to_contain_text("1")
    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_role("heading", name="Text 1 number now?")).to_be_focused()
    expect(page.get_by_text("1 will be skipped: 1 No SMS number.")).to_be_visible()
    assert not Broadcast.objects.exists()
    page.get_by_role("button", name="Yes, text 1 number now").click()

    expect(page.get_by_role("heading", name="Early dismissal")).to_be_visible()
    broadcast = Broadcast.objects.get()
    assert broadcast.status == BroadcastStatus.SCHEDULED
    assert broadcast.audience_roles == ["staff"]

    # While it sends, the progress panel polls and shows new counts without a reload.
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    add_messages(broadcast, DeliveryResult.SENT)
    add_messages(broadcast, DeliveryResult.INELIGIBLE_TO_SEND, Reason.NO_SMS_NUMBER)
    progress = page.locator("#progress")
    expect(progress.locator("[data-role=total]")).to_have_text("2", timeout=10000)
    expect(progress.locator("tr[data-result=sent] td")).to_have_text("1")
    expect(progress.locator("tr[data-reason=no_sms_number]")).to_be_visible()
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.COMPLETE)
    expect(progress.locator("[data-role=status]")).to_have_text("Complete", timeout=10000)
