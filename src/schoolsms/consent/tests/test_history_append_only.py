"""Consent history cannot be rewritten: the database itself refuses, whoever asks."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction

from schoolsms import testing
from schoolsms.accounts.models import Organization, Sender
from schoolsms.consent.models import ConsentEvent, ConsentRecord
from schoolsms.consent.services import consent_change

PHONE = "+12175550101"


@pytest.fixture
def event(org: Any, admin_user: User) -> ConsentEvent:
    admin_user.first_name, admin_user.last_name = "Edna", "Krabappel"
    admin_user.save()
    found = consent_change(
        sender=org.sender,
        phone=PHONE,
        new_status="opted_in",
        source="web",
        text="signed the paper form",
        actor=admin_user,
        organization=org,
    )
    assert found is not None
    return found


def _row(pk: int) -> dict[str, Any]:
    return ConsentEvent.objects.filter(pk=pk).values().get()


def _refused(action: Any) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        action()
    return str(caught.value)


def test_the_event_names_who_acted_and_for_which_organization(event: ConsentEvent) -> None:
    row = _row(event.pk)
    assert (row["actor_name"], row["actor_email"], row["organization_name"]) == (
        "Edna Krabappel",
        "admin@springfield.example.org",
        "Springfield District",
    )


# Every column, to a value it does not have; a column added later is covered too.
def _other_value(field: Any, event: ConsentEvent, org: Organization, other: User) -> Any:
    if field.name == "record":
        return ConsentRecord.objects.create(
            sender=org.sender, phone="+12175550199", status="opted_in", changed_at=event.created_at
        )
    if field.name == "actor":
        return other
    if field.name == "organization":
        return testing.create_org("other", sender_code="67599")
    if field.name == "created_at":
        return event.created_at.replace(year=2001)
    if field.name in ("old_status", "new_status"):
        return "opted_out"
    if field.name == "source":
        return "admin"
    return "forged"


def test_queryset_update_of_any_column_is_refused(
    event: ConsentEvent, org: Organization, admin_user: User
) -> None:
    other = testing.create_user(org, "other@springfield.example.org")
    before = _row(event.pk)
    fields = [f for f in ConsentEvent._meta.concrete_fields if not f.primary_key]
    assert len(fields) >= 10
    for field in fields:
        value = _other_value(field, event, org, other)
        message = _refused(
            lambda f=field, v=value: ConsentEvent.objects.filter(pk=event.pk).update(**{f.name: v})
        )
        assert "append-only" in message, field.name
    assert _row(event.pk) == before


def test_queryset_delete_is_refused(event: ConsentEvent) -> None:
    assert "append-only" in _refused(lambda: ConsentEvent.objects.filter(pk=event.pk).delete())
    assert "append-only" in _refused(lambda: ConsentEvent.objects.all().delete())
    assert ConsentEvent.objects.filter(pk=event.pk).exists()


def test_raw_sql_update_and_delete_are_refused(event: ConsentEvent) -> None:
    table = connection.ops.quote_name(ConsentEvent._meta.db_table)

    def raw(sql: str, params: list[Any]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    before = _row(event.pk)
    assert "append-only" in _refused(
        lambda: raw(f"UPDATE {table} SET new_status = %s WHERE id = %s", ["opted_out", event.pk])
    )
    assert "append-only" in _refused(
        lambda: raw(f"UPDATE {table} SET actor_email = %s WHERE id = %s", ["", event.pk])
    )
    assert "append-only" in _refused(lambda: raw(f"DELETE FROM {table} WHERE id = %s", [event.pk]))
    assert _row(event.pk) == before


def test_history_still_grows(event: ConsentEvent, org: Organization) -> None:
    consent_change(sender=org.sender, phone=PHONE, new_status="opted_out", source="keyword")
    assert ConsentEvent.objects.filter(record__phone=PHONE).count() == 2


def test_deleting_the_user_keeps_their_name_and_email(
    event: ConsentEvent, admin_user: User
) -> None:
    before = _row(event.pk)
    admin_user.delete()
    after = _row(event.pk)
    assert after["actor_id"] is None
    assert {k: v for k, v in after.items() if k != "actor_id"} == {
        k: v for k, v in before.items() if k != "actor_id"
    }
    assert after["actor_name"] == "Edna Krabappel"


def test_deleting_an_organization_keeps_its_senders_consent_and_history(
    event: ConsentEvent, org: Organization, admin_user: User
) -> None:
    """Consent belongs to the sender: the organization's contacts, broadcasts and block list go
    with it, its sender's numbers keep their consent, and the history keeps its name."""
    testing.create_contact(org, "S-1", ["+12175550102"], consent="opted_in")
    before = list(ConsentEvent.objects.order_by("id").values())
    org.delete()
    after = list(ConsentEvent.objects.order_by("id").values())
    assert len(after) == len(before) == 2
    for old, new in zip(before, after, strict=True):
        assert new["organization_id"] is None
        assert new["organization_name"] == "Springfield District"
        assert {k: v for k, v in new.items() if k != "organization_id"} == {
            k: v for k, v in old.items() if k != "organization_id"
        }
    assert not Organization.objects.filter(slug="springfield").exists()
    assert dict(ConsentRecord.objects.values_list("phone", "status")) == {
        PHONE: "opted_in",
        "+12175550102": "opted_in",
    }


@pytest.mark.django_db(transaction=True)
def test_the_migration_writes_the_names_into_existing_history() -> None:
    """Only consent goes back to before the migration; the other apps' tables stay as they
    are, so their rows are made with today's models."""
    from django.db.migrations.executor import MigrationExecutor

    sender = Sender.objects.create(code="67587")
    org = Organization.objects.create(
        slug="springfield", name="Springfield District", sender=sender
    )
    user = User.objects.create(
        username="edna", email="edna@springfield.example.org", first_name="Edna"
    )
    before = [("consent", "0004_drop_unused_status_cover")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        record = old.get_model("consent", "ConsentRecord").objects.create(
            sender_id=sender.pk, phone=PHONE, status="opted_in", changed_at=org.created_at
        )
        OldEvent = old.get_model("consent", "ConsentEvent")
        common = {"record": record, "new_status": "opted_in", "created_at": org.created_at}
        OldEvent.objects.create(source="web", actor_id=user.pk, organization_id=org.pk, **common)
        OldEvent.objects.create(source="keyword", **common)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    rows = list(
        ConsentEvent.objects.order_by("id").values_list(
            "actor_name", "actor_email", "organization_name"
        )
    )
    assert rows == [("Edna", "edna@springfield.example.org", "Springfield District"), ("", "", "")]
    assert "append-only" in _refused(lambda: ConsentEvent.objects.update(text="forged"))
