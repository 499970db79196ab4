"""Organization isolation and read-only viewers, proved over EVERY URL pattern, EVERY API
operation and EVERY command taking --org, enumerated from the URL conf, the OpenAPI schema and
the command parsers: a page, endpoint or command added without a line here fails the test.

Springfield's admin and viewer act; Shelbyville holds the secrets. For each route we ask, with
Shelbyville's ids, numbers and slug, for whatever the route offers; the answers must hold
none of Shelbyville's names, numbers or texts, and none of Shelbyville's rows may change.
A Springfield viewer posting to every page and calling every writing endpoint changes no row.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command, get_commands, load_command_class
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from schoolsms import testing
from schoolsms.accounts.models import ApiToken, Invitation, Organization, Sender
from schoolsms.accounts.services import api_token_create
from schoolsms.api import api
from schoolsms.contacts.models import ImportJob, ImportKind, ImportSource, ImportStatus
from schoolsms.messaging.models import Broadcast
from schoolsms.reminders.services import reminder_run_create
from schoolsms.reports.tests.factories import make_message

SECRET_NAME = "Bartholomew Zanzibarian"
SECRET_PHONE = "+12175559876"
SECRET_BROADCAST = "Shelbyville quarantine notice"
SECRET_TEXT = "Secret Shelbyville text about the lemon tree"
SECRET_ORG = "Shelbyville District"
MARKERS = (SECRET_NAME.split()[1], SECRET_BROADCAST, SECRET_TEXT, SECRET_ORG, "559876", "555-9876")

# Routes anyone may reach without an organization: they show nothing of one.
PUBLIC = {
    "login",
    "logout",
    "healthz",
    "api:openapi-json",
    "api:openapi-view",
    "api:api-root",
    "accounts:password-set",  # a one-time token from an email proves who asks
    "simulator-status",  # carrier webhooks: signature-checked, answer the carrier only
    "simulator-inbound",
}
# Routes a viewer may post to: they change only the viewer's own session or invitations.
PERSONAL = {"logout", "switch-organization", "accounts:invitations", "accounts:invitation-answer"}


class World:
    def __init__(self) -> None:
        self.a = testing.create_org("springfield")
        self.b = testing.create_org("shelbyville", sender_code="67588", name=SECRET_ORG)
        self.admin = testing.create_user(self.a, "admin@springfield.example.org", "admin")
        self.viewer = testing.create_user(self.a, "viewer@springfield.example.org", "viewer")
        self.b_admin = testing.create_user(self.b, "admin@shelbyville.example.org", "admin")
        testing.create_contact(self.a, "A1", ["+12175550101"], consent="opted_in")
        first, last = SECRET_NAME.split()
        self.b_contact = testing.create_contact(
            self.b, "B1", [SECRET_PHONE], first_name=first, last_name=last, consent="opted_in"
        )
        self.b_broadcast = Broadcast.objects.create(
            organization=self.b, name=SECRET_BROADCAST, text=SECRET_TEXT
        )
        make_message(self.b_broadcast, self.b_contact, SECRET_PHONE)
        self.b_run = reminder_run_create(organization=self.b, started_by=self.b_admin)
        self.b_import = ImportJob.objects.create(
            organization=self.b,
            kind=ImportKind.CONTACTS,
            source=ImportSource.WEB,
            status=ImportStatus.CONFIRM,
            filename=f"{SECRET_BROADCAST}.csv",
            path="/nonexistent/shelbyville.csv",
            created_by=self.b_admin,
        )
        api_token_create(user=self.b_admin)
        self.b_token = ApiToken.objects.get(user=self.b_admin)
        invitee = User.objects.create_user("invitee@example.org", "invitee@example.org")
        self.b_invitation = Invitation.objects.create(
            user=invitee, organization=self.b, role="admin", invited_by=self.b_admin
        )

    # What a route's parameters are filled with: always Shelbyville's objects.
    def path_value(self, route: str, param: str) -> str:
        values = {
            "contact_id": self.b_contact.pk,
            "broadcast_id": self.b_broadcast.pk,
            "run_id": self.b_run.pk,
            "job_id": self.b_import.pk,
            "phone": SECRET_PHONE,
            "fmt": "csv",
            "sender_code": self.b.sender.code,
            "uidb64": "Mg",
            "token": "bad-token",
        }
        by_route = {
            "contacts:detail": self.b_contact.pk,
            "contacts:import-": self.b_import.pk,
            "broadcasts:": self.b_broadcast.pk,
            "reminders:": self.b_run.pk,
            "accounts:token-revoke": self.b_token.pk,
            "accounts:invitation-": self.b_invitation.pk,
        }
        if param == "pk":
            for prefix, value in by_route.items():
                if route.startswith(prefix):
                    return str(value)
        if param not in values:
            pytest.fail(f"{route}: no Shelbyville value for <{param}>: add one to World")
        return str(values[param])

    def form(self) -> dict[str, Any]:
        """A form aimed at Shelbyville's things, for every page that takes one."""
        return {
            "phone": SECRET_PHONE,
            "number": SECRET_PHONE,
            "user_id": self.b_admin.pk,
            "role": "viewer",
            "organization": self.b.pk,
            "answer": "accept",
            "email": "admin@shelbyville.example.org",
            "reason": "test",
            "form": "organization",
            "name": "Renamed",
            "timezone": "UTC",
            "quiet_hours": "off",
            "external_ids": "B1",
            "audience": "list",
            "when": "now",
            "text": "hello",
        }


def _fingerprint_scope(model: type[models.Model], world: World) -> dict[str, Any] | None:
    """How to find Shelbyville's rows of `model`: a foreign key (or one hop further) to the
    organization, its sender, or its users."""
    targets = {Organization: world.b, Sender: world.b.sender}
    fks = [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]
    for f in fks:
        if f.related_model in targets:
            return {f.name: targets[f.related_model]}  # type: ignore[index]
    for f in fks:
        assert f.related_model is not None
        for g in f.related_model._meta.concrete_fields:  # type: ignore[union-attr]
            if isinstance(g, models.ForeignKey) and g.related_model in targets:
                return {f"{f.name}__{g.name}": targets[g.related_model]}  # type: ignore[index]
    return None


# Bookkeeping of use, not data: reading with a token or logging in records when.
_USE_STAMPS = ("last_used_at", "last_login")


def _dump(rows: Any) -> list[str]:
    return [
        json.dumps(
            {k: v for k, v in r.items() if k not in _USE_STAMPS}, default=str, sort_keys=True
        )
        for r in rows
    ]


def shelbyville_rows(world: World) -> dict[str, list[Any]]:
    snapshot: dict[str, list[Any]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("schoolsms."):
            continue
        scope = _fingerprint_scope(model, world)
        if scope is not None:
            rows = model.objects.filter(**scope).order_by("pk").values()  # type: ignore[attr-defined]
            snapshot[model._meta.label] = _dump(rows)
    users = User.objects.filter(pk__in=[world.b_admin.pk]).values()
    snapshot["auth.User"] = _dump(users)
    return snapshot


def all_rows() -> dict[str, list[Any]]:
    """Every row the product owns (sessions, log-in records and the task queue aside)."""
    snapshot = {}
    for model in apps.get_models():
        if model.__module__.startswith("schoolsms.") or model._meta.label == "auth.User":
            rows = model.objects.order_by("pk").values()  # type: ignore[attr-defined]
            snapshot[model._meta.label] = _dump(rows)
    return snapshot


def _walk(patterns: list[Any], prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}{p.namespace}:" if p.namespace else ns
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{ns}{p.name or ''}"


def web_routes() -> list[tuple[str, str]]:
    """(route, name) of every page: the API's own routes are covered by operation below."""
    return [
        (route, name)
        for route, name in _walk(get_resolver().url_patterns)
        if not name.startswith("api:") or name in PUBLIC
    ]


def concrete(world: World, route: str, name: str) -> str:
    route = route.replace("^", "").replace("$", "").replace("\\.", ".")
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: world.path_value(name, m.group(1)), route)
    return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: world.path_value(name, m.group(1)), route)


def assert_no_secret(response: Any, where: str, *, markers: tuple[str, ...] = MARKERS) -> None:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    leaked = [m for m in markers if m in text]
    assert not leaked, f"{where} shows Shelbyville's {leaked}"


@pytest.fixture
def world(db: Any) -> World:
    return World()


def test_every_page_keeps_shelbyville_out(world: World) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(world.admin)
    routes = [(r, n) for r, n in web_routes() if n not in PUBLIC]
    assert len(routes) > 35
    for route, name in routes:
        url = concrete(world, route, name)
        got = client.get(url)
        assert got.status_code in (200, 302, 400, 403, 404, 405), (url, got.status_code)
        assert_no_secret(got, f"GET {url}")
    # Then aimed at Shelbyville's things. Springfield may block or look up any number for its
    # own sender, so the number itself may now show; Shelbyville's names and texts may not.
    before = shelbyville_rows(world)
    for route, name in routes:
        url = concrete(world, route, name)
        aimed = client.get(
            url, {"broadcast": world.b_broadcast.pk, "number": SECRET_PHONE, "org": "shelbyville"}
        )
        assert aimed.status_code != 500, url
        assert_no_secret(aimed, f"GET {url}?broadcast=…", markers=MARKERS[:4])
        posted = client.post(url, world.form())
        assert posted.status_code != 500, url
        assert_no_secret(posted, f"POST {url}", markers=MARKERS[:4])
        assert shelbyville_rows(world) == before, f"POST {url} changed Shelbyville's rows"
    # After every switch attempt, Springfield's admin still sees Springfield only.
    assert_no_secret(client.get("/contacts/"), "/contacts/ after all", markers=MARKERS[:4])


def test_a_viewer_changes_nothing_on_any_page(world: World) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(world.viewer)
    form = {**world.form(), "organization": world.a.pk, "user_id": world.viewer.pk}
    before = all_rows()
    for route, name in web_routes():
        if name in PUBLIC or name in PERSONAL:
            continue
        url = concrete(world, route, name)
        response = client.post(url, form)
        assert response.status_code != 500, url
        assert all_rows() == before, f"a viewer's POST {url} changed rows"


def api_operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.get_openapi_schema()
    operations = [
        (method.upper(), path, op)
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    ]
    return sorted(operations, key=lambda o: o[0] != "GET")


def api_url(world: World, path: str, op: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: world.path_value(op["operationId"], m.group(1)), path)


def _body(world: World, slug: str) -> str:
    return json.dumps({"org": slug, "phone": SECRET_PHONE, "name": "x", "text": "y", "force": True})


def test_every_api_operation_keeps_shelbyville_out(world: World) -> None:
    key = api_token_create(user=world.admin)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", raise_request_exception=False)
    operations = api_operations()
    assert len(operations) >= 15
    before = shelbyville_rows(world)
    for method, path, op in operations:
        url = api_url(world, path, op)
        for query in ({}, {"org": "shelbyville"}):
            response = client.generic(
                method,
                url + ("?org=shelbyville" if query else ""),
                _body(world, "shelbyville"),
                content_type="application/json",
            )
            assert response.status_code in (200, 201, 202, 400, 403, 404, 405, 409, 422), (
                method,
                url,
                response.status_code,
                response.content[:200],
            )
            takes_org = any(p["name"] == "org" for p in op.get("parameters", []))
            if query and takes_org:
                assert response.status_code >= 400, f"{method} {url}?org=shelbyville answered"
            # Springfield may block any number for its own sender and be told so.
            # Every GET runs before the first POST; a number asked about may be echoed.
            markers = MARKERS if method == "GET" and SECRET_PHONE not in url else MARKERS[:4]
            assert_no_secret(response, f"{method} {url}", markers=markers)
            assert shelbyville_rows(world) == before, f"{method} {url} changed Shelbyville"


def test_a_viewer_token_changes_nothing(world: World) -> None:
    key = api_token_create(user=world.viewer)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", raise_request_exception=False)
    before = all_rows()
    for method, path, _op in api_operations():
        if method == "GET":
            continue
        url = re.sub(r"\{\w+\}", "1", path)
        response = client.generic(method, url, _body(world, "springfield"), "application/json")
        assert response.status_code != 500, (method, url)
        assert all_rows() == before, f"a viewer's {method} {url} changed rows"


def commands_taking_org() -> list[tuple[str, str]]:
    found = []
    for name, app in sorted(get_commands().items()):
        if not app.startswith("schoolsms"):
            continue
        parser = load_command_class(app, name).create_parser("schoolsms", name)
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        choices = subs[0].choices.items() if subs else [("", parser)]
        for action, sub in choices:
            if "--org" in [o for a in sub._actions for o in a.option_strings]:
                found.append((name, action))
    return found


def command_args(world: World, tmp: Any) -> dict[tuple[str, str], list[str]]:
    """Each command run for Springfield, its arguments aimed at Shelbyville's things."""
    consent = tmp / "consent.csv"
    consent.write_text(f"phone,sms_status\n{SECRET_PHONE},opted_out\n")
    contacts = tmp / "contacts.csv"
    contacts.write_text("external_id,first_name,last_name,phone1\nB1,Mallory,Doe,2175550199\n")
    return {
        ("broadcast", "send"): ["--name", "x", "--message", "y", "--contacts", str(tmp / "no")],
        ("consent", "import"): [str(consent)],
        ("consent", "block"): [SECRET_PHONE],
        ("consent", "unblock"): [SECRET_PHONE],
        ("contacts", "import"): [str(contacts)],
        ("contacts", "watch"): ["--off"],
        ("flyer", ""): ["--output", str(tmp / "flyer.pdf")],
        ("reminders", "send"): ["--dry-run"],
        ("report", "sms-log"): ["--broadcast", str(world.b_broadcast.pk)],
        ("report", "sms-status"): ["--lookup", SECRET_PHONE],
        ("token", "create"): ["--email", "admin@shelbyville.example.org"],
        ("user", "create"): ["--email", "helper@springfield.example.org", "--role", "viewer"],
        ("user", "remove"): ["--email", "admin@shelbyville.example.org"],
    }


def test_every_command_taking_org_keeps_shelbyville_out(world: World, tmp_path: Any) -> None:
    table = command_args(world, tmp_path)
    found = commands_taking_org()
    missing = [c for c in found if c not in table]
    assert not missing, f"commands taking --org with no isolation case here: {missing}"
    before = shelbyville_rows(world)
    for (name, action), args in table.items():
        out, err = io.StringIO(), io.StringIO()
        argv = [name, *([action] if action else []), "--org", "springfield", *args]
        try:
            call_command(*argv, stdout=out, stderr=err)
        except (SystemExit, Exception) as exc:  # a refusal is fine; a leak is not
            err.write(str(exc))
        for stream in (out.getvalue(), err.getvalue()):
            leaked = [m for m in MARKERS[:4] if m in stream]
            assert not leaked, f"schoolsms {' '.join(argv)} printed Shelbyville's {leaked}"
        assert shelbyville_rows(world) == before, f"schoolsms {' '.join(argv)} changed Shelbyville"
