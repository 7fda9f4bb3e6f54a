"""Celery tasks: thin. They take ids and an ``as_of`` date, set the tenant, and call a service."""

from __future__ import annotations

from celery import shared_task

from tenants import tenancy
from tenants.audit import Actor
from tenants.jobs import for_each_tenant, parse_as_of
from tenants.models import Customer, Tenant, Verification
from tenants.services import customer_verify

JOB = "customers_reverify"


def reverify_customers(tenant: Tenant, as_of) -> dict[str, int]:
    """Re-check every active Norwegian customer of ``tenant`` in Brønnøysund. Idempotent."""
    counts: dict[str, int] = {}
    actor = Actor.job(f"{JOB} {as_of.isoformat()}")
    for customer in Customer.objects.filter(is_active=True).exclude(verification=Verification.NOT_APPLICABLE):
        customer = customer_verify(actor=actor, customer=customer)
        counts[customer.verification] = counts.get(customer.verification, 0) + 1
    return counts


@shared_task(name="tenants.tasks.customers_reverify")
def customers_reverify(tenant_id: int, as_of: str | None = None) -> dict[str, int]:
    tenant = Tenant.objects.get(pk=tenant_id)
    with tenancy.tenant_context(tenant):
        return reverify_customers(tenant, parse_as_of(as_of))


@shared_task(name="tenants.tasks.customers_reverify_all")
def customers_reverify_all(as_of: str | None = None) -> dict[str, object]:
    day = parse_as_of(as_of)
    return for_each_tenant(lambda tenant: reverify_customers(tenant, day))
