"""Row-level security on every tenant-owned table.

Applied after every migrate (post_migrate), so a new tenant-owned model can never be forgotten;
``tests/tenants/test_isolation.py`` checks that every table with a ``tenant_id`` column has
FORCE'd RLS. The policy reads ``app.tenant_id`` (see tenants.tenancy): unset or empty, no row
is visible or writable.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connections

POLICY = "tenant_isolation"
PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def tenant_owned_tables() -> list[str]:
    from tenants.models import TenantOwned

    return sorted(
        model._meta.db_table for model in apps.get_models() if issubclass(model, TenantOwned) and not model._meta.proxy
    )


def apply_row_level_security(using: str = "default") -> list[str]:
    tables = tenant_owned_tables()
    with connections[using].cursor() as cursor:
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
            cursor.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
            cursor.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
            cursor.execute(f'CREATE POLICY {POLICY} ON "{table}" USING ({PREDICATE}) WITH CHECK ({PREDICATE})')
    return tables


def on_post_migrate(sender, using="default", **kwargs):
    if sender.name == "tenants":
        apply_row_level_security(using)
