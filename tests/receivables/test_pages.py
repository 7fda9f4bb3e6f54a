"""Collections pages in the back-office (issue 11, item 6): the overview (totals, age buckets, the overdue list,
reminders due, unmatched payments, customers at risk), a customer's ledger with interest, reminders and holds,
bank-file import, the unmatched queue and payment-default cases — with real data made by the jobs; permissions,
tenant isolation and a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from billing import bank
from billing.models import BankImport, IncomingPayment, IncomingPaymentStatus, Invoice, InvoiceKind, InvoiceStatus
from billing.numbering import kid_for
from contracts import lifecycle
from contracts.models import Contract
from fakes.bank import Credit, camt054
from receivables import default, dunning
from receivables.models import CollectionPolicy, DefaultCase, DefaultStatus, InvoiceHold, Reminder, SuspendConfirm
from receivables.presets import PRESETS
from tenants.audit import Actor
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db
d = dt.date
D = Decimal
ACTOR = Actor.system("test")
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
ON = d(2025, 9, 15)  # a Monday: "today" on every page
DATA = Path(__file__).resolve().parents[1] / "billing" / "data"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
_numbers = itertools.count(40001)
_refs = itertools.count(1)


def at(day: dt.date):
    return time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0))), tick=False)


def login(client, tenant, role, email=None):
    with tenant_context(tenant):
        user = MembershipFactory(role=role, user__email=email or f"{role}@{tenant.slug}.no").user
    client.force_login(user, backend=MODEL_BACKEND)
    return user


def contract_for(plan, customer, state=lifecycle.ACTIVE) -> Contract:
    return Contract.objects.create(
        reference=f"K-{next(_refs):05d}",
        customer=customer,
        product=plan.product,
        plan=plan,
        state=state,
        interval="month",
        start_date=d(2025, 1, 1),
        renewal_term_months=12,
        term_end=d(2027, 1, 1),
    )


def invoice_for(customer, due: dt.date, total="10000.00", *, contract=None, status=InvoiceStatus.SENT) -> Invoice:
    number = next(_numbers)
    return Invoice.objects.create(
        customer=customer,
        contract=contract,
        kind=InvoiceKind.INVOICE,
        status=status,
        series="invoice",
        number=number,
        kid=kid_for(number),
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        period_start=due - dt.timedelta(days=30),
        total=D(total),
        net=D(total),
    )


def build_book(tenant, *, extra_invoices: int = 0) -> dict:
    """A vendor's receivables on ON, made by the real jobs:

    - Bømlo Rederi AS (Piscator's SSA-L rules, suspension confirmed by staff): 50 000.00 due 15.07.2025 →
      reminder, notice of suspension, the notice runs out → waiting for staff to suspend; material breach.
    - Fjord Data AS (DigiReq's rules): 2 812.50 due 20.07.2025 → paused at 45 days, data deleted 90 days later.
    - Tasta skole (tenant default rules): one invoice in each age bucket and one not yet due; 61–90 on hold.
    - A bank file with one payment by KID and one with an unknown KID (the unmatched queue).
    """
    with tenant_context(tenant):
        piscator = plan_for("piscator")
        CollectionPolicy.objects.create(
            plan=piscator, **{**PRESETS["piscator"], "suspend_confirm": SuspendConfirm.STAFF}
        )
        digireq = plan_for("digireq")
        CollectionPolicy.objects.create(plan=digireq, **PRESETS["digireq"])
        bomlo = CustomerFactory(name="Bømlo Rederi AS")
        fjord = CustomerFactory(name="Fjord Data AS")
        tasta = CustomerFactory(name="Tasta skole")
        bomlo_contract = contract_for(piscator, bomlo)
        fjord_contract = contract_for(digireq, fjord)
        late = invoice_for(bomlo, d(2025, 7, 15), "50000.00", contract=bomlo_contract)
        unpaid = invoice_for(fjord, d(2025, 7, 20), "2812.50", contract=fjord_contract)
        tasta_invoices = {
            "0_30": invoice_for(tasta, ON - dt.timedelta(days=10), "1000.00"),
            "31_60": invoice_for(tasta, ON - dt.timedelta(days=40), "2000.00"),
            "61_90": invoice_for(tasta, ON - dt.timedelta(days=70), "3000.00"),
            "90_plus": invoice_for(tasta, ON - dt.timedelta(days=120), "4000.00"),
            "not_due": invoice_for(tasta, ON + dt.timedelta(days=10), "5000.00"),
        }
        for n in range(extra_invoices):
            invoice_for(CustomerFactory(name=f"Kunde {n} AS"), ON - dt.timedelta(days=5 + n % 150), "100.00")
        for day in (d(2025, 7, 29), d(2025, 8, 12), d(2025, 8, 18), d(2025, 8, 20), ON - dt.timedelta(days=1), ON):
            if day in (d(2025, 7, 29), d(2025, 8, 20)):
                dunning.dunning_run(on=day, actor=ACTOR)  # the rest is due today (ON)
            default.default_run(on=day, actor=ACTOR)
        hold = InvoiceHold.objects.create(
            invoice=tasta_invoices["61_90"],
            reason="The school disputes the number of pupils",
            held_on=ON,
            held_by="test",
        )
        data = camt054(
            account=tenant.bank_account,
            owner=tenant.name,
            day=ON - dt.timedelta(days=3),
            credits=[
                Credit(D("1000.00"), tasta_invoices["0_30"].kid, ON - dt.timedelta(days=3), "Tasta skole", "REF-1"),
                Credit(
                    D("777.00"), "99999999999", ON - dt.timedelta(days=3), "Ukjent Betaler AS", "REF-2", "Faktura mai"
                ),
            ],
        )
        imported = bank.bank_file_import(
            actor=ACTOR, data=data, file_name="camt054-0912.xml", on=ON - dt.timedelta(days=3)
        )
        incoming = IncomingPayment.objects.get(status=IncomingPaymentStatus.UNMATCHED)
        return {
            "tenant": tenant,
            "bomlo": bomlo,
            "fjord": fjord,
            "tasta": tasta,
            "bomlo_contract": bomlo_contract,
            "fjord_contract": fjord_contract,
            "late": late,
            "unpaid": unpaid,
            "tasta_invoices": tasta_invoices,
            "hold": hold,
            "import": imported.bank_import,
            "incoming": incoming,
        }


@pytest.fixture
def book(tenant_a):
    with at(ON):
        return build_book(tenant_a)


BO = "/backoffice/alpha/collections"


def no_codes(html: str) -> None:
    assert "object (" not in html
    for code in ("0_30", "90_plus", "awaiting", "unmatched_by", "resolved_refund", "matched_by_staff"):
        assert f">{code}<" not in html
    assert not re.search(r">\s*(notice|suspend|pause|reminder|warning|final)\s*<", html)


# ---------------------------------------------------------------- the overview


def test_the_overview_shows_money_by_age_reminders_unmatched_and_who_is_at_risk(client, book):
    login(client, book["tenant"], Role.FINANCE)
    with at(ON):
        response = client.get(f"{BO}/")
    html = response.content.decode()
    assert response.status_code == 200
    no_codes(html)
    # Totals in Bokmål money: 50 000 + 2 812,50 + (1 000 paid) 2 000 + 3 000 + 4 000 overdue; 5 000 not due.
    assert "61\u00a0812,50\u00a0kr" in html  # overdue
    assert "5\u00a0000,00\u00a0kr" in html  # not yet due
    assert "66\u00a0812,50\u00a0kr" in html  # outstanding in all
    for label in ("1–30 dager", "31–60 dager", "61–90 dager", "Over 90 dager"):
        assert label in html
    assert "?bucket=31_60#h-overdue" in html
    # The overdue list: customer → ledger, invoice → invoice page, dates dd.mm.yyyy, days late.
    assert f"{BO}/customers/{book['bomlo'].pk}/" in html
    assert f"/backoffice/alpha/billing/invoices/{book['late'].pk}/" in html
    assert "15.07.2025" in html and "Bømlo Rederi AS" in html
    assert ">62<" in html  # days past due of the 15 July invoice on 15 September
    assert "På vent" in html  # the held invoice
    assert "Skriftlig varsel (inkassovarsel)" in html  # last reminder of Bømlo's invoice
    due = html[html.index('id="h-due"') : html.index('id="h-risk"')]
    assert "Nattkjøringen sender 2 purringer" in due and "Betal innen" in due and "Bømlo Rederi AS" in due
    # Unmatched payments, at risk, bank import.
    assert "1 innbetaling fra banken er ikke koblet til en faktura" in html
    assert f"{BO}/unmatched/" in html and f"{BO}/bank/" in html
    risk = html[html.index('id="h-risk"') :]
    assert "Bømlo Rederi AS" in risk and "Fjord Data AS" in risk
    assert "Varselfristen gikk ut 18.08.2025: venter på at dere stenger." in risk
    assert "Pauset siden" in risk


def test_a_bucket_link_filters_the_overdue_list(client, book):
    login(client, book["tenant"], Role.VIEWER)
    with at(ON):
        html = client.get(f"{BO}/?bucket=61_90").content.decode()
    listing = html[html.index('id="h-overdue"') :]
    assert "Forfalte fakturaer: 61–90 dager" in listing
    assert f"billing/invoices/{book['tasta_invoices']['61_90'].pk}/" in listing
    assert f"billing/invoices/{book['late'].pk}/" in listing  # 62 days late
    assert f"billing/invoices/{book['tasta_invoices']['90_plus'].pk}/" not in listing
    assert "Vis alle forfalte" in listing


def test_the_overview_in_english(client, book):
    login(client, book["tenant"], Role.FINANCE)
    with at(ON):
        html = client.get(f"{BO}/", **EN).content.decode()
    assert "Collections" in html and "Overdue by age" in html and "NOK\u00a061,812.50" in html
    assert "2025-07-15" in html and "Final notice" in html and "Reminders due today" in html
    assert "Faktura" not in html and "Betalingspåminnelse" not in html
    no_codes(html)


def test_the_overview_takes_a_fixed_number_of_queries(client, tenant_a, django_assert_max_num_queries):
    with at(ON):
        build_book(tenant_a, extra_invoices=120)
    login(client, tenant_a, Role.FINANCE)
    with at(ON), django_assert_max_num_queries(40):
        response = client.get(f"{BO}/")
    assert response.status_code == 200


def test_the_nav_has_collections_for_every_role(client, book):
    login(client, book["tenant"], Role.SALES)
    html = client.get("/backoffice/alpha/").content.decode()
    assert f'href="{BO}/"' in html and "Innfordring" in html


# ---------------------------------------------------------------- the ledger


def test_the_ledger_shows_the_timeline_interest_reminders_and_holds(client, book):
    login(client, book["tenant"], Role.FINANCE)
    with at(ON):
        html = client.get(f"{BO}/customers/{book['bomlo'].pk}/").content.decode()
    no_codes(html)
    assert "Reskontro for Bømlo Rederi AS" in html
    assert "50\u00a0000,00\u00a0kr" in html
    assert f"Faktura {book['late'].number}" in html
    assert "Betalingspåminnelse for faktura" in html
    with tenant_context(book["tenant"]):
        reminder = Reminder.objects.filter(invoice=book["late"]).order_by("step").first()
    assert f"{BO}/reminders/{reminder.pk}/pdf/" in html
    assert "Slik er renten beregnet" in html  # interest with its explanation
    assert "Sett på vent" in html  # finance can put it on hold
    assert "50\u00a0000,00 × 12,25\u00a0% × 62/365" in html or "× 62/365" in html
    assert "Varselfristen er ute, venter på at dere stenger" in html
    pdf = client.get(f"{BO}/reminders/{reminder.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_put_on_hold_and_release_from_the_ledger(client, book):
    login(client, book["tenant"], Role.FINANCE)
    invoice = book["tasta_invoices"]["31_60"]
    url = f"{BO}/invoices/{invoice.pk}/hold/"
    with at(ON):
        empty = client.post(url, {f"hold{invoice.pk}-reason": ""})
        assert empty.status_code == 400
        response = client.post(url, {f"hold{invoice.pk}-reason": "Kunden bestrider antallet elever"})
    assert response.status_code == 302 and response["Location"] == f"{BO}/customers/{book['tasta'].pk}/"
    with tenant_context(book["tenant"]):
        hold = InvoiceHold.objects.get(invoice=invoice, released_on__isnull=True)
    with at(ON):
        html = client.get(f"{BO}/customers/{book['tasta'].pk}/").content.decode()
        assert "Kunden bestrider antallet elever" in html and "Opphev" in html
        response = client.post(f"{BO}/holds/{hold.pk}/release/", {"note": "Avklart"})
    assert response.status_code == 302
    with tenant_context(book["tenant"]):
        hold.refresh_from_db()
    assert hold.released_on == ON and hold.release_note == "Avklart"


# ---------------------------------------------------------------- bank import


def test_bank_import_good_then_the_same_file_again_then_a_malformed_file(client, book):
    login(client, book["tenant"], Role.FINANCE)
    with tenant_context(book["tenant"]):
        invoice = book["tasta_invoices"]["90_plus"]
        before = IncomingPayment.objects.count()
    data = camt054(
        account="86011117947",
        owner="Alpha AS",
        day=ON,
        credits=[Credit(D("4000.00"), invoice.kid, ON, "Tasta skole", "REF-NEW-1")],
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    with at(ON):
        page = client.get(f"{BO}/bank/")
        assert page.status_code == 200 and "camt054-0912.xml" in page.content.decode()
        response = client.post(f"{BO}/bank/", {"file": SimpleUploadedFile("camt-15.xml", data)}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "camt-15.xml importert: 1 innbetalinger, 1 koblet, 0 å løse." in html or "camt-15.xml" in html
    assert "4\u00a0000,00\u00a0kr" in html and "koblet via KID" in html
    with tenant_context(book["tenant"]):
        assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
        assert IncomingPayment.objects.count() == before + 1
    with at(ON):
        again = client.post(f"{BO}/bank/", {"file": SimpleUploadedFile("camt-15-kopi.xml", data)}, follow=True)
    assert "ble importert før" in again.content.decode()
    with tenant_context(book["tenant"]):
        assert IncomingPayment.objects.count() == before + 1
    with at(ON):
        bad = client.post(
            f"{BO}/bank/",
            {"file": SimpleUploadedFile("ocr.txt", (DATA / "ocr_giro_amount_not_number.txt").read_bytes())},
            **EN,
        )
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "ocr.txt is not a valid bank file" in text and "line" in text.lower()
    with tenant_context(book["tenant"]):
        assert IncomingPayment.objects.count() == before + 1
        assert not BankImport.objects.filter(file_name="ocr.txt").exists()


# ---------------------------------------------------------------- the unmatched queue


def test_the_unmatched_queue_matches_by_invoice_number_or_resolves_with_a_note(client, book):
    login(client, book["tenant"], Role.FINANCE)
    incoming = book["incoming"]
    invoice = book["tasta_invoices"]["31_60"]
    with at(ON):
        html = client.get(f"{BO}/unmatched/").content.decode()
        assert "777,00\u00a0kr" in html and "Ukjent Betaler AS" in html and "12.09.2025" in html
        assert "99999999999" in html
        no_codes(html)
        bad = client.post(f"{BO}/unmatched/{incoming.pk}/match/", {f"m{incoming.pk}-invoice_number": "999999"})
        assert bad.status_code == 400 and "Det finnes ingen utstedt faktura med det nummeret." in bad.content.decode()
        no_note = client.post(f"{BO}/unmatched/{incoming.pk}/resolve/", {f"r{incoming.pk}-how": "refund"})
        assert no_note.status_code == 400
        ok = client.post(
            f"{BO}/unmatched/{incoming.pk}/match/", {f"m{incoming.pk}-invoice_number": str(invoice.number)}
        )
    assert ok.status_code == 302
    with tenant_context(book["tenant"]):
        incoming.refresh_from_db()
        assert incoming.status == IncomingPaymentStatus.MATCHED_BY_STAFF and incoming.invoice_id == invoice.pk


def test_resolve_as_credit(client, book):
    login(client, book["tenant"], Role.OWNER)
    incoming = book["incoming"]
    with at(ON):
        ok = client.post(
            f"{BO}/unmatched/{incoming.pk}/resolve/",
            {f"r{incoming.pk}-how": "credit", f"r{incoming.pk}-note": "Avtalt med kunden"},
        )
    assert ok.status_code == 302
    with tenant_context(book["tenant"]):
        incoming.refresh_from_db()
    assert incoming.status == IncomingPaymentStatus.RESOLVED_CREDIT and incoming.note == "Avtalt med kunden"


# ---------------------------------------------------------------- payment defaults


def test_default_cases_suspend_now_and_close_with_a_reason(client, book):
    login(client, book["tenant"], Role.FINANCE)
    with tenant_context(book["tenant"]):
        case = DefaultCase.objects.get(contract=book["bomlo_contract"])
        paused = DefaultCase.objects.get(contract=book["fjord_contract"])
    assert case.status == DefaultStatus.AWAITING_CONFIRMATION
    with at(ON):
        html = client.get(f"{BO}/defaults/").content.decode()
        no_codes(html)
        assert "Steng nå" in html and "Bømlo Rederi AS" in html and "Fjord Data AS" in html
        assert case.stop_on.strftime("%d.%m.%Y") in html
        response = client.post(f"{BO}/defaults/{case.pk}/suspend/")
    assert response.status_code == 302
    with tenant_context(book["tenant"]):
        assert Contract.objects.get(pk=book["bomlo_contract"].pk).state == lifecycle.SUSPENDED
    with at(ON):
        empty = client.post(f"{BO}/defaults/{paused.pk}/close/", {f"c{paused.pk}-reason": ""})
        assert empty.status_code == 400
        closed = client.post(f"{BO}/defaults/{paused.pk}/close/", {f"c{paused.pk}-reason": "Avtalt nedbetalingsplan"})
    assert closed.status_code == 302
    with tenant_context(book["tenant"]):
        paused.refresh_from_db()
        assert paused.status == DefaultStatus.CLOSED and paused.closed_reason == "Avtalt nedbetalingsplan"


# ---------------------------------------------------------------- permissions and isolation


@pytest.mark.parametrize("role", [Role.SALES, Role.SUPPORT, Role.VIEWER])
def test_roles_without_manage_see_the_pages_but_cannot_change_anything(client, book, role):
    login(client, book["tenant"], role)
    incoming, hold = book["incoming"], book["hold"]
    with tenant_context(book["tenant"]):
        case = DefaultCase.objects.get(contract=book["bomlo_contract"])
    invoice = book["tasta_invoices"]["31_60"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    with at(ON):
        for url in ("/", f"/customers/{book['tasta'].pk}/", "/bank/", "/unmatched/", "/defaults/"):
            page = client.get(f"{BO}{url}")
            assert page.status_code == 200, url
            assert "Sett på vent" not in page.content.decode() and "Steng nå" not in page.content.decode()
        posts = [
            (f"{BO}/invoices/{invoice.pk}/hold/", {f"hold{invoice.pk}-reason": "x"}),
            (f"{BO}/holds/{hold.pk}/release/", {}),
            (f"{BO}/bank/", {"file": SimpleUploadedFile("a.xml", (DATA / "camt054_v08.xml").read_bytes())}),
            (f"{BO}/unmatched/{incoming.pk}/match/", {f"m{incoming.pk}-invoice_number": str(invoice.number)}),
            (f"{BO}/unmatched/{incoming.pk}/resolve/", {f"r{incoming.pk}-how": "credit", f"r{incoming.pk}-note": "x"}),
            (f"{BO}/defaults/{case.pk}/suspend/", {}),
            (f"{BO}/defaults/{case.pk}/close/", {f"c{case.pk}-reason": "x"}),
        ]
        for url, data in posts:
            assert client.post(url, data).status_code == 403, url
    with tenant_context(book["tenant"]):
        assert not InvoiceHold.objects.filter(invoice=invoice).exists()
        assert InvoiceHold.objects.get(pk=hold.pk).released_on is None
        assert BankImport.objects.count() == 1
        assert IncomingPayment.objects.get(pk=incoming.pk).status == IncomingPaymentStatus.UNMATCHED
        assert DefaultCase.objects.get(pk=case.pk).status == DefaultStatus.AWAITING_CONFIRMATION


def test_staff_of_another_tenant_get_404(client, book, tenant_b):
    login(client, tenant_b, Role.OWNER, email="owner@beta.no")
    other = "/backoffice/beta/collections"
    with tenant_context(book["tenant"]):
        reminder = Reminder.objects.first()
        case = DefaultCase.objects.first()
    incoming = book["incoming"]
    with at(ON):
        assert client.get(f"{other}/").status_code == 200
        for url in (
            f"/customers/{book['bomlo'].pk}/",
            f"/reminders/{reminder.pk}/pdf/",
            f"/bank/{book['import'].pk}/",
        ):
            assert client.get(f"{other}{url}").status_code == 404, url
        for url, data in (
            (f"/unmatched/{incoming.pk}/match/", {f"m{incoming.pk}-invoice_number": "1"}),
            (f"/unmatched/{incoming.pk}/resolve/", {f"r{incoming.pk}-how": "credit", f"r{incoming.pk}-note": "x"}),
            (f"/invoices/{book['late'].pk}/hold/", {f"hold{book['late'].pk}-reason": "x"}),
            (f"/holds/{book['hold'].pk}/release/", {}),
            (f"/defaults/{case.pk}/suspend/", {}),
        ):
            assert client.post(f"{other}{url}", data).status_code == 404, url
        # And tenant A's URLs answer 404 to tenant B's staff.
        assert client.get(f"{BO}/").status_code == 404


# ---------------------------------------------------------------- the per-contract switch


def test_the_contract_page_shows_its_collection_rules_and_finance_switches_them(client, book, tenant_b):
    contract = book["bomlo_contract"]
    page = f"/backoffice/alpha/contracts/{contract.pk}/"
    switch = f"{BO}/contracts/{contract.pk}/rules/"
    with tenant_context(book["tenant"]):
        own = CollectionPolicy.objects.create(name="Avtalt nedbetalingsplan", interest="none")
    login(client, book["tenant"], Role.SALES, "sales@alpha.no")
    html = client.get(page).content.decode()
    rules = html.split('id="h-collection"')[1].split("</section>")[0]
    assert "Purringer, renter og manglende betaling" in rules and "planens" in rules  # the plan's rules apply
    assert client.post(switch, {"policy": own.pk}).status_code == 403  # sales may not set the rules
    login(client, book["tenant"], Role.FINANCE)
    response = client.post(switch, {"policy": own.pk})
    assert response.status_code == 302
    with tenant_context(book["tenant"]):
        contract.refresh_from_db()
        assert contract.collection_policy_id == own.pk
    html = client.get(page).content.decode()
    rules = html.split('id="h-collection"')[1].split("</section>")[0]
    assert "Avtalt nedbetalingsplan" in rules and "selected" in rules
    assert client.post(switch, {"policy": "999999"}).status_code == 302  # unknown: refused with a message
    with tenant_context(book["tenant"]):
        contract.refresh_from_db()
        assert contract.collection_policy_id == own.pk
    client.post(switch, {"policy": ""})  # back to the plan's
    with tenant_context(book["tenant"]):
        contract.refresh_from_db()
        assert contract.collection_policy_id is None
    login(client, tenant_b, Role.FINANCE, "finance@beta.no")
    assert (
        client.post(f"/backoffice/beta/collections/contracts/{contract.pk}/rules/", {"policy": ""}).status_code == 404
    )
