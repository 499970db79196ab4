"""Consent history keeps who acted as text, and the database refuses to rewrite it.

The actor's name and email and the organization's name are copied into each event (backfilled
here for existing rows), so deleting a user or an organization only unlinks it. Then triggers,
on SQLite and PostgreSQL, refuse every UPDATE and DELETE of an event except that unlinking: a
foreign key (actor, organization) set to NULL with every other column unchanged.
"""

from django.conf import settings
from django.db import migrations, models

TABLE = "consent_consentevent"
MESSAGE = "consent history is append-only (consent_consentevent)"

# Columns that may only stay as they are; the two links may also become NULL.
_FIXED = [
    "id", "record_id", "old_status", "new_status", "source", "text", "created_at",
    "actor_name", "actor_email", "organization_name",
]
_UNLINKABLE = ["actor_id", "organization_id"]

_SQLITE_UNCHANGED = " AND ".join(
    [f"NEW.{c} IS OLD.{c}" for c in _FIXED]
    + [f"(NEW.{c} IS OLD.{c} OR NEW.{c} IS NULL)" for c in _UNLINKABLE]
)
SQLITE_CREATE = [
    f"CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON {TABLE} "
    f"WHEN NOT ({_SQLITE_UNCHANGED}) BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER consent_event_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS consent_event_no_update",
    "DROP TRIGGER IF EXISTS consent_event_no_delete",
]

# PostgreSQL compares whole rows (as jsonb without the two links), so a column added later is
# covered without touching the trigger.
_PG_LINKS = " - ".join(f"'{c}'" for c in _UNLINKABLE)
PG_CREATE = [
    f"""
    CREATE FUNCTION consent_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE'
           AND to_jsonb(NEW) - {_PG_LINKS} = to_jsonb(OLD) - {_PG_LINKS}
           AND (NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id OR NEW.actor_id IS NULL)
           AND (NEW.organization_id IS NOT DISTINCT FROM OLD.organization_id
                OR NEW.organization_id IS NULL)
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    f"CREATE TRIGGER consent_event_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION consent_event_append_only()",
]
PG_DROP = [
    f"DROP TRIGGER IF EXISTS consent_event_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS consent_event_append_only()",
]


def backfill_names(apps, schema_editor):
    """Copy each existing event's actor and organization, as they are now, into its text."""
    Event = apps.get_model("consent", "ConsentEvent")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Organization = apps.get_model("accounts", "Organization")
    actor_ids = Event.objects.exclude(actor=None).values("actor_id").distinct()
    for user in User.objects.filter(id__in=actor_ids):
        name = f"{user.first_name} {user.last_name}".strip() or user.username
        Event.objects.filter(actor_id=user.id).update(actor_name=name, actor_email=user.email)
    org_ids = Event.objects.exclude(organization=None).values("organization_id").distinct()
    for org in Organization.objects.filter(id__in=org_ids):
        Event.objects.filter(organization_id=org.id).update(organization_name=org.name)


def _run(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql)


def triggers_create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_CREATE)
    elif vendor == "postgresql":
        _run(schema_editor, PG_CREATE)


def triggers_drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_DROP)
    elif vendor == "postgresql":
        _run(schema_editor, PG_DROP)


class Migration(migrations.Migration):

    dependencies = [
        ('consent', '0004_drop_unused_status_cover'),
        ('accounts', '0002_checks_without_in'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='consentevent',
            name='actor_email',
            field=models.CharField(blank=True, db_default='', max_length=254),
        ),
        migrations.AddField(
            model_name='consentevent',
            name='actor_name',
            field=models.CharField(blank=True, db_default='', max_length=300),
        ),
        migrations.AddField(
            model_name='consentevent',
            name='organization_name',
            field=models.CharField(blank=True, db_default='', max_length=200),
        ),
        migrations.RunPython(backfill_names, migrations.RunPython.noop),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
