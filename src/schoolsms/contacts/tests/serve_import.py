"""A contacts file imported through the web page of the real server (`schoolsms serve`: gunicorn
and a worker, on a free port of 127.0.0.1, SQLite in its own folder), while another page is
timed again and again. Used by the slow test and by bench/bench_web_import.py (200,000 rows)."""

from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

PASSWORD = "correct-horse-battery-staple"


@dataclass
class ServedImport:
    rows: int
    upload_seconds: float = 0.0
    import_seconds: float = 0.0  # from the upload's answer to the job's end
    page_seconds: list[float] = field(default_factory=list)  # another page, during the import
    status: str = ""
    page_html: str = ""
    # (rows done, rows total) of the progress bar at each look while the import ran
    progress: list[tuple[int, int]] = field(default_factory=list)
    # The answers (status line, headers, body) to bodies declared bigger than the limit, on the
    # web page and the API, and what the server had kept of them (files waiting for the worker).
    oversized_page: str = ""
    oversized_api: str = ""
    kept_after_oversized: list[str] = field(default_factory=list)


def _declare_oversized(port: int, path: str, headers: str) -> str:
    """Send only the headers of a POST declaring 10 GB, and read the whole answer: it must come
    without the body (a server that waited for the body would time out here)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {10 * 1024**3}\r\nConnection: close\r\n\r\n--x\r\n"
            ).encode()
        )
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:  # closed with the body unread: what came before counts
            pass
        return answer.decode("utf-8", "replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def contacts_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["external_id", "first_name", "last_name", "email", "role", "school",
                    "phone1", "sms1", "phone2", "sms2"])  # fmt: skip
        for i in range(rows):
            local = f"{200 + i // 10000 % 800}-{i % 10000:04d}"
            w.writerow([f"D{i:07d}", "Ann", "Lee", f"ann{i}@example.org", "guardian",
                        f"School {i % 40}", f"(217) {local}", "yes", f"(312) {local}",
                        "no"])  # fmt: skip
    return path


def served_import(folder: Path, rows: int, *, timeout: float = 600) -> ServedImport:
    """Start the server, log in, upload `rows` contacts, time the Contacts page every half
    second until the import ends; the server is stopped before returning."""
    var = folder / "var"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SCHOOLSMS_VAR_DIR=str(var), SCHOOLSMS_PUBLIC_URL=base, ALLOWED_HOSTS="127.0.0.1")
    cli = [sys.executable, "-m", "schoolsms"]

    def run(*args: str) -> str:
        done = subprocess.run([*cli, *args], env=env, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    run("migrate", "-v", "0")
    run("org", "create", "--slug", "district", "--name", "District", "--sender", "67587")
    run("user", "create", "--org", "district", "--email", "it@district.example.org",
        "--role", "admin", "--password", PASSWORD)  # fmt: skip
    token = run("token", "create", "--email", "it@district.example.org")
    upload = contacts_csv(folder / "district.csv", rows)
    result = ServedImport(rows=rows)
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        session = requests.Session()
        deadline = time.monotonic() + 180  # collectstatic first; slow on a busy machine
        while True:
            try:
                if session.get(f"{base}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:  # still starting (or slow to answer)
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.3)
        session.get(f"{base}/login/")
        session.post(f"{base}/login/", data={
            "username": "it@district.example.org", "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        }, headers={"Referer": f"{base}/login/"})  # fmt: skip
        session.get(f"{base}/contacts/import/")
        cookies = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        result.oversized_page = _declare_oversized(
            port, "/contacts/import/", f"Cookie: {cookies}\r\n"
        )
        result.oversized_api = _declare_oversized(
            port, "/api/v1/contacts/import", f"Authorization: Bearer {token}\r\n"
        )
        imports = var / "imports"
        result.kept_after_oversized = (
            [p.name for p in imports.iterdir()] if imports.exists() else []
        )
        started = time.monotonic()
        with upload.open("rb") as file:
            answer = session.post(
                f"{base}/contacts/import/",
                data={"kind": "contacts", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                files={"file": ("district.csv", file, "text/csv")},
                headers={"Referer": f"{base}/contacts/import/"},
                allow_redirects=False,
            )
        result.upload_seconds = time.monotonic() - started
        if answer.status_code != 302:
            raise RuntimeError(f"upload answered {answer.status_code}")
        job_url = base + answer.headers["Location"]
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            progress = session.get(job_url + "progress/", timeout=30).text
            status = re.search(r'data-status="(\w+)"', progress)
            result.status = status.group(1) if status else "?"
            if result.status not in ("queued", "checking", "saving"):
                break
            bar = re.search(r'<progress value="(\d+)" max="(\d+)"', progress)
            if bar:
                result.progress.append((int(bar.group(1)), int(bar.group(2))))
            t0 = time.monotonic()
            session.get(f"{base}/contacts/", timeout=30).raise_for_status()
            result.page_seconds.append(time.monotonic() - t0)
            time.sleep(0.5)
        result.import_seconds = time.monotonic() - started
        result.page_html = session.get(job_url).text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return result
