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


def test_demo_replays_the_story_and_a_second_load_changes_nothing(
    brreg_fake, peppol_fake, ssb_fake, settings, tmp_path
):
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
        lifecycle.PAUSED,  # Kvalitetshuset stopped paying: paused 45 days after the due date
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
        assert not Invoice.objects.filter(status=InvoiceStatus.OVERDUE).exists()  # Bømlo paid its arrears
    with tenant_context(Tenant.objects.get(slug="digireq")):
        note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
        assert (note.total, note.credited_invoice.issue_date) == (Decimal("468.75"), dt.date(2026, 2, 19))
        assert (note.series, note.number) == ("credit_note", 1)  # DigiReq's own credit-note series
        assert Invoice.objects.filter(
            status=InvoiceStatus.OVERDUE, customer__name__startswith="Kvalitetshuset"
        ).exists()
    with tenant_context(Tenant.objects.get(slug="identum")):
        kid = Invoice.objects.get(number=1).kid
        assert kid == kid_for(1, "mod11") and kid != kid_for(1, "mod10")  # Identum's bank wants MOD11
        support = Invoice.objects.get(time_entries__service__code="support")
        assert (support.issue_date, support.supplementary) == (dt.date(2026, 11, 1), False)  # the next invoice
        assert support.lines.get(code="hours:support").quantity == Decimal("1.5")  # 1.2 h per started half hour

    # Payments come from the bank: camt.054 files imported and booked by KID; a stray one waits for staff.
    from billing.models import BankImport, IncomingPayment, Payment

    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            assert BankImport.objects.exists(), tenant.slug
            booked = IncomingPayment.objects.filter(status="matched").count()
            assert booked == Payment.objects.count(), tenant.slug  # every payment was booked from a bank file
    with tenant_context(Tenant.objects.get(slug="piscator")):
        stray = IncomingPayment.objects.get(status="unmatched")
        assert (stray.amount, stray.payer_name) == (Decimal("4321.00"), "Havbruk Vest AS")

    # CPI indexation on SSB's figures, replayed on its dates (demo/indexation.py).
    from catalog.models import StandardPrice
    from indexation.models import IndexationProposal, PriceAdjustment
    from pricing.models import PlanVersion

    def proposals(slug):
        with tenant_context(Tenant.objects.get(slug=slug)):
            return {
                (p.contract.reference if p.contract_id else p.scope, p.effective_on.isoformat()): p.status
                for p in IndexationProposal.objects.select_related("contract")
            }

    assert proposals("spekter") == {
        ("list", "2025-01-01"): "applied",
        ("list", "2026-01-01"): "applied",
        ("list", "2027-01-01"): "waiting",  # October 2026 is not in SSB's figures yet
    }
    with tenant_context(Tenant.objects.get(slug="spekter")):
        lists = PlanVersion.objects.filter(plan__code="spekter-2020").order_by("valid_from")
        assert [v.document["components"][0]["tiers"][0]["flat_amount"] for v in lists] == ["2892", "2967", "3060"]
        renewed = Invoice.objects.filter(contract__reference="SP-2024-001", period_start=dt.date(2025, 2, 15)).get()
        assert "Prisjustert etter KPI: KPI oktober 2024 / oktober 2023" in renewed.lines.first().explanation_nb
    with tenant_context(Tenant.objects.get(slug="standard-norge")):
        indexed = StandardPrice.objects.filter(standard__category__yearly_prices_fetched=False)
        assert set(indexed.values_list("year", flat=True)) == {2024, 2025, 2026}  # 2027 waits for the index
        imported = StandardPrice.objects.filter(standard__category__yearly_prices_fetched=True)
        assert set(imported.values_list("year", flat=True)) == {2024, 2025, 2026, 2027}  # the publisher's lists
    assert proposals("piscator") == {
        ("PI-2024-001", "2025-03-18"): "applied",
        ("PI-2024-002", "2025-06-17"): "applied",
        ("PI-2024-001", "2026-03-18"): "applied",  # across SSB's move to 2025 = 100
    }
    with tenant_context(Tenant.objects.get(slug="piscator")):
        march = Invoice.objects.get(contract__reference="PI-2024-001", period_start=dt.date(2026, 3, 18))
        assert march.net == Decimal("25469.25")  # 96 000 indexed twice, a quarter of it
    digireq_changes = proposals("digireq")
    assert digireq_changes[("DR-2024-001", "2026-01-01")] == "applied"
    assert digireq_changes[("DR-T-003", "2027-01-01")] == "approved"  # announced above CPI, 6 months ahead
    with tenant_context(Tenant.objects.get(slug="digireq")):
        left = Contract.objects.get(reference="DR-T-003")
        assert (left.state, left.ends_on) == (lifecycle.NOTICE_GIVEN, dt.date(2027, 1, 1))  # before the increase
        assert Message.objects.filter(kind="price_change").count() == 3
    identum = proposals("identum")
    assert identum[("ID-2024-001", "2025-01-01")] == "applied"
    assert identum[("ID-2024-001", "2026-01-01")] == "waiting"  # September 2025 of a closed table
    with tenant_context(Tenant.objects.get(slug="identum")):
        assert PriceAdjustment.objects.count() == 2
        assert Message.objects.filter(kind="price_change").count() == 2
    assert summary.created["price indexations applied"] == 11

    # Collections (demo/collections.py): reminders, interest invoices, a suspension and two pauses for non-payment.
    from contracts.models import ContractEvent
    from receivables.models import DefaultCase, InterestCharge, Reminder

    assert summary.created["reminders sent"] > 30 and summary.created["interest invoices"] > 10
    assert (summary.created["suspensions for non-payment"], summary.created["pauses for non-payment"]) == (1, 2)
    with tenant_context(Tenant.objects.get(slug="piscator")):
        case = DefaultCase.objects.get(contract__reference="PI-2024-002")  # Bømlo: two quarters unpaid over 2024
        assert (case.past_due_since, case.notice_sent_on, case.stop_on, case.suspended_on) == (
            dt.date(2024, 10, 18),
            dt.date(2024, 10, 31),
            dt.date(2024, 11, 20),  # 14 business days after the notice
            dt.date(2024, 11, 20),
        )
        assert (case.material_breach_on, case.closed_on, case.closed_reason) == (
            dt.date(2024, 11, 17),  # more than 30 days past due
            dt.date(2025, 2, 14),
            "paid",
        )
        moves = ContractEvent.objects.filter(contract=case.contract, event__in=["suspend", "resume"])
        assert list(moves.values_list("event", "on")) == [
            ("suspend", dt.date(2024, 11, 20)),
            ("resume", dt.date(2025, 2, 14)),  # reopened the day the arrears were paid
        ]
        interest = Invoice.objects.get(purpose="interest")
        assert (interest.issue_date, interest.total, interest.vat) == (
            dt.date(2025, 2, 14),
            Decimal("1612.70"),
            Decimal("0.00"),
        )
        first = interest.lines.get(description__startswith="Forsinkelsesrente faktura 5")
        assert "Renter per 31.12.2024 lagt til hovedstolen fra 01.01.2025: 770,55" in first.explanation_nb  # SSA-L
        assert first.net == Decimal("1244.75") and first.vat_category == "O"
        assert Reminder.objects.filter(customer__name__startswith="Bømlo").count() == 4
        assert Message.objects.filter(kind="suspension_notice").count() == 1
    with tenant_context(Tenant.objects.get(slug="digireq")):
        reopened = Contract.objects.get(reference="DR-T-004")  # Sikkerhet Øst paid one invoice 50 days late
        moves = ContractEvent.objects.filter(contract=reopened, event__in=["pause", "reactivate"])
        assert list(moves.values_list("event", "on")) == [
            ("pause", dt.date(2026, 7, 24)),  # 45 days after the due date 2026-06-09
            ("reactivate", dt.date(2026, 7, 29)),  # the day the payment came
        ]
        paused = Contract.objects.get(reference="DR-T-002")
        assert (paused.pause_reason, paused.paused_on, paused.deletion_due_on) == (
            "unpaid",
            dt.date(2026, 11, 2),
            dt.date(2027, 1, 31),
        )
        assert Message.objects.filter(contract=paused, kind="paused_unpaid").count() == 1
        assert not Invoice.objects.filter(contract=paused, period_start__gt=dt.date(2026, 11, 2)).exists()
    with tenant_context(Tenant.objects.get(slug="standard-norge")):
        partial = InterestCharge.objects.filter(late_invoice__customer__name__startswith="Fjordbygg")
        assert partial.exists()  # half paid on time, the rest late: interest on the rest only

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
