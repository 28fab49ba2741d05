"""A task's version, kept in its history, so a refused edit names what changed since.

Every task starts at version 1, and so do its history rows: the latest of
them is the state an editor loads at version 1, which is all a conflict needs.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0014_contact_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AddField(
            model_name="historicaltask",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
    ]
