from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from schoolsms.messaging import selectors, services
from schoolsms.messaging.models import Broadcast, BroadcastStatus, DeliveryResult, Reason
from schoolsms.messaging.tests.helpers import add_messages, make_audience

pytestmark = pytest.mark.django_db


def create(org: Any, **kwargs: Any) -> Broadcast:
    kwargs.setdefault("name", "Snow day")
    kwargs.setdefault("text", "Schools are closed today because of snow.")
    return services.broadcast_create(organization=org, **kwargs)


def test_create_makes_a_draft_with_its_audience(org: Any, admin_user: Any) -> None:
    make_audience(org)
    broadcast = create(
        org,
        created_by=admin_user,
        roles=["Guardian", "guardian"],
        schools=["Lincoln Elementary"],
        emergency=True,
    )
    assert broadcast.status == BroadcastStatus.DRAFT
    assert broadcast.audience_roles == ["guardian"]
    assert broadcast.audience_schools == ["Lincoln Elementary"]
    assert broadcast.emergency and broadcast.created_by == admin_user


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "  "}, "the broadcast name is empty"),
        ({"text": " \n"}, "the message text is empty"),
        ({"roles": ["parent"]}, "unknown role parent (choose from guardian, staff, student)"),
        ({"schools": ["Nowhere High"]}, "no contact of Springfield District is at school Nowhere"),
        (
            {"external_ids": ["S1", "X9", "X8"]},
            "2 external ids are not contacts of Springfield District: X9, X8",
        ),
        (
            {"text": "a" * 460},
            "the message is 4 SMS segments long (460 characters, GSM-7); the limit for "
            "Springfield District is 3 segments. Shorten the text.",
        ),
        (
            {"text": "\N{RIGHT SINGLE QUOTATION MARK}" * 202},
            "the message is 4 SMS segments long (202 characters, UCS-2); the limit for "
            "Springfield District is 3 segments. Shorten the text or replace the characters "
            "that force UCS-2.",
        ),
    ],
)
def test_create_refuses_bad_input_with_a_clear_message(
    org: Any, kwargs: dict[str, Any], message: str
) -> None:
    make_audience(org)
    with pytest.raises(ValidationError) as exc:
        create(org, **kwargs)
    assert message in exc.value.messages[0]
    assert not Broadcast.objects.exists()


def test_an_explicit_list_has_a_size_limit(org: Any) -> None:
    ids = [f"X{i}" for i in range(services.MAX_EXTERNAL_IDS + 1)]
    with pytest.raises(ValidationError, match="20001 external ids are more than a list may hold"):
        create(org, external_ids=ids)


def test_segment_limit_is_per_organization(org: Any) -> None:
    assert create(org, text="a" * 459).pk  # three segments: allowed by default
    org.segment_limit = 1
    org.save()
    with pytest.raises(ValidationError, match="limit for Springfield District is 1 segment\\."):
        create(org, text="a" * 161)


def test_audience_filters_combine(org: Any, other_org: Any) -> None:
    make_audience(org)
    make_audience(other_org)

    def preview(**kw: Any) -> dict[str, int]:
        return selectors.audience_preview(organization=org, **kw)

    assert preview() == {"contacts": 5, "numbers": 5}  # T2's number is not SMS-enabled
    assert preview(roles=["guardian"]) == {"contacts": 3, "numbers": 4}
    assert preview(roles=["guardian"], schools=["Roosevelt High"]) == {"contacts": 1, "numbers": 1}
    assert preview(external_ids=["S1", "T2"]) == {"contacts": 2, "numbers": 2}


def test_parse_external_ids_from_lines_pastes_and_csv() -> None:
    assert services.parse_external_ids("S1\nS2\r\n\nS1\n") == ["S1", "S2"]
    assert services.parse_external_ids("S1, S2; S3 S4") == ["S1", "S2", "S3", "S4"]
    csv_text = "first_name,External_ID\nAnn,S1\nBob,S2\nCy,\n"
    assert services.parse_external_ids(csv_text) == ["S1", "S2"]
    assert services.parse_external_ids("  \n") == []


def test_send_schedules_and_enqueues_dispatch_after_commit(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    broadcast = create(org)
    at = timezone.now() + dt.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.broadcast_send(broadcast=broadcast, at=at)
        assert not DBTaskResult.objects.exists()  # not before the commit
    assert len(callbacks) == 1
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SCHEDULED
    assert broadcast.scheduled_at == at
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [broadcast.pk]
    assert task.run_after == at
    assert not DBTaskResult.objects.ready().exists()


def test_send_now_runs_as_soon_as_a_worker_is_free(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    broadcast = create(org)
    with django_capture_on_commit_callbacks(execute=True):
        services.broadcast_send(broadcast=broadcast)
    assert DBTaskResult.objects.ready().get().args_kwargs["args"] == [broadcast.pk]


def test_only_a_draft_can_be_sent(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    broadcast = create(org)
    with django_capture_on_commit_callbacks(execute=True):
        services.broadcast_send(broadcast=broadcast)
    expected = f"broadcast {broadcast.pk} is scheduled; only a draft"
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError, match=expected),
    ):
        services.broadcast_send(broadcast=broadcast)
    assert DBTaskResult.objects.count() == 1


def test_a_schedule_in_the_past_is_refused(org: Any) -> None:
    broadcast = create(org)
    with pytest.raises(ValidationError, match="is in the past"):
        services.broadcast_send(broadcast=broadcast, at=timezone.now() - dt.timedelta(hours=1))
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.DRAFT


@pytest.mark.parametrize("status", ["draft", "scheduled", "sending"])
def test_cancel_unfinished_broadcasts(org: Any, status: str) -> None:
    broadcast = create(org)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=status)
    services.broadcast_cancel(broadcast=broadcast)
    assert broadcast.status == BroadcastStatus.CANCELED
    assert broadcast.canceled_at is not None


@pytest.mark.parametrize("status", ["complete", "canceled"])
def test_cancel_refuses_finished_broadcasts(org: Any, status: str) -> None:
    broadcast = create(org)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=status)
    with pytest.raises(ValidationError, match=f"is already {status}; it cannot be canceled"):
        services.broadcast_cancel(broadcast=broadcast)


def test_counts_per_result_and_reason(org: Any) -> None:
    broadcast = create(org)
    other = create(org, name="Other")
    add_messages(broadcast, DeliveryResult.SENT, n=3)
    add_messages(broadcast, DeliveryResult.INELIGIBLE_TO_SEND, Reason.OPTED_OUT, n=2)
    add_messages(broadcast, DeliveryResult.FAILED_TO_SEND, Reason.CARRIER_ERROR)
    add_messages(broadcast, DeliveryResult.NOT_SENT_YET)
    add_messages(other, DeliveryResult.SENT, n=5)
    counts = selectors.broadcast_counts(broadcast)
    assert counts["total"] == 7
    assert counts["by_result"] == {
        "Not Sent Yet": 1,
        "Sending": 0,
        "Sent": 3,
        "Ineligible to Send": 2,
        "Failed to Send": 1,
    }
    assert counts["by_reason"]["opted_out"] == 2
    assert counts["by_reason"]["carrier_error"] == 1
    assert set(counts["by_reason"]) == set(Reason.values)
    assert selectors.broadcast_progress(counts) == {"done": 6, "total": 7, "percent": 86}
