"""The reminder job (receivables.dunning) against PostgreSQL: who gets a reminder, the fee on its date, once per
step, the PDF and the e-mail, holds, dry runs, tenant isolation and a fixed number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from billing import services
from billing.models import Invoice, InvoiceKind, InvoiceStatus
from contracts.models import Message
from pricing.engine.money import format_amount, round_money
from receivables import dunning
from receivables.models import CollectionPolicy, InvoiceHold, Reminder
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.billing.test_pdf import pdf_text
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal
ACTOR = Actor.system("test")
DUE = dt.date(2025, 3, 3)  # a Monday
STEP_1 = dt.date(2025, 3, 17)  # the built-in first step: 14 days after the due date
numbers = iter(range(20000, 30000))


def make_invoice(customer, due=DUE, total="1250.00", *, status=InvoiceStatus.SENT, kind=InvoiceKind.INVOICE, **extra):
    number = None if status == InvoiceStatus.DRAFT else next(numbers)
    return Invoice.objects.create(
        customer=customer,
        kind=kind,
        status=status,
        series="" if number is None else "invoice",
        number=number,
        issue_date=None if number is None else (due or DUE) - dt.timedelta(days=30),
        due_date=due,
        kid="" if number is None else f"000{number}7",
        total=D(total),
        net=round_money(D(total) / D("1.25")),
        vat=D(total) - round_money(D(total) / D("1.25")),
        **extra,
    )


def nb(amount: Decimal) -> str:
    return format_amount(amount, "nb").replace("\u00a0", " ")


def reminders(invoice=None):
    queryset = Reminder.objects.all()
    return list(queryset.filter(invoice=invoice) if invoice else queryset)


@pytest.fixture
def customer(tenant_a):
    with tenant_context(tenant_a):
        yield CustomerFactory(name="Fjordkraft Regnskap AS", invoice_email="faktura@fjordkraft.no")


def test_reminders_never_for_paid_credited_disputed_drafts_credit_notes_or_interest_invoices(customer):
    open_ = make_invoice(customer)
    paid = make_invoice(customer)
    services.payment_register(actor=ACTOR, invoice=paid, amount=D("1250.00"), paid_on=DUE)
    credited = make_invoice(customer, status=InvoiceStatus.CREDITED, credited_amount=D("1250.00"))
    credited_in_full_but_open = make_invoice(customer, credited_amount=D("1250.00"))
    disputed = make_invoice(customer)
    dunning.invoice_hold(actor=ACTOR, invoice=disputed, reason="Kunden bestrider antallet brukere", on=DUE)
    draft = make_invoice(customer, status=InvoiceStatus.DRAFT)
    note = make_invoice(customer, kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.OVERDUE)
    interest = make_invoice(customer, purpose="interest")
    no_due = make_invoice(customer, status=InvoiceStatus.OVERDUE, due=None)

    result = dunning.dunning_run(on=STEP_1)

    assert [r.invoice for r in result.sent] == [open_]
    for invoice in (paid, credited, credited_in_full_but_open, disputed, draft, note, interest, no_due):
        assert reminders(invoice) == []
    assert result.skipped["on_hold"] == 1
    assert result.skipped["interest_invoice"] == 1
    assert result.skipped["no_due_date"] == 1
    assert result.skipped["not_payable"] >= 1  # the credit note marked overdue
    assert result.problems == []


def test_nothing_before_the_step_is_due_and_the_first_step_on_its_day(customer):
    invoice = make_invoice(customer)
    assert dunning.dunning_run(on=STEP_1 - dt.timedelta(days=1)).sent == []
    (reminder,) = dunning.dunning_run(on=STEP_1).sent
    assert (reminder.invoice, reminder.step, reminder.kind) == (invoice, 1, "reminder")
    assert reminder.sent_on == STEP_1 and reminder.pay_by == dt.date(2025, 3, 31)
    assert reminder.outstanding == D("1250.00")
    assert reminder.fee == D("35.00")
    assert reminder.fee_explanation_nb == (
        "Purregebyr 35,00 kr (høyeste lovlige gebyr fra 01.10.2020: 35,00 kr, inkassoforskriften § 1-2)"
    )
    assert reminder.fee_explanation_en.startswith("Reminder fee NOK 35.00")
    assert reminder.interest > 0  # 14 days of statutory interest
    assert reminder.fee_invoice is None  # invoiced by the interest invoicing, not here
    assert AuditEvent.objects.filter(action="reminder.send", object_id=str(reminder.pk)).count() == 1


def test_the_fee_is_never_above_the_cap_on_the_reminders_date(customer):
    before = make_invoice(customer, due=dt.date(2020, 9, 14))
    after = make_invoice(customer, due=dt.date(2020, 9, 17))
    (first,) = dunning.dunning_run(on=dt.date(2020, 9, 30)).sent  # only `before` is 14 days past due
    assert (first.invoice, first.fee) == (before, D("70.00"))
    (second,) = dunning.dunning_run(on=dt.date(2020, 10, 1)).sent
    assert (second.invoice, second.fee) == (after, D("35.00"))
    assert "fra 01.10.2020: 35,00 kr" in second.fee_explanation_nb


def test_a_vendors_own_fee_and_steps_from_its_policy(customer):
    CollectionPolicy.objects.create(
        name="Mild",
        dunning_steps=[
            {"kind": "reminder", "after_days": 20, "days_to_pay": 14, "fee": "reminder", "fee_amount": "25.00"},
            {"kind": "warning", "after_days": 1, "days_to_pay": 14, "fee": "reminder", "fee_amount": "99.00"},
        ],
    )
    invoice = make_invoice(customer)
    assert dunning.dunning_run(on=DUE + dt.timedelta(days=19)).sent == []
    (first,) = dunning.dunning_run(on=DUE + dt.timedelta(days=20)).sent
    assert first.fee == D("25.00")
    second_day = first.pay_by + dt.timedelta(days=1)
    (second,) = dunning.dunning_run(on=second_day).sent
    assert (second.invoice, second.step, second.kind, second.fee) == (invoice, 2, "warning", D("35.00"))  # capped
    assert dunning.dunning_run(on=second_day + dt.timedelta(days=60)).skipped["all_sent"] == 1


def test_a_policy_with_bad_steps_is_reported_and_sends_nothing(customer):
    CollectionPolicy.objects.create(
        name="Hasty", dunning_steps=[{"kind": "warning", "after_days": 1, "days_to_pay": 7, "fee": "none"}]
    )
    make_invoice(customer)
    result = dunning.dunning_run(on=STEP_1)
    assert result.sent == [] and result.skipped["bad_policy"] == 1
    assert "at least 14 days" in result.problems[0] and "Hasty" in result.problems[0]


def test_dunning_twice_on_the_same_day_sends_one_reminder(customer, django_capture_on_commit_callbacks):
    make_invoice(customer)
    with django_capture_on_commit_callbacks(execute=True):
        assert len(dunning.dunning_run(on=STEP_1).sent) == 1
    with django_capture_on_commit_callbacks(execute=True):
        again = dunning.dunning_run(on=STEP_1)
    assert again.sent == [] and again.skipped["not_due_yet"] == 1
    assert len(reminders()) == 1
    assert Message.objects.filter(kind="payment_reminder").count() == 1
    assert len(mail.outbox) == 1


def test_a_dry_run_writes_nothing(customer, django_capture_on_commit_callbacks):
    invoice = make_invoice(customer)
    events = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        result = dunning.dunning_run(on=STEP_1, dry_run=True)
    assert [(r.invoice, r.step, r.fee) for r in result.planned] == [(invoice, 1, D("35.00"))]
    assert result.sent == []
    assert "would send 1" in result.summary()
    assert reminders() == [] and Message.objects.count() == 0 and AuditEvent.objects.count() == events
    assert mail.outbox == []
    assert [(r.invoice, r.step) for r in dunning.due_reminders(STEP_1)] == [(invoice, 1)]


def test_the_reminder_pdf_shows_the_amounts_and_the_e_mail_carries_it(
    customer, tenant_a, django_capture_on_commit_callbacks
):
    invoice = make_invoice(customer)
    with django_capture_on_commit_callbacks(execute=True):
        (reminder,) = dunning.dunning_run(on=STEP_1).sent
    pdf = bytes(reminder.pdf)
    assert pdf.startswith(b"%PDF") and len(reminder.sha256) == 64
    text = pdf_text(pdf)
    for expected in (
        "Betalingspåminnelse",
        tenant_a.name,
        "Fjordkraft Regnskap AS",
        str(invoice.number),
        "03.03.2025",  # due date
        "NOK 1 250,00",  # outstanding
        "NOK 35,00",  # fee
        "Purregebyr 35,00 kr (høyeste lovlige gebyr fra 01.10.2020",
        "Forsinkelsesrente hittil",
        f"NOK {nb(reminder.interest)}",
        f"NOK {nb(D('1285.00') + reminder.interest)}",  # total to pay
        "31.03.2025",  # pay by
        "8601 11 17947",
        invoice.kid,
    ):
        assert expected in text, expected
    (email,) = mail.outbox
    assert email.to == ["faktura@fjordkraft.no"]
    assert str(invoice.number) in email.subject and email.subject.startswith("Betalingspåminnelse")
    assert "NOK 1 250,00" in email.body.replace("\u00a0", " ") and invoice.kid in email.body
    ((name, content, mimetype),) = email.attachments
    assert name == f"purring-{invoice.number}-1.pdf" and mimetype == "application/pdf" and content == pdf
    assert reminder.message.subject == email.subject


def test_the_warning_states_inkassoloven_9_and_english_customers_get_english(
    customer, django_capture_on_commit_callbacks
):
    abroad = CustomerFactory(name="Nordic Ltd", country="SE", invoice_email="ap@nordic.se")
    invoice = make_invoice(abroad)
    Reminder.objects.create(
        invoice=invoice, customer=abroad, step=1, kind="reminder", sent_on=STEP_1, pay_by=dt.date(2025, 3, 31),
        outstanding=D("1250.00"), fee=D("35.00"),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        (warning,) = dunning.dunning_run(on=dt.date(2025, 4, 1)).sent
    assert (warning.step, warning.kind, warning.fee) == (2, "warning", D("0.00"))
    assert warning.pay_by == dt.date(2025, 4, 15)
    text = pdf_text(bytes(warning.pdf))
    assert "Debt collection warning" in text
    assert "section 9 of the Norwegian Debt Collection Act (inkassoloven § 9)" in text
    assert "within 14 days, by 15 Apr 2025" in text and "debt collection" in text
    (email,) = mail.outbox
    assert email.subject.startswith("Debt collection warning: invoice") and "Dear Nordic Ltd" in email.body


def test_a_customer_without_an_e_mail_address_is_reported(customer):
    silent = CustomerFactory(name="Stille AS", invoice_email="")
    make_invoice(silent)
    result = dunning.dunning_run(on=STEP_1)
    assert len(result.sent) == 1 and result.problems == []
    assert result.warnings == [
        f"Invoice {result.sent[0].invoice.number} step 1: Stille AS has no e-mail address; the reminder is recorded "
        "with its PDF, send it another way."
    ]
    assert "1 not e-mailed" in result.summary()


def test_one_failed_reminder_does_not_stop_the_others(customer, monkeypatch):
    bad, good = make_invoice(customer), make_invoice(customer)
    real = dunning.render_reminder_pdf

    def render(due, lang):
        if due.invoice == bad:
            raise RuntimeError("font missing")
        return real(due, lang)

    monkeypatch.setattr(dunning, "render_reminder_pdf", render)
    result = dunning.dunning_run(on=STEP_1)
    assert [r.invoice for r in result.sent] == [good]
    assert result.skipped["failed"] == 1
    assert result.problems == [f"Invoice {bad.number} step 1: RuntimeError: font missing"]
    (waiting,) = reminders(bad)  # recorded, not sent: it waits for the next run (the outbox's retry)
    assert (waiting.pdf, waiting.message) == (None, None)
    monkeypatch.setattr(dunning, "render_reminder_pdf", real)
    retried = dunning.reminders_send(on=STEP_1)
    assert [r.invoice for r in retried.sent] == [bad] and bytes(retried.sent[0].pdf).startswith(b"%PDF")


def test_a_waiting_reminder_is_withdrawn_when_the_invoice_is_paid_or_it_is_stale(customer):
    paid, late = make_invoice(customer), make_invoice(customer)
    result = dunning.dunning_run(on=STEP_1, send=False)
    assert result.recorded == 2 and result.sent == [] and "2 recorded, waiting to be sent" in result.summary()
    services.payment_register(actor=ACTOR, invoice=paid, amount=paid.total, paid_on=STEP_1)
    sent = dunning.reminders_send(on=STEP_1)
    assert [r.invoice for r in sent.sent] == [late] and sent.withdrawn == 1
    assert reminders(paid) == []  # never sent, so nothing to keep; the paid invoice gets none
    stale = make_invoice(customer)
    dunning.dunning_run(on=STEP_1, send=False)
    assert dunning.reminders_send(on=STEP_1 + dt.timedelta(days=3)).withdrawn == 1  # planned afresh next run
    assert reminders(stale) == []


def test_hold_needs_a_reason_an_open_invoice_and_no_hold_already(customer):
    invoice = make_invoice(customer)
    with pytest.raises(ValidationError) as error:
        dunning.invoice_hold(actor=ACTOR, invoice=invoice, reason="  ", on=DUE)
    assert "reason" in error.value.message_dict
    paid = make_invoice(customer)
    services.payment_register(actor=ACTOR, invoice=paid, amount=D("1250.00"), paid_on=DUE)
    with pytest.raises(ValidationError) as error:
        dunning.invoice_hold(actor=ACTOR, invoice=paid, reason="Bestridt", on=DUE)
    assert "invoice" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        dunning.invoice_hold(
            actor=ACTOR, invoice=make_invoice(customer, status=InvoiceStatus.DRAFT), reason="x", on=DUE
        )
    assert "invoice" in error.value.message_dict
    hold = dunning.invoice_hold(actor=ACTOR, invoice=invoice, reason="Bestridt", on=DUE)
    with pytest.raises(ValidationError) as error:
        dunning.invoice_hold(actor=ACTOR, invoice=invoice, reason="Igjen", on=DUE)
    assert "invoice" in error.value.message_dict
    assert AuditEvent.objects.filter(action="invoice.hold", object_id=str(hold.pk)).count() == 1


def test_a_released_hold_lets_reminders_go_out_again(customer):
    invoice = make_invoice(customer)
    hold = dunning.invoice_hold(actor=ACTOR, invoice=invoice, reason="Bestridt", on=DUE)
    assert dunning.dunning_run(on=STEP_1).sent == []
    with pytest.raises(ValidationError) as error:
        dunning.invoice_hold_release(actor=ACTOR, hold=hold, on=DUE - dt.timedelta(days=1))
    assert "on" in error.value.message_dict
    released = dunning.invoice_hold_release(actor=ACTOR, hold=hold, on=STEP_1, note="Avklart med kunden")
    assert (released.released_on, released.release_note) == (STEP_1, "Avklart med kunden")
    with pytest.raises(ValidationError):
        dunning.invoice_hold_release(actor=ACTOR, hold=hold, on=STEP_1)
    assert AuditEvent.objects.filter(action="invoice.hold_release", object_id=str(hold.pk)).count() == 1
    # A replay of a day inside the hold still sees it; the day it was released does not.
    assert dunning.due_reminders(STEP_1 - dt.timedelta(days=1)) == []
    assert [r.invoice for r in dunning.dunning_run(on=dt.date(2025, 3, 18)).sent] == [invoice]
    assert list(dunning.customer_reminders(customer)) == reminders(invoice)


def test_a_tenants_reminders_and_holds_are_invisible_to_another(two_tenants):
    a, b = two_tenants["alpha"], two_tenants["beta"]
    with tenant_context(a["tenant"]):
        held = make_invoice(a["customer"])
        hold = dunning.invoice_hold(actor=ACTOR, invoice=held, reason="Bestridt", on=DUE)
        make_invoice(a["customer"])
        (reminder,) = dunning.dunning_run(on=STEP_1).sent
    with tenant_context(b["tenant"]):
        assert Reminder.objects.count() == 0 and InvoiceHold.objects.count() == 0
        assert dunning.due_reminders(STEP_1) == []
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM receivables_reminder WHERE id = %s", [reminder.pk])
            assert cursor.fetchone() == (0,)
            cursor.execute("SELECT count(*) FROM receivables_invoicehold WHERE id = %s", [hold.pk])
            assert cursor.fetchone() == (0,)
        with pytest.raises(Invoice.DoesNotExist):
            dunning.invoice_hold(actor=ACTOR, invoice=held, reason="Bestridt", on=DUE)


def test_queries_do_not_grow_with_the_invoices(customer, django_assert_max_num_queries):
    for _ in range(30):
        make_invoice(customer, due=STEP_1 - dt.timedelta(days=5))  # past due, first step not yet due
    with django_assert_max_num_queries(4):
        result = dunning.dunning_run(on=STEP_1)
    assert result.skipped["not_due_yet"] == 30
    for _ in range(30):
        make_invoice(customer)
    with django_assert_max_num_queries(7):
        assert len(dunning.due_reminders(STEP_1)) == 30


def test_the_command_runs_one_tenant_or_all(customer, tenant_a, capsys):
    make_invoice(customer)
    call_command("dunning_run", "--as-of", "2025-03-17", "--tenant", "alpha", "--dry-run")
    assert "alpha 2025-03-17: would send 1 reminder(s)" in capsys.readouterr().out
    assert reminders() == []
    call_command("dunning_run", "--as-of", "2025-03-17")
    assert "alpha 2025-03-17: sent 1 reminder(s)" in capsys.readouterr().out
    assert len(reminders()) == 1
