"""/metrics in Prometheus's text format (prometheus-client): delivery results and reasons,
queue depth, receipt delay and carrier webhook traffic.

Webhook requests are counted per process; `schoolsms serve` sets PROMETHEUS_MULTIPROC_DIR so
the counts of every gunicorn worker add up (set it yourself when serving another way)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from schoolsms.core import health

WEBHOOK_PREFIXES = ("/webhooks/", "/carriers/")
WEBHOOK_REQUESTS = Counter(
    "schoolsms_webhook_requests",
    "Carrier webhook requests received, by carrier, kind and HTTP status class",
    ["carrier", "kind", "status"],
)


def webhook_counting(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Middleware: count carrier webhook requests (receipts and inbound texts)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if request.path.startswith(WEBHOOK_PREFIXES):
            parts = request.path.strip("/").split("/")
            carrier = parts[1] if len(parts) > 1 else ""
            kind = parts[-1] if len(parts) > 2 else ""
            WEBHOOK_REQUESTS.labels(carrier, kind, f"{response.status_code // 100}xx").inc()
        return response

    return middleware


class DeliveryCollector(Collector):
    """Read from the database at each scrape, so every web process reports the same figures."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        by_result = GaugeMetricFamily(
            "schoolsms_messages",
            "Message rows by delivery result and reason",
            labels=["result", "reason"],
        )
        for result, reason, count in health.message_counts():
            by_result.add_metric([result, reason], count)
        yield by_result
        runnable = health.runnable_messages(now)
        yield GaugeMetricFamily(
            "schoolsms_messages_runnable",
            "Message rows waiting to be sent now",
            value=runnable["count"],
        )
        yield GaugeMetricFamily(
            "schoolsms_messages_runnable_oldest_age_seconds",
            "Age of the oldest message row waiting to be sent now",
            value=runnable["oldest_age_seconds"] or 0,
        )
        tasks = health.runnable_tasks(now)
        if tasks is not None:
            yield GaugeMetricFamily(
                "schoolsms_tasks_runnable", "Background tasks ready to run", value=tasks["count"]
            )
            yield GaugeMetricFamily(
                "schoolsms_tasks_runnable_oldest_age_seconds",
                "Age of the oldest background task ready to run",
                value=tasks["oldest_age_seconds"] or 0,
            )
        count, mean, longest = health.receipt_delay()
        yield GaugeMetricFamily(
            "schoolsms_receipts_last_hour",
            "Delivery receipts applied in the last hour",
            value=count,
        )
        yield GaugeMetricFamily(
            "schoolsms_receipt_delay_seconds_mean",
            "Mean seconds from Sent to the delivery receipt, last hour",
            value=mean,
        )
        yield GaugeMetricFamily(
            "schoolsms_receipt_delay_seconds_max",
            "Longest seconds from Sent to the delivery receipt, last hour",
            value=longest,
        )
        beat = health.newest_heartbeat()
        yield GaugeMetricFamily(
            "schoolsms_worker_heartbeat_age_seconds",
            "Seconds since the newest worker heartbeat (-1: never)",
            value=(now - beat.seen_at).total_seconds() if beat else -1,
        )


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.SCHOOLSMS_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse(
                "metrics need Authorization: Bearer <SCHOOLSMS_METRICS_TOKEN>\n", status=401
            )
    registry = CollectorRegistry()
    registry.register(DeliveryCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(WEBHOOK_REQUESTS)
    response = HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
