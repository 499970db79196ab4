"""Production headers and cookies: Secure cookies and HSTS on https, a Content-Security-Policy
without inline scripts, `Cache-Control: no-store` on pages and exports, no server header."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from schoolsms.core.tests.serving import serving

PACKAGE = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_https_deployment_headers_through_gunicorn(org: Any) -> None:
    with serving(SCHOOLSMS_PUBLIC_URL="https://sms.example.org") as base:
        # As the TLS proxy forwards it (http straight to the app is redirected to https).
        request = urllib.request.Request(  # noqa: S310 (a local test server)
            f"{base}/login/", headers={"X-Forwarded-Proto": "https"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            headers = response.headers
    cookies = headers.get_all("Set-Cookie") or []
    csrf = [c for c in cookies if c.startswith("csrftoken=")]
    assert csrf and all("; Secure" in c for c in csrf)
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    assert headers["Server"] is None  # gunicorn's own "Server: gunicorn" is left out
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_secure_on_https(client: Any, admin_user: Any, settings: Any) -> None:
    settings.SESSION_COOKIE_SECURE = True
    response = client.post(
        "/login/", {"username": admin_user.username, "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] is True


def test_plain_http_sends_no_hsts_and_no_secure_cookie(client: Any) -> None:
    response = client.get("/login/")
    assert "Strict-Transport-Security" not in response
    assert not response.cookies["csrftoken"]["secure"]


@pytest.mark.parametrize(
    "url",
    [
        "/broadcasts/",
        "/contacts/",
        "/reports/sms-log/",
        "/reports/sms-log/export.csv",
        "/reports/sms-log/export.xlsx",
        "/reports/sms-status/export.csv",
        "/settings/users/",
        "/api/v1/openapi.json",
    ],
)
def test_pages_and_exports_are_not_cached_and_carry_a_csp(admin_client: Any, url: str) -> None:
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "Server" not in response


def test_static_files_keep_their_own_caching(client: Any) -> None:
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert response.get("Cache-Control") != "no-store"


# Executable script in a template: an inline <script> (a JSON data block is not code), an
# on*= event handler attribute, or a javascript: URL. CSP would block them; none may exist.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"javascript:", re.I)


def test_no_template_of_any_app_has_inline_script() -> None:
    templates = sorted(PACKAGE.glob("**/templates/**/*.html"))
    assert len(templates) > 20
    offenders = [
        f"{path.relative_to(PACKAGE)}: {pattern.pattern}"
        for path in templates
        for pattern in (INLINE_SCRIPT, HANDLER, JS_URL)
        if pattern.search(path.read_text())
    ]
    assert offenders == []
