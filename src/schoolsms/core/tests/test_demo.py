"""`schoolsms demo`: a realistic, deterministic district that takes seconds to build."""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks_db.models import DBTaskResult

from schoolsms.accounts.models import Organization
from schoolsms.consent.models import BlockedNumber, ConsentEvent, ConsentRecord
from schoolsms.contacts.models import Contact, PhoneNumber
from schoolsms.core import demo
from schoolsms.messaging.models import Broadcast

FICTIONAL = re.compile(r"^\+1[2-9][0-9]{2}55501[0-9]{2}$")


def test_people_are_deterministic_varied_and_use_only_fictional_numbers() -> None:
    people = demo.demo_people()
    assert people == demo.demo_people()
    assert len(people) == 2000
    assert len({p.external_id for p in people}) == 2000
    roles = Counter(p.role for p in people)
    assert roles["guardian"] > 1500 and roles["staff"] > 100 and roles["student"] > 100
    assert {p.school for p in people} == set(demo.SCHOOLS)
    assert 150 < sum(p.language == "es" for p in people) < 400
    assert sum(bool(p.email) for p in people) > 1500
    assert len({(p.first_name, p.last_name) for p in people}) > 1000
    numbers = [n for p in people for n, _ in p.phones]
    assert all(FICTIONAL.match(n) for n in numbers)
    assert len({n[2:5] for n in numbers}) >= 25  # spread over many area codes
    assert len(numbers) > len(set(numbers))  # some households share a number
    assert any(not any(sms for _, sms in p.phones) for p in people)  # no SMS number
    assert any(not p.phones for p in people)


@pytest.mark.django_db
def test_demo_command_builds_the_district_and_prints_the_login(
    settings: Any, tmp_path: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.VAR_DIR = tmp_path
    settings.SCHOOLSMS_PUBLIC_URL = "http://demo.example:8000"
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert lines[0] == "Open http://demo.example:8000/"
    match = re.fullmatch(r"Demo login: (\S+)  password: (\S+)", lines[1])
    assert match and match[1] == demo.ADMIN_EMAIL
    assert (tmp_path / "demo-credentials.txt").read_text().split() == [match[1], match[2]]

    org = Organization.objects.select_related("sender").get(slug="springfield")
    assert (org.name, org.sender.code) == ("Springfield Public Schools", "67587")
    assert org.sender.program_name and org.sender.help_contact
    assert Contact.objects.filter(organization=org).count() == 2000
    sms_numbers = set(PhoneNumber.objects.filter(sms_enabled=True).values_list("phone", flat=True))
    statuses = Counter(ConsentRecord.objects.values_list("status", flat=True))
    share = {k: v / len(sms_numbers) for k, v in statuses.items()}
    assert 0.6 < share["opted_in"] < 0.8
    assert 0.15 < share["pending"] < 0.25
    assert 0.04 < share["opted_out"] < 0.1
    assert 0 < len(sms_numbers) - sum(statuses.values()) < 0.06 * len(sms_numbers)
    assert PhoneNumber.objects.filter(sms_enabled=False).exists()  # landlines
    assert BlockedNumber.objects.filter(organization=org).count() >= 3
    # An opted-out number's history tells the whole story, from the keyword that was texted.
    opted_out = ConsentRecord.objects.filter(status="opted_out").first()
    assert opted_out is not None
    history = list(opted_out.events.values_list("new_status", "source", "text"))
    assert [h[:2] for h in history[::2]] == [("pending", "import"), ("opted_out", "keyword")]
    assert history[1][0] == "opted_in"
    assert history[2][2] in {"STOP", "stop", "Stop", "UNSUBSCRIBE", "quit", "STOP!"}
    assert all(e.created_at <= e.record.changed_at for e in ConsentEvent.objects.all()[:50])

    response = client.post("/login/", {"username": match[1], "password": match[2]}, follow=True)
    assert response.wsgi_request.user.is_authenticated

    # Two demo broadcasts wait for the worker `make run` starts: an emergency and a regular one.
    broadcasts = Broadcast.objects.filter(organization=org).order_by("id")
    assert [(b.status, b.emergency) for b in broadcasts] == [
        ("scheduled", True),
        ("scheduled", False),
    ]
    assert DBTaskResult.objects.filter(status="READY").count() == 2

    hint = io.StringIO()
    call_command("demo", "--if-empty", stdout=hint)
    assert hint.getvalue() == out.getvalue()
    assert Contact.objects.count() == 2000
    with pytest.raises(CommandError, match="'springfield' already exists"):
        call_command("demo", stdout=io.StringIO(), stderr=io.StringIO())
