from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm import choices
from crm.models import Client, ClientGrant, Contact


class ClientFilterSet(django_filters.FilterSet):
    """Filters of the client list page and of /api/v1/clients/."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    owner_id = django_filters.NumberFilter(field_name="owner_id", label=_("Owner"))
    sales_type = django_filters.ChoiceFilter(
        choices=choices.SalesType.choices, empty_label=_("All sales types")
    )
    conveyor_stage = django_filters.ChoiceFilter(choices=choices.ConveyorStage.choices)
    region = django_filters.CharFilter(lookup_expr="iexact")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    inn = django_filters.CharFilter()
    external_id = django_filters.CharFilter()
    granted_as = django_filters.ChoiceFilter(
        choices=choices.GrantReason.choices,
        method="filter_granted_as",
        label=_("My access as"),
    )

    class Meta:
        model = Client
        fields = [
            "q",
            "owner_id",
            "sales_type",
            "conveyor_stage",
            "region",
            "industry",
            "inn",
            "external_id",
            "granted_as",
        ]

    def filter_granted_as(
        self, queryset: QuerySet[Client], name: str, value: str
    ) -> QuerySet[Client]:
        """Clients the requesting user works on through a grant of this kind."""
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        grants = ClientGrant.objects.active().filter(user=user, reason=value)
        return queryset.filter(pk__in=grants.values("client_id"))

    def search(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(inn__contains=value) | Q(external_id__icontains=value)
        )


class ContactFilterSet(django_filters.FilterSet):
    client_id = django_filters.NumberFilter(field_name="client_id", label=_("Client"))
    decision_role = django_filters.ChoiceFilter(choices=choices.DecisionRole.choices)

    class Meta:
        model = Contact
        fields = ["client_id", "decision_role", "is_active"]
