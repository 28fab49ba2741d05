"""The segment's clients by revenue, in the client list's order exactly.

``revenue_12m DESC NULLS LAST, client_id`` as the list sorts: PostgreSQL then
reads a segment's first 50 rows off the index instead of sorting the whole
segment. SQLite cannot write NULLS LAST in an index, and needs not: it puts
empty values last in a descending order by itself. So the index is written
per database here, and the model does not declare it (see
``ClientMetricSnapshot.Meta``).
"""

from django.db import migrations

NAME = "snapshot_segment_revenue_idx"
TABLE = "segmentation_clientmetricsnapshot"


def create(apps, schema_editor):
    nulls = " NULLS LAST" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f'CREATE INDEX "{NAME}" ON "{TABLE}" '
        f'("run_id", "segment", "revenue_12m" DESC{nulls}, "client_id")'
    )


def drop(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX "{NAME}"')


class Migration(migrations.Migration):

    dependencies = [
        ("segmentation", "0014_metricrun_holds_rows"),
    ]

    operations = [
        # The new index first: the lists are never left without one.
        migrations.RunPython(create, drop),
        migrations.RemoveIndex(
            model_name="clientmetricsnapshot",
            name="snapshot_run_segment_rev_idx",
        ),
    ]
