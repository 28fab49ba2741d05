"""``manage.py export_metrics --as-of D --output FILE.csv``: the stored run, one row a client."""

from __future__ import annotations

from typing import IO

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from segmentation.exports import write_metrics_csv
from segmentation.models import MetricRun

from ._run_options import ExportCommand


class Command(ExportCommand):
    help: str = gettext_lazy(  # type: ignore[assignment]
        "Write the stored client metrics of a date to a CSV file."
    )

    def write(self, run: MetricRun, out: IO[str]) -> int:
        return write_metrics_csv(run, out)

    def done_message(self, count: int, file: str) -> str:
        return _("%(count)s clients written to %(file)s.") % {"count": count, "file": file}
