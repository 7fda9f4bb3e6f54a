"""Gap-free invoice numbers per tenant, and the KID (RULES §10).

A number is taken inside the issuing transaction, under ``SELECT … FOR UPDATE`` on the series row: if the
transaction rolls back, so does the number, and two issuers take turns. A draft has no number.
Credit notes share the invoice series unless the tenant chose their own continuous series.
"""

from __future__ import annotations

from billing.document import kid_mod10, kid_mod11
from billing.models import BillingSettings, InvoiceKind, KidMethod, NumberSeries
from tenants.tenancy import require_tenant

KID_LENGTH = 8  # digits before the check digit


def settings_for_tenant() -> BillingSettings:
    """The current tenant's billing settings (defaults, unsaved, when it has chosen nothing)."""
    return BillingSettings.objects.filter().first() or BillingSettings()


def series_for(kind: str, settings: BillingSettings | None = None) -> str:
    settings = settings or settings_for_tenant()
    if kind == InvoiceKind.CREDIT_NOTE and settings.credit_notes_own_series:
        return "credit_note"
    return "invoice"


def take_number(series: str) -> int:
    """The series' next number, locked until the caller's transaction ends. Call inside ``atomic``."""
    tenant = require_tenant()
    NumberSeries.objects.bulk_create([NumberSeries(tenant=tenant, code=series)], ignore_conflicts=True)
    row = NumberSeries.objects.select_for_update().get(code=series)
    number = row.next_number
    NumberSeries.objects.filter(pk=row.pk).update(next_number=number + 1)
    return number


def kid_for(number: int, method: str = KidMethod.MOD10) -> str:
    """The KID for an invoice number: the number padded to 8 digits plus a MOD10 (or MOD11) check digit.
    MOD11's remainder 10 is written '-', as the KID standard allows."""
    base = f"{number:0{KID_LENGTH}d}"
    if method == KidMethod.MOD11:
        return kid_mod11(base) or base + "-"
    return kid_mod10(base)
