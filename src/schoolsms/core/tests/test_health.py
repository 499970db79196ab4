"""/healthz and /metrics as a load balancer and Prometheus read them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from schoolsms import testing
from schoolsms.messaging.models import DeliveryResult, Message
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast, run_worker
from schoolsms.operations.services import heartbeat_beat


def test_healthz_is_503_until_a_worker_is_seen(client: Any, org: Any) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["database"] == "ok" and body["problem"] == "no worker has been seen"
    heartbeat_beat(worker="host:1", started_at=timezone.now())
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["worker"]["age_seconds"] < 5
    assert body["messages_runnable"] == {"count": 0, "oldest_age_seconds": None}


def test_healthz_counts_work_waiting(client: Any, org: Any) -> None:
    heartbeat_beat(worker="host:1", started_at=timezone.now())
    testing.create_contact(org, "s1", ["+12175550101"], consent="opted_in")
    make_broadcast(org)  # enqueued, no worker ran it yet
    body = client.get("/healthz").json()
    assert body["tasks_runnable"]["count"] == 1
    assert body["tasks_runnable"]["oldest_age_seconds"] is not None


def test_the_worker_beats_while_it_works(client: Any, org: Any) -> None:
    testing.create_contact(org, "s1", ["+12175550101"], consent="opted_in")
    make_broadcast(org)
    run_worker()
    assert client.get("/healthz").status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Any) -> None:
    port, dead = _free_port(), _free_port()
    env = {**os.environ, "DATABASE_URL": f"postgres://nobody@127.0.0.1:{dead}/gone",
           "SCHOOLSMS_VAR_DIR": str(tmp_path)}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "schoolsms.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                pytest.fail("healthz answered 200 without a database")
            except urllib.error.HTTPError as exc:
                assert exc.code == 503
                assert b"unreachable" in exc.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(10)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_report_results_queue_and_receipts(client: Any, org: Any, settings: Any) -> None:
    testing.create_contact(org, "s1", ["+12175550101"], consent="opted_in")
    testing.create_contact(org, "s2", ["+12175550102"], consent="pending")
    testing.create_contact(org, "s3", ["+12175550103"], consent="opted_in")
    make_broadcast(org)
    run_worker()
    client.post("/webhooks/none/status")  # a webhook request, whatever its answer
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain")
    samples = _samples(answer.content.decode())
    sent = Message.objects.filter(result=DeliveryResult.SENT).count()
    assert sent == 2
    assert samples[("schoolsms_messages", (("reason", ""), ("result", "sent")))] == 2
    key = ("schoolsms_messages", (("reason", "pending_opt_in"), ("result", "ineligible")))
    assert samples[key] == 1
    assert samples[("schoolsms_messages_runnable", ())] == 0
    assert samples[("schoolsms_receipts_last_hour", ())] == 2
    assert samples[("schoolsms_worker_heartbeat_age_seconds", ())] >= 0
    webhooks = [
        value
        for (name, labels), value in samples.items()
        if name == "schoolsms_webhook_requests_total" and ("carrier", "none") in labels
    ]
    assert webhooks and webhooks[0] >= 1
    settings.SCHOOLSMS_METRICS_TOKEN = "s3cret-metrics"
    assert client.get("/metrics").status_code == 401
    auth = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    assert auth.status_code == 200
