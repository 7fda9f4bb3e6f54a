"""Billing pages in the back-office: what they show per role, every action through the page (issue, credit in
full and in part, payment, deleting a draft, time entries, the billing run's preview and start), bad input →
the form again with the error and nothing written, isolation (404) and bounded queries."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing import run, services
from billing.models import BillingRun, Invoice, InvoiceFile, InvoiceStatus, Payment, TimeEntry
from catalog.models import HourlyService
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.billing.test_services import digireq_contract, spekter_contract
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db
d = dt.date
D = Decimal
ACTOR = Actor.system("test")
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
BO = "/backoffice/alpha/billing"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def at(day: dt.date):
    return time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0))), tick=False)


def login(client, tenant, role):
    with tenant_context(tenant):
        user = MembershipFactory(role=role, user__email=f"{role}@{tenant.slug}.no").user
    client.force_login(user, backend=MODEL_BACKEND)
    return user


def in_tenant(tenant, fn):
    with tenant_context(tenant):
        return fn()


@pytest.fixture
def spekter(tenant_a):
    """Tenant A's Spekter contract for Stavanger kommune, invoiced by the run on 2026-03-20: invoice 1,
    net 26 292.00, VAT 6 573.00, total 32 865.00."""
    with tenant_context(tenant_a):
        contract = spekter_contract(plan_for("spekter"))
        run.run_tenant(d(2026, 3, 20))
        invoice = Invoice.objects.get()
        customer = contract.customer
    return {"tenant": tenant_a, "contract": contract, "invoice": invoice, "customer": customer}


def manual_invoice(customer, *, lines=None, issue_on=None, contract=None):
    draft = services.invoice_manual_draft_create(
        actor=ACTOR,
        customer=customer,
        contract=contract,
        lines=lines or [{"description": "Kurs", "quantity": "2", "unit_price": "500.00"}],
    )
    if issue_on:
        return services.invoice_issue(actor=ACTOR, invoice=draft, on=issue_on)
    return draft


# ---------------------------------------------------------------- pages per role


@pytest.mark.parametrize("role", [Role.OWNER, Role.FINANCE, Role.SALES, Role.SUPPORT, Role.VIEWER])
def test_every_role_sees_the_list_and_the_detail_and_only_finance_roles_get_the_actions(client, spekter, role):
    login(client, spekter["tenant"], role)
    invoice = spekter["invoice"]
    listing = client.get(f"{BO}/", **EN)
    html = listing.content.decode()
    assert listing.status_code == 200
    assert "1 invoice" in html and "Stavanger kommune" in html and "Issued" in html
    assert "NOK\u00a032,865.00" in html  # total and outstanding
    assert html.count("NOK\u00a032,865.00") == 2
    page = client.get(f"{BO}/invoices/{invoice.pk}/", **EN)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Invoice 1 · Stavanger kommune" in html
    assert invoice.kid in html and "8601 11 17947" in html
    finance = role in (Role.OWNER, Role.FINANCE)
    assert (f"/billing/invoices/{invoice.pk}/credit/" in html) is finance
    assert ("Register a payment" in html) is finance
    assert f"/billing/invoices/{invoice.pk}/pdf/nb/" in html and f"/billing/invoices/{invoice.pk}/ehf/" in html
    nav = client.get("/backoffice/alpha/", **EN).content.decode()
    assert f"{BO}/" in nav and f"{BO}/run/" in nav and f"{BO}/time/" in nav


@pytest.mark.parametrize("role", [Role.SALES, Role.SUPPORT, Role.VIEWER])
def test_roles_without_the_permission_get_403_and_nothing_changes(client, spekter, role):
    login(client, spekter["tenant"], role)
    pk = spekter["invoice"].pk
    with tenant_context(spekter["tenant"]):
        draft = manual_invoice(spekter["customer"])
    posts = [
        (f"{BO}/invoices/{draft.pk}/issue/", {}),
        (f"{BO}/invoices/{draft.pk}/delete/", {}),
        (f"{BO}/invoices/{pk}/credit/", {"mode": "full", "reason": "x", "action": "confirm"}),
        (f"{BO}/invoices/{pk}/payments/", {"payment-amount": "100", "payment-paid_on": "2026-04-01"}),
        (f"{BO}/invoices/{pk}/send/", {}),
        (f"{BO}/run/", {"as_of": "2026-04-20", "action": "start"}),
        (f"{BO}/invoices/new/", {"customer": draft.customer_id, "line-count": "1"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert client.get(f"{BO}/invoices/{pk}/credit/").status_code == 403
    assert client.get(f"{BO}/invoices/new/").status_code == 403
    with tenant_context(spekter["tenant"]):
        assert Invoice.objects.count() == 2
        assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.DRAFT
        assert Payment.objects.count() == 0
        assert BillingRun.objects.count() == 1
    # Everyone may preview the run (it writes nothing).
    assert client.post(f"{BO}/run/", {"as_of": "2026-04-20", "action": "preview"}).status_code == 200


def test_time_entries_403_for_a_role_that_may_not_record(client, spekter):
    login(client, spekter["tenant"], Role.SALES)
    assert client.get(f"{BO}/time/").status_code == 200
    response = client.post(f"{BO}/time/", {"description": "x"})
    assert response.status_code == 403


def test_not_logged_in_goes_to_the_login_page(client, spekter):
    response = client.get(f"{BO}/")
    assert response.status_code == 302 and response["Location"].startswith("/backoffice/alpha/login/")


# ---------------------------------------------------------------- the list's filters


def test_filters_status_kind_customer_period_overdue_and_number(client, spekter):
    tenant = spekter["tenant"]
    with tenant_context(tenant):
        company = CustomerFactory(name="Fjord Data AS", org_number="937620187")
        other = manual_invoice(company, issue_on=d(2026, 1, 10))  # invoice 2, due 2026-02-09
        draft = manual_invoice(company)
        services.credit_note_create(actor=ACTOR, invoice=other, on=d(2026, 1, 12), reason="Feil", net_amount="100.00")
    login(client, tenant, Role.OWNER)

    def numbers(query):
        with at(d(2026, 3, 25)):
            html = client.get(f"{BO}/?{query}", **EN).content.decode()
        return html

    drafts = numbers("status=draft")
    assert "1 invoice" in drafts and f"Draft #{draft.pk}" in drafts
    credit = numbers("kind=credit_note")
    assert "1 invoice" in credit and "Credit note" in credit and "for 2" in credit
    by_name = numbers("customer=fjord")
    assert "3 invoices" in by_name and "Stavanger kommune" not in by_name
    by_org = numbers("customer=937+620+187")
    assert "3 invoices" in by_org
    # Period overlap: the Spekter invoice covers 2026-03-15 – 2027-03-14; the manual ones have no period
    # and count by issue date (2026-01-10 / 2026-01-12).
    period = numbers("period_from=2026-03-01&period_to=2026-12-31")
    assert "1 invoice" in period and "Stavanger kommune" in period
    january = numbers("period_from=2026-01-01&period_to=2026-01-31")
    assert "2 invoices" in january and "Stavanger kommune" not in january
    overdue = numbers("overdue=on")  # invoice 2 was due 2026-02-09; the Spekter one is due 2026-04-19
    assert "1 invoice" in overdue and "Fjord Data AS" in overdue and "past due" in overdue
    assert "1 invoice" in numbers("number=1")
    assert client.get(f"{BO}/?status=nonsense&number=x&period_from=soon", **EN).status_code == 200
    fragment = client.get(f"{BO}/?customer=fjord", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results", **EN)
    assert "3 invoices" in fragment.content.decode() and "<form" not in fragment.content.decode()


def test_the_list_is_paginated(client, tenant_a):
    with tenant_context(tenant_a):
        customer = CustomerFactory()
        for _i in range(27):
            manual_invoice(customer)
    login(client, tenant_a, Role.FINANCE)
    first = client.get(f"{BO}/", **EN).content.decode()
    assert "27 invoices" in first and "Page 1 of 2" in first
    second = client.get(f"{BO}/?page=2", **EN).content.decode()
    assert "Page 2 of 2" in second and second.count("Draft #") == 2


# ---------------------------------------------------------------- detail and downloads


def test_detail_shows_lines_with_explanations_in_the_language_vat_and_totals(client, spekter):
    login(client, spekter["tenant"], Role.FINANCE)
    invoice = spekter["invoice"]
    with tenant_context(spekter["tenant"]):
        line = invoice.lines.first()
    en = client.get(f"{BO}/invoices/{invoice.pk}/", **EN).content.decode()
    nb = client.get(f"{BO}/invoices/{invoice.pk}/").content.decode()
    assert line.explanation_en.splitlines()[0] in en
    assert line.explanation_nb.splitlines()[0] in nb
    assert "26,292.00" in en and "6,573.00" in en  # net (VAT basis) and VAT at 25 %
    assert "25 % (S)" in en
    assert "2026-04-19" in en and "19.04.2026" in nb  # due date: 30 days net
    assert "Utstedt" in nb and "Issued" in en


def test_downloads_pdf_in_both_languages_and_ehf_with_their_sha256(client, spekter):
    login(client, spekter["tenant"], Role.VIEWER)
    pk = spekter["invoice"].pk
    pdf = client.get(f"{BO}/invoices/{pk}/pdf/nb/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf["Content-Disposition"] == 'attachment; filename="faktura-1.pdf"'
    assert pdf["X-Content-SHA256"] == hashlib.sha256(pdf.content).hexdigest()
    en = client.get(f"{BO}/invoices/{pk}/pdf/en/")
    assert en.status_code == 200 and en["Content-Disposition"] == 'attachment; filename="invoice-1.pdf"'
    ehf = client.get(f"{BO}/invoices/{pk}/ehf/")
    assert ehf.status_code == 200 and ehf["Content-Type"] == "application/xml"
    assert b"urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0" in ehf.content
    again = client.get(f"{BO}/invoices/{pk}/pdf/nb/")
    assert again.content == pdf.content  # stored once, the same bytes every time
    html = client.get(f"{BO}/invoices/{pk}/", **EN).content.decode()
    for response in (pdf, en, ehf):
        assert response["X-Content-SHA256"] in html
    assert in_tenant(spekter["tenant"], lambda: InvoiceFile.objects.count()) == 3
    assert client.get(f"{BO}/invoices/{pk}/pdf/de/").status_code == 400


# ---------------------------------------------------------------- issue and delete a draft


def test_a_manual_invoice_through_the_row_editor_then_issued(client, spekter):
    tenant, customer = spekter["tenant"], spekter["customer"]
    login(client, tenant, Role.FINANCE)
    assert client.get(f"{BO}/invoices/new/?customer={customer.pk}", **EN).status_code == 200
    added = client.post(
        f"{BO}/invoices/new/",
        {
            "customer": customer.pk,
            "line-count": "1",
            "line-0-description": "Kurs",
            "line-0-quantity": "2",
            "line-0-unit_price": "1 500,00",
            "action": "add:line",
        },
        **EN,
    )
    html = added.content.decode()
    assert added.status_code == 200 and 'name="line-1-description"' in html and 'value="1 500,00"' in html
    assert in_tenant(tenant, lambda: Invoice.objects.count()) == 1
    saved = client.post(
        f"{BO}/invoices/new/",
        {
            "customer": customer.pk,
            "contract": spekter["contract"].pk,
            "buyer_reference": "Ref 77",
            "line-count": "2",
            "line-0-description": "Kurs",
            "line-0-quantity": "2",
            "line-0-unit_price": "1 500,00",
            "line-1-description": "Reise",
            "line-1-quantity": "1",
            "line-1-unit_price": "800",
            "action": "save",
        },
    )
    with tenant_context(tenant):
        draft = Invoice.objects.get(status=InvoiceStatus.DRAFT)
        assert saved.status_code == 302 and saved["Location"] == f"{BO}/invoices/{draft.pk}/"
        assert list(draft.lines.values_list("description", "quantity", "unit_price", "net")) == [
            ("Kurs", D("2"), D("1500.00"), D("3000.00")),
            ("Reise", D("1"), D("800.00"), D("800.00")),
        ]
        assert (draft.buyer_reference, draft.contract_id, draft.number) == ("Ref 77", spekter["contract"].pk, None)
    with at(d(2026, 4, 1)):
        issued = client.post(f"{BO}/invoices/{draft.pk}/issue/", **EN)
    assert issued.status_code == 302
    with tenant_context(tenant):
        draft.refresh_from_db()
        assert (draft.status, draft.number, draft.issue_date, draft.due_date) == (
            InvoiceStatus.ISSUED,
            2,
            d(2026, 4, 1),
            d(2026, 5, 1),
        )
        assert (draft.net, draft.vat, draft.total) == (D("3800.00"), D("950.00"), D("4750.00"))
    follow = client.get(f"{BO}/invoices/{draft.pk}/", **EN).content.decode()
    assert "Invoice 2 issued" in follow


def test_manual_invoice_bad_input_shows_the_errors_and_writes_nothing(client, spekter):
    tenant, customer = spekter["tenant"], spekter["customer"]
    login(client, tenant, Role.OWNER)
    empty = client.post(f"{BO}/invoices/new/", {"customer": customer.pk, "line-count": "1"}, **EN)
    assert empty.status_code == 400 and "Add at least one line." in empty.content.decode()
    bad = client.post(
        f"{BO}/invoices/new/",
        {
            "customer": customer.pk,
            "line-count": "2",
            "line-0-description": "Kurs",
            "line-0-quantity": "1",
            "line-0-unit_price": "100",
            "line-1-description": "Reise",
            "line-1-quantity": "1",
            "line-1-unit_price": "abc",
        },
        **EN,
    )
    html = bad.content.decode()
    assert bad.status_code == 400
    assert 'id="err_line-1"' in html and "Give a number, e.g. 1000.00." in html and 'id="err_line-0"' not in html
    no_customer = client.post(f"{BO}/invoices/new/", {"line-count": "1", "line-0-description": "x"}, **EN)
    assert no_customer.status_code == 400 and "This field is required." in no_customer.content.decode()
    assert in_tenant(tenant, lambda: Invoice.objects.count()) == 1


def test_issuing_a_draft_without_lines_shows_the_error_and_takes_no_number(client, spekter):
    tenant = spekter["tenant"]
    with tenant_context(tenant):
        draft = Invoice.objects.create(customer=spekter["customer"], supplementary=True)
    login(client, tenant, Role.FINANCE)
    response = client.post(f"{BO}/invoices/{draft.pk}/issue/", **EN)
    assert response.status_code == 400
    assert "An invoice without lines cannot be issued." in response.content.decode()
    with tenant_context(tenant):
        draft.refresh_from_db()
        assert (draft.status, draft.number) == (InvoiceStatus.DRAFT, None)


def test_deleting_a_draft_after_confirming_and_an_issued_invoice_is_refused(client, spekter):
    tenant = spekter["tenant"]
    with tenant_context(tenant):
        draft = manual_invoice(spekter["customer"])
    login(client, tenant, Role.FINANCE)
    confirm = client.get(f"{BO}/invoices/{draft.pk}/delete/", **EN)
    assert confirm.status_code == 200 and "Yes, delete" in confirm.content.decode()
    response = client.post(f"{BO}/invoices/{draft.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == f"{BO}/"
    refused = client.post(f"{BO}/invoices/{spekter['invoice'].pk}/delete/", **EN)
    assert refused.status_code == 400
    assert "An issued invoice is never deleted; credit it instead." in refused.content.decode()
    with tenant_context(tenant):
        assert list(Invoice.objects.values_list("pk", flat=True)) == [spekter["invoice"].pk]
        assert AuditEvent.objects.filter(action="invoice.draft_delete").count() == 1


# ---------------------------------------------------------------- credit notes


def test_credit_in_full_after_the_confirmation_step(client, spekter):
    tenant, invoice = spekter["tenant"], spekter["invoice"]
    login(client, tenant, Role.FINANCE)
    form = client.get(f"{BO}/invoices/{invoice.pk}/credit/", **EN)
    assert form.status_code == 200
    data = {"mode": "full", "reason": "Feil skole"}
    with at(d(2026, 4, 2)):
        preview = client.post(f"{BO}/invoices/{invoice.pk}/credit/", {**data, "action": "preview"}, **EN)
        html = preview.content.decode()
        assert preview.status_code == 200 and "Check and confirm" in html and "NOK\u00a032,865.00" in html
        assert in_tenant(tenant, lambda: Invoice.objects.count()) == 1
        done = client.post(f"{BO}/invoices/{invoice.pk}/credit/", {**data, "action": "confirm"})
    with tenant_context(tenant):
        note = Invoice.objects.get(kind="credit_note")
        assert done.status_code == 302 and done["Location"] == f"{BO}/invoices/{note.pk}/"
        assert (note.number, note.total, note.credited_invoice_id, note.reason) == (
            2,
            D("32865.00"),
            invoice.pk,
            "Feil skole",
        )
        assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.CREDITED
    note_page = client.get(f"{BO}/invoices/{note.pk}/", **EN).content.decode()
    assert "Credit note 2 · Stavanger kommune" in note_page and f"/billing/invoices/{invoice.pk}/" in note_page
    credited = client.get(f"{BO}/invoices/{invoice.pk}/", **EN).content.decode()
    assert "Credit note 2" in credited and "Credited" in credited
    assert f"/billing/invoices/{invoice.pk}/credit/" not in credited  # nothing left to credit


def test_a_partial_credit_and_crediting_more_than_invoiced_is_refused(client, spekter):
    tenant, invoice = spekter["tenant"], spekter["invoice"]
    login(client, tenant, Role.OWNER)
    data = {"mode": "partial", "net_amount": "1 000,00", "reason": "Rabatt"}
    preview = client.post(f"{BO}/invoices/{invoice.pk}/credit/", {**data, "action": "preview"}, **EN)
    assert "NOK\u00a01,250.00" in preview.content.decode()  # 1 000.00 + 25 % VAT
    assert client.post(f"{BO}/invoices/{invoice.pk}/credit/", {**data, "action": "confirm"}).status_code == 302
    with tenant_context(tenant):
        invoice.refresh_from_db()
        assert (invoice.credited_amount, invoice.status) == (D("1250.00"), InvoiceStatus.ISSUED)
    too_much = client.post(
        f"{BO}/invoices/{invoice.pk}/credit/",
        {"mode": "partial", "net_amount": "30000", "reason": "For mye", "action": "confirm"},
        **EN,
    )
    html = too_much.content.decode()
    assert too_much.status_code == 400
    assert "You cannot credit more than what remains of the invoice: 31615.00 incl. VAT." in html
    assert 'id="id_net_amount_error"' in html
    missing = client.post(
        f"{BO}/invoices/{invoice.pk}/credit/", {"mode": "partial", "reason": "", "action": "preview"}, **EN
    )
    assert missing.status_code == 400
    assert "Give the net amount to credit" in missing.content.decode()
    with tenant_context(tenant):
        assert Invoice.objects.filter(kind="credit_note").count() == 1
        assert Invoice.objects.get(pk=invoice.pk).outstanding == D("31615.00")
    outstanding = client.get(f"{BO}/invoices/{invoice.pk}/", **EN).content.decode()
    assert "NOK\u00a031,615.00" in outstanding


# ---------------------------------------------------------------- payments


def test_register_payments_and_paying_a_credited_invoice_is_refused(client, spekter):
    tenant, invoice = spekter["tenant"], spekter["invoice"]
    login(client, tenant, Role.FINANCE)
    url = f"{BO}/invoices/{invoice.pk}/payments/"
    part = client.post(url, {"payment-amount": "10 000,00", "payment-paid_on": "2026-04-01", "payment-reference": "B1"})
    assert part.status_code == 302
    with tenant_context(tenant):
        invoice.refresh_from_db()
        assert (invoice.status, invoice.paid_amount) == (InvoiceStatus.PARTLY_PAID, D("10000.00"))
    too_much = client.post(url, {"payment-amount": "30000", "payment-paid_on": "2026-04-02"}, **EN)
    assert too_much.status_code == 400
    assert "The payment is more than what is outstanding: 22865.00." in too_much.content.decode()
    no_date = client.post(url, {"payment-amount": "100"}, **EN)
    assert no_date.status_code == 400 and 'id="id_payment-paid_on_error"' in no_date.content.decode()
    rest = client.post(url, {"payment-amount": "22865.00", "payment-paid_on": "2026-04-03"})
    assert rest.status_code == 302
    with tenant_context(tenant):
        invoice.refresh_from_db()
        assert (invoice.status, invoice.paid_amount) == (InvoiceStatus.PAID, D("32865.00"))
        assert list(Payment.objects.values_list("amount", "reference")) == [
            (D("10000.00"), "B1"),
            (D("22865.00"), ""),
        ]
    html = client.get(f"{BO}/invoices/{invoice.pk}/", **EN).content.decode()
    assert "Paid" in html and "Register a payment" not in html


def test_paying_a_credited_invoice_shows_the_error_and_writes_nothing(client, spekter):
    tenant, invoice = spekter["tenant"], spekter["invoice"]
    with tenant_context(tenant):
        services.credit_note_create(actor=ACTOR, invoice=invoice, on=d(2026, 4, 2), reason="Feil")
    login(client, tenant, Role.FINANCE)
    response = client.post(
        f"{BO}/invoices/{invoice.pk}/payments/", {"payment-amount": "100", "payment-paid_on": "2026-04-03"}, **EN
    )
    assert response.status_code == 400
    assert "This invoice is credited; it cannot be paid." in response.content.decode()
    with tenant_context(tenant):
        assert Payment.objects.count() == 0
        assert Invoice.objects.get(pk=invoice.pk).paid_amount == 0


# ---------------------------------------------------------------- the billing run


@pytest.fixture
def digireq_customers(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        contracts = [digireq_contract(plan, "month", name=f"K{i} AS") for i in range(2)]
    return {"tenant": tenant_a, "contracts": contracts}


def test_the_run_preview_writes_nothing_and_start_issues_the_invoices(client, digireq_customers):
    tenant = digireq_customers["tenant"]
    login(client, tenant, Role.FINANCE)
    page = client.get(f"{BO}/run/", **EN)
    assert page.status_code == 200 and "No billing runs yet." in page.content.decode()
    preview = client.post(f"{BO}/run/", {"as_of": "2026-02-19", "action": "preview"}, **EN)
    html = preview.content.decode()
    # Two monthly contracts from 2026-01-19: January and February each, 2 250.00 net per month.
    assert preview.status_code == 200
    assert "4 invoices from 2 contract(s) looked at" in html
    assert "Start: issue 4 invoices" in html
    assert html.count("K0 AS") == 2 and html.count("K1 AS") == 2
    assert "NOK\u00a011,250.00" in html  # 4 × 2 812.50
    with tenant_context(tenant):
        assert Invoice.objects.count() == 0 and BillingRun.objects.count() == 0
    start = client.post(f"{BO}/run/", {"as_of": "2026-02-19", "action": "start"}, **EN)
    assert start.status_code == 302 and start["Location"] == f"{BO}/run/?as_of=2026-02-19"
    with tenant_context(tenant):
        assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2, 3, 4]
        row = BillingRun.objects.get()
        assert (row.as_of, row.status, row.invoices_issued, row.contracts_seen) == (d(2026, 2, 19), "done", 4, 2)
    after = client.get(start["Location"], **EN).content.decode()
    assert "Billing run for 2026-02-19 done: 2 contract(s), 4 invoice(s) issued." in after
    assert "NOK\u00a011,250.00" in after  # total issued in the past runs table
    again = client.post(f"{BO}/run/", {"as_of": "2026-02-19", "action": "preview"}, **EN).content.decode()
    assert "Nothing is due on this date." in again


def test_the_run_reports_contracts_it_cannot_invoice(client, digireq_customers, monkeypatch):
    from billing import generator, views_backoffice

    real = run.preview
    first = digireq_customers["contracts"][0]

    def with_a_problem(on):
        result = real(on)
        result.proposals = [p for p in result.proposals if p.contract_id != first.pk]
        result.problems.append(generator.Problem(first.pk, first.reference, "Price on request: more than 1000 users"))
        return result

    monkeypatch.setattr(views_backoffice.run, "preview", with_a_problem)
    login(client, digireq_customers["tenant"], Role.OWNER)
    html = client.post(f"{BO}/run/", {"as_of": "2026-01-19", "action": "preview"}, **EN).content.decode()
    assert "1 contract cannot be invoiced" in html and "Price on request: more than 1000 users" in html
    assert f"/backoffice/alpha/contracts/{first.pk}/" in html
    assert "1 invoice from 2 contract(s) looked at" in html


def test_the_run_form_needs_a_date(client, digireq_customers):
    login(client, digireq_customers["tenant"], Role.OWNER)
    response = client.post(f"{BO}/run/", {"as_of": "", "action": "start"}, **EN)
    assert response.status_code == 400 and 'id="id_as_of_error"' in response.content.decode()
    assert in_tenant(digireq_customers["tenant"], lambda: BillingRun.objects.count()) == 0


# ---------------------------------------------------------------- time entries


@pytest.fixture
def hourly(spekter):
    with tenant_context(spekter["tenant"]):
        service = HourlyService.objects.create(
            code="konsulent", name_nb="Konsulent", name_en="Consultant", hourly_rate=D("1200.00")
        )
    return {**spekter, "service": service}


def test_record_time_and_delete_an_unbilled_entry(client, hourly):
    tenant, contract = hourly["tenant"], hourly["contract"]
    login(client, tenant, Role.SUPPORT)
    form = client.get(f"{BO}/time/?contract={contract.pk}", **EN)
    assert form.status_code == 200 and "Record time" in form.content.decode()
    data = {
        "contract": contract.pk,
        "service": hourly["service"].pk,
        "worked_on": "2026-03-25",
        "description": "Opplæring",
        "hours": "1,5",
        "travel_hours": "2",
        "expenses": "350",
        "expenses_description": "Bom",
    }
    response = client.post(f"{BO}/time/", data)
    assert response.status_code == 302
    with tenant_context(tenant):
        entry = TimeEntry.objects.get()
        assert (entry.hours, entry.travel_hours, entry.expenses, entry.invoice_id) == (
            D("1.50"),
            D("2.00"),
            D("350.00"),
            None,
        )
    listing = client.get(f"{BO}/time/?billed=no", **EN).content.decode()
    assert "Opplæring" in listing and "not yet invoiced" in listing
    assert "Opplæring" not in client.get(f"{BO}/time/?billed=yes", **EN).content.decode()
    detail = client.get(f"/backoffice/alpha/contracts/{contract.pk}/", **EN).content.decode()
    assert "Opplæring" in detail and "Time and expenses" in detail
    assert client.post(f"{BO}/time/{entry.pk}/delete/").status_code == 302
    assert in_tenant(tenant, lambda: TimeEntry.objects.count()) == 0


def test_time_entry_bad_input_shows_the_errors_and_writes_nothing(client, hourly):
    login(client, hourly["tenant"], Role.FINANCE)
    base = {
        "contract": hourly["contract"].pk,
        "service": hourly["service"].pk,
        "worked_on": "2026-03-25",
        "description": "Opplæring",
    }
    nothing = client.post(f"{BO}/time/", base, **EN)
    assert nothing.status_code == 400 and "Give hours, travel hours or expenses." in nothing.content.decode()
    expenses = client.post(f"{BO}/time/", {**base, "expenses": "100"}, **EN)
    html = expenses.content.decode()
    assert expenses.status_code == 400 and 'id="id_expenses_description_error"' in html
    bad = client.post(f"{BO}/time/", {**base, "hours": "mye"}, **EN)
    assert bad.status_code == 400 and 'id="id_hours_error"' in bad.content.decode()
    assert in_tenant(hourly["tenant"], lambda: TimeEntry.objects.count()) == 0


def test_a_billed_time_entry_cannot_be_deleted(client, hourly):
    tenant = hourly["tenant"]
    with tenant_context(tenant):
        entry = services.time_entry_create(
            actor=ACTOR,
            contract=hourly["contract"],
            service=hourly["service"],
            worked_on=d(2026, 3, 25),
            description="Opplæring",
            hours="1",
        )
        TimeEntry.objects.filter(pk=entry.pk).update(invoice=hourly["invoice"])
    login(client, tenant, Role.OWNER)
    response = client.post(f"{BO}/time/{entry.pk}/delete/", follow=True, **EN)
    assert "This time is already invoiced; credit the invoice instead." in response.content.decode()
    assert in_tenant(tenant, lambda: TimeEntry.objects.count()) == 1


# ---------------------------------------------------------------- the customer's and contract's pages


def test_customer_and_contract_pages_list_their_invoices(client, spekter):
    login(client, spekter["tenant"], Role.VIEWER)
    customer = spekter["customer"]
    html = client.get(f"/backoffice/alpha/customers/{customer.pk}/", **EN).content.decode()
    assert f"{BO}/invoices/{spekter['invoice'].pk}/" in html and "Invoice 1" in html
    html = client.get(f"/backoffice/alpha/contracts/{spekter['contract'].pk}/", **EN).content.decode()
    assert f"{BO}/invoices/{spekter['invoice'].pk}/" in html


# ---------------------------------------------------------------- isolation


def test_another_tenants_invoice_is_not_found(client, spekter, tenant_b):
    with tenant_context(tenant_b):
        theirs = manual_invoice(CustomerFactory(), issue_on=d(2026, 3, 1))
        draft = manual_invoice(CustomerFactory())
    login(client, spekter["tenant"], Role.OWNER)
    for pk in (theirs.pk, draft.pk):
        for path in ("", "pdf/nb/", "ehf/", "credit/", "delete/"):
            assert client.get(f"{BO}/invoices/{pk}/{path}").status_code == 404, path
        for path in ("issue/", "delete/", "credit/", "payments/", "send/"):
            assert client.post(f"{BO}/invoices/{pk}/{path}", {"mode": "full", "reason": "x"}).status_code == 404
    assert str(theirs.total) not in client.get(f"{BO}/?number={theirs.number}").content.decode()
    with tenant_context(tenant_b):
        assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.DRAFT
        assert Invoice.objects.count() == 2


def test_staff_of_another_tenant_get_404(client, spekter, tenant_b):
    login(client, tenant_b, Role.OWNER)
    assert client.get(f"{BO}/").status_code == 404
    assert client.get(f"{BO}/invoices/{spekter['invoice'].pk}/").status_code == 404


# ---------------------------------------------------------------- bounded queries


def _many(tenant, n):
    with tenant_context(tenant):
        customer = CustomerFactory()
        for i in range(n):
            invoice = manual_invoice(
                customer,
                lines=[{"description": f"L{j}", "quantity": "1", "unit_price": "10"} for j in range(3)],
                issue_on=d(2026, 3, 1),
            )
            if i % 2:
                services.payment_register(actor=ACTOR, invoice=invoice, amount="5.00", paid_on=d(2026, 3, 2))
                services.credit_note_create(
                    actor=ACTOR, invoice=invoice, on=d(2026, 3, 3), reason="x", net_amount="1.00"
                )
        return Invoice.objects.filter(kind="invoice").order_by("-id").first()


@pytest.mark.parametrize("n", [2, 24])
def test_list_and_detail_use_a_bounded_number_of_queries(client, tenant_a, n, django_assert_max_num_queries):
    last = _many(tenant_a, n)
    with tenant_context(tenant_a):
        for _i in range(n):  # payments and credit notes on the one invoice the detail shows
            services.payment_register(actor=ACTOR, invoice=last, amount="0.10", paid_on=d(2026, 3, 4))
    login(client, tenant_a, Role.OWNER)
    with django_assert_max_num_queries(12):
        assert client.get(f"{BO}/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"{BO}/invoices/{last.pk}/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(f"{BO}/run/").status_code == 200
    with django_assert_max_num_queries(17):
        assert client.get(f"/backoffice/alpha/customers/{last.customer_id}/").status_code == 200


# ---------------------------------------------------------------- sending (billing.delivery)


def test_send_by_e_mail_then_send_again_and_a_customer_without_a_channel_is_told_what_to_fix(client, spekter):
    from django.core import mail

    from billing.models import Delivery

    tenant, invoice = spekter["tenant"], spekter["invoice"]
    login(client, tenant, Role.FINANCE)
    first = client.post(f"{BO}/invoices/{invoice.pk}/send/")
    assert first.status_code == 302
    with tenant_context(tenant):
        delivery = Delivery.objects.get()
        assert (delivery.channel, delivery.status, delivery.recipient) == (
            "email",
            "sent",
            spekter["customer"].invoice_email,
        )
    assert len(mail.outbox) == 1
    html = client.get(f"{BO}/invoices/{invoice.pk}/", **EN).content.decode()
    assert "Delivered" in html and "PDF by e-mail" in html and "Send again" in html
    listing = client.get(f"{BO}/", **EN).content.decode()
    assert "Delivered" in listing and "Sent" in listing  # delivery status, and the invoice's own status
    assert client.post(f"{BO}/invoices/{invoice.pk}/send/").status_code == 302
    assert in_tenant(tenant, lambda: Delivery.objects.count()) == 2
    with tenant_context(tenant):
        type(spekter["customer"]).objects.filter(pk=spekter["customer"].pk).update(invoice_email="", peppol_endpoint="")
    refused = client.post(f"{BO}/invoices/{invoice.pk}/send/", **EN)
    assert refused.status_code == 400
    assert "has neither a Peppol endpoint (for EHF) nor an invoice e-mail address" in refused.content.decode()
    assert in_tenant(tenant, lambda: Delivery.objects.count()) == 2


def test_a_failed_delivery_shows_its_error_and_can_be_retried(client, spekter):
    from billing.models import Delivery

    tenant, invoice = spekter["tenant"], spekter["invoice"]
    with tenant_context(tenant):
        failed = Delivery.objects.create(
            invoice=invoice,
            channel="email",
            recipient=spekter["customer"].invoice_email,
            status="failed",
            attempts=2,
            last_error="SMTP 451: try later",
        )
    login(client, tenant, Role.OWNER)
    html = client.get(f"{BO}/invoices/{invoice.pk}/", **EN).content.decode()
    assert "SMTP 451: try later" in html and "Failed (will be retried)" in html and "Try again now" in html
    response = client.post(f"{BO}/invoices/{invoice.pk}/deliveries/{failed.pk}/retry/")
    assert response.status_code == 302
    with tenant_context(tenant):
        assert Delivery.objects.get(pk=failed.pk).status == "sent"
    login(client, tenant, Role.SALES)
    assert client.post(f"{BO}/invoices/{invoice.pk}/deliveries/{failed.pk}/retry/").status_code == 403


@pytest.mark.parametrize("n", [1, 30])
def test_the_time_page_uses_a_bounded_number_of_queries(client, hourly, n, django_assert_max_num_queries):
    with tenant_context(hourly["tenant"]):
        for i in range(n):
            services.time_entry_create(
                actor=ACTOR,
                contract=hourly["contract"],
                service=hourly["service"],
                worked_on=d(2026, 3, 25),
                description=f"Arbeid {i}",
                hours="1",
            )
    login(client, hourly["tenant"], Role.FINANCE)
    with django_assert_max_num_queries(14):
        response = client.get(f"{BO}/time/", **EN)
    assert response.status_code == 200 and f"{n} entr" in response.content.decode()
    with django_assert_max_num_queries(40):
        assert client.get(f"/backoffice/alpha/contracts/{hourly['contract'].pk}/").status_code == 200


def test_a_drafts_pdf_is_a_preview_and_an_ehf_for_a_buyer_without_org_number_shows_why(client, tenant_a):
    with tenant_context(tenant_a):
        draft = manual_invoice(CustomerFactory())
        no_org = manual_invoice(CustomerFactory(name="Ola Privat", org_number=""), issue_on=d(2026, 3, 1))
    login(client, tenant_a, Role.FINANCE)
    preview = client.get(f"{BO}/invoices/{draft.pk}/pdf/nb/")
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    assert preview["Content-Disposition"] == 'attachment; filename="faktura-utkast.pdf"'
    refused = client.get(f"{BO}/invoices/{no_org.pk}/ehf/", **EN)
    assert refused.status_code == 400
    assert "Ola Privat: EHF needs a Peppol id or a Norwegian organisation number" in refused.content.decode()
    with tenant_context(tenant_a):
        assert InvoiceFile.objects.count() == 0
