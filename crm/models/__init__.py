"""Core records of the CRM: clients, their people, products, sales and work."""

from crm.models.clients import (
    Client,
    ClientGrant,
    ClientGrantQuerySet,
    ClientMerge,
    OwnershipChange,
)
from crm.models.contacts import Contact
from crm.models.estimates import WalletEstimate
from crm.models.imports import ImportRun
from crm.models.sales import Deal, Product, ProductGroup, ShipmentLine
from crm.models.work import Activity, Task

__all__ = [
    "Activity",
    "Client",
    "ClientGrant",
    "ClientGrantQuerySet",
    "ClientMerge",
    "Contact",
    "Deal",
    "ImportRun",
    "OwnershipChange",
    "Product",
    "ProductGroup",
    "ShipmentLine",
    "Task",
    "WalletEstimate",
]
