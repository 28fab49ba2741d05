from __future__ import annotations

from rest_framework.routers import DefaultRouter

from crm.api.card import ClientOverviewViewSet
from crm.api.deals import DealViewSet
from crm.api.estimates import WalletEstimateViewSet
from crm.api.imports import ImportRunViewSet
from crm.api.plans import SalesForecastViewSet, SalesPlanViewSet
from crm.api.saved_filters import ClientExportViewSet, SavedClientFilterViewSet
from crm.api.views import ClientViewSet, ContactViewSet
from crm.api.work import (
    ActivityViewSet,
    DossierNoteViewSet,
    SurveyAnswerViewSet,
    TaskViewSet,
)

router = DefaultRouter()
# Before "clients": its detail route would take "export" for a client id.
router.register("clients/export", ClientExportViewSet, basename="client-export")
router.register("clients", ClientViewSet, basename="client")
router.register("saved-filters", SavedClientFilterViewSet, basename="saved-filter")
router.register("contacts", ContactViewSet, basename="contact")
router.register("estimates", WalletEstimateViewSet, basename="estimate")
router.register("imports", ImportRunViewSet, basename="import")
router.register("activities", ActivityViewSet, basename="activity")
router.register("tasks", TaskViewSet, basename="task")
router.register("survey-answers", SurveyAnswerViewSet, basename="survey-answer")
router.register("dossier-notes", DossierNoteViewSet, basename="dossier-note")
router.register(r"clients/(?P<client_pk>\d+)/overview", ClientOverviewViewSet, "client-overview")
router.register("plans", SalesPlanViewSet, basename="plan")
router.register("forecasts", SalesForecastViewSet, basename="forecast")
router.register("deals", DealViewSet, basename="deal")

urlpatterns = router.urls
