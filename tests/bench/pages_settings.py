"""Settings for the page benchmark's gunicorn: production settings, static files aside.

With DEBUG off the project stores static files with whitenoise's manifest
storage, and ``{% static %}`` then needs ``collectstatic``'s manifest. The
benchmark never asks for a static file, so it renders the plain URLs and
whitenoise indexes no collected files, rather than collecting them into the
working tree; everything else is ``config.settings`` as the environment
configures it.
"""

from __future__ import annotations

from config.settings import *  # noqa: F403
from config.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None  # type: ignore[assignment]  # no collected files to index
