"""Every page in headless Chromium: no serious or critical axe-core violation (WCAG 2.1 A/AA,
contrast included), and at 390 px wide no sideways scrolling and no element wider than the
screen (tables scroll inside their card). One browser, one login, a few seconds a page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from schoolsms import testing
from schoolsms.accounts.services import api_token_create, membership_invite
from schoolsms.consent.services import number_block
from schoolsms.contacts.jobs import import_job_create
from schoolsms.contacts.models import ImportJob, ImportKind, ImportSource, ImportStatus
from schoolsms.messaging import services
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Reason
from schoolsms.messaging.tests.helpers import add_messages
from schoolsms.reminders.services import reminder_run_create

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
    for n in range(6):  # enough broadcasts for the SMS Log's "Find a broadcast" box
        services.broadcast_create(organization=org, name=f"Field trip {n + 1}", text="Bring lunch.")
    user = testing.create_user(org, "office@springfield.example.org", "admin")
    api_token_create(user=user, name="SIS sync")
    testing.create_user(org, "viewer@springfield.example.org", "viewer")
    job = import_job_create(
        organization=org,
        kind=ImportKind.CONTACTS,
        source=ImportSource.WEB,
        filename="roster-with-a-rather-long-name-from-the-district-office.csv",
        path=Path("/nonexistent/roster.csv"),
        created_by=user,
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED,
        finished_at=now,
        error_count=1,
        errors=[{"line": 3, "field": "phone1", "value": "555-12", "message": "Too short"}],
    )
    run = reminder_run_create(organization=org, started_by=user)
    # Someone invited to a second organization: the invitations page has something to answer.
    other = testing.create_org("shelbyville", sender_code="67588", name="Shelbyville District")
    membership_invite(organization=other, email=user.email, role="sender", invited_by=None)
    newcomer = membership_invite(
        organization=org, email="new@springfield.example.org", role="viewer", invited_by=user
    )
    assert newcomer is not None
    uid = urlsafe_base64_encode(force_bytes(newcomer.user.pk))
    token = default_token_generator.make_token(newcomer.user)
    password_set = f"/settings/password/set/{uid}/{token}/"
    return {
        "contact": contacts[0].pk,
        "sent": sent.pk,
        "draft": draft.pk,
        "import": job.pk,
        "run": run.pk,
        "password_set": password_set,  # type: ignore[dict-item]
    }


# Routes that are no page a person reads, and what they answer instead; every other route of
# the URL map must be in pages() (test_every_page_of_the_url_map_is_checked).
NOT_PAGES = {
    "home": "redirects to the first tab",
    "healthz": "JSON for monitoring",
    "metrics": "Prometheus text",
    "logout": "POST only",
    "switch-organization": "POST only",
    "twilio-status": "carrier webhook",
    "twilio-inbound": "carrier webhook",
    "simulator-status": "carrier webhook",
    "simulator-inbound": "carrier webhook",
    "contacts:import-progress": "htmx fragment of the import page",
    "contacts:import-decide": "POST only",
    "contacts:capability-reset": "POST only (the contact page's button)",
    "contacts:block": "POST only",
    "contacts:unblock": "POST only: answers with the confirmation page (checked)",
    "broadcasts:check": "POST only: htmx fragment of compose",
    "broadcasts:audience": "POST only: htmx fragment of compose",
    "broadcasts:progress": "htmx fragment of the broadcast page",
    "broadcasts:send": "POST only: answers with the confirmation page (checked)",
    "broadcasts:cancel": "POST only: answers with the confirmation page (checked)",
    "broadcasts:delete": "POST only: answers with the confirmation page (checked)",
    "reports:sms-log-summary": "htmx fragment of the SMS Log",
    "reports:sms-log-export": "CSV and XLSX downloads",
    "reports:sms-status-export": "CSV and XLSX downloads",
    "reminders:send": "POST only: answers with the confirmation page (checked)",
    "reminders:progress": "htmx fragment of the run page",
    "reminders:flyer": "PDF",
    "accounts:user-role": "POST only",
    "accounts:user-remove": "POST only: answers with the confirmation page (checked)",
    "accounts:invitation-withdraw": "POST only: answers with the confirmation page (checked)",
    "accounts:invitation-answer": "POST only",
    "accounts:token-revoke": "POST only: answers with the confirmation page (checked)",
}


def _route_names(patterns: list[Any], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern).startswith("api/"):
                continue  # the JSON API: its own schema tests
            inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names |= _route_names(p.url_patterns, inner)
        elif isinstance(p, URLPattern) and p.name:
            names.add(namespace + p.name)
    return names


def pages(ids: dict[str, Any]) -> list[str]:
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
        f"/reminders/runs/{ids['run']}/",
        "/reminders/preview/email/?language=es",
        "/broadcasts/invitations/",
        f"/contacts/import/{ids['import']}/",
        "/contacts/sync/",
        "/settings/",
        "/settings/users/",
        "/settings/tokens/",
        "/settings/carrier/",
        "/settings/replies/",
        "/settings/invitations/",
        "/broadcasts/999999/",  # the 404 page
    ]


def logged_out_pages(ids: dict[str, Any]) -> list[str]:
    return ["/login/", ids["password_set"]]


def test_every_page_of_the_url_map_is_checked() -> None:
    ids = {"contact": 1, "sent": 1, "draft": 1, "import": 1, "run": 1}
    ids["password_set"] = "/settings/password/set/MQ/abc-123/"
    checked = set()
    for url in pages(ids) + logged_out_pages(ids):
        if url != "/broadcasts/999999/":
            checked.add(resolve(url.split("?")[0]).view_name)
    unchecked = _route_names(get_resolver().url_patterns) - checked - set(NOT_PAGES)
    assert not unchecked, f"pages nobody checks with axe and at {PHONE_WIDTH} px: {unchecked}"


def check_shown(page: Any) -> list[str]:
    """The page on screen, on a desktop and then on a phone: axe at both widths, and nothing
    wider than the phone's screen."""
    problems = []
    page.evaluate(AXE)
    for width, height in ((1280, 900), (PHONE_WIDTH, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(50)
        problems += [f"{width}px axe {v}" for v in page.evaluate(AXE_RUN)]
    problems += [f"{PHONE_WIDTH}px {p}" for p in page.evaluate(TOO_WIDE)]
    return problems


def check_page(page: Any, url: str) -> list[str]:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return check_shown(page)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
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
    # A confirmation page (every POST action that texts, emails or deletes asks on one), and
    # the pages of someone logged out.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/broadcasts/{ids['draft']}/")
    page.get_by_role("button", name="Delete draft").click()
    page.wait_for_load_state("networkidle")
    found = check_shown(page)
    if found:
        problems["confirm page"] = found
    page.context.clear_cookies()
    for path in logged_out_pages(ids):
        found = check_page(page, f"{live_server.url}{path}")
        if found:
            problems[path] = found
    # The 403 page: a viewer opening Settings.
    login("viewer@springfield.example.org")
    found = check_page(page, f"{live_server.url}/settings/")
    assert page.get_by_role("heading", level=1).inner_text()  # the styled page, not a bare 403
    if found:
        problems["403 /settings/ as a viewer"] = found
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)
