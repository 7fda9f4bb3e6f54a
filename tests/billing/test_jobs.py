"""The nightly invoice jobs (billing/jobs.py): overdue on exact dates, idempotent; delivery; the Celery tasks
through eager Celery, beat and the management commands."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from billing import jobs, services, tasks
from billing.delivery import invoice_send
from billing.models import Delivery, Invoice, InvoiceStatus
from config.beat import BEAT_SCHEDULE
from tenants.jobs import OSLO
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.billing.test_delivery import ACTOR, ehf_customer, issued_invoice
from tests.factories import CustomerFactory, TenantFactory

pytestmark = pytest.mark.django_db
d = dt.date
D = Decimal
ISSUED = d(2026, 3, 20)  # due 2026-04-19 with 30 days net


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="alpha", name="Alpha AS")


def status(invoice) -> str:
    invoice.refresh_from_db()
    return invoice.status


def test_overdue_the_day_after_the_due_date_not_on_it(tenant):
    with tenant_context(tenant):
        invoice = issued_invoice(CustomerFactory(), on=ISSUED)
        assert invoice.due_date == d(2026, 4, 19)
        assert jobs.invoices_mark_overdue(as_of=d(2026, 4, 19)) == 0
        assert status(invoice) == InvoiceStatus.ISSUED
        assert jobs.invoices_mark_overdue(as_of=d(2026, 4, 20)) == 1
        assert status(invoice) == InvoiceStatus.OVERDUE
        # Idempotent: a rerun, or the next night, changes nothing.
        assert jobs.invoices_mark_overdue(as_of=d(2026, 4, 20)) == 0
        assert jobs.invoices_mark_overdue(as_of=d(2026, 4, 21)) == 0
        [event] = AuditEvent.objects.filter(action="invoice.overdue")
        assert event.actor_label == "job invoices_mark_overdue 2026-04-20"
        assert event.changes == {
            "status": ["issued", "overdue"],
            "due_date": [None, "2026-04-19"],
            "outstanding": [None, "2500.00"],
        }


def test_sent_and_partly_paid_become_overdue_paid_credited_and_credit_notes_do_not(tenant, peppol_fake):
    with tenant_context(tenant):
        sent = issued_invoice(ehf_customer())
        invoice_send(actor=ACTOR, invoice=sent, now=timezone.now())
        assert status(sent) == InvoiceStatus.SENT
        partly = issued_invoice(CustomerFactory())
        services.payment_register(actor=ACTOR, invoice=partly, amount="1000.00", paid_on=d(2026, 4, 1))
        paid = issued_invoice(CustomerFactory())
        services.payment_register(actor=ACTOR, invoice=paid, amount="2500.00", paid_on=d(2026, 4, 1))
        credited = issued_invoice(CustomerFactory())
        note = services.credit_note_create(actor=ACTOR, invoice=credited, on=d(2026, 4, 2), reason="Feil")
        later = issued_invoice(CustomerFactory(), on=d(2026, 3, 21))  # due 2026-04-20

        assert jobs.invoices_mark_overdue(as_of=d(2026, 4, 20)) == 2
        assert [status(i) for i in (sent, partly, paid, credited, note, later)] == [
            "overdue",
            "overdue",
            "paid",
            "credited",
            "issued",
            "issued",
        ]


def test_a_payment_moves_an_overdue_invoice_to_partly_paid_then_paid(tenant):
    with tenant_context(tenant):
        invoice = issued_invoice(CustomerFactory())
        jobs.invoices_mark_overdue(as_of=d(2026, 4, 20))
        services.payment_register(actor=ACTOR, invoice=invoice, amount="500.00", paid_on=d(2026, 4, 22))
        assert status(invoice) == InvoiceStatus.PARTLY_PAID
        # The rest is still late: the next night marks it overdue again.
        assert jobs.invoices_mark_overdue(as_of=d(2026, 4, 23)) == 1
        assert status(invoice) == InvoiceStatus.OVERDUE
        services.payment_register(actor=ACTOR, invoice=invoice, amount="2000.00", paid_on=d(2026, 4, 24))
        assert status(invoice) == InvoiceStatus.PAID
        assert jobs.invoices_mark_overdue(as_of=d(2026, 4, 25)) == 0
        assert invoice.paid_amount == D("2500.00")


def test_overdue_is_per_tenant(tenant):
    other = TenantFactory(slug="beta")
    with tenant_context(other):
        theirs = issued_invoice(CustomerFactory())
    with tenant_context(tenant):
        issued_invoice(CustomerFactory())
        assert jobs.invoices_mark_overdue(as_of=d(2026, 4, 20)) == 1
    with tenant_context(other):
        assert status(theirs) == InvoiceStatus.ISSUED


def test_moment_for_a_replayed_day_is_its_end_in_oslo_and_today_is_now():
    assert jobs.moment_for(d(2026, 3, 20)) == dt.datetime(2026, 3, 20, 23, 59, tzinfo=OSLO)
    today = timezone.now().astimezone(OSLO).date()
    assert abs(jobs.moment_for(today) - timezone.now()) < dt.timedelta(seconds=5)


# ---------------------------------------------------------------- tasks, beat, commands


def test_tasks_through_eager_celery(tenant, peppol_fake):
    with tenant_context(tenant):
        by_ehf = issued_invoice(ehf_customer())
        by_email = issued_invoice(CustomerFactory(invoice_email="k@kunde.no"))
    result = tasks.deliver_invoices.delay(as_of="2026-03-20").get()
    assert result == {"alpha": {"enqueued": 2, "sent": 2, "failed": 0, "gave_up": 0}}
    assert len(peppol_fake.peppol.received) == 1 and len(mail.outbox) == 1
    with tenant_context(tenant):
        assert {d.sent_at for d in Delivery.objects.all()} == {dt.datetime(2026, 3, 20, 23, 59, tzinfo=OSLO)}
        assert status(by_ehf) == status(by_email) == InvoiceStatus.SENT
    assert tasks.deliveries_send_due.delay(now="2026-03-21T08:00:00+01:00").get() == {
        "alpha": {"sent": 0, "failed": 0, "gave_up": 0}
    }
    assert tasks.invoices_mark_overdue.delay(as_of="2026-04-20").get() == {"alpha": 2}
    assert tasks.invoices_mark_overdue.delay(as_of="2026-04-20").get() == {"alpha": 0}
    with tenant_context(tenant):
        assert set(Invoice.objects.values_list("status", flat=True)) == {"overdue"}


def test_a_retry_through_the_task_when_it_is_due(tenant, peppol_fake):
    with tenant_context(tenant):
        issued_invoice(ehf_customer())
    peppol_fake.peppol.fail.append("503")
    assert tasks.deliver_invoices.delay(as_of="2026-03-20").get()["alpha"]["failed"] == 1
    with tenant_context(tenant):
        delivery = Delivery.objects.get()
        assert delivery.next_attempt_at == dt.datetime(2026, 3, 21, 0, 4, tzinfo=OSLO)
    assert tasks.deliveries_send_due.delay(now="2026-03-21T00:03:00+01:00").get()["alpha"]["sent"] == 0
    assert tasks.deliveries_send_due.delay(now="2026-03-21T00:04:00+01:00").get()["alpha"]["sent"] == 1


def test_beat_runs_delivery_and_overdue_after_the_billing_run():
    def at(name):
        schedule = BEAT_SCHEDULE[name]["schedule"]
        return (min(schedule.hour), min(schedule.minute))

    assert BEAT_SCHEDULE["invoices-deliver-nightly"]["task"] == "billing.tasks.deliver_invoices"
    assert BEAT_SCHEDULE["invoices-overdue-nightly"]["task"] == "billing.tasks.invoices_mark_overdue"
    assert BEAT_SCHEDULE["deliveries-retry"]["task"] == "billing.tasks.deliveries_send_due"
    assert at("billing-run-nightly") < at("invoices-deliver-nightly") < at("invoices-overdue-nightly")
    assert sorted(BEAT_SCHEDULE["deliveries-retry"]["schedule"].minute) == list(range(0, 60, 5))


def test_deliver_invoices_command(tenant, peppol_fake):
    with tenant_context(tenant):
        issued_invoice(ehf_customer())
        issued_invoice(CustomerFactory(name="Stille AS", invoice_email=""))
    out = StringIO()
    call_command("deliver_invoices", "--as-of", "2026-03-20", "--tenant", "alpha", stdout=out)
    assert out.getvalue() == "alpha 2026-03-20: enqueued 1, sent 1\n"
    out = StringIO()
    call_command("deliver_invoices", "--as-of", "2026-03-20", "--now", "2026-03-21T08:00+01:00", stdout=out)
    assert out.getvalue() == "alpha 2026-03-20: nothing due\n"
    with pytest.raises(Exception, match="give the UTC offset"):
        call_command("deliver_invoices", "--now", "2026-03-21T08:00", stdout=StringIO())


def test_billing_jobs_command(tenant):
    with tenant_context(tenant):
        issued_invoice(CustomerFactory(invoice_email="k@kunde.no"))
    out = StringIO()
    call_command("billing_jobs", "--as-of", "2026-04-20", "--job", "overdue", stdout=out)
    assert out.getvalue() == "alpha 2026-04-20: overdue: 1\n"
    out = StringIO()
    call_command("billing_jobs", "--as-of", "2026-04-21", stdout=out)
    assert out.getvalue() == "alpha 2026-04-21: deliver: nothing due; overdue: 0\n"
