from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentationConfig(AppConfig):
    """Metric engine, segment rule sets, service standards and their runs."""

    name = "segmentation"
    verbose_name = _("Segmentation")
