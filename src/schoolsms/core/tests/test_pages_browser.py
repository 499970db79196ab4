"""Every page in headless Chromium: no serious or critical axe-core violation (WCAG 2.1 A/AA,
contrast included), and at 390 px wide no sideways scrolling and no element wider than the
screen (tables scroll inside their card). One browser, one login, a few seconds a page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.consent.services import number_block
from schoolsms.messaging import services
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Reason
from schoolsms.messaging.tests.helpers import add_messages

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
PHONE_WIDTH = 390

AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
  });
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => {
      const where = v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ");
      return `${v.id} (${v.impact}): ${where}`;
    });
}"""

# Elements sticking out of a 390 px screen, except inside a box that scrolls or clips them.
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  if (document.documentElement.scrollWidth > width + 1) {
    found.push(`page scrolls sideways: ${document.documentElement.scrollWidth}px`);
  }
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(".skip-link, .visually-hidden, [hidden], dialog:not([open])")) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || (box.right <= width + 1 && box.left >= -1)) continue;
    let parent = el.parentElement, contained = false;
    while (parent && parent !== document.body) {
      const overflow = getComputedStyle(parent).overflowX;
      if (["auto", "scroll", "hidden"].includes(overflow)) { contained = true; break; }
      parent = parent.parentElement;
    }
    if (contained) continue;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + el.className;
    found.push(`${name}: ${Math.round(box.left)}..${Math.round(box.right)}`);
  }
  return found.slice(0, 8);
}"""


def build_district(org: Any) -> dict[str, int]:
    """Contacts in every SMS status, a finished broadcast, a draft, a block, a token."""
    org.quiet_hours_start = org.quiet_hours_end = None
    org.save()
    people = [
        ("S-1", "William", "Adams", "+12175550101", "opted_in", "en"),
        ("S-2", "Ana", "García", "+12175550102", "pending", "es"),
        ("S-3", "Chidi", "Okafor", "+12175550103", "opted_out", "en"),
    ]
    contacts = [
        testing.create_contact(
            org,
            ext,
            [phone],
            first_name=first,
            last_name=last,
            consent=status,
            language=lang,
            email=f"{first.lower()}@example.org",
            role="guardian",
            school="Lincoln Elementary",
        )
        for ext, first, last, phone, status, lang in people
    ]
    number_block(organization=org, phone="+12175550103", reason="Asked by phone")
    sent = services.broadcast_create(
        organization=org, name="Snow day", text="School is closed.", texts={"es": "Cerrado hoy."}
    )
    now = timezone.now()
    Broadcast.objects.filter(pk=sent.pk).update(
        status=BroadcastStatus.COMPLETE, dispatched_at=now, completed_at=now
    )
    add_messages(sent, DeliveryResult.SENT, n=3)
    add_messages(sent, DeliveryResult.INELIGIBLE_TO_SEND, Reason.PENDING_OPT_IN)
    add_messages(sent, DeliveryResult.FAILED_TO_SEND, Reason.CARRIER_ERROR)
    draft = services.broadcast_create(organization=org, name="Picture day", text="Smile!")
    user = testing.create_user(org, "office@springfield.example.org", "admin")
    api_token_create(user=user, name="SIS sync")
    return {"contact": contacts[0].pk, "sent": sent.pk, "draft": draft.pk}


def pages(ids: dict[str, int]) -> list[str]:
    return [
        "/broadcasts/",
        "/broadcasts/new/",
        f"/broadcasts/{ids['sent']}/",
        f"/broadcasts/{ids['draft']}/",
        f"/broadcasts/{ids['draft']}/edit/",
        "/contacts/",
        f"/contacts/{ids['contact']}/",
        "/contacts/import/",
        "/contacts/blocked/",
        "/reports/",
        "/reports/sms-log/",
        f"/reports/sms-log/?broadcast={ids['sent']}",
        "/reports/sms-status/",
        "/reports/sms-status/?lookup=%2B12175550101",
        "/reports/sms-status/all/",
        "/reminders/",
        "/settings/",
        "/settings/users/",
        "/settings/tokens/",
        "/broadcasts/999999/",  # the 404 page
    ]


def check_page(page: Any, url: str) -> list[str]:
    problems = []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.evaluate(AXE)
    problems += [f"axe {v}" for v in page.evaluate(AXE_RUN)]
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    page.wait_for_timeout(50)
    problems += [f"{PHONE_WIDTH}px {p}" for p in page.evaluate(TOO_WIDE)]
    return problems


def test_every_page_is_accessible_and_fits_a_phone(
    page: Any, login: Any, live_server: Any, org: Any
) -> None:
    ids = build_district(org)
    login("office@springfield.example.org")
    problems: dict[str, list[str]] = {}
    for path in pages(ids):
        found = check_page(page, f"{live_server.url}{path}")
        if found:
            problems[path] = found
    # A confirmation page, and the login page of someone logged out.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/broadcasts/{ids['draft']}/")
    page.get_by_role("button", name="Delete draft").click()
    page.wait_for_load_state("networkidle")
    page.evaluate(AXE)
    found = [f"axe {v}" for v in page.evaluate(AXE_RUN)]
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    found += page.evaluate(TOO_WIDE)
    if found:
        problems["confirm page"] = found
    page.context.clear_cookies()
    found = check_page(page, f"{live_server.url}/login/")
    if found:
        problems["/login/"] = found
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)
