"""The demo loads the five vendors, replays their contracts through the jobs, and is idempotent."""

import datetime as dt
from decimal import Decimal

import pytest

from billing.numbering import kid_for
from contracts import lifecycle
from contracts.models import Contract, Message
from demo.loader import load
from tenants.models import AuditEvent, Contact, Tenant
from tenants.tenancy import tenant_context

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 24)


def states(slug):
    with tenant_context(Tenant.objects.get(slug=slug)):
        return dict(Contract.objects.values_list("reference", "state"))


def test_demo_replays_the_story_and_a_second_load_changes_nothing(brreg_fake, peppol_fake, settings, tmp_path):
    settings.AVTALE_VAR_DIR = tmp_path
    settings.VAR_DIR = tmp_path
    summary = load(AS_OF)
    assert [t["slug"] for t in summary.tenants] == ["spekter", "standard-norge", "piscator", "digireq", "identum"]
    assert summary.created["tenants"] == 5 and summary.created["contracts"] == 19
    assert summary.created["invoices and credit notes"] > 100 and summary.created["payments"] > 80

    assert states("spekter") == {
        "SP-2024-001": lifecycle.ACTIVE,
        "SP-2025-002": lifecycle.ENDED,
        "SP-2026-003": lifecycle.AWAITING_DPA,
    }
    assert states("piscator")["PI-2024-001"] == lifecycle.NOTICE_GIVEN  # a late notice: ends 2028-03-18
    assert states("piscator")["PI-2026-003"] == lifecycle.ACCEPTANCE
    digireq = states("digireq")
    assert (digireq["DR-T-001"], digireq["DR-T-002"], digireq["DR-T-005"], digireq["DR-T-006"]) == (
        lifecycle.DELETED,
        lifecycle.ACTIVE,
        lifecycle.PAUSED,
        lifecycle.TRIAL,
    )
    with tenant_context(Tenant.objects.get(slug="spekter")):
        renewed = Contract.objects.get(reference="SP-2024-001")
        assert (renewed.term_index, renewed.term_end) == (2, dt.date(2027, 2, 15))
    with tenant_context(Tenant.objects.get(slug="digireq")):
        deleted = Contract.objects.get(reference="DR-T-001")
        assert Contact.objects.filter(customer=deleted.customer).count() == 0
        assert list(Message.objects.filter(contract=deleted).order_by("on").values_list("kind", "on")) == [
            ("trial_paused", dt.date(2025, 6, 16)),
            ("deletion_60_days_left", dt.date(2025, 7, 16)),
            ("deletion_30_days_left", dt.date(2025, 8, 15)),
            ("deletion_7_days_left", dt.date(2025, 9, 7)),
            ("data_deleted", dt.date(2025, 9, 14)),
        ]

    from contracts.models import ContractDocument, Signature

    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            stored = set(ContractDocument.objects.values_list("contract_id", "sha256"))
            signed = set(Signature.objects.values_list("contract_id", "document_sha256"))
            assert signed and signed <= stored  # every signature names a document that was kept

    from billing.models import Delivery, DeliveryStatus, Invoice, InvoiceKind, InvoiceStatus, TimeEntry

    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            issued = Invoice.objects.exclude(status=InvoiceStatus.DRAFT)
            for series in set(issued.values_list("series", flat=True)):
                numbers = sorted(issued.filter(series=series).values_list("number", flat=True))
                assert numbers == list(range(1, len(numbers) + 1)), (tenant.slug, series)  # no gap, no repeat
            assert issued.exists(), f"{tenant.slug} has no invoices"
            assert not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()  # EHF or e-mail, all out
    with tenant_context(Tenant.objects.get(slug="spekter")):
        first = Invoice.objects.get(number=1)
        # The first invoice waits for the DPA (2024-02-20), for the term year from the contract's start.
        assert (first.issue_date, first.period_start, first.net, first.total) == (
            dt.date(2024, 2, 20),
            dt.date(2024, 2, 15),
            Decimal("26292.00"),
            Decimal("32865.00"),
        )
        assert not Invoice.objects.filter(contract__reference="SP-2026-003").exists()  # awaiting the DPA
    with tenant_context(Tenant.objects.get(slug="piscator")):
        assert TimeEntry.objects.count() == 3 and not TimeEntry.objects.filter(invoice__isnull=True).exists()
        hours = Invoice.objects.get(time_entries__description__startswith="Opplæring")
        assert hours.net == Decimal("7200.00")  # 3 × 1 800.00 + 2 × 900.00
        assert Invoice.objects.filter(status=InvoiceStatus.OVERDUE).exists()  # Bømlo pays half
    with tenant_context(Tenant.objects.get(slug="digireq")):
        note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
        assert (note.total, note.credited_invoice.issue_date) == (Decimal("468.75"), dt.date(2026, 2, 19))
        assert (note.series, note.number) == ("credit_note", 1)  # DigiReq's own credit-note series
        assert Invoice.objects.filter(status=InvoiceStatus.OVERDUE, customer__name__startswith="Sikkerhet").exists()
    with tenant_context(Tenant.objects.get(slug="identum")):
        kid = Invoice.objects.get(number=1).kid
        assert kid == kid_for(1, "mod11") and kid != kid_for(1, "mod10")  # Identum's bank wants MOD11
        support = Invoice.objects.get(time_entries__service__code="support")
        assert (support.issue_date, support.supplementary) == (dt.date(2026, 11, 1), False)  # the next invoice
        assert support.lines.get(code="hours:support").quantity == Decimal("1.5")  # 1.2 h per started half hour

    def audit_counts():
        out = {}
        for tenant in Tenant.objects.all():
            with tenant_context(tenant):
                out[tenant.slug] = AuditEvent.objects.exclude(action="customer.verify").count()
        return out

    before = audit_counts()
    again = load(AS_OF)
    assert again.created == {}
    assert audit_counts() == before
