from __future__ import annotations

from django.urls import path

from segmentation import views

app_name = "segmentation"

urlpatterns = [
    path("", views.rules, name="rules"),
    path("edit/", views.rules_edit, name="rules_edit"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/recompute/", views.run_recompute, name="run_recompute"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("overrides/", views.override_list, name="override_list"),
    path("overrides/<int:client_id>/", views.override_edit, name="override_edit"),
]
