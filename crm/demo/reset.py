"""What already occupies the places the demo writes to, and removing the demo."""

from __future__ import annotations

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Q

from accounts.models import Team, User
from crm.demo.bulk import _is_postgres
from crm.demo.options import DemoError
from crm.demo.staff import DEMO_DOMAIN, DEMO_TEAMS
from crm.models import Client, Product, ProductGroup
from crm.selectors import book_counts


def existing_data() -> dict[str, int]:
    """What already occupies the places the demo writes to (non-zero counts only).

    Not just clients: products, groups and demo users left without clients
    would collide with the demo's unique SKUs, group names and e-mails.
    """
    counts = {
        "clients": Client.objects.count(),
        "product groups": ProductGroup.objects.count(),
        "products": Product.objects.count(),
        "demo users": User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count(),
        "demo teams": Team.objects.filter(name__in=DEMO_TEAMS).count(),
    }
    return {name: count for name, count in counts.items() if count}


@transaction.atomic
def reset_demo_data() -> list[str]:
    """Remove every CRM row, the demo users and the demo teams.

    Tables of other apps that point at CRM rows are emptied too (their rows
    would only describe the deleted clients); their names are returned.
    History tables are emptied without writing "deleted" history rows, which
    is why this does not go through ``QuerySet.delete()``.
    """
    crm_tables, others = _crm_dependent_tables()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if _is_postgres():
            # TRUNCATE refuses tables with foreign-key checks still queued in
            # this transaction (a reset right after a seed): run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            names = ", ".join(quote(t) for t in crm_tables + others)
            cursor.execute(f"TRUNCATE TABLE {names} RESTART IDENTITY")
        else:
            for table in others + crm_tables:
                cursor.execute(f"DELETE FROM {quote(table)}")
    demo_users = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")
    teams = Team.objects.filter(Q(name__in=DEMO_TEAMS) | Q(head__in=demo_users))
    team_ids = list(teams.values_list("id", flat=True))
    if Team.objects.filter(parent_id__in=team_ids).exclude(id__in=team_ids).exists():
        raise DemoError("Teams outside the demo are placed under a demo team: move them first.")
    Team.objects.filter(id__in=team_ids).update(parent=None, head=None)
    Team.objects.filter(id__in=team_ids).delete()
    demo_users.delete()
    book_counts.forget_all()  # the tables were emptied without signals
    return others


def _crm_dependent_tables() -> tuple[list[str], list[str]]:
    """The CRM app's tables, and other apps' tables that point at them (recursively)."""
    crm_models = list(apps.get_app_config("crm").get_models(include_auto_created=True))
    crm_tables = [m._meta.db_table for m in crm_models]
    covered = {m._meta.label for m in crm_models}
    others: list[str] = []
    changed = True
    while changed:
        changed = False
        for model in apps.get_models(include_auto_created=True):
            if model._meta.label in covered or not model._meta.managed:
                continue
            for fld in model._meta.concrete_fields:
                target = fld.related_model if fld.is_relation else None
                if target is None or not getattr(fld, "db_constraint", True):
                    continue
                if isinstance(target, type) and target._meta.label in covered:
                    covered.add(model._meta.label)
                    others.append(model._meta.db_table)
                    changed = True
                    break
    return crm_tables, others
