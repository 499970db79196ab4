"""A stand-in for Twilio's Messages API on 127.0.0.1: create, fetch and list (To, DateSent>)
with Twilio's JSON and error JSON, and signed status callbacks posted back over real HTTP.

Per-number behaviour (`script`): a 21xxx code is refused at once (HTTP 400), a 30xxx code is
accepted and later reported failed/undelivered with that ErrorCode, "http_500"/"http_429" are
answered with that status, "hang" creates the message and then answers too late for the client.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import json
import os
import re
import threading
import time
from base64 import b64decode
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from twilio.request_validator import RequestValidator

API = "/2010-04-01/Accounts/"
_ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages(?:/(SM\w+))?\.json$")


def rfc2822(at: dt.datetime | None) -> str | None:
    return email.utils.format_datetime(at, usegmt=True) if at else None


def _parse_date(text: str) -> dt.datetime:
    if "T" in text:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)


@dataclass
class FakeMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    messaging_service_sid: str
    status_callback: str
    status: str = "queued"
    error_code: str = ""
    date_created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    date_sent: dt.datetime | None = None

    def resource(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_sent or self.date_created),
            "direction": "outbound-api",
            "error_code": int(self.error_code) if self.error_code else None,
            "error_message": None,
            "from": self.from_ or None,
            "messaging_service_sid": self.messaging_service_sid or None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "status": self.status,
            "to": self.to,
            "uri": f"{API}{self.account_sid}/Messages/{self.sid}.json",
            "subresource_uris": {},
        }


class FakeTwilio:
    """The server and what it has seen. Start with `with FakeTwilio(...) as fake:`."""

    def __init__(
        self,
        *,
        accounts: dict[str, str],
        latency: float = 0.0,
        callbacks: bool = True,
        progress: bool = True,
        callback_first: bool = False,
        script: dict[str, str] | None = None,
    ) -> None:
        self.accounts = accounts  # account sid -> auth token
        self.latency = latency  # seconds each create takes
        self.callbacks = callbacks
        self.progress = progress  # messages move on (sent, delivered) by themselves
        self.callback_first = callback_first  # post `sent` before answering the create
        self.script = dict(script or {})
        self.messages: dict[str, FakeMessage] = {}
        self.creates: list[dict[str, str]] = []  # every create request's form, in order
        self.create_times: list[float] = []  # when each was received (time.monotonic())
        self.requests: list[tuple[str, str]] = []  # (method, path with query)
        self.connections = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.callback_answers: list[int] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeTwilio:
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def new_sid(self) -> str:
        return f"SM{next(self._seq):08x}{os.urandom(12).hex()}"

    def creates_to(self, number: str) -> int:
        with self._lock:
            return sum(1 for form in self.creates if form.get("To") == number)

    def wait_callbacks(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(timeout=max(0.1, deadline - time.monotonic()))

    # -- callbacks ----------------------------------------------------------------------------

    def post_signed(self, url: str, form: dict[str, str], token: str) -> requests.Response:
        """POST a webhook the way Twilio does: form-encoded, X-Twilio-Signature over the URL
        and the sorted parameters, with the account's auth token."""
        signature = RequestValidator(token).compute_signature(url, form)
        return requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)

    def status_form(self, message: FakeMessage, status: str) -> dict[str, str]:
        form = {
            "AccountSid": message.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_,
            "To": message.to,
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": status,
            "SmsStatus": status,
        }
        if message.messaging_service_sid:
            form["MessagingServiceSid"] = message.messaging_service_sid
        if status in ("failed", "undelivered") and message.error_code:
            form["ErrorCode"] = message.error_code
        return form

    def _progress(self, message: FakeMessage, statuses: list[str]) -> None:
        for status in statuses:
            with self._lock:
                message.status = status
                if status == "sent" or (status == "undelivered" and not message.date_sent):
                    message.date_sent = dt.datetime.now(dt.UTC)
            if self.callbacks and message.status_callback:
                token = self.accounts[message.account_sid]
                form = self.status_form(message, status)
                answer = self.post_signed(message.status_callback, form, token)
                with self._lock:
                    self.callback_answers.append(answer.status_code)

    def _later(self, message: FakeMessage, statuses: list[str]) -> None:
        thread = threading.Thread(target=self._progress, args=(message, statuses), daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    # -- the API ------------------------------------------------------------------------------

    def create(
        self, account: str, form: dict[str, str], *, received: float
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.creates.append(form)
            self.create_times.append(received)
        to = form.get("To", "")
        scripted = self.script.get(to, "")
        if scripted.startswith("http_"):
            status = int(scripted[5:])
            return status, _error(status, 20429 if status == 429 else 20500, "Try again later")
        if not re.fullmatch(r"\+[1-9]\d{6,14}", to):
            return 400, _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if scripted.startswith("21"):
            return 400, _error(400, int(scripted), f"Refused: error {scripted}")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 400, _error(400, 21603, "A 'From' or 'MessagingServiceSid' is required.")
        message = FakeMessage(
            sid=self.new_sid(),
            account_sid=account,
            to=to,
            from_=form.get("From", "") or "+12175550199",
            body=form.get("Body", ""),
            messaging_service_sid=form.get("MessagingServiceSid", ""),
            status_callback=form.get("StatusCallback", ""),
            status="accepted" if form.get("MessagingServiceSid") else "queued",
            error_code=scripted if scripted.startswith("30") else "",
        )
        with self._lock:
            self.messages[message.sid] = message
            answer = message.resource()  # what Twilio answers: the message as first made
        final = ["undelivered"] if message.error_code else ["sent", "delivered"]
        if not self.progress:
            final = []
        if self.callback_first and final:
            self._progress(message, final[:1])
            final = final[1:]
        if final:
            self._later(message, final)
        if scripted == "hang":
            time.sleep(60)  # created, but the answer comes after the client has given up
        return 201, answer

    def listing(self, account: str, query: dict[str, list[str]]) -> dict[str, Any]:
        to = (query.get("To") or [""])[0]
        after = (query.get("DateSent>") or [""])[0]
        size = int((query.get("PageSize") or ["50"])[0])
        with self._lock:
            found = [m for m in self.messages.values() if m.account_sid == account]
        if to:
            found = [m for m in found if m.to == to]
        if after:
            since = _parse_date(after)
            found = [m for m in found if m.date_sent is not None and m.date_sent >= since]
        found.sort(key=lambda m: m.date_created, reverse=True)
        uri = f"{API}{account}/Messages.json"
        return {
            "messages": [m.resource() for m in found[:size]],
            "first_page_uri": uri,
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": size,
            "start": 0,
            "end": max(0, min(size, len(found)) - 1),
            "uri": uri,
        }


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API does

        def setup(self) -> None:
            super().setup()
            with fake._lock:
                fake.connections += 1

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up or was killed; Twilio's answer goes nowhere either

        def _account(self) -> str | None:
            """The account in the path, if the request's basic auth is its sid and token."""
            match = _ACCOUNT_PATH.match(urlparse(self.path).path)
            header = self.headers.get("Authorization", "")
            if match is None or not header.startswith("Basic "):
                return None
            user, _, password = b64decode(header[6:]).decode().partition(":")
            account = match.group(1)
            return account if user == account and fake.accounts.get(account) == password else None

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                return  # the client went away mid-request: like Twilio, make nothing of half a form
            raw = body.decode()
            with fake._lock:
                fake.requests.append((method, self.path))
                fake.in_flight += 1
                fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
            try:
                account = self._account()
                if account is None:
                    self._reply(401, _error(401, 20003, "Authenticate"))
                    return
                url = urlparse(self.path)
                sid = _ACCOUNT_PATH.match(url.path).group(2)  # type: ignore[union-attr]
                if method == "POST" and sid is None:
                    # Stamped when it arrived, as Twilio counts it against the rate limit.
                    received = time.monotonic()
                    time.sleep(fake.latency)
                    form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                    self._reply(*fake.create(account, form, received=received))
                elif method == "GET" and sid is None:
                    self._reply(200, fake.listing(account, parse_qs(url.query)))
                elif method == "GET":
                    message = fake.messages.get(sid)
                    if message is None or message.account_sid != account:
                        self._reply(404, _error(404, 20404, f"Message {sid} not found"))
                    else:
                        self._reply(200, message.resource())
                else:
                    self._reply(405, _error(405, 20004, "Method not allowed"))
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

    return Handler
