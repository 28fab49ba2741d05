"""An index in the order of "overdue touches": the least recently touched clients first.

"My day" lists rated clients past their segment's touch standard, never
touched first (``last_touch_at`` NULLS FIRST, then name and id). Over a
head's whole base, PostgreSQL sorted every visible client to show ten; with
this index it walks the clients in that order and stops at the tenth
overdue one. PostgreSQL only: SQLite has no NULLS FIRST in an index (and
sorts its NULLs first anyway).
"""

from django.db import migrations

INDEX = "client_touch_order_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} "
        'ON crm_client ("last_touch_at" ASC NULLS FIRST, "name", "id")'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0011_activity_and_task_indexes"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
