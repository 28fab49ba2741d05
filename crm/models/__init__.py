"""Core records of the CRM: clients, their people, products, sales and work."""

from crm.models.clients import (
    Client,
    ClientGrant,
    ClientGrantQuerySet,
    ClientMerge,
    OwnershipChange,
)
from crm.models.contacts import Contact
from crm.models.dossier import DossierNote, NoteVisibility
from crm.models.estimates import WalletEstimate
from crm.models.imports import ImportRun
from crm.models.plans import Period, PeriodKind, PlanLevel, SalesForecast, SalesPlan
from crm.models.sales import Deal, Product, ProductGroup, ShipmentLine
from crm.models.surveys import SCORE_RANGES, SurveyAnswer, SurveyKind
from crm.models.work import Activity, Task

__all__ = [
    "SCORE_RANGES",
    "Activity",
    "Client",
    "ClientGrant",
    "ClientGrantQuerySet",
    "ClientMerge",
    "Contact",
    "Deal",
    "DossierNote",
    "ImportRun",
    "NoteVisibility",
    "OwnershipChange",
    "Period",
    "PeriodKind",
    "PlanLevel",
    "Product",
    "ProductGroup",
    "SalesForecast",
    "SalesPlan",
    "ShipmentLine",
    "SurveyAnswer",
    "SurveyKind",
    "Task",
    "WalletEstimate",
]
