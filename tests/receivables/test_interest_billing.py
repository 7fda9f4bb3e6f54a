"""Interest invoices (receivables.interest_billing) against PostgreSQL: on payment, monthly, never; SSA-L across
a year end; partial payments; the minimum; holds; reminder fees once; grouping; a failed invoice rolls back alone;
dry runs; idempotency; tenant isolation; bounded queries; the command."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import services
from billing.files import invoice_file
from billing.interest import interest
from billing.interest_rates import load_rates
from billing.models import Delivery, DeliveryStatus, Invoice, InvoiceKind, InvoiceStatus
from pricing.engine.money import round_money
from receivables import interest_billing
from receivables.interest_billing import interest_run, interest_summary, month_end_before
from receivables.models import CollectionPolicy, InterestCharge, InvoiceHold, Reminder
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.billing.test_pdf import pdf_text
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal
d = dt.date
ACTOR = Actor.system("test")
DUE = d(2025, 1, 15)
numbers = iter(range(10042, 90000))


def make_invoice(customer, due=DUE, total="10000.00", *, status=InvoiceStatus.SENT, **extra):
    """An issued invoice as the billing run leaves it (the issue path itself is billing's, tested there)."""
    number = next(numbers)
    return Invoice.objects.create(
        customer=customer,
        kind=InvoiceKind.INVOICE,
        status=status,
        series="invoice",
        number=number,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        kid=f"000{number}7",
        total=D(total),
        net=round_money(D(total) / D("1.25")),
        vat=D(total) - round_money(D(total) / D("1.25")),
        buyer_reference="Ref 4011",
        **extra,
    )


def pay(invoice, amount, on):
    services.payment_register(actor=ACTOR, invoice=invoice, amount=D(amount), paid_on=on)
    invoice.refresh_from_db()


def policy(**fields):
    values = {"name": "Standard", "interest": "simple", "interest_invoicing": "on_payment", **fields}
    return CollectionPolicy.objects.create(**values)


def interest_invoices():
    return list(Invoice.objects.filter(purpose="interest").order_by("pk"))


@pytest.fixture
def customer(tenant_a):
    with tenant_context(tenant_a):
        yield CustomerFactory(name="Fjordkraft Regnskap AS", invoice_email="faktura@fjordkraft.no")


# ---------------------------------------------------------------- on payment


def test_on_payment_the_rules_example_is_invoiced_once_without_vat_with_its_calculation(customer, tenant_a):
    policy()
    late = make_invoice(customer)
    assert interest_run(on=d(2025, 2, 20)).issued == []  # open: waits for the payment
    pay(late, "10000.00", d(2025, 3, 1))

    result = interest_run(on=d(2025, 3, 3))

    (invoice,) = result.issued
    assert (invoice.purpose, invoice.supplementary, invoice.kind, invoice.status) == (
        "interest",
        True,
        "invoice",
        InvoiceStatus.ISSUED,
    )
    assert (invoice.net, invoice.vat, invoice.total) == (D("154.11"), D("0.00"), D("154.11"))
    assert invoice.issue_date == d(2025, 3, 3)
    assert invoice.due_date == d(2025, 3, 3) + dt.timedelta(days=tenant_a.payment_terms_days)
    assert invoice.number and invoice.kid
    assert invoice.customer == customer and invoice.contract is None
    (line,) = invoice.lines.all()
    assert (line.vat_category, line.vat_rate, line.net) == ("O", D("0"), D("154.11"))
    assert line.description == f"Forsinkelsesrente faktura {late.number}, 16.01.2025–01.03.2025"
    assert line.description_en == f"Late-payment interest invoice {late.number}, 2025-01-16 to 2025-03-01"
    assert "45/365" in line.explanation_nb and "154,11" in line.explanation_nb
    assert "12,5" in line.explanation_nb and "forsinkelsesrenteloven" in line.explanation_nb
    assert "45/365" in line.explanation_en and "154.11" in line.explanation_en
    # the document as issued says it: category O with its reason, no VAT
    (vat,) = invoice.document["vat_breakdown"]
    assert (vat["category"], vat["tax"], vat["exemption_code"]) == ("O", "0.00", "VATEX-EU-O")
    (charge,) = InterestCharge.objects.all()
    assert (charge.late_invoice, charge.interest_invoice, charge.through) == (late, invoice, d(2025, 3, 1))
    assert (charge.amount, charge.total_to_date) == (D("154.11"), D("154.11"))
    assert charge.explanation_nb == line.explanation_nb
    # into the outbox like any issued invoice
    (delivery,) = Delivery.objects.filter(invoice=invoice)
    assert (delivery.status, delivery.channel, delivery.recipient) == (
        DeliveryStatus.PENDING,
        "email",
        "faktura@fjordkraft.no",
    )
    assert AuditEvent.objects.filter(action="interest_charge.create", object_id=str(charge.pk)).exists()
    # the interest invoice bears no interest, and nothing is charged twice: the same day or later
    assert interest_run(on=d(2025, 3, 3)).issued == []
    assert interest_run(on=d(2025, 6, 30)).issued == []
    assert InterestCharge.objects.count() == 1 and len(interest_invoices()) == 1


def test_the_interest_invoice_pdf_shows_the_calculation_and_no_vat_in_both_languages(customer):
    policy()
    late = make_invoice(customer)
    pay(late, "10000.00", d(2025, 3, 1))
    (invoice,) = interest_run(on=d(2025, 3, 2)).issued

    nb = pdf_text(invoice_file(invoice=invoice, fmt="pdf", language="nb").content)
    en = pdf_text(invoice_file(invoice=invoice, fmt="pdf", language="en").content)

    assert f"Forsinkelsesrente faktura {late.number}, 16.01.2025–" in nb  # the label wraps in its column
    assert f"Forsinkelsesrente på faktura {late.number} (forfall 15.01.2025, 10 000,00 kr" in nb
    assert "10 000,00 × 12,5 % × 45/365 = 154,11 (16.01.2025–01.03.2025)" in nb
    assert "Utenfor merverdiavgiftsområdet: det beregnes ikke merverdiavgift." in nb
    assert "Utenfor mva.-området" in nb
    assert "45/365" in en and "154.11" in en
    assert "Not subject to VAT" in en


def test_a_partial_payment_reduces_the_principal_from_the_next_day(customer):
    policy()
    late = make_invoice(customer)
    pay(late, "4000.00", d(2025, 2, 1))
    assert interest_run(on=d(2025, 2, 10)).issued == []  # not paid in full yet
    pay(late, "6000.00", d(2025, 3, 1))

    (invoice,) = interest_run(on=d(2025, 3, 2)).issued

    # 10 000 × 12.5 % × 17/365 + 6 000 × 12.5 % × 28/365 = 58.219… + 57.534… = 115.75 (rounded once)
    assert invoice.total == D("115.75")
    (line,) = invoice.lines.all()
    assert "Innbetalt 01.02.2025" in line.explanation_nb
    assert "17/365" in line.explanation_nb and "28/365" in line.explanation_nb


def test_ssal_compounds_across_the_year_end_visibly_and_costs_more_than_simple(customer):
    policy(interest="ssal")
    late = make_invoice(customer, due=d(2024, 11, 30))
    pay(late, "10000.00", d(2025, 2, 28))

    (invoice,) = interest_run(on=d(2025, 3, 1)).issued

    simple = interest(D("10000.00"), d(2024, 11, 30), d(2025, 2, 28), load_rates()).interest
    assert simple == D("308.22")  # 90 days at 12.5 %
    # December's 106.16 is added to the principal on 1 January and bears interest for 59 days
    december = round_money(D("10000") * D("0.125") * 31 / 365)
    expected = round_money(D("10000") * D("0.125") * 31 / 365 + (D("10000") + december) * D("0.125") * 59 / 365)
    assert invoice.total == expected > simple
    (line,) = invoice.lines.all()
    assert "lagt til hovedstolen" in line.explanation_nb and "SSA-L" in line.explanation_nb
    assert "added to the principal" in line.explanation_en
    assert "10 106,16" in line.explanation_nb.replace("\u00a0", " ")


def test_interest_on_a_paid_invoice_below_the_minimum_is_final_and_said_so(customer):
    policy(interest_minimum=D("200.00"))
    late = make_invoice(customer)
    pay(late, "10000.00", d(2025, 3, 1))

    result = interest_run(on=d(2025, 3, 2))

    assert result.issued == [] and InterestCharge.objects.count() == 0
    (below,) = result.below_minimum
    assert (below.late_invoice, below.amount, below.minimum) == (late, D("154.11"), D("200.00"))
    assert "under minstebeløpet" in below.explain("nb") and "below the minimum" in result.summary()
    assert interest_run(on=d(2025, 4, 1)).issued == []  # never charged later either


# ---------------------------------------------------------------- monthly


def test_monthly_invoices_each_month_to_its_end_and_the_charges_add_up(customer):
    policy(interest_invoicing="monthly")
    late = make_invoice(customer)
    assert month_end_before(d(2025, 2, 1)) == d(2025, 1, 31)

    (january,) = interest_run(on=d(2025, 2, 1)).issued
    assert interest_run(on=d(2025, 2, 15)).issued == []  # the same month: nothing twice
    (february,) = interest_run(on=d(2025, 3, 3)).issued  # the first run on or after the 1st
    pay(late, "10000.00", d(2025, 3, 10))
    (march,) = interest_run(on=d(2025, 4, 1)).issued
    assert interest_run(on=d(2025, 5, 1)).issued == []

    assert january.total == D("54.79")  # 16 days
    assert february.total == D("150.68") - D("54.79")  # 44 days in all, less January's
    assert march.total == D("184.93") - D("150.68")  # to the payment on 10 March: 54 days
    charges = list(InterestCharge.objects.order_by("through"))
    assert [c.through for c in charges] == [d(2025, 1, 31), d(2025, 2, 28), d(2025, 3, 10)]
    assert sum(c.amount for c in charges) == charges[-1].total_to_date == D("184.93")
    (line,) = february.lines.all()
    assert line.description == f"Forsinkelsesrente faktura {late.number}, 01.02.2025–28.02.2025"
    assert "fakturert tidligere: 54,79 kr" in line.explanation_nb.replace("\u00a0", " ")
    assert "invoiced before: NOK 54.79" in line.explanation_en
    summary = interest_summary(late, d(2025, 5, 1))
    assert (summary.accrued, summary.charged, summary.not_charged) == (D("184.93"), D("184.93"), D("0.00"))


def test_monthly_interest_below_the_minimum_waits_until_it_reaches_it(customer):
    policy(interest_invoicing="monthly", interest_minimum=D("100.00"))
    late = make_invoice(customer)

    first = interest_run(on=d(2025, 2, 1))
    assert first.issued == [] and first.skipped["waiting_minimum"] == 1 and first.below_minimum == []
    (invoice,) = interest_run(on=d(2025, 3, 1)).issued
    assert invoice.total == D("150.68")  # January's wait is in it
    (charge,) = InterestCharge.objects.filter(late_invoice=late)
    assert charge.amount == charge.total_to_date == D("150.68")


# ---------------------------------------------------------------- nothing: never, holds


def test_never_invoices_nothing_but_the_interest_is_still_shown(customer):
    policy(interest_invoicing="never")
    late = make_invoice(customer)
    pay(late, "10000.00", d(2025, 3, 1))

    result = interest_run(on=d(2025, 4, 1))

    assert result.issued == [] and result.planned == [] and result.skipped["never"] == 1
    assert interest_invoices() == [] and InterestCharge.objects.count() == 0
    summary = interest_summary(late, d(2025, 4, 1))
    assert (summary.accrued, summary.charged, summary.not_charged) == (D("154.11"), D("0.00"), D("154.11"))
    assert summary.invoicing == "never" and "45/365" in summary.explain("nb")


def test_an_invoice_on_hold_gets_no_interest_invoice_until_released(customer):
    policy()
    late = make_invoice(customer)
    hold = InvoiceHold.objects.create(invoice=late, reason="Bestrider antallet", held_on=d(2025, 2, 1), held_by="x")
    Reminder.objects.create(
        invoice=late, customer=customer, step=1, kind="reminder", sent_on=d(2025, 1, 29), pay_by=d(2025, 2, 12),
        outstanding=D("10000.00"), fee=D("35.00"),
    )  # fmt: skip
    pay(late, "10000.00", d(2025, 3, 1))

    result = interest_run(on=d(2025, 3, 2))
    assert result.issued == [] and result.skipped["on_hold"] == 1
    assert Reminder.objects.get().fee_invoice is None  # the fee waits too

    hold.released_on, hold.released_by = d(2025, 3, 5), "x"
    hold.save()
    (invoice,) = interest_run(on=d(2025, 3, 5)).issued
    assert invoice.total == D("154.11") + D("35.00")


# ---------------------------------------------------------------- reminder fees, grouping


def test_a_reminder_fee_goes_on_the_interest_invoice_once(customer):
    policy()
    late = make_invoice(customer)
    reminder = Reminder.objects.create(
        invoice=late,
        customer=customer,
        step=1,
        kind="reminder",
        sent_on=d(2025, 1, 29),
        pay_by=d(2025, 2, 12),
        outstanding=D("10000.00"),
        fee=D("35.00"),
        fee_explanation_nb="Purregebyr 35,00 kr (høyeste lovlige gebyr fra 01.10.2020: 35,00 kr)",
        fee_explanation_en="Reminder fee NOK 35.00 (the highest fee allowed from 2020-10-01: NOK 35.00)",
    )
    no_fee = Reminder.objects.create(
        invoice=late, customer=customer, step=2, kind="warning", sent_on=d(2025, 2, 13), pay_by=d(2025, 2, 27),
        outstanding=D("10000.00"),
    )  # fmt: skip
    pay(late, "10000.00", d(2025, 3, 1))

    (invoice,) = interest_run(on=d(2025, 3, 2)).issued

    interest_line, fee_line = invoice.lines.all()
    assert interest_line.net == D("154.11")
    assert (fee_line.net, fee_line.vat_category, fee_line.code) == (D("35.00"), "O", "reminder_fee")
    assert fee_line.description == f"Purregebyr faktura {late.number}, purring 29.01.2025"
    assert fee_line.explanation_nb == reminder.fee_explanation_nb
    assert fee_line.explanation_en == reminder.fee_explanation_en
    assert (invoice.total, invoice.vat) == (D("189.11"), D("0.00"))
    reminder.refresh_from_db()
    no_fee.refresh_from_db()
    assert reminder.fee_invoice == invoice and no_fee.fee_invoice is None
    assert interest_run(on=d(2025, 3, 3)).issued == []


def test_monthly_fees_of_reminders_sent_by_the_month_end(customer):
    policy(interest_invoicing="monthly")
    late = make_invoice(customer)
    Reminder.objects.create(
        invoice=late, customer=customer, step=1, kind="reminder", sent_on=d(2025, 2, 3), pay_by=d(2025, 2, 17),
        outstanding=D("10000.00"), fee=D("35.00"),
    )  # fmt: skip
    (january,) = interest_run(on=d(2025, 2, 4)).issued
    assert [line.code for line in january.lines.all()] == ["interest"]  # the fee is February's
    (february,) = interest_run(on=d(2025, 3, 1)).issued
    assert [line.code for line in february.lines.all()] == ["interest", "reminder_fee"]


def test_one_interest_invoice_per_customer_and_contract_with_a_line_per_late_invoice(customer):
    policy()
    first, second = make_invoice(customer), make_invoice(customer, due=d(2025, 1, 31), total="5000.00")
    other = CustomerFactory(name="Annen Kunde AS")
    third = make_invoice(other)
    for invoice in (first, second, third):
        pay(invoice, invoice.total, d(2025, 3, 1))

    result = interest_run(on=d(2025, 3, 2))

    assert len(result.issued) == 2
    mine = Invoice.objects.get(purpose="interest", customer=customer)
    assert [line.description.split(",")[0] for line in mine.lines.all()] == [
        f"Forsinkelsesrente faktura {first.number}",
        f"Forsinkelsesrente faktura {second.number}",
    ]
    # 5 000 × 12.5 % × 29/365 = 49.66
    assert mine.total == D("154.11") + D("49.66")
    assert (mine.period_start, mine.period_end) == (d(2025, 1, 16), d(2025, 3, 1))
    assert Invoice.objects.get(purpose="interest", customer=other).total == D("154.11")


def test_a_failed_interest_invoice_rolls_back_alone_and_is_reported(customer, monkeypatch):
    policy()
    bad = CustomerFactory(name="Feil Kunde AS")
    good_late, bad_late = make_invoice(customer), make_invoice(bad)
    for invoice in (good_late, bad_late):
        pay(invoice, "10000.00", d(2025, 3, 1))
    queue = interest_billing._queue_delivery

    def failing(invoice, **kwargs):
        if invoice.customer_id == bad.pk:
            raise RuntimeError("the outbox is down")
        return queue(invoice, **kwargs)

    monkeypatch.setattr(interest_billing, "_queue_delivery", failing)
    result = interest_run(on=d(2025, 3, 2))

    assert [i.customer for i in result.issued] == [customer]
    assert result.problems == ["Feil Kunde AS: RuntimeError: the outbox is down"]
    assert not Invoice.objects.filter(purpose="interest", customer=bad).exists()
    assert not InterestCharge.objects.filter(late_invoice=bad_late).exists()
    monkeypatch.setattr(interest_billing, "_queue_delivery", queue)
    (again,) = interest_run(on=d(2025, 3, 3)).issued  # the next run does it
    assert again.customer == bad and again.total == D("154.11")
    numbers_issued = sorted(Invoice.objects.filter(purpose="interest").values_list("number", flat=True))
    assert numbers_issued[1] == numbers_issued[0] + 1  # the failed one's number was rolled back: no gap


# ---------------------------------------------------------------- dry run, isolation, queries, command


def test_a_dry_run_writes_nothing_and_says_what_would_be_invoiced(customer):
    policy()
    late = make_invoice(customer)
    pay(late, "10000.00", d(2025, 3, 1))
    counts = [m.objects.count() for m in (Invoice, InterestCharge, Delivery, AuditEvent, Reminder)]

    result = interest_run(on=d(2025, 3, 2), dry_run=True)

    assert [m.objects.count() for m in (Invoice, InterestCharge, Delivery, AuditEvent, Reminder)] == counts
    assert result.issued == []
    (planned,) = result.planned
    assert (planned.customer, planned.total, planned.invoice) == (customer, D("154.11"), None)
    assert result.summary().startswith("would issue 1 interest invoice(s); interest 154.11")
    assert result.as_dict()["planned"][0]["lines"] == [{"kind": "interest", "invoice": late.number, "amount": "154.11"}]
    assert len(interest_run(on=d(2025, 3, 2)).issued) == 1


def test_interest_charges_are_tenant_isolated(tenant_a, tenant_b, customer):
    with tenant_context(tenant_a):
        policy()
        late = make_invoice(customer)
        pay(late, "10000.00", d(2025, 3, 1))
        assert len(interest_run(on=d(2025, 3, 2)).issued) == 1
        assert InterestCharge.objects.count() == 1
    with tenant_context(tenant_b):
        assert InterestCharge.objects.count() == 0
        assert not InterestCharge.objects.filter(late_invoice_id=late.pk).exists()
        result = interest_run(on=d(2025, 3, 2))
        assert result.planned == [] and result.problems == []


def _late_paid(customer, count):
    for _ in range(count):
        late = make_invoice(customer)
        pay(late, "10000.00", d(2025, 3, 1))
        Reminder.objects.create(
            invoice=late, customer=customer, step=1, kind="reminder", sent_on=d(2025, 1, 29), pay_by=d(2025, 2, 12),
            outstanding=D("10000.00"), fee=D("35.00"),
        )  # fmt: skip


def test_planning_reads_in_bulk_whatever_the_number_of_invoices(customer):
    policy()
    _late_paid(customer, 3)
    with CaptureQueriesContext(connection) as few:
        assert len(interest_billing.plan(d(2025, 3, 2))[0].lines) == 6
    _late_paid(customer, 12)
    with CaptureQueriesContext(connection) as many:
        assert len(interest_billing.plan(d(2025, 3, 2))[0].lines) == 30
    assert len(many.captured_queries) == len(few.captured_queries) <= 8


def test_the_command_runs_every_tenant_or_one_with_a_dry_run(tenant_a, tenant_b, customer, capsys):
    with tenant_context(tenant_a):
        policy()
        late = make_invoice(customer)
        pay(late, "10000.00", d(2025, 3, 1))
    call_command("interest_run", "--as-of", "2025-03-02", "--dry-run")
    out = capsys.readouterr().out
    assert "alpha 2025-03-02: would issue 1 interest invoice(s); interest 154.11" in out
    assert "beta 2025-03-02: would issue 0 interest invoice(s)" in out
    with tenant_context(tenant_a):
        assert InterestCharge.objects.count() == 0
    call_command("interest_run", "--as-of", "2025-03-02", "--tenant", "alpha")
    assert "alpha 2025-03-02: issued 1 interest invoice(s)" in capsys.readouterr().out
    with tenant_context(tenant_a):
        assert InterestCharge.objects.count() == 1
