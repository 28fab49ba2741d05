from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SegmentationConfig(AppConfig):
    """Metric engine, segment rule sets, service standards and their runs."""

    name = "segmentation"
    verbose_name = _("Segmentation")

    def ready(self) -> None:
        post_migrate.connect(_reinstall_triggers, sender=self)


def _reinstall_triggers(sender: AppConfig, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """SQLite rebuilds a table to alter it, without its triggers: put them back."""
    from segmentation.engine.derived import install_triggers
    from segmentation.models import StaleMonth

    connection = connections[using]
    if StaleMonth._meta.db_table in connection.introspection.table_names():
        install_triggers(connection)  # not when migrated back to before their table
