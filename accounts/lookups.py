"""``field__any_of=[…]``: membership in a list of ids, sent to PostgreSQL as one array.

A head's scope names every person of their teams (``accounts.selectors.
head_reach``). As ``IN (…)`` each of them is a parameter Django prepares and
formats one by one: a tenth of a head's page went into writing those lists
into each query. ``= ANY(%s)`` with the list as one array parameter is the
same condition to PostgreSQL (it turns ``IN`` into ``= ANY`` itself) and one
parameter to Django. Other databases get the plain ``IN``.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import AutoField, BigAutoField, ForeignKey, IntegerField
from django.db.models.lookups import In
from django.db.models.sql.compiler import SQLCompiler


class AnyOf(In):
    lookup_name = "any_of"

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        values = [value for value in self.rhs if value is not None]
        return f"{lhs_sql} = ANY(%s)", (*lhs_params, values)


def register() -> None:
    for field in (ForeignKey, AutoField, BigAutoField, IntegerField):
        field.register_lookup(AnyOf)
