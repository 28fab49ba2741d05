from __future__ import annotations

from django.urls import path

from crm import views

app_name = "crm"

urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("new/", views.client_create, name="client_create"),
    path("<int:pk>/", views.client_detail, name="client_detail"),
    path("<int:pk>/edit/", views.client_edit, name="client_edit"),
    path("<int:pk>/reassign/", views.client_reassign, name="client_reassign"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
]
