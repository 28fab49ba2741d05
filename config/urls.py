from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api import obtain_auth_token
from crm import views_day

admin.site.site_header = _("Clientbase administration")
admin.site.site_title = _("Clientbase")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", views_day.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("clients/", include("crm.urls")),
    path("segments/", include("segmentation.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", obtain_auth_token, name="api-token"),
    path("api/v1/", include("crm.api.urls")),
    path("api/v1/", include("segmentation.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
