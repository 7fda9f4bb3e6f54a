"""Reads for contracts (the API and pages): querysets with what they show, and small lookups.

Everything starts from the tenant-scoped managers (``Model.objects``), so another tenant's rows are
never there. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Coalesce

from contracts import lifecycle
from contracts.models import Contract, ContractEvent, DataProcessingAgreement, Message, PricedOn
from tenants.models import Customer


def contracts() -> QuerySet[Contract]:
    """The tenant's contracts with their customer, plan and product, and ``effective_end``: when it
    ends (``ends_on``, once notice is given) or else when its current term ends (both exclusive)."""
    return Contract.objects.select_related("customer", "plan", "product").annotate(
        effective_end=Coalesce("ends_on", "term_end")
    )


def contract_details(queryset: QuerySet[Contract]) -> QuerySet[Contract]:
    """Everything the contract's detail shows, fetched in a fixed number of queries."""
    return queryset.select_related("customer__parent").prefetch_related(
        "signatures",
        "notices",
        "onboarding",
        Prefetch("events", queryset=ContractEvent.objects.order_by("on", "id")),
        Prefetch("messages", queryset=Message.objects.order_by("-on", "-id")),
        Prefetch("priced_on", queryset=PricedOn.objects.order_by("-effective_from", "-id")),
    )


def current_priced_on(contract: Contract, on: dt.date) -> PricedOn | None:
    """What the contract is priced on, on ``on``: the newest row in force (or, before the first one
    takes effect, the first one). Uses the prefetched rows when there are any."""
    rows = list(contract.priced_on.all())  # newest effective_from first
    in_force = [row for row in rows if row.effective_from <= on]
    if in_force:
        return max(in_force, key=lambda row: (row.effective_from, row.pk))
    return min(rows, key=lambda row: (row.effective_from, row.pk)) if rows else None


def amendments(contract: Contract) -> QuerySet[PricedOn]:
    """The history of what the contract is priced on, oldest first (the first row is the initial one)."""
    return PricedOn.objects.filter(contract=contract).order_by("effective_from", "id")


def dpa_controller_family(controller: Customer) -> list[Customer]:
    return [controller, *controller.children.all()]


def awaiting_dpa_ids(controller: Customer) -> set[int]:
    """Contracts of the controller and its schools that are signed and wait for its DPA."""
    return set(
        Contract.objects.filter(
            state=lifecycle.AWAITING_DPA, customer__in=dpa_controller_family(controller)
        ).values_list("pk", flat=True)
    )


def dpas() -> QuerySet[DataProcessingAgreement]:
    return DataProcessingAgreement.objects.select_related("controller")


def messages() -> QuerySet[Message]:
    return Message.objects.select_related("customer", "contract")
