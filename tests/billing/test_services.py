"""Invoices against PostgreSQL: the billing acceptance cases (shared/acceptance/billing.md, except SLA and
interest), numbering and KID, credit notes, payments, bad input, and immutability enforced by the database."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from billing import generator, numbering, run, services
from billing.document import kid_mod10, kid_mod11
from billing.models import BillingSettings, Invoice, InvoiceLine, InvoiceStatus, Payment
from catalog import services as catalog_services
from contracts import services as contract_services
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.contracts.conftest import SHA, plan_for, signed_at, spekter_priced_on, verified_company
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
d = dt.date
D = Decimal
ACTOR = Actor.system("test")


# ---------------------------------------------------------------- helpers (also used by test_run and test_reliability)


def sign(contract, received: dt.date):
    return contract_services.contract_sign(
        actor=ACTOR,
        contract=contract,
        name="Kari Nordmann",
        title="Rektor",
        signed_at=signed_at(received),
        received_on=received,
        document_sha256=SHA,
    )


SPEKTER_RECEIVED, SPEKTER_DPA, PISCATOR_RECEIVED = dt.date(2026, 3, 15), dt.date(2026, 3, 20), dt.date(2026, 2, 2)


def spekter_contract(plan, *, received=SPEKTER_RECEIVED, dpa_on=SPEKTER_DPA, kommune=None):
    """A kommune with schools of 87, 240 and 1100 pupils; signed ``received``, DPA signed ``dpa_on``."""
    from tenants.models import CustomerKind

    kommune = kommune or CustomerFactory(name="Stavanger kommune", kind=CustomerKind.KOMMUNE)
    schools = [CustomerFactory(name=f"Skole {n}", kind=CustomerKind.SCHOOL, parent=kommune) for n in (1, 2, 3)]
    contract = contract_services.contract_create(
        actor=ACTOR,
        customer=kommune,
        plan=plan,
        interval="year",
        on=d(2026, 3, 1),
        priced_on=spekter_priced_on(schools),
        terms_data=contract_services.TERM_PRESETS["spekter"],
    )
    contract = sign(contract, received)
    if dpa_on:
        contract_services.dpa_sign(actor=ACTOR, controller=kommune, signed_on=dpa_on, signer_name="Ordfører")
        contract.refresh_from_db()
    return contract


def piscator_contract(plan, received=PISCATOR_RECEIVED):
    contract = contract_services.contract_create(
        actor=ACTOR,
        customer=CustomerFactory(),
        plan=plan,
        interval="quarter",
        priced_on={},
        terms_data=contract_services.TERM_PRESETS["piscator"],
        on=received,
    )
    return sign(contract, received)


def digireq_contract(plan, interval: str, name="Kunde AS"):
    contract = contract_services.trial_start(actor=ACTOR, customer=verified_company(name), plan=plan, on=d(2026, 1, 5))
    return contract_services.trial_convert(
        actor=ACTOR,
        contract=contract,
        interval=interval,
        priced_on={"quantities": {"active_users": 30}},
        on=d(2026, 1, 19),
    )


def totals(invoice):
    return (invoice.net, invoice.vat, invoice.total)


@pytest.fixture
def spekter_plan(tenant_a):
    with tenant_context(tenant_a):
        yield plan_for("spekter")


# ---------------------------------------------------------------- Spekter


def test_spekter_first_invoice_when_the_dpa_is_in(spekter_plan, tenant_a):
    with tenant_context(tenant_a):
        contract = spekter_contract(spekter_plan, dpa_on=None)
        # Signed 2026-03-15, no DPA yet: nothing to invoice, whatever the date.
        assert run.preview(d(2026, 3, 19)).proposals == []
        assert run.run_tenant(d(2026, 3, 19)).invoices == 0
        contract_services.dpa_sign(
            actor=ACTOR, controller=contract.customer, signed_on=d(2026, 3, 20), signer_name="Ordfører"
        )
        result = run.run_tenant(d(2026, 3, 20))
        assert result.invoices == 1
        invoice = Invoice.objects.get()
        assert (invoice.period_start, invoice.period_end) == (d(2026, 3, 15), d(2027, 3, 14))
        assert (invoice.issue_date, invoice.due_date) == (d(2026, 3, 20), d(2026, 4, 19))
        assert totals(invoice) == (D("26292.00"), D("6573.00"), D("32865.00"))
        assert (invoice.status, invoice.number, invoice.kid) == (InvoiceStatus.ISSUED, 1, kid_mod10("00000001"))
        lines = list(invoice.lines.all())
        assert [line.net for line in lines] == [D("2892.00"), D("4875.00"), D("18525.00")]
        assert [(line.vat_category, line.vat_rate) for line in lines] == [("S", D("25.00"))] * 3
        assert all(line.explanation_nb and line.explanation_en for line in lines)
        assert "87" in lines[0].explanation_en
        # The document built for PDF and EHF agrees with the row.
        doc = services.invoice_document(invoice)
        assert (doc.number, doc.kid, doc.net_total, doc.vat_total, doc.total) == (
            "1",
            invoice.kid,
            D("26292.00"),
            D("6573.00"),
            D("32865.00"),
        )
        assert doc.seller.org_number == tenant_a.org_number and doc.seller.bank_account == "86011117947"
        assert doc.buyer.name == "Stavanger kommune" and doc.payment_terms == "30 dager netto"
        assert doc.order_reference == contract.reference
        assert AuditEvent.objects.filter(action="invoice.issue", object_id=str(invoice.pk)).count() == 1
        # The next term year, on its first day, once.
        assert run.preview(d(2027, 3, 14)).proposals == []
        assert [p.period.start for p in run.preview(d(2027, 3, 15)).proposals] == [d(2027, 3, 15)]


def test_payment_terms_follow_the_tenant(spekter_plan, tenant_a):
    tenant_a.payment_terms_days = 14
    tenant_a.save()
    with tenant_context(tenant_a):
        spekter_contract(spekter_plan)
        run.run_tenant(d(2026, 3, 20))
        assert Invoice.objects.get().due_date == d(2026, 4, 3)


# ---------------------------------------------------------------- Standard Norge


def test_standard_norge_first_year_in_quarters_then_1_january_at_that_days_prices(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("standard-norge")
        for code in ("1", "2"):
            catalog_services.category_save(actor=ACTOR, data={"code": code, "name_nb": code, "name_en": code})
        cat1 = [f"NS 1-{i}" for i in range(40)]
        cat2 = [f"ISO 2-{i}" for i in range(10)]
        for year, price1 in ((2026, 1200), (2027, 1300)):
            rows = [f"{c},T,1,{price1}" for c in cat1] + [f"{c},T,2,1500" for c in cat2]
            catalog_services.standards_import_csv(
                actor=ACTOR, text="code,title,category,price\n" + "\n".join(rows), year=year
            )
        contract = contract_services.contract_create(
            actor=ACTOR,
            customer=CustomerFactory(),
            plan=plan,
            interval="year",
            on=d(2026, 5, 1),
            priced_on={"standards": [{"code": c} for c in cat1 + cat2], "concurrent_users": 7, "addons": ["offline"]},
            terms_data=contract_services.TERM_PRESETS["standard-norge"],
        )
        sign(contract, d(2026, 5, 10))
        run.run_tenant(d(2026, 5, 10))
        invoice = Invoice.objects.get()
        assert (invoice.issue_date, invoice.period_start, invoice.period_end) == (
            d(2026, 5, 10),
            d(2026, 4, 1),
            d(2026, 12, 31),
        )
        lines = list(invoice.lines.all())
        licence = sum(line.net for line in lines if line.code.startswith("licence"))
        offline = next(line.net for line in lines if line.code == "offline")
        assert (licence, offline) == (D("49612.50"), D("4961.25"))
        assert totals(invoice) == (D("54573.75"), D("13643.44"), D("68217.19"))
        assert "3/4 of the annual price" in lines[0].explanation_en
        assert run.preview(d(2026, 12, 31)).proposals == []
        run.run_tenant(d(2027, 1, 1))
        second = Invoice.objects.exclude(pk=invoice.pk).get()
        assert (second.number, second.period_start, second.period_end) == (2, d(2027, 1, 1), d(2027, 12, 31))
        # 1 January 2027 prices: 40 × 1 300 × 0.5 × 4 × 0.45 = 46 800; 15 000 × 0.85 × 1.8 = 22 950;
        # offline 10 % of 69 750 = 6 975.
        assert second.net == D("76725.00")


# ---------------------------------------------------------------- DigiReq


def test_digireq_monthly_from_conversion(tenant_a):
    with tenant_context(tenant_a):
        digireq_contract(plan_for("digireq"), "month")
        run.run_tenant(d(2026, 1, 19))
        invoice = Invoice.objects.get()
        assert (invoice.period_start, invoice.period_end) == (d(2026, 1, 19), d(2026, 2, 18))
        assert totals(invoice) == (D("2250.00"), D("562.50"), D("2812.50"))
        assert invoice.lines.get().unit_code == "MON"
        assert run.run_tenant(d(2026, 2, 18)).invoices == 0
        assert run.run_tenant(d(2026, 2, 19)).invoices == 1
        assert Invoice.objects.get(number=2).period_start == d(2026, 2, 19)


def test_digireq_annual(tenant_a):
    with tenant_context(tenant_a):
        digireq_contract(plan_for("digireq"), "year")
        run.run_tenant(d(2026, 1, 19))
        invoice = Invoice.objects.get()
        assert (invoice.period_start, invoice.period_end) == (d(2026, 1, 19), d(2027, 1, 18))
        assert totals(invoice) == (D("22950.00"), D("5737.50"), D("28687.50"))
        assert "15%" in invoice.lines.get().explanation_en


def test_a_customer_abroad_gets_reverse_charge_and_no_vat(tenant_a):
    with tenant_context(tenant_a):
        contract = digireq_contract(plan_for("digireq"), "month")
        contract.customer.vat_treatment = "reverse_charge"
        contract.customer.save()
        run.run_tenant(d(2026, 1, 19))
        invoice = Invoice.objects.get()
        assert totals(invoice) == (D("2250.00"), D("0.00"), D("2250.00"))
        assert invoice.lines.get().vat_category == "AE"


def test_piscator_quarterly_in_advance_from_the_start(tenant_a):
    with tenant_context(tenant_a):
        contract = piscator_contract(plan_for("piscator"))
        assert contract.start_date == d(2026, 2, 16)
        assert run.run_tenant(d(2026, 2, 15)).invoices == 0
        run.run_tenant(d(2026, 2, 16))
        invoice = Invoice.objects.get()
        assert (invoice.period_start, invoice.period_end) == (d(2026, 2, 16), d(2026, 5, 15))
        assert invoice.lines.get().unit_code == "QAN"


# ---------------------------------------------------------------- credit notes


@pytest.fixture
def spekter_invoice(spekter_plan, tenant_a):
    with tenant_context(tenant_a):
        spekter_contract(spekter_plan)
        run.run_tenant(d(2026, 3, 20))
        yield Invoice.objects.get()


def test_credit_note_in_full_references_the_invoice_which_is_unchanged(spekter_invoice, tenant_a):
    with tenant_context(tenant_a):
        before_lines = list(spekter_invoice.lines.values_list("description", "net"))
        note = services.credit_note_create(actor=ACTOR, invoice=spekter_invoice, on=d(2026, 4, 2), reason="Feil skole")
        assert (note.kind, note.number, note.credited_invoice_id) == ("credit_note", 2, spekter_invoice.pk)
        assert totals(note) == (D("26292.00"), D("6573.00"), D("32865.00"))
        assert list(note.lines.values_list("description", "net")) == before_lines
        doc = services.invoice_document(note)
        assert (doc.kind, doc.credited_number, doc.credited_issue_date) == ("credit_note", "1", d(2026, 3, 20))
        invoice = Invoice.objects.get(pk=spekter_invoice.pk)
        assert (invoice.number, invoice.total, invoice.kid, invoice.document) == (
            1,
            D("32865.00"),
            spekter_invoice.kid,
            spekter_invoice.document,
        )
        assert list(invoice.lines.values_list("description", "net")) == before_lines
        assert (invoice.status, invoice.credited_amount) == (InvoiceStatus.CREDITED, D("32865.00"))


def test_partial_credit_then_crediting_more_than_remains_is_refused(spekter_invoice, tenant_a):
    with tenant_context(tenant_a):
        note = services.credit_note_create(
            actor=ACTOR, invoice=spekter_invoice, on=d(2026, 4, 2), reason="Rabatt", net_amount="1000.00"
        )
        assert totals(note) == (D("1000.00"), D("250.00"), D("1250.00"))
        invoice = Invoice.objects.get(pk=spekter_invoice.pk)
        assert (invoice.status, invoice.credited_amount) == (InvoiceStatus.ISSUED, D("1250.00"))
        with pytest.raises(ValidationError) as err:  # 31 615.00 remains incl. VAT; 25 300 net is 31 625 with VAT
            services.credit_note_create(
                actor=ACTOR, invoice=invoice, on=d(2026, 4, 3), reason="For mye", net_amount="25300.00"
            )
        assert "net_amount" in err.value.message_dict
        assert Invoice.objects.filter(kind="credit_note").count() == 1
        for bad in ("-5", "abc", "0", "1.234"):
            with pytest.raises(ValidationError) as err:
                services.credit_note_create(actor=ACTOR, invoice=invoice, on=d(2026, 4, 3), reason="x", net_amount=bad)
            assert list(err.value.message_dict) == ["net_amount"]
        with pytest.raises(ValidationError) as err:
            services.credit_note_create(actor=ACTOR, invoice=invoice, on=d(2026, 4, 3), reason=" ")
        assert "reason" in err.value.message_dict
        assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_credit_notes_in_their_own_series_when_the_tenant_chooses(spekter_invoice, tenant_a):
    with tenant_context(tenant_a):
        BillingSettings.objects.create(credit_notes_own_series=True)
        note = services.credit_note_create(actor=ACTOR, invoice=spekter_invoice, on=d(2026, 4, 2), reason="Feil")
        assert (note.series, note.number, note.kid) == ("credit_note", 1, "")


# ---------------------------------------------------------------- payments


def test_payments_move_the_status_and_a_credited_invoice_cannot_be_paid(spekter_invoice, tenant_a):
    with tenant_context(tenant_a):
        services.payment_register(actor=ACTOR, invoice=spekter_invoice, amount="10000.00", paid_on=d(2026, 4, 1))
        invoice = Invoice.objects.get(pk=spekter_invoice.pk)
        assert (invoice.status, invoice.paid_amount) == (InvoiceStatus.PARTLY_PAID, D("10000.00"))
        with pytest.raises(ValidationError) as err:
            services.payment_register(actor=ACTOR, invoice=invoice, amount="30000.00", paid_on=d(2026, 4, 2))
        assert "amount" in err.value.message_dict
        services.payment_register(actor=ACTOR, invoice=invoice, amount="22865.00", paid_on=d(2026, 4, 2))
        invoice.refresh_from_db()
        assert (invoice.status, invoice.paid_amount) == (InvoiceStatus.PAID, D("32865.00"))
        assert Payment.objects.count() == 2


def test_paying_a_credited_invoice_is_refused_and_writes_nothing(spekter_invoice, tenant_a):
    with tenant_context(tenant_a):
        services.credit_note_create(actor=ACTOR, invoice=spekter_invoice, on=d(2026, 4, 2), reason="Feil")
        with pytest.raises(ValidationError) as err:
            services.payment_register(actor=ACTOR, invoice=spekter_invoice, amount="100.00", paid_on=d(2026, 4, 3))
        assert "invoice" in err.value.message_dict
        assert Payment.objects.count() == 0
        assert Invoice.objects.get(pk=spekter_invoice.pk).paid_amount == 0


# ---------------------------------------------------------------- numbering, KID, drafts


def test_issuing_an_invoice_without_lines_is_refused_and_takes_no_number(spekter_plan, tenant_a):
    with tenant_context(tenant_a):
        contract = spekter_contract(spekter_plan)
        draft = Invoice.objects.create(customer=contract.customer, contract=contract, period_start=d(2026, 3, 15))
        with pytest.raises(ValidationError) as err:
            services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 3, 20))
        assert list(err.value.message_dict) == ["lines"]
        draft.refresh_from_db()
        assert (draft.status, draft.number) == (InvoiceStatus.DRAFT, None)
        draft.delete()  # a draft may go
        run.run_tenant(d(2026, 3, 20))
        assert Invoice.objects.get().number == 1


def test_numbers_have_no_gap_when_an_issuing_transaction_rolls_back(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        contracts = [digireq_contract(plan, "month", name=f"K{i} AS") for i in range(3)]
        proposals = [generator.proposals_for(c, d(2026, 1, 19))[0][0] for c in contracts]
        services.invoice_issue(
            actor=ACTOR, invoice=services.invoice_draft_create(actor=ACTOR, proposal=proposals[0]), on=d(2026, 1, 19)
        )
        with pytest.raises(RuntimeError), transaction.atomic():
            draft = services.invoice_draft_create(actor=ACTOR, proposal=proposals[1])
            services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 1, 19))
            raise RuntimeError("crash after numbering")
        run.run_tenant(d(2026, 1, 19))
        assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2, 3]


def test_numbers_are_per_tenant(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            digireq_contract(plan_for("digireq", code=tenant.slug), "month")
            run.run_tenant(d(2026, 1, 19))
            assert list(Invoice.objects.values_list("number", flat=True)) == [1]


def test_kid_mod11_as_the_tenants_option(tenant_a):
    with tenant_context(tenant_a):
        BillingSettings.objects.create(kid_method="mod11")
        digireq_contract(plan_for("digireq"), "month")
        run.run_tenant(d(2026, 1, 19))
        assert Invoice.objects.get().kid == kid_mod11("00000001")
    assert numbering.kid_for(5, "mod11") == (kid_mod11("00000005") or "00000005-")


# ---------------------------------------------------------------- immutability in PostgreSQL


def test_the_database_refuses_changing_or_deleting_an_issued_invoice_or_its_lines(spekter_invoice, tenant_a):
    with tenant_context(tenant_a):
        pk = spekter_invoice.pk
        for sql in (
            "UPDATE billing_invoice SET total = 0 WHERE id = %s",
            "UPDATE billing_invoice SET number = 99 WHERE id = %s",
            "UPDATE billing_invoice SET status = 'draft' WHERE id = %s",
            "DELETE FROM billing_invoice WHERE id = %s",
            "UPDATE billing_invoiceline SET net = 1 WHERE invoice_id = %s",
            "DELETE FROM billing_invoiceline WHERE invoice_id = %s",
        ):
            with pytest.raises(DatabaseError, match="issued invoice"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(sql, [pk])
        with pytest.raises(DatabaseError, match="issued invoice"), transaction.atomic():
            InvoiceLine.objects.create(
                invoice=spekter_invoice, description="Ekstra", unit_price=D("1"), net=D("1"), position=9
            )
        # What may move on after issue: status and the amounts sent, paid and credited.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE billing_invoice SET status = 'sent', sent_at = now() WHERE id = %s", [pk])
        invoice = Invoice.objects.get(pk=pk)
        assert (invoice.status, invoice.total, invoice.number) == ("sent", D("32865.00"), 1)
        assert invoice.lines.count() == 3
