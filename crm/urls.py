from __future__ import annotations

from django.urls import path

from crm import (
    views,
    views_card,
    views_deals,
    views_estimates,
    views_imports,
    views_list,
    views_plans,
    views_work,
)

app_name = "crm"

urlpatterns = [
    path("", views_list.client_list, name="client_list"),
    path("columns/", views_list.client_list_columns, name="client_list_columns"),
    path("saved-filters/new/", views_list.saved_filter_create, name="saved_filter_create"),
    path(
        "saved-filters/<int:filter_id>/delete/",
        views_list.saved_filter_delete,
        name="saved_filter_delete",
    ),
    path("bulk/task/", views_list.client_bulk_task, name="client_bulk_task"),
    path("export.<str:fmt>", views_list.client_export, name="client_export"),
    path("new/", views.client_create, name="client_create"),
    path("<int:pk>/", views_card.client_detail, name="client_detail"),
    path("<int:pk>/edit/", views.client_edit, name="client_edit"),
    path("<int:pk>/reassign/", views_work.client_reassign, name="client_reassign"),
    path("<int:pk>/merge/<int:other_pk>/", views.client_merge, name="client_merge"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path(
        "<int:pk>/contacts/<int:contact_id>/edit/",
        views_card.contact_edit,
        name="contact_edit",
    ),
    path("<int:pk>/knowledge/", views_work.client_knowledge, name="client_knowledge"),
    path("<int:pk>/touches/", views_work.client_touches, name="client_touches"),
    path("<int:pk>/touches/new/", views_work.touch_create, name="touch_create"),
    path("<int:pk>/tasks/new/", views_work.task_create, name="client_task_create"),
    path("<int:pk>/surveys/new/", views_work.survey_create, name="survey_create"),
    path("<int:pk>/notes/new/", views_work.note_create, name="note_create"),
    path("tasks/", views_work.task_list, name="task_list"),
    path("tasks/new/", views_work.task_create, name="task_create"),
    path("tasks/<int:task_id>/edit/", views_work.task_edit, name="task_edit"),
    path(
        "tasks/<int:task_id>/<str:action>/",
        views_work.task_status,
        name="task_status",
    ),
    path("notes/<int:note_id>/edit/", views_work.note_edit, name="note_edit"),
    path("<int:pk>/estimates/new/", views_estimates.estimate_create, name="estimate_create"),
    path("estimates/", views_estimates.estimates_to_verify, name="estimates_to_verify"),
    path(
        "estimates/<int:estimate_id>/verify/",
        views_estimates.estimate_review,
        {"decision": "verify"},
        name="estimate_verify",
    ),
    path(
        "estimates/<int:estimate_id>/reject/",
        views_estimates.estimate_review,
        {"decision": "reject"},
        name="estimate_reject",
    ),
    path("deals/", views_deals.board, name="deal_board"),
    path("deals/new/", views_deals.deal_new, name="deal_create"),
    path("deals/<int:deal_id>/edit/", views_deals.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/move/", views_deals.deal_move_view, name="deal_move"),
    path("plans/", views_plans.plans_page, name="plans"),
    path("plans/manager/<int:pk>/", views_plans.plans_manager, name="plans_manager"),
    path("plans/<slug:level>/<int:pk>/plan/", views_plans.plan_edit, name="plan_set"),
    path("plans/<slug:level>/<int:pk>/forecast/", views_plans.forecast_edit, name="forecast_set"),
    path("imports/", views_imports.import_list, name="import_list"),
    path("imports/new/", views_imports.import_new, name="import_new"),
    path("imports/<int:run_id>/", views_imports.import_run, name="import_run"),
    path("imports/<int:run_id>/progress/", views_imports.import_progress, name="import_progress"),
    path("imports/<int:run_id>/confirm/", views_imports.import_confirm, name="import_confirm"),
    path("imports/<int:run_id>/cancel/", views_imports.import_cancel, name="import_cancel"),
    path("imports/<int:run_id>/errors.csv", views_imports.import_errors_csv, name="import_errors"),
    path(
        "imports/<int:run_id>/bad-rows.csv",
        views_imports.import_bad_rows_csv,
        name="import_bad_rows",
    ),
]
