"""Turnover and wallet estimates: a manager proposes, a head verifies or rejects.

Managers tend to under-estimate a client's purchasing budget, so only a
verified estimate feeds share of wallet; every change is kept in history.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import client_can_edit, clients_visible_to
from crm.choices import EstimateStatus
from crm.models import Client, ProductGroup, WalletEstimate


@transaction.atomic
def wallet_estimate_create(
    *,
    client: Client,
    acting_user: User,
    kind: str,
    year: int,
    amount: Decimal,
    per_month: bool = False,
    product_group: ProductGroup | None = None,
    basis: str = "",
    comment: str = "",
) -> WalletEstimate:
    """Record a draft estimate; a monthly figure ("5 M a month") is stored per year."""
    if not client_can_edit(user=acting_user, client=client):
        raise PermissionDenied(_("You may not change this client."))
    estimate = WalletEstimate(
        client=client,
        kind=kind,
        year=year,
        amount=amount * 12 if per_month else amount,
        product_group=product_group,
        basis=basis,
        comment=comment,
        status=EstimateStatus.DRAFT,
        entered_by=acting_user,
    )
    estimate.full_clean()
    estimate._history_user = acting_user  # type: ignore[attr-defined]
    estimate.save()
    return estimate


def _review(*, estimate: WalletEstimate, acting_user: User, status: str, comment: str) -> None:
    if (
        not acting_user.is_head
        or not clients_visible_to(user=acting_user).filter(pk=estimate.client_id).exists()
    ):
        raise PermissionDenied(_("Only a head of the client's team may verify estimates."))
    if estimate.entered_by_id == acting_user.pk and not acting_user.is_admin:
        raise PermissionDenied(_("An estimate is verified by someone other than its author."))
    current = WalletEstimate.objects.select_for_update().get(pk=estimate.pk)
    if current.status != EstimateStatus.DRAFT:
        raise ValidationError(
            _("This estimate was already verified.")
            if current.status == EstimateStatus.VERIFIED
            else _("This estimate was already rejected."),
            code="already_reviewed",
        )
    current.status = status
    current.reviewed_by = acting_user
    current.reviewed_at = timezone.now()
    current.review_comment = comment
    current._history_user = acting_user  # type: ignore[attr-defined]
    current.save()
    estimate.refresh_from_db()


@transaction.atomic
def wallet_estimate_verify(
    *, estimate: WalletEstimate, acting_user: User, comment: str = ""
) -> WalletEstimate:
    _review(
        estimate=estimate, acting_user=acting_user, status=EstimateStatus.VERIFIED, comment=comment
    )
    return estimate


@transaction.atomic
def wallet_estimate_reject(
    *, estimate: WalletEstimate, acting_user: User, comment: str
) -> WalletEstimate:
    if not comment.strip():
        raise ValidationError(
            {"comment": _("Say why the estimate is rejected, so the manager can correct it.")}
        )
    _review(
        estimate=estimate, acting_user=acting_user, status=EstimateStatus.REJECTED, comment=comment
    )
    return estimate
