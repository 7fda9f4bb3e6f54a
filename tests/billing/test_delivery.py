"""The delivery outbox (billing/delivery.py) against PostgreSQL, the fake Peppol access point and Django's
locmem e-mail: channel choice, the document sent is the stored one, retries, giving up, concurrency and
crash safety, and the invoice moving issued → sent."""

import datetime as dt
import hashlib
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import translation

from billing import delivery as outbox
from billing import peppol, services
from billing.files import invoice_file
from billing.models import Delivery, DeliveryStatus, Invoice, InvoiceFile, InvoiceStatus
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory, TenantFactory

pytestmark = pytest.mark.django_db
D = Decimal
ACTOR = Actor.system("test")
ISSUED_ON = dt.date(2026, 3, 20)
NOW = dt.datetime(2026, 3, 20, 8, 0, tzinfo=dt.UTC)  # 09:00 in Oslo


def issued_invoice(customer, *, amount="1000.00", on=ISSUED_ON, reference="Ref 42"):
    draft = services.invoice_manual_draft_create(
        actor=ACTOR,
        customer=customer,
        lines=[{"description": "Kurs", "quantity": "2", "unit_price": amount}],
        buyer_reference=reference,
    )
    return services.invoice_issue(actor=ACTOR, invoice=draft, on=on)


def ehf_customer(**kwargs):
    customer = CustomerFactory(**kwargs)
    customer.peppol_endpoint = f"0192:{customer.org_number}"
    customer.save()
    return customer


@pytest.fixture(autouse=True)
def _english():
    """The messages below are compared in English (the conftest puts Bokmål back after each test)."""
    translation.activate("en")


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="alpha", name="Alpha AS", email="faktura@alpha.no")


# ---------------------------------------------------------------- EHF


def test_ehf_to_the_access_point_is_the_stored_document_byte_for_byte(tenant, peppol_fake):
    with tenant_context(tenant):
        customer = ehf_customer(name="Bergen kommune")
        invoice = issued_invoice(customer)
        delivery = outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)

        assert (delivery.channel, delivery.status, delivery.attempts) == ("ehf", "sent", 1)
        assert delivery.recipient == f"0192:{customer.org_number}"
        [received] = peppol_fake.peppol.received
        stored = InvoiceFile.objects.get(invoice=invoice, format="ehf")
        assert received.content == bytes(stored.content)
        assert received.sha256 == stored.sha256 == hashlib.sha256(received.content).hexdigest()
        assert delivery.external_id == received.message_id
        assert received.receiver == f"0192:{customer.org_number}"
        assert received.sender == f"0192:{tenant.org_number}"
        assert received.document_type == peppol.INVOICE_DOCUMENT_TYPE
        assert received.idempotency_key == f"avtale-{tenant.pk}-delivery-{delivery.pk}"
        assert received.authorization == "Bearer test-ap-token"
        assert delivery.sent_at == NOW and delivery.last_error == "" and delivery.next_attempt_at is None

        invoice.refresh_from_db()
        assert (invoice.status, invoice.sent_at) == (InvoiceStatus.SENT, NOW)
        actions = list(AuditEvent.objects.filter(object_type="delivery").values_list("action", flat=True))
        assert sorted(actions) == ["delivery.create", "delivery.sent"]
        assert AuditEvent.objects.get(action="invoice.sent").changes["status"] == ["issued", "sent"]


def test_a_credit_note_goes_as_a_creditnote_document(tenant, peppol_fake):
    with tenant_context(tenant):
        invoice = issued_invoice(ehf_customer())
        outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)
        note = services.credit_note_create(actor=ACTOR, invoice=invoice, on=ISSUED_ON, reason="Feil antall")
        delivery = outbox.invoice_send(actor=ACTOR, invoice=note, now=NOW)
        assert delivery.status == "sent"
        received = peppol_fake.peppol.received[-1]
        assert received.document_type == peppol.CREDIT_NOTE_DOCUMENT_TYPE
        assert received.content.startswith(b"<?xml") and b"<CreditNote" in received.content[:300]
        note.refresh_from_db()
        assert note.status == InvoiceStatus.SENT


def test_buyer_without_org_number_on_the_ehf_route_is_a_clear_error_and_writes_nothing(tenant, peppol_fake):
    with tenant_context(tenant):
        customer = ehf_customer(name="Utland Ltd")
        invoice = issued_invoice(customer)
        customer.org_number = ""
        customer.save()
        with pytest.raises(ValidationError) as error:
            outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)
        assert error.value.message_dict == {
            "customer": [
                "Utland Ltd has a Peppol endpoint but no organisation number, which an EHF needs for the buyer. "
                "Add the organisation number on the customer, or remove the Peppol endpoint to send the PDF by "
                "e-mail."
            ]
        }
        assert Delivery.objects.count() == 0 and InvoiceFile.objects.count() == 0
        assert peppol_fake.peppol.requests == 0


def test_temporary_failure_keeps_the_error_and_a_next_attempt_then_the_retry_sends(tenant, peppol_fake):
    with tenant_context(tenant):
        invoice = issued_invoice(ehf_customer())
        peppol_fake.peppol.fail.append("503")
        delivery = outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)

        assert (delivery.status, delivery.attempts) == ("failed", 1)
        assert delivery.next_attempt_at == NOW + dt.timedelta(minutes=5)
        assert delivery.last_error == (
            "The access point could not take the EHF now: The access point answered HTTP 503; it will be tried "
            "again. Next attempt at 2026-03-20 09:05."
        )
        invoice.refresh_from_db()
        assert (invoice.status, invoice.sent_at) == (InvoiceStatus.ISSUED, None)

        # Not due yet at 09:04; due at 09:05.
        assert outbox.deliveries_send_due(now=NOW + dt.timedelta(minutes=4)) == {"sent": 0, "failed": 0, "gave_up": 0}
        later = NOW + dt.timedelta(minutes=5)
        assert outbox.deliveries_send_due(now=later) == {"sent": 1, "failed": 0, "gave_up": 0}
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
        assert len(peppol_fake.peppol.received) == 1
        invoice.refresh_from_db()
        assert (invoice.status, invoice.sent_at) == (InvoiceStatus.SENT, later)


def test_backoff_5_min_30_min_2_h_12_h_then_it_gives_up(tenant, peppol_fake):
    with tenant_context(tenant):
        invoice = issued_invoice(ehf_customer())
        peppol_fake.set_down("peppol")
        delivery = outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)
        at = NOW
        waits = []
        while delivery.status == DeliveryStatus.FAILED:
            waits.append(delivery.next_attempt_at - at)
            at = delivery.next_attempt_at
            outbox.deliveries_send_due(now=at)
            delivery.refresh_from_db()
        assert waits == [
            dt.timedelta(minutes=5),
            dt.timedelta(minutes=30),
            dt.timedelta(hours=2),
            dt.timedelta(hours=12),
        ]
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("gave_up", 5, None)
        assert delivery.last_error.endswith("No more automatic attempts after 5; retry by hand.")
        assert outbox.deliveries_send_due(now=at + dt.timedelta(days=7))["sent"] == 0

        # Staff retry by hand once the access point is back.
        peppol_fake.set_down("peppol", False)
        retried = outbox.delivery_retry(actor=ACTOR, delivery=delivery, now=at + dt.timedelta(days=1))
        assert (retried.status, retried.attempts) == ("sent", 1)
        assert len(peppol_fake.peppol.received) == 1


def test_permanent_rejection_gives_up_at_once_with_the_access_points_message(tenant, peppol_fake):
    with tenant_context(tenant):
        customer = CustomerFactory(org_number="800000017", name="Uten Peppol AS")
        customer.peppol_endpoint = "0192:800000017"  # the fake network's unregistered participant
        customer.save()
        invoice = issued_invoice(customer)
        delivery = outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("gave_up", 1, None)
        assert delivery.last_error == (
            "The access point refused the EHF: The receiver 0192:800000017 cannot receive this document: no Peppol "
            "endpoint is registered in the SMP for this participant.. Correct the customer or the invoice, then retry."
        )
        assert peppol_fake.peppol.received == []
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.ISSUED
        assert AuditEvent.objects.filter(action="delivery.gave_up", object_id=str(delivery.pk)).count() == 1


def test_a_crash_after_the_access_point_took_it_does_not_send_twice(tenant, peppol_fake):
    """The AP keeps the document but its answer is lost (as if we crashed before recording): the retry
    carries the same idempotency key and gets the first message id back; the AP sent it once."""
    with tenant_context(tenant):
        invoice = issued_invoice(ehf_customer())
        peppol_fake.peppol.fail.append("accept_then_503")
        delivery = outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)
        assert delivery.status == "failed"
        [first] = peppol_fake.peppol.received
        outbox.deliveries_send_due(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.external_id) == ("sent", first.message_id)
        assert len(peppol_fake.peppol.received) == 1
        assert peppol_fake.peppol.requests == 2


def test_a_timeout_is_temporary_and_the_retry_finds_the_document_already_received(tenant, peppol_fake, settings):
    settings.OUTSIDE_SERVICE_TIMEOUT = 0.3
    peppol_fake.peppol.delay = 1.0
    with tenant_context(tenant):
        invoice = issued_invoice(ehf_customer())
        peppol_fake.peppol.fail.append("timeout")
        delivery = outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)
        assert delivery.status == "failed"
        assert delivery.last_error.startswith(
            "The access point could not take the EHF now: The access point did not answer within 0.3 s."
        )
        outbox.deliveries_send_due(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
        assert delivery.status == "sent"
        assert len(peppol_fake.peppol.received) == 1


# ---------------------------------------------------------------- PDF by e-mail


@pytest.mark.parametrize(
    ("country", "language", "filename", "subject"),
    [
        ("NO", "nb", "faktura-{n}.pdf", None),
        ("SE", "en", "invoice-{n}.pdf", "Invoice {n} from Alpha AS"),
    ],
)
def test_pdf_by_email_attaches_the_stored_pdf_in_the_customers_language(tenant, country, language, filename, subject):
    with tenant_context(tenant):
        customer = CustomerFactory(name="Kunde AS", country=country, invoice_email="faktura@kunde.no")
        invoice = issued_invoice(customer, amount="13146.00")  # 2 × 13 146 = 26 292 net, 32 865 with VAT
        delivery = outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)

        assert (delivery.channel, delivery.recipient, delivery.status) == ("email", "faktura@kunde.no", "sent")
        [message] = mail.outbox
        assert message.to == ["faktura@kunde.no"]
        assert message.reply_to == ["faktura@alpha.no"]
        assert message.extra_headers["Message-ID"] == f"<avtale-{tenant.pk}-delivery-{delivery.pk}@avtale.example>"
        [(name, content, mimetype)] = message.attachments
        stored = InvoiceFile.objects.get(invoice=invoice, format="pdf")
        assert stored.language == language
        assert (name, mimetype) == (filename.format(n=invoice.number), "application/pdf")
        assert content == bytes(stored.content)
        assert hashlib.sha256(content).hexdigest() == stored.sha256
        assert invoice.kid and invoice.kid in message.body
        if language == "nb":
            assert "32\xa0865,00" in message.body and "19.04.2026" in message.body
            assert "Ref 42" in message.body
        else:
            assert message.subject == subject.format(n=invoice.number)
            assert f"Amount to pay: NOK 32,865.00 including VAT\nDue date: 2026-04-19\nKID: {invoice.kid}\n" in (
                message.body
            )
            assert "Account: 8601.11.17947" in message.body
        invoice.refresh_from_db()
        assert (invoice.status, invoice.sent_at) == (InvoiceStatus.SENT, NOW)


def test_credit_note_by_email_names_the_credited_invoice(tenant):
    with tenant_context(tenant):
        invoice = issued_invoice(CustomerFactory(country="GB", invoice_email="ap@buyer.co.uk"))
        note = services.credit_note_create(actor=ACTOR, invoice=invoice, on=ISSUED_ON, reason="Wrong quantity")
        outbox.invoice_send(actor=ACTOR, invoice=note, now=NOW)
        [message] = mail.outbox
        assert message.subject == f"Credit note {note.number} from Alpha AS"
        assert f"It credits invoice {invoice.number}." in message.body
        assert "Amount credited: NOK 2,500.00 including VAT" in message.body
        assert "Reason: Wrong quantity" in message.body
        assert message.attachments[0][0] == f"credit-note-{note.number}.pdf"


def test_no_channel_is_a_clear_error_and_nothing_is_written(tenant):
    with tenant_context(tenant):
        invoice = issued_invoice(CustomerFactory(name="Stille AS", invoice_email=""))
        events = AuditEvent.objects.count()
        with pytest.raises(ValidationError) as error:
            outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)
        assert error.value.message_dict == {
            "customer": [
                "Stille AS has neither a Peppol endpoint (for EHF) nor an invoice e-mail address. "
                "Add one on the customer, then send again."
            ]
        }
        assert (Delivery.objects.count(), InvoiceFile.objects.count(), AuditEvent.objects.count()) == (0, 0, events)
        assert mail.outbox == []


def test_a_draft_cannot_be_sent(tenant):
    with tenant_context(tenant):
        draft = services.invoice_manual_draft_create(
            actor=ACTOR, customer=CustomerFactory(), lines=[{"description": "X", "quantity": "1", "unit_price": "1"}]
        )
        with pytest.raises(ValidationError) as error:
            outbox.invoice_send(actor=ACTOR, invoice=draft, now=NOW)
        assert error.value.message_dict == {"invoice": ["A draft cannot be sent; issue it first."]}
        assert Delivery.objects.count() == 0


def test_resending_a_sent_invoice_makes_a_new_delivery_but_not_while_one_is_waiting(tenant, peppol_fake):
    with tenant_context(tenant):
        invoice = issued_invoice(ehf_customer())
        first = outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)
        second = outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW + dt.timedelta(hours=1))
        assert (first.status, second.status) == ("sent", "sent") and first.pk != second.pk
        assert [r.idempotency_key for r in peppol_fake.peppol.received] == [
            outbox.idempotency_key(first),
            outbox.idempotency_key(second),
        ]
        invoice.refresh_from_db()
        assert invoice.sent_at == NOW  # the first sending; the status is already sent

        peppol_fake.peppol.fail.append("503")
        waiting = outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW + dt.timedelta(hours=2))
        assert waiting.status == "failed"
        with pytest.raises(ValidationError) as error:
            outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW + dt.timedelta(hours=2))
        assert error.value.message_dict == {
            "invoice": [f"Invoice {invoice.number} is already waiting to be sent; retry that delivery instead."]
        }
        with pytest.raises(ValidationError):
            outbox.delivery_retry(actor=ACTOR, delivery=first)


# ---------------------------------------------------------------- the nightly job


def test_enqueue_then_send_and_a_rerun_sends_nothing_twice(tenant, peppol_fake):
    with tenant_context(tenant):
        by_ehf = issued_invoice(ehf_customer())
        by_email = issued_invoice(CustomerFactory(invoice_email="a@b.no"))
        silent = issued_invoice(CustomerFactory(name="Stille AS", invoice_email=""))
        tomorrow = issued_invoice(CustomerFactory(), on=ISSUED_ON + dt.timedelta(days=1))

        assert outbox.deliveries_enqueue(on=ISSUED_ON) == 2
        assert outbox.deliveries_send_due(now=NOW) == {"sent": 2, "failed": 0, "gave_up": 0}
        # Rerun: nothing new to queue, nothing due.
        assert outbox.deliveries_enqueue(on=ISSUED_ON) == 0
        assert outbox.deliveries_send_due(now=NOW) == {"sent": 0, "failed": 0, "gave_up": 0}

        assert len(peppol_fake.peppol.received) == 1 and len(mail.outbox) == 1
        statuses = dict(Invoice.objects.values_list("pk", "status"))
        assert statuses == {by_ehf.pk: "sent", by_email.pk: "sent", silent.pk: "issued", tomorrow.pk: "issued"}
        # The invoice without a channel shows in the outbox with what to fix, once.
        [stuck] = Delivery.objects.filter(invoice=silent)
        assert stuck.status == "gave_up" and stuck.last_error.startswith("Stille AS has neither a Peppol endpoint")
        assert not Delivery.objects.filter(invoice=tomorrow).exists()


@pytest.mark.django_db(transaction=True)
def test_a_delivery_locked_by_another_worker_is_skipped(tenant, peppol_fake):
    with tenant_context(tenant):
        invoice = issued_invoice(ehf_customer())
        outbox.deliveries_enqueue(on=ISSUED_ON)
        delivery = Delivery.objects.get(invoice=invoice)
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with tenant_context(tenant), transaction.atomic():
                Delivery.objects.select_for_update().get(pk=delivery.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        with tenant_context(tenant):
            assert outbox.deliveries_send_due(now=NOW) == {"sent": 0, "failed": 0, "gave_up": 0}
    finally:
        release.set()
        thread.join(10)
    assert peppol_fake.peppol.received == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_workers_at_once_send_each_delivery_once(peppol_fake, attempt):
    tenant = TenantFactory(email="faktura@alpha.no")
    with tenant_context(tenant):
        invoices = [issued_invoice(ehf_customer()) for _ in range(4)] + [
            issued_invoice(CustomerFactory(invoice_email=f"k{i}@kunde.no")) for i in range(3)
        ]
        assert outbox.deliveries_enqueue(on=ISSUED_ON) == 7
    barrier = threading.Barrier(3)
    results, errors = [], []

    def worker(work):
        try:
            with tenant_context(tenant):
                barrier.wait(timeout=10)
                results.append(work())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    with tenant_context(tenant):
        first = Delivery.objects.get(invoice=invoices[0])

    def retry_by_hand():
        try:
            return outbox.delivery_retry(actor=ACTOR, delivery=first)
        except ValidationError:  # a worker had sent it already: "already sent" is a right answer too
            return "already sent"

    threads = [threading.Thread(target=worker, args=(lambda: outbox.deliveries_send_due(now=NOW),)) for _ in range(2)]
    threads.append(threading.Thread(target=worker, args=(retry_by_hand,)))  # a user pressing "retry" meanwhile
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with tenant_context(tenant):
        assert Delivery.objects.filter(status="sent").count() == 7
        ehf_keys = sorted(outbox.idempotency_key(d) for d in Delivery.objects.filter(channel="ehf"))
    # Each EHF reached the access point once, each e-mail went once.
    assert sorted(r.idempotency_key for r in peppol_fake.peppol.received) == ehf_keys
    assert peppol_fake.peppol.requests == 4
    assert sorted(m.to[0] for m in mail.outbox) == ["k0@kunde.no", "k1@kunde.no", "k2@kunde.no"]


def test_invoice_file_of_the_delivery_is_rendered_once(tenant, peppol_fake):
    with tenant_context(tenant):
        invoice = issued_invoice(ehf_customer())
        outbox.invoice_send(actor=ACTOR, invoice=invoice, now=NOW)
        again = invoice_file(invoice=invoice, fmt="ehf")
        assert again.content == peppol_fake.peppol.received[0].content
        assert InvoiceFile.objects.filter(invoice=invoice).count() == 1


def test_retry_after_staff_fixed_the_customer_sends_a_new_delivery_to_the_new_address(tenant):
    with tenant_context(tenant):
        customer = CustomerFactory(name="Stille AS", invoice_email="")
        invoice = issued_invoice(customer)
        assert outbox.deliveries_enqueue(on=ISSUED_ON) == 0
        stuck = Delivery.objects.get(invoice=invoice)
        assert stuck.status == "gave_up"
        with pytest.raises(ValidationError):  # still no channel
            outbox.delivery_retry(actor=ACTOR, delivery=stuck, now=NOW)

        customer.invoice_email = "regnskap@stille.no"
        customer.save()
        sent = outbox.delivery_retry(actor=ACTOR, delivery=stuck, now=NOW)
        assert sent.pk != stuck.pk
        assert (sent.channel, sent.recipient, sent.status, sent.attempts) == ("email", "regnskap@stille.no", "sent", 1)
        stuck.refresh_from_db()
        assert stuck.status == "gave_up" and stuck.last_error.endswith(
            "Replaced by a new delivery to regnskap@stille.no."
        )
        assert [m.to for m in mail.outbox] == [["regnskap@stille.no"]]
        assert AuditEvent.objects.filter(action="delivery.replaced", object_id=str(stuck.pk)).count() == 1
