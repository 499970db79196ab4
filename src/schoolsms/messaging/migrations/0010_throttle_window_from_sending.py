# A chunk counts from its release until a second after its requests were written (sent_at),
# no longer until a second after the carrier's answer (done_at).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0009_broadcast_texts_per_language"),
    ]

    operations = [
        migrations.RemoveField(model_name="throttlechunk", name="done_at"),
        migrations.AddField(
            model_name="throttlechunk", name="sent_at", field=models.FloatField(null=True)
        ),
    ]
