from __future__ import annotations

from rest_framework.routers import DefaultRouter

from crm.api.estimates import WalletEstimateViewSet
from crm.api.imports import ImportRunViewSet
from crm.api.views import ClientViewSet, ContactViewSet

router = DefaultRouter()
router.register("clients", ClientViewSet, basename="client")
router.register("contacts", ContactViewSet, basename="contact")
router.register("estimates", WalletEstimateViewSet, basename="estimate")
router.register("imports", ImportRunViewSet, basename="import")

urlpatterns = router.urls
