from django.db import migrations, models


def fanned_out_before(apps, schema_editor):
    # Before chunks, fan-out wrote every row in the transaction that set dispatched_at.
    Broadcast = apps.get_model("messaging", "Broadcast")
    Broadcast.objects.filter(dispatched_at__isnull=False).update(
        fanned_out_at=models.F("dispatched_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0009_broadcast_texts_per_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="broadcast",
            name="fan_out_cursor",
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="broadcast",
            name="fanned_out_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fanned_out_before, migrations.RunPython.noop),
    ]
