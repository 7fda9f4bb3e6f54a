"""Helpers for the indexation API tests: contracts on the seed vendors' plans with their policies, keys and
clients, and the request shorthands. Plain functions (the tests declare their fixtures with them)."""

from __future__ import annotations

import datetime as dt

from contracts import services as contract_services
from indexation.models import IndexationEvent, IndexationProposal, PriceAdjustment
from pricing.models import IndexationPolicy, IndexValueOverride
from tenants.audit import Actor
from tenants.models import ApiKeyScope, AuditEvent
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, make_key
from tests.billing.test_services import sign
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory
from tests.indexation.conftest import policy

ACTOR = Actor.system("test")
d = dt.date
DIGIREQ_START, IDENTUM_SIGNED, IDENTUM_START = d(2024, 2, 1), d(2024, 3, 20), d(2024, 4, 1)


def digireq_annual(plan, *, start=DIGIREQ_START, users=120, name="Drammen kommune"):
    """DigiReq's annual plan from ``start``: 120 users × 65 × 12 × 0.85 = 79 560 a year."""
    contract = contract_services.contract_create(
        actor=ACTOR,
        customer=CustomerFactory(name=name, invoice_email="faktura@kunde.example"),
        plan=plan,
        interval="year",
        priced_on={"quantities": {"active_users": users}},
        terms_data={**contract_services.TERM_PRESETS["digireq-annual"], "agreed_start": start},
        on=start,
    )
    return sign(contract, start)


def identum_contract(plan, signed=IDENTUM_SIGNED, start=IDENTUM_START):
    contract = contract_services.contract_create(
        actor=ACTOR,
        customer=CustomerFactory(name="Tromsø kommune", invoice_email="faktura@tromso.example"),
        plan=plan,
        interval="month",
        priced_on={"addons": ["module_feide"]},
        terms_data={**contract_services.TERM_PRESETS["identum"], "agreed_start": start},
        on=signed,
    )
    return sign(contract, signed)


def digireq_vendor(tenant, *, code: str = "p", contracts: int = 1) -> dict:
    """``tenant`` selling DigiReq with its policy (staff approve, up to CPI) and ``contracts`` annual contracts,
    with a read-write and a read-only key."""
    with tenant_context(tenant):
        plan = plan_for("digireq", code=code)
        digireq = policy("digireq", plan)
        made = [digireq_annual(plan, name=f"Kunde {n}") for n in range(contracts)]
    _key, raw = make_key(tenant)
    _ro, ro_raw = make_key(tenant, ApiKeyScope.READ, name="read")
    return {
        "tenant": tenant,
        "plan": plan,
        "policy": digireq,
        "contract": made[0] if made else None,
        "contracts": made,
        "api": client_for(raw),
        "ro": client_for(ro_raw),
    }


def post(v, path: str, body: dict | None = None, client: str = "api", **headers):
    return v[client].post(f"{API}{path}", body or {}, format="json", headers=headers or None)


def patch(v, path: str, body: dict, client: str = "api"):
    return v[client].patch(f"{API}{path}", body, format="json")


def delete(v, path: str, client: str = "api"):
    return v[client].delete(f"{API}{path}")


def get(v, path: str, client: str = "api", **params):
    return v[client].get(f"{API}{path}", params)


def counts(tenant) -> dict:
    """Everything a refused request must leave as it was."""
    with tenant_context(tenant):
        return {
            model.__name__: model.objects.count()
            for model in (
                IndexationPolicy,
                IndexationProposal,
                PriceAdjustment,
                IndexationEvent,
                IndexValueOverride,
                AuditEvent,
            )
        }


def proposals(tenant, **filters) -> list[IndexationProposal]:
    with tenant_context(tenant):
        return list(IndexationProposal.objects.filter(**filters).order_by("pk"))
