"""Payments from the bank booked by KID (issue 11, item 1): billing.bank and ``manage.py bank_import`` against
PostgreSQL, with the sample camt.054 and OCR giro files in tests/billing/data."""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from billing import bank, services
from billing.models import (
    BankImport,
    IncomingPayment,
    IncomingPaymentStatus,
    Invoice,
    InvoiceStatus,
    NumberSeries,
    Payment,
)
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal
ACTOR = Actor.system("test")
ISSUED_ON = dt.date(2025, 2, 1)
ON = dt.date(2025, 3, 4)
MARCH_3 = dt.date(2025, 3, 3)
DATA = Path(__file__).parent / "data"
V08, V02, OCR = "camt054_v08.xml", "camt054_v02.xml", "ocr_giro.txt"
S = IncomingPaymentStatus


@pytest.fixture(autouse=True)
def _english():
    """The reasons are asserted as written in English (their Bokmål is in the catalogue)."""
    with translation.override("en"):
        yield


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def issued(customer_name: str, number: int, net: str, *, kid_method: str = "mod10") -> Invoice:
    """An invoice issued through the services as number ``number`` (so its KID is the real one), total
    ``net`` + 25 % VAT."""
    services.billing_settings_update(actor=ACTOR, kid_method=kid_method)
    NumberSeries.objects.bulk_create([NumberSeries(code="invoice")], ignore_conflicts=True)
    NumberSeries.objects.filter(code="invoice").update(next_number=number)
    customer = CustomerFactory(name=customer_name)
    draft = services.invoice_manual_draft_create(
        actor=ACTOR, customer=customer, lines=[{"description": "Lisens", "quantity": 1, "unit_price": net}]
    )
    return services.invoice_issue(actor=ACTOR, invoice=draft, on=ISSUED_ON)


def do_import(name: str, on: dt.date = ON) -> bank.ImportResult:
    return bank.bank_file_import(actor=ACTOR, data=read(name), file_name=name, on=on)


def incoming(reference: str) -> IncomingPayment:
    return IncomingPayment.objects.get(reference=reference)


def refreshed(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


@pytest.fixture
def invoices(tenant_a):
    """The invoices the samples pay: 10023 (MOD10 KID 000100230, 12 500.00), 10031 (MOD11 KID 000100315,
    6 250.00: paid in part), Nordlys Tannklinikk's 990.00 (no KID in the payment) and 10057 (4 875.00)."""
    with tenant_context(tenant_a):
        return {
            "fjordkraft": issued("Fjordkraft Regnskap AS", 10023, "10000.00"),
            "havbris": issued("Havbris Kommune", 10031, "5000.00", kid_method="mod11"),
            "nordlys": issued("Nordlys Tannklinikk", 10040, "792.00"),
            "bolgen": issued("Bølgen & Co AS", 10057, "3900.00"),
        }


def test_the_invoices_carry_the_kids_the_samples_pay(invoices, tenant_a):
    with tenant_context(tenant_a):
        assert [(i.number, i.kid, i.total) for i in invoices.values()] == [
            (10023, "000100230", D("12500.00")),
            (10031, "000100315", D("6250.00")),
            (10040, "000100404", D("990.00")),
            (10057, "000100578", D("4875.00")),
        ]


# ---------------------------------------------------------------- camt.054 and OCR giro


def test_camt054_v08_books_by_kid_in_part_and_by_amount_and_payer_and_queues_the_bad_kid(invoices, tenant_a):
    with tenant_context(tenant_a):
        result = do_import(V08)
        assert not result.already_imported
        imp = result.bank_import
        assert (imp.file_name, imp.format, imp.file_id, imp.imported_on, imp.imported_by) == (
            V08,
            "camt.054",
            "DNB20250304-0000417",
            ON,
            "test",
        )
        assert (imp.payments, imp.matched, imp.unmatched, imp.already_known, imp.total_amount) == (
            4,
            3,
            1,
            0,
            D("17865.50"),
        )
        fjordkraft, havbris, nordlys = (refreshed(invoices[k]) for k in ("fjordkraft", "havbris", "nordlys"))
        # KID 000100230, the whole amount.
        assert (fjordkraft.status, fjordkraft.paid_amount) == (InvoiceStatus.PAID, D("12500.00"))
        one = incoming("70230412877001")
        assert (one.status, one.invoice, one.unapplied, one.reason) == (S.MATCHED, fjordkraft, D("0.00"), "")
        assert (one.payment.amount, one.payment.paid_on, one.payment.reference) == (
            D("12500.00"),
            MARCH_3,
            "70230412877001",
        )
        # KID 000100315 (MOD11), part of 6 250.00.
        assert (havbris.status, havbris.paid_amount, havbris.outstanding) == (
            InvoiceStatus.PARTLY_PAID,
            D("3750.50"),
            D("2499.50"),
        )
        assert incoming("70230412877002").status == S.MATCHED
        # No KID: Nordlys Tannklinikk's only open invoice of 990.00.
        assert (nordlys.status, nordlys.paid_amount) == (InvoiceStatus.PAID, D("990.00"))
        three = incoming("2025030300413001")
        assert (three.status, three.invoice, three.payer_account, three.message) == (
            S.MATCHED,
            nordlys,
            "NO3760110512344",
            "Faktura 10040 og 10057 mars",
        )
        # A KID with a wrong check digit that no invoice has: unmatched, said in words.
        four = incoming("70230413560001")
        assert (four.status, four.invoice, four.payment, four.kid, four.kid_valid) == (
            S.UNMATCHED,
            None,
            None,
            "000100649",
            False,
        )
        assert four.reason == (
            "No issued invoice has KID 000100649 (its check digit is wrong), "
            "and no open invoice of 625.00 NOK fits the payer Ola Nordmann."
        )
        assert refreshed(invoices["bolgen"]).status == InvoiceStatus.ISSUED
        assert Payment.objects.count() == 3
        assert AuditEvent.objects.filter(action="bank_import.create", object_id=str(imp.pk)).count() == 1
        # One row per payment booked (the bank's reference and the file named) and one per payment left for staff.
        assert AuditEvent.objects.filter(action="incoming_payment.unmatched").count() == 1
        booked = AuditEvent.objects.filter(action="payment.register")
        assert booked.count() == 3
        assert all(e.changes["bank_file"][1].startswith(V08) for e in booked)


def test_camt054_v02_books_its_payment_by_kid(invoices, tenant_a):
    with tenant_context(tenant_a):
        result = do_import(V02)
        bolgen = refreshed(invoices["bolgen"])
        assert (bolgen.status, bolgen.paid_amount) == (InvoiceStatus.PAID, D("4875.00"))
        (payment,) = result.incoming
        assert (payment.status, payment.payer_name, payment.booked_on) == (
            S.MATCHED,
            "Bølgen & Co AS",
            dt.date(2024, 1, 12),
        )


def test_ocr_giro_books_by_kid_and_leaves_the_payment_without_kid_or_name_unmatched(invoices, tenant_a):
    with tenant_context(tenant_a):
        result = do_import(OCR)
        imp = result.bank_import
        assert (imp.format, imp.payments, imp.matched, imp.unmatched, imp.total_amount) == (
            "ocr-giro",
            4,
            2,
            2,
            D("17865.50"),
        )
        assert refreshed(invoices["fjordkraft"]).status == InvoiceStatus.PAID
        assert refreshed(invoices["havbris"]).paid_amount == D("3750.50")
        # OCR carries no payer name, and nothing was paid from 60110512344 before.
        assert refreshed(invoices["nordlys"]).status == InvoiceStatus.ISSUED
        no_kid = incoming("4000086-0000003-099038564")
        assert no_kid.status == S.UNMATCHED
        assert no_kid.reason == "No KID, and no open invoice of 990.00 NOK fits the payer 60110512344."


def test_a_payer_is_known_by_the_account_an_earlier_payment_came_from(tenant_a):
    with tenant_context(tenant_a):
        first = issued("Nordlys Tannklinikk", 10040, "792.00")
        do_import(V08)  # by name, from NO3760110512344
        assert refreshed(first).status == InvoiceStatus.PAID
        others = issued("Annen Kunde AS", 10100, "792.00")  # 990.00 open too, but not this payer's
        draft = services.invoice_manual_draft_create(
            actor=ACTOR, customer=first.customer, lines=[{"description": "Lisens", "quantity": 1, "unit_price": "792"}]
        )
        second = services.invoice_issue(actor=ACTOR, invoice=draft, on=ISSUED_ON)
        do_import(OCR)  # no name; 60110512344 is the account NO3760110512344 paid from
        assert incoming("4000086-0000003-099038564").invoice == second
        assert refreshed(second).status == InvoiceStatus.PAID
        assert refreshed(others).status == InvoiceStatus.ISSUED


# ---------------------------------------------------------------- once only, malformed files


def test_the_same_file_twice_books_once(invoices, tenant_a):
    with tenant_context(tenant_a):
        first = do_import(V08)
        again = do_import(V08, on=ON + dt.timedelta(days=1))
        assert again.already_imported
        assert again.bank_import == first.bank_import
        assert again.incoming == ()
        assert BankImport.objects.count() == 1
        assert IncomingPayment.objects.count() == 4
        assert Payment.objects.count() == 3
        assert refreshed(invoices["havbris"]).paid_amount == D("3750.50")


def test_a_payment_delivered_again_in_another_file_is_not_booked_twice(invoices, tenant_a):
    with tenant_context(tenant_a):
        do_import(V08)
        resent = read(V08).replace(b"DNB20250304-0000417", b"DNB20250304-0000418")  # another file, same payments
        result = bank.bank_file_import(actor=ACTOR, data=resent, file_name="resent.xml", on=ON)
        assert not result.already_imported
        imp = result.bank_import
        assert (imp.payments, imp.already_known, imp.matched, imp.unmatched) == (4, 4, 0, 0)
        assert IncomingPayment.objects.count() == 4
        assert refreshed(invoices["havbris"]).paid_amount == D("3750.50")


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("camt054_truncated.xml", "line 91: not well-formed XML"),
        ("camt054_amount_not_number.xml", "TxDtls[2]/Amt (line 99): amount '3 750,50' is not a number"),
        ("ocr_giro_bad_record_type.txt", "line 5: unknown record type 'NY091535'"),
        ("ocr_giro_wrong_totals.txt", "line 12: the oppdrag end's sum"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_line_and_nothing_is_written(invoices, tenant_a, name, where):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as info:
            do_import(name)
        (message,) = info.value.message_dict["file"]
        assert message.startswith(f"{name} is not a valid bank file: ")
        assert where in message
        assert BankImport.objects.count() == 0
        assert IncomingPayment.objects.count() == 0
        assert Payment.objects.count() == 0


# ---------------------------------------------------------------- over-payments, credited and paid invoices


def test_an_over_payment_books_the_outstanding_and_keeps_the_surplus_unapplied(tenant_a):
    with tenant_context(tenant_a):
        invoice = issued("Fjordkraft Regnskap AS", 10023, "8000.00")  # 10 000.00; 12 500.00 is paid
        do_import(V08)
        invoice = refreshed(invoice)
        assert (invoice.status, invoice.paid_amount) == (InvoiceStatus.PAID, D("10000.00"))
        over = incoming("70230412877001")
        assert (over.status, over.amount, over.payment.amount, over.unapplied) == (
            S.MATCHED,
            D("12500.00"),
            D("10000.00"),
            D("2500.00"),
        )
        assert over.reason == "Over-payment: 2500.00 NOK more than was outstanding on invoice 10023, not applied."


def test_a_payment_to_a_credited_invoice_is_left_unmatched(tenant_a):
    with tenant_context(tenant_a):
        invoice = issued("Fjordkraft Regnskap AS", 10023, "10000.00")
        services.credit_note_create(actor=ACTOR, invoice=invoice, on=dt.date(2025, 2, 10), reason="Feil pris")
        do_import(V08)
        assert refreshed(invoice).status == InvoiceStatus.CREDITED
        assert refreshed(invoice).paid_amount == D("0.00")
        queued = incoming("70230412877001")
        assert (queued.status, queued.invoice, queued.payment) == (S.UNMATCHED, None, None)
        assert queued.reason == "Invoice 10023 (KID 000100230) is credited; a payment to it is not booked."


def test_a_payment_to_a_paid_invoice_is_left_unmatched(tenant_a):
    with tenant_context(tenant_a):
        invoice = issued("Fjordkraft Regnskap AS", 10023, "10000.00")
        services.payment_register(actor=ACTOR, invoice=invoice, amount="12500.00", paid_on=dt.date(2025, 2, 20))
        do_import(V08)
        queued = incoming("70230412877001")
        assert queued.status == S.UNMATCHED
        assert queued.reason == "Invoice 10023 (KID 000100230) is already paid."
        assert refreshed(invoice).paid_amount == D("12500.00")


# ---------------------------------------------------------------- the unmatched queue


def test_staff_match_an_unmatched_payment(invoices, tenant_a):
    with tenant_context(tenant_a):
        do_import(V08)
        queued = incoming("70230413560001")  # 625.00, a KID with a wrong check digit
        target = issued("Ola Nordmann", 10064, "500.00")
        matched = bank.incoming_payment_match(
            actor=ACTOR, incoming=queued, invoice=target, on=dt.date(2025, 3, 5), note="KID tastet feil"
        )
        assert (matched.status, matched.invoice, matched.payment.amount, matched.unapplied, matched.reason) == (
            S.MATCHED_BY_STAFF,
            target,
            D("625.00"),
            D("0.00"),
            "",
        )
        assert (matched.note, matched.resolved_on, matched.resolved_by) == (
            "KID tastet feil",
            dt.date(2025, 3, 5),
            "test",
        )
        assert matched.payment.paid_on == MARCH_3
        assert refreshed(target).status == InvoiceStatus.PAID
        assert AuditEvent.objects.filter(action="incoming_payment.match", object_id=str(queued.pk)).exists()
        with pytest.raises(ValidationError, match="Only an unmatched payment can be matched"):
            bank.incoming_payment_match(actor=ACTOR, incoming=matched, invoice=target, on=ON)


def test_staff_cannot_match_to_a_credited_invoice(invoices, tenant_a):
    with tenant_context(tenant_a):
        do_import(V08)
        queued = incoming("70230413560001")
        credited = invoices["bolgen"]
        services.credit_note_create(actor=ACTOR, invoice=credited, on=ON, reason="Feil")
        with pytest.raises(ValidationError, match="credited"):  # the payment service's own refusal
            bank.incoming_payment_match(actor=ACTOR, incoming=queued, invoice=credited, on=ON)
        assert incoming("70230413560001").status == S.UNMATCHED
        assert Payment.objects.filter(invoice=credited).count() == 0


def test_staff_resolve_an_unmatched_payment_as_refunded(invoices, tenant_a):
    with tenant_context(tenant_a):
        do_import(V08)
        queued = incoming("70230413560001")
        with pytest.raises(ValidationError) as info:
            bank.incoming_payment_resolve(actor=ACTOR, incoming=queued, how="gift", note=" ", on=ON)
        assert set(info.value.message_dict) == {"how", "note"}
        resolved = bank.incoming_payment_resolve(
            actor=ACTOR, incoming=queued, how="refund", note="Betalt tilbake til 24801234565", on=ON
        )
        assert (resolved.status, resolved.note, resolved.resolved_on, resolved.payment) == (
            S.RESOLVED_REFUND,
            "Betalt tilbake til 24801234565",
            ON,
            None,
        )
        with pytest.raises(ValidationError, match="Only an unmatched payment or an unapplied surplus"):
            bank.incoming_payment_resolve(actor=ACTOR, incoming=resolved, how="credit", note="x", on=ON)
        assert AuditEvent.objects.filter(action="incoming_payment.resolve_refund").count() == 1


def test_staff_keep_an_over_payments_surplus_as_credit(tenant_a):
    with tenant_context(tenant_a):
        issued("Fjordkraft Regnskap AS", 10023, "8000.00")
        issued("Havbris Kommune", 10031, "3000.40", kid_method="mod11")  # 3 750.50: paid exactly
        do_import(V08)
        assert incoming("70230412877002").status == S.MATCHED
        over = incoming("70230412877001")
        resolved = bank.incoming_payment_resolve(
            actor=ACTOR, incoming=over, how="credit", note="Til gode på neste faktura", on=ON
        )
        assert (resolved.status, resolved.payment.amount, resolved.unapplied) == (
            S.RESOLVED_CREDIT,
            D("10000.00"),
            D("2500.00"),
        )
        # A fully booked payment has nothing to resolve.
        with pytest.raises(ValidationError, match="Only an unmatched payment or an unapplied surplus"):
            bank.incoming_payment_resolve(
                actor=ACTOR, incoming=incoming("70230412877002"), how="refund", note="x", on=ON
            )


# ---------------------------------------------------------------- tenants


def test_another_tenants_imports_are_invisible_and_the_same_file_imports_in_each(invoices, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        do_import(V08)
    with tenant_context(tenant_b):
        assert BankImport.objects.count() == 0
        assert IncomingPayment.objects.count() == 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM billing_incomingpayment")
            assert cursor.fetchone() == (0,)
            cursor.execute("SELECT count(*) FROM billing_bankimport")
            assert cursor.fetchone() == (0,)
        # Tenant A's KIDs mean nothing here: all unmatched, nothing of A's touched.
        result = do_import(V08)
        assert not result.already_imported
        assert (result.bank_import.matched, result.bank_import.unmatched) == (0, 4)
        assert IncomingPayment.objects.count() == 4
    with tenant_context(tenant_a):
        assert IncomingPayment.objects.filter(status=S.MATCHED).count() == 3
        assert refreshed(invoices["havbris"]).paid_amount == D("3750.50")
    assert IncomingPayment.unscoped.count() == 0  # no tenant: PostgreSQL shows nothing


# ---------------------------------------------------------------- manage.py bank_import


def test_the_command_imports_a_directory_skipping_a_bad_file(invoices, tenant_a, tmp_path, capsys):
    for name in (V08, "ocr_giro_bad_record_type.txt"):
        shutil.copy(DATA / name, tmp_path / name)
    with pytest.raises(CommandError, match="1 file"):
        call_command("bank_import", str(tmp_path), tenant="alpha", on="2025-03-04")
    out, err = capsys.readouterr()
    assert "camt054_v08.xml (camt.054): 4 payment(s), 17865.50 in total; booked 3, 1 unmatched" in out
    assert "line 57: 12500.00 NOK 70230412877001 → invoice 10023" in out
    assert "ocr_giro_bad_record_type.txt: skipped: " in err
    assert "line 5: unknown record type 'NY091535'" in err
    with tenant_context(tenant_a):
        assert BankImport.objects.count() == 1
        assert Payment.objects.count() == 3
    call_command("bank_import", str(tmp_path / V08), tenant="alpha")
    assert "already imported 2025-03-04; nothing booked" in capsys.readouterr().out


def test_the_command_dry_run_writes_nothing(invoices, tenant_a, capsys):
    call_command("bank_import", str(DATA / V08), str(DATA / OCR), tenant="alpha", dry_run=True, on="2025-03-04")
    out = capsys.readouterr().out
    assert "would book 3, 1 unmatched" in out
    assert "ocr_giro.txt (ocr-giro): 4 payment(s)" in out
    with tenant_context(tenant_a):
        assert BankImport.objects.count() == 0
        assert IncomingPayment.objects.count() == 0
        assert Payment.objects.count() == 0
        assert refreshed(invoices["fjordkraft"]).status == InvoiceStatus.ISSUED


def test_the_command_refuses_an_unknown_tenant():
    with pytest.raises(CommandError, match="Unknown tenant"):
        call_command("bank_import", str(DATA / V08), tenant="nobody")
