"""The client's version in its history, so a refused edit names what changed since.

The history rows written before this migration get the version each stood
for, counted back from the client's current version (each save bumps the
version and writes one history row); a client no longer there keeps 1.
"""

from django.db import migrations, models


def fill_versions(apps, schema_editor):
    quote = schema_editor.quote_name
    history = quote(apps.get_model("crm", "HistoricalClient")._meta.db_table)
    clients = quote(apps.get_model("crm", "Client")._meta.db_table)
    later = (
        f"(SELECT COUNT(*) FROM {history} h2 WHERE h2.id = {history}.id"
        f" AND (h2.history_date > {history}.history_date"
        f" OR (h2.history_date = {history}.history_date AND h2.history_id > {history}.history_id)))"
    )
    current = f"(SELECT c.version FROM {clients} c WHERE c.id = {history}.id)"
    stood_for = f"COALESCE({current} - {later}, 1)"
    schema_editor.execute(
        f"UPDATE {history} SET version = CASE WHEN {stood_for} < 1 THEN 1 ELSE {stood_for} END"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0012_client_touch_order_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalclient",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.RunPython(fill_versions, migrations.RunPython.noop),
    ]
