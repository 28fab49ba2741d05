from __future__ import annotations

import functools

from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _


def labels_of(choices: type[models.Choices]) -> dict[str, str]:
    """Each value's label in the active language, translated once per language.

    A page of rows asked ``get_FOO_display`` for each row's codes: hashing the
    lazy labels of every choice translated them all, each time.
    """
    return _labels(choices, get_language())


@functools.cache
def _labels(choices: type[models.Choices], language: str | None) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices.choices}


class SalesType(models.TextChoices):
    TRANSACTIONAL = "transactional", _("Transactional")
    MIXED = "mixed", _("Mixed")
    CONSULTATIVE = "consultative", _("Consultative")
    STRATEGIC = "strategic", _("Strategic")


class ConveyorStage(models.TextChoices):
    LEAD = "lead", _("Lead")
    QUALIFIED = "qualified", _("Qualified")
    FIRST_SALE = "first_sale", _("First sale")
    ACCOUNT = "account", _("Account")
    PROJECT = "project", _("Project")
    COMPLETED = "completed", _("Completed")


class MotivationType(models.TextChoices):
    PRICE = "price", _("Price seeker")
    NOVELTY = "novelty", _("Novelty seeker")
    BELONGING = "belonging", _("Belonging seeker")
    STABILITY = "stability", _("Stability seeker")


class GrantLevel(models.TextChoices):
    READ = "read", pgettext_lazy("access level", "Read")
    EDIT = "edit", pgettext_lazy("access level", "Edit")


class GrantReason(models.TextChoices):
    CO_OWNER = "co_owner", _("Co-owner")
    KAM = "kam", _("Key-account manager")
    PROJECT = "project", _("Project deal")
    SUPPORT = "support", _("Support")
    OTHER = "other", _("Other")


class OwnershipChangeKind(models.TextChoices):
    INITIAL = "initial", _("First owner")
    REASSIGNMENT = "reassignment", _("Reassignment")
    HANDOFF = "handoff", _("Handoff")
    BOOK_TRANSFER = "book_transfer", _("Book transfer")
    MERGE = "merge", _("Merge")
    IMPORT = "import", _("Import")


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    BUYING_GROUP = "buying_group", _("Buying-group member")
    USER = "user", _("User")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")


class Attitude(models.TextChoices):
    SUPPORTER = "supporter", _("Supporter")
    NEUTRAL = "neutral", _("Neutral")
    SCEPTIC = "sceptic", _("Sceptic")
    OPPONENT = "opponent", _("Opponent")
    UNKNOWN = "unknown", _("Unknown")


class Influence(models.IntegerChoices):
    LOW = 1, _("Low")
    MEDIUM = 2, _("Medium")
    HIGH = 3, _("High")


class ContactLevel(models.TextChoices):
    TOP = "top", _("Top management")
    MIDDLE = "middle", _("Middle management")
    OPERATIONAL = "operational", _("Operational")


class DealKind(models.TextChoices):
    NEW_BUSINESS = "new_business", _("New business")
    PROJECT = "project", _("Project")


class DealStage(models.TextChoices):
    QUALIFICATION = "qualification", _("Qualification")
    NEEDS = "needs", _("Needs analysis")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    CONTRACT = "contract", _("Contract")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Visit")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")


class ActivityPurpose(models.TextChoices):
    ACQUISITION = "acquisition", _("Acquisition")
    SALE = "sale", _("Sale")
    SERVICE = "service", _("Service")
    RETENTION = "retention", _("Retention")
    DEVELOPMENT = "development", _("Development")


class Initiator(models.TextChoices):
    US = "us", _("We")
    CLIENT = "client", _("The client")


class TaskKind(models.TextChoices):
    TOUCH = "touch", _("Touch")
    REACTIVATION = "reactivation", _("Reactivation")
    ESTIMATE = "estimate", _("Estimate")
    HANDOFF = "handoff", _("Handoff")
    PLAN_ACTION = "plan_action", _("Plan action")
    SURVEY_FOLLOW_UP = "survey_follow_up", _("Survey follow-up")
    OTHER = "other", _("Other")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class EstimateKind(models.TextChoices):
    TURNOVER = "turnover", _("Own turnover")
    WALLET = "wallet", _("Wallet")


class EstimateBasis(models.TextChoices):
    CLIENT = "client", _("The client said so")
    OUTLETS = "outlets", _("Outlets × typical revenue")
    FINANCIALS = "financials", _("Public financial statements")
    EXPERT = "expert", _("Expert judgement")


class EstimateStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class ShareBand(models.TextChoices):
    """How the client sees us by our share of its purchases (its loyalty)."""

    INDIFFERENCE = "indifference", _("Indifference: one of many")
    SECONDARY = "secondary", _("Secondary supplier")
    MAIN = "main", _("Main supplier")
    DOMINANT = "dominant", _("Dominant supplier")
