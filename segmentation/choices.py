"""Codes the engine stores and exports; labels are for people, codes are for files."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped: another recompute was running")


class RunKind(models.TextChoices):
    FULL = "full", _("Full")
    INCREMENTAL = "incremental", _("Incremental")


class RunTrigger(models.TextChoices):
    NIGHTLY = "nightly", _("Nightly")
    MANUAL = "manual", _("Manual")
    IMPORT = "import", _("Import")


class LifecycleStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    LOST = "lost", pgettext_lazy("client status", "Lost")
    SLEEPING = "sleeping", _("Sleeping")
    REACTIVATED = "reactivated", _("Reactivated")
    NEW = "new", pgettext_lazy("client status", "New")
    ACTIVE = "active", pgettext_lazy("client status", "Active")


class Segment(models.TextChoices):
    """The ABCD matrix of potential × share; names shown come from the rule set."""

    A = "A", _("A — key")
    B = "B", _("B — developing key")
    C = "C", _("C — maintained")
    D = "D", _("D — occasional")
    UNRATED = "unrated", _("Unrated: find out the wallet")


# Which axis of the matrix each rated segment sits on.
HIGH_POTENTIAL = frozenset({Segment.A, Segment.B})
HIGH_SHARE = frozenset({Segment.A, Segment.C})
RATED_SEGMENTS = (Segment.A, Segment.B, Segment.C, Segment.D)
# The segments a head may set by hand (an override never makes a client unrated).
RATED_SEGMENT_CHOICES = [(s.value, s.label) for s in RATED_SEGMENTS]


class AbcClass(models.TextChoices):
    A = "A", pgettext_lazy("ABC class", "A")
    B = "B", pgettext_lazy("ABC class", "B")
    C = "C", pgettext_lazy("ABC class", "C")


class XyzClass(models.TextChoices):
    X = "X", _("X — stable")
    Y = "Y", _("Y — fluctuating")
    Z = "Z", _("Z — irregular")


class PotentialMode(models.TextChoices):
    PERCENTILE = "percentile", _("Percentile of the wallets of rated clients")
    AMOUNT = "amount", _("Fixed amount")


class ServingRole(models.TextChoices):
    """The roles that may serve a segment (a subset of accounts.choices.Role)."""

    KAM = "kam", _("Key-account manager")
    KM = "km", _("Client manager")
    OFFICE = "office", _("Office sales")


class ScopeKind(models.TextChoices):
    BASE = "base", _("Whole base")
    TEAM = "team", _("Team")
    MANAGER = "manager", _("Manager")
    SEGMENT = "segment", _("Segment")
