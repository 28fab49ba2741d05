from __future__ import annotations

from rest_framework.routers import DefaultRouter

from crm.api.estimates import WalletEstimateViewSet
from crm.api.imports import ImportRunViewSet
from crm.api.views import ClientViewSet, ContactViewSet
from crm.api.work import (
    ActivityViewSet,
    DossierNoteViewSet,
    SurveyAnswerViewSet,
    TaskViewSet,
)

router = DefaultRouter()
router.register("clients", ClientViewSet, basename="client")
router.register("contacts", ContactViewSet, basename="contact")
router.register("estimates", WalletEstimateViewSet, basename="estimate")
router.register("imports", ImportRunViewSet, basename="import")
router.register("activities", ActivityViewSet, basename="activity")
router.register("tasks", TaskViewSet, basename="task")
router.register("survey-answers", SurveyAnswerViewSet, basename="survey-answer")
router.register("dossier-notes", DossierNoteViewSet, basename="dossier-note")

urlpatterns = router.urls
