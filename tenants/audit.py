"""Audit trail: who (user, API key or job) changed what, with old and new values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models

from tenants.models import ActorKind, ApiKey, AuditEvent, User


@dataclass(frozen=True)
class Actor:
    """Who is acting. Every service takes one."""

    kind: str
    label: str
    user: User | None = None
    api_key: ApiKey | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(kind=ActorKind.USER, label=user.email, user=user)

    @classmethod
    def for_api_key(cls, key: ApiKey) -> Actor:
        return cls(kind=ActorKind.API_KEY, label=f"API key {key.name} ({key.prefix})", api_key=key)

    @classmethod
    def job(cls, name: str) -> Actor:
        return cls(kind=ActorKind.JOB, label=f"job {name}")

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(kind=ActorKind.SYSTEM, label=name)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


SKIP_FIELDS = {"tenant", "updated_at", "created_at", "key_hash", "password"}


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The concrete field values of ``obj``, JSON-ready (secrets left out)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in SKIP_FIELDS or field.primary_key:
            continue
        data[field.name] = _json_value(getattr(obj, field.attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field whose value changed."""
    keys = before.keys() | after.keys()
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def record(
    actor: Actor,
    action: str,
    obj: models.Model,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit row; call inside the transaction that made the change."""
    changes = diff(before or {}, after if after is not None else {})
    if extra:
        changes.update({k: [None, _json_value(v)] for k, v in extra.items()})
    return AuditEvent.objects.create(
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:200],
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes,
    )
