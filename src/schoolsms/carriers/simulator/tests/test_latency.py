"""SCHOOLSMS_SIMULATOR_LATENCY: a slow carrier, one round trip per send request."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.utils import timezone

from schoolsms.carriers.simulator.models import SimulatedMessage
from schoolsms.carriers.simulator.transport import SimulatorGateway
from schoolsms.messaging.gateway import OutboundMessage


@pytest.mark.django_db
def test_a_send_takes_the_latency_and_the_carrier_stamps_it_on_arrival(
    org: Any, settings: Any
) -> None:
    settings.SCHOOLSMS_SIMULATOR_LATENCY = 0.3
    settings.SCHOOLSMS_SIMULATOR_SCENARIO = ""
    batch = [OutboundMessage(i, f"+1217555{i:04d}", org.sender.code, "Snow day") for i in range(5)]
    asked = timezone.now()
    started = time.perf_counter()
    outcomes = SimulatorGateway(org.sender).send_batch(batch)
    took = time.perf_counter() - started
    assert [o.kind for o in outcomes] == ["accepted"] * 5
    assert took >= 0.3
    stamps = SimulatedMessage.objects.values_list("created_at", flat=True)
    assert len(stamps) == 5
    assert all((stamp - asked).total_seconds() >= 0.3 for stamp in stamps)
