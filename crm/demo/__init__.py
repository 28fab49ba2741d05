"""Demo data: a deterministic, realistically skewed client base to try Clientbase on.

``generate_demo`` builds the staff and their teams, a product catalogue,
clients with contacts, shipments, activities, tasks, deals, access grants,
the ownership ledger and turnover/wallet estimates; ``reset_demo_data``
removes them again. The names below are the interface ``manage.py seed_demo``
and its tests use; the modules of the package are internal.
"""

from crm.demo.builder import generate_demo
from crm.demo.helpers import add_months, inn_check_digit
from crm.demo.options import DEFAULT_CLIENTS, DEFAULT_MONTHS, DEFAULT_SEED, DemoError, DemoOptions
from crm.demo.reset import existing_data, reset_demo_data
from crm.demo.staff import ADMIN_EMAIL, CORE_STAFF, DEMO_DOMAIN, DEMO_PASSWORD, demo_logins

__all__ = [
    "ADMIN_EMAIL",
    "CORE_STAFF",
    "DEFAULT_CLIENTS",
    "DEFAULT_MONTHS",
    "DEFAULT_SEED",
    "DEMO_DOMAIN",
    "DEMO_PASSWORD",
    "DemoError",
    "DemoOptions",
    "add_months",
    "demo_logins",
    "existing_data",
    "generate_demo",
    "inn_check_digit",
    "reset_demo_data",
]
