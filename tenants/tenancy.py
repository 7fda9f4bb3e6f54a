"""The current tenant: one value, held in two places that always agree.

* a context variable, read by :class:`TenantManager` so ORM queries are filtered in code, and
* the PostgreSQL setting ``app.tenant_id`` on the connection, read by the row-level security
  policies on every tenant-owned table (the second wall, which also covers raw SQL).

Without a current tenant the ORM raises :class:`NoTenantError` and PostgreSQL returns no rows
(fail closed). :func:`tenant_context` restores the previous value on exit, so a connection
reused by the next request or task never carries a tenant over.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver

if TYPE_CHECKING:
    from tenants.models import Tenant

_current_tenant: ContextVar[Tenant | None] = ContextVar("avtale_current_tenant", default=None)
SETTING = "app.tenant_id"


class NoTenantError(RuntimeError):
    """Tenant data was queried without a current tenant."""


def current_tenant() -> Tenant | None:
    return _current_tenant.get()


def require_tenant() -> Tenant:
    tenant = _current_tenant.get()
    if tenant is None:
        raise NoTenantError("No current tenant: wrap the work in tenant_context(tenant).")
    return tenant


def current_tenant_id() -> int:
    """Default for ``tenant`` foreign keys: new rows belong to the current tenant."""
    return require_tenant().pk


def _set_db_tenant(tenant_id: int | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, str(tenant_id or "")])


def db_tenant_setting() -> str:
    """What the connection's row-level security sees now ('' when no tenant)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting(%s, true), '')", [SETTING])
        return cursor.fetchone()[0]


def activate(tenant: Tenant) -> None:
    _current_tenant.set(tenant)
    _set_db_tenant(tenant.pk)


def deactivate() -> None:
    _current_tenant.set(None)
    if connection.connection is not None:
        _reset_db_quietly(None)


def _reset_db_quietly(tenant_id: int | None) -> None:
    try:
        _set_db_tenant(tenant_id)
    except Exception:  # noqa: BLE001
        # Inside a broken transaction the reset cannot run; the rollback that must follow
        # reverts set_config to its value before the transaction, so nothing leaks. Closing
        # the connection outside a transaction makes sure of it in every other case.
        if not connection.in_atomic_block:
            connection.close()


@contextlib.contextmanager
def tenant_context(tenant: Tenant):
    """Run the block as ``tenant``; restore whatever was current before."""
    previous = _current_tenant.get()
    token = _current_tenant.set(tenant)
    _set_db_tenant(tenant.pk)
    try:
        yield tenant
    finally:
        _current_tenant.reset(token)
        _reset_db_quietly(previous.pk if previous else None)


@receiver(connection_created)
def _sync_new_connection(sender, connection, **kwargs):
    """A connection opened inside a tenant context (e.g. a reconnect) gets the same tenant."""
    tenant = _current_tenant.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, str(tenant.pk) if tenant else ""])
