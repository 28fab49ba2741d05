from __future__ import annotations

import re
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from accounts.selectors import team_subtree_ids
from crm import choices
from crm.models import Client, ClientGrant, Contact
from crm.selectors import client_list
from segmentation.choices import LifecycleStatus, Segment
from segmentation.models import ClientMetricSnapshot, MetricRun

# Characters people type between the digits of a phone number.
_PHONE_LIKE = re.compile(r"^[\d\s()+\-.\u00a0]+$")
MIN_PHONE_DIGITS = 5


class ClientFilterSet(django_filters.FilterSet):
    """Filters of the client list page, its saved filters and exports, and /api/v1/clients/.

    Segment, status and share band are those of the latest successful metric
    run. ``ordering`` sorts by a field or a metric (``-`` for descending);
    empty values come last and the client id breaks ties.
    """

    q = django_filters.CharFilter(method="search", label=_("Search"))
    segment = django_filters.ChoiceFilter(
        choices=Segment.choices,
        method="filter_snapshot",
        label=_("Segment"),
        empty_label=_("All segments"),
    )
    status = django_filters.ChoiceFilter(
        choices=LifecycleStatus.choices,
        method="filter_snapshot",
        label=_("Status"),
        empty_label=_("All statuses"),
    )
    share_band = django_filters.ChoiceFilter(
        choices=choices.ShareBand.choices,
        method="filter_snapshot",
        label=_("Share band"),
        empty_label=_("All share bands"),
    )
    owner_id = django_filters.NumberFilter(field_name="owner_id", label=_("Owner"))
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(),
        method="filter_team",
        label=_("Team"),
        empty_label=_("All teams"),
    )
    sales_type = django_filters.ChoiceFilter(
        choices=choices.SalesType.choices, empty_label=_("All sales types")
    )
    conveyor_stage = django_filters.ChoiceFilter(choices=choices.ConveyorStage.choices)
    region = django_filters.CharFilter(lookup_expr="iexact", label=_("Region"))
    industry = django_filters.CharFilter(lookup_expr="iexact", label=_("Industry"))
    inn = django_filters.CharFilter()
    external_id = django_filters.CharFilter()
    granted_as = django_filters.ChoiceFilter(
        choices=choices.GrantReason.choices,
        method="filter_granted_as",
        label=_("My access as"),
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("Touch overdue by the service standard")
    )
    holding = django_filters.NumberFilter(
        method="filter_holding", label=_("Holding: the client and its subsidiaries")
    )
    holdings_only = django_filters.BooleanFilter(
        method="filter_holdings_only", label=_("Holdings only")
    )
    ordering = django_filters.ChoiceFilter(
        choices=client_list.ordering_choices,
        method="filter_ordering",
        label=_("Sort by"),
        empty_label=_("Name"),
    )

    class Meta:
        model = Client
        fields = [
            "q",
            "segment",
            "status",
            "share_band",
            "owner_id",
            "team",
            "sales_type",
            "conveyor_stage",
            "region",
            "industry",
            "inn",
            "external_id",
            "granted_as",
            "overdue",
            "holding",
            "holdings_only",
            "ordering",
        ]

    def __init__(self, *args: Any, metric_run: MetricRun | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if metric_run is not None:
            self.__dict__["metric_run"] = metric_run

    @cached_property
    def metric_run(self) -> MetricRun | None:
        """The latest successful run; read once, and only when a filter or sort needs it."""
        from segmentation.selectors import latest_successful_run

        return latest_successful_run()

    @property
    def _user(self) -> User | None:
        user = getattr(self.request, "user", None)
        return user if isinstance(user, User) else None

    def filter_queryset(self, queryset: QuerySet[Client]) -> QuerySet[Client]:
        self._metric_conditions: dict[str, str] = {}  # filled by filter_snapshot
        queryset = super().filter_queryset(queryset)
        ordering = self.form.cleaned_data.get("ordering") or client_list.DEFAULT_ORDERING
        conditions = self._metric_conditions
        if ordering.lstrip("-") in client_list.METRIC_FIELDS:
            # One join to the run's snapshots both filters and sorts.
            return client_list.clients_ordered(
                queryset, ordering=ordering, run=self.metric_run, metric_conditions=conditions
            )
        if conditions:
            ids = client_list.snapshot_client_ids(run=self.metric_run, **conditions)
            queryset = queryset.filter(pk__in=ids)
        return client_list.clients_ordered(queryset, ordering=ordering, run=None)

    def filter_ordering(
        self, queryset: QuerySet[Client], name: str, value: str
    ) -> QuerySet[Client]:
        return queryset  # applied last, in filter_queryset, so that it always applies

    def filter_snapshot(
        self, queryset: QuerySet[Client], name: str, value: str
    ) -> QuerySet[Client]:
        """Segment, status or share band in the latest run: applied in ``filter_queryset``."""
        if value:
            self._metric_conditions[name] = value
        return queryset

    def filter_team(self, queryset: QuerySet[Client], name: str, value: Team) -> QuerySet[Client]:
        """Clients owned by a member or head of the team or of a team below it."""
        if value is None:
            return queryset
        team_ids = team_subtree_ids(root_ids={value.pk})
        return queryset.filter(owner_id__in=client_list.team_member_ids(team_ids))

    def filter_granted_as(
        self, queryset: QuerySet[Client], name: str, value: str
    ) -> QuerySet[Client]:
        """Clients the requesting user works on through a grant of this kind."""
        user = self._user
        if not value or user is None:
            return queryset
        grants = ClientGrant.objects.active().filter(user=user, reason=value)
        return queryset.filter(pk__in=grants.values("client_id"))

    def filter_overdue(
        self, queryset: QuerySet[Client], name: str, value: bool | None
    ) -> QuerySet[Client]:
        """Rated clients whose last touch is older than their segment's standard.

        The rule of ``segmentation.selectors.overdue_touches``, built from its
        parts on the run already read and on this (already scoped) queryset.
        """
        from segmentation.selectors import last_touch_subquery, overdue_condition, touch_norms

        if not value:
            return queryset
        run = self.metric_run
        if run is None:
            return queryset.none()
        today = timezone.localdate()
        norms = touch_norms()
        overdue = (
            ClientMetricSnapshot.objects.filter(run=run, segment__in=list(norms))
            .annotate(last_touch_at=last_touch_subquery(today))
            .filter(overdue_condition(norms, today))
        )
        return queryset.filter(pk__in=overdue.values("client_id"))

    def filter_holding(self, queryset: QuerySet[Client], name: str, value: Any) -> QuerySet[Client]:
        if value is None:
            return queryset
        return queryset.filter(Q(pk=value) | Q(parent_id=value))

    def filter_holdings_only(
        self, queryset: QuerySet[Client], name: str, value: bool | None
    ) -> QuerySet[Client]:
        """Clients that have at least one live subsidiary."""
        if not value:
            return queryset
        parents = Client.objects.filter(parent__isnull=False, merged_into__isnull=True)
        return queryset.filter(pk__in=parents.values("parent_id"))

    def search(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        """Name, part of the INN, external id, or a contact's name, phone or e-mail.

        Contacts are matched in an ``id IN (subquery)`` term, so a client with
        several matching contacts is listed once.
        """
        value = value.strip()
        if not value:
            return queryset
        contact_match = Q(full_name__icontains=value) | Q(email__icontains=value)
        contact_match |= Q(phone__icontains=value)
        digits = re.sub(r"\D", "", value)
        if _PHONE_LIKE.match(value) and len(digits) >= MIN_PHONE_DIGITS:
            contact_match |= Q(phone_digits__contains=digits)
        contacts = Contact.objects.all()
        # One id list from two sides, each able to use its own trigram indexes
        # on PostgreSQL (crm migration 0009); an OR across the client's columns
        # and a contact subquery would scan every client instead.
        direct = Client.objects.filter(
            Q(name__icontains=value) | Q(inn__contains=value) | Q(external_id__icontains=value)
        )
        via_contacts = contacts.filter(contact_match).order_by().values("client_id")
        return queryset.filter(pk__in=direct.order_by().values("pk").union(via_contacts, all=True))


class ContactFilterSet(django_filters.FilterSet):
    client_id = django_filters.NumberFilter(field_name="client_id", label=_("Client"))
    decision_role = django_filters.ChoiceFilter(choices=choices.DecisionRole.choices)

    class Meta:
        model = Contact
        fields = ["client_id", "decision_role", "is_active"]
