from django.db import migrations, models

# Every client's newest touch, in one statement (the same on PostgreSQL and SQLite).
FILL = """
UPDATE crm_client SET last_touch_at = (
    SELECT MAX(a.occurred_at) FROM crm_activity a WHERE a.client_id = crm_client.id
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0009_contact_phone_digits_and_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="last_touch_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="last touch"
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop, elidable=True),
    ]
