"""The fan-out refreshes PostgreSQL's planner statistics before its INSERT ... SELECT: without
them (a database just filled, autovacuum off or not there yet) its look-ups were planned as a
rescan of the whole chunk for every row."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from schoolsms import testing
from schoolsms.messaging.dispatch import FAN_OUT_TABLES, broadcast_fan_out
from schoolsms.messaging.models import Broadcast, BroadcastStatus
from schoolsms.messaging.tests.pipeline_helpers import make_broadcast
from schoolsms.operations.statistics import table_described

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner only"),
]


def test_the_fan_out_leaves_the_tables_it_reads_described(org: Any) -> None:
    for i in range(5):
        testing.create_contact(org, f"c{i}", [f"+121755501{i:02d}"], consent="opted_in")
    broadcast = make_broadcast(org, enqueue=False)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING)
    assert broadcast_fan_out(broadcast_id=broadcast.pk) == 5
    for table in ("contacts_contact", "contacts_phonenumber", "consent_consentrecord"):
        assert table in FAN_OUT_TABLES
        assert table_described(table), table
