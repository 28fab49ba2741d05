from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from segmentation.api import views

# A SimpleRouter: crm.api.urls' DefaultRouter already answers /api/v1/ itself.
router = SimpleRouter()
router.register("metric-runs", views.MetricRunViewSet, basename="metric-run")
router.register("client-metrics", views.ClientMetricViewSet, basename="client-metric")
router.register("segment-rule-sets", views.SegmentRuleSetViewSet, basename="segment-rule-set")
router.register("segment-overrides", views.SegmentOverrideViewSet, basename="segment-override")

urlpatterns = [
    *router.urls,
    path(
        "work-lists/overdue-touches/",
        views.OverdueTouchesView.as_view(),
        name="work-list-overdue-touches",
    ),
    path("work-lists/sleeping/", views.SleepingView.as_view(), name="work-list-sleeping"),
    path("work-lists/unrated/", views.UnratedView.as_view(), name="work-list-unrated"),
    path(
        "work-lists/segment-movements/",
        views.SegmentMovementsView.as_view(),
        name="work-list-segment-movements",
    ),
    path("work-lists/cooling/", views.CoolingView.as_view(), name="work-list-cooling"),
    path("exports/metrics.csv", views.MetricsExportView.as_view(), name="export-metrics"),
    path("exports/retention.csv", views.RetentionExportView.as_view(), name="export-retention"),
]
