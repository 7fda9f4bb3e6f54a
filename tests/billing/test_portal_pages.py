"""Invoices in the customer portal: a customer sees its own invoices and credit notes (a kommune also its
schools'), with status, due date, KID, account and what is outstanding, and downloads them; drafts and other
customers' invoices are "not found" (404); bounded queries."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from billing import services
from billing.models import Invoice
from tenants.audit import Actor
from tenants.models import CustomerKind, PortalUser
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
d = dt.date
D = Decimal
ACTOR = Actor.system("test")
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
PORTAL = "/portal/alpha/invoices"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


MARCH_1 = d(2026, 3, 1)


def invoice_for(customer, *, issue_on=MARCH_1, unit_price="1000.00"):
    draft = services.invoice_manual_draft_create(
        actor=ACTOR, customer=customer, lines=[{"description": "Kurs", "quantity": "1", "unit_price": unit_price}]
    )
    if issue_on is None:
        return draft
    return services.invoice_issue(actor=ACTOR, invoice=draft, on=issue_on)


def portal_login(client, tenant, customer, email):
    with tenant_context(tenant):
        user = UserFactory(email=email)
        PortalUser.objects.create(customer=customer, user=user)
    client.force_login(user, backend=MODEL_BACKEND)
    return user


@pytest.fixture
def customers(tenant_a):
    """A kommune with a school, and a company; invoices 1 (kommune), 2 (school), 3 (company), a credit note
    4 for the kommune's invoice, and a draft for the kommune."""
    with tenant_context(tenant_a):
        # A kommune gives its reference ("Deres ref."): an EHF needs one (PEPPOL-EN16931-R003).
        kommune = CustomerFactory(name="Bergen kommune", kind=CustomerKind.KOMMUNE, invoice_reference="4410-OPPV")
        school = CustomerFactory(name="Nordnes skole", kind=CustomerKind.SCHOOL, parent=kommune)
        company = CustomerFactory(name="Fjord Data AS")
        own = invoice_for(kommune)
        schools = invoice_for(school, unit_price="200.00")
        other = invoice_for(company, unit_price="300.00")
        note = services.credit_note_create(
            actor=ACTOR, invoice=own, on=d(2026, 3, 2), reason="Rabatt", net_amount="100"
        )
        draft = invoice_for(kommune, issue_on=None)
        own.refresh_from_db()
    return {
        "tenant": tenant_a,
        "kommune": kommune,
        "school": school,
        "company": company,
        "own": own,
        "schools": schools,
        "other": other,
        "note": note,
        "draft": draft,
    }


def test_the_kommune_sees_its_own_and_its_schools_invoices_with_kid_account_and_outstanding(client, customers):
    portal_login(client, customers["tenant"], customers["kommune"], "kari@bergen.kommune.no")
    response = client.get(f"{PORTAL}/", **EN)
    html = response.content.decode()
    assert response.status_code == 200
    for key in ("own", "schools", "note"):
        assert f"{PORTAL}/{customers[key].pk}/" in html
    assert f"{PORTAL}/{customers['other'].pk}/" not in html and f"{PORTAL}/{customers['draft'].pk}/" not in html
    assert "Invoice 1" in html and "Invoice 2" in html and "Credit note 4" in html and "for invoice 1" in html
    assert customers["own"].kid in html and "8601 11 17947" in html
    assert "Nordnes skole" in html  # the school's invoice names the school
    assert "NOK\u00a01,125.00" in html  # outstanding on invoice 1: 1 250.00 − 125.00 credited
    assert "2026-03-31" in html  # due 30 days after 2026-03-01
    assert "Issued" in html


def test_the_detail_shows_payment_information_lines_and_credit_notes(client, customers):
    portal_login(client, customers["tenant"], customers["kommune"], "kari@bergen.kommune.no")
    own = customers["own"]
    html = client.get(f"{PORTAL}/{own.pk}/", **EN).content.decode()
    assert "Invoice 1" in html and own.kid in html and "8601 11 17947" in html
    assert "Kurs" in html and "1 × 1000.00 = 1000.00" in html  # the line's explanation
    assert "NOK\u00a0125.00" in html and "NOK\u00a01,125.00" in html  # credited and outstanding
    assert f"{PORTAL}/{customers['note'].pk}/" in html
    note = client.get(f"{PORTAL}/{customers['note'].pk}/", **EN).content.decode()
    assert "Credit note 4" in note and "Rabatt" in note and f"{PORTAL}/{own.pk}/" in note


def test_downloads_pdf_nb_en_and_ehf(client, customers):
    portal_login(client, customers["tenant"], customers["kommune"], "kari@bergen.kommune.no")
    pk = customers["own"].pk
    nb = client.get(f"{PORTAL}/{pk}/pdf/nb/")
    assert nb.status_code == 200 and nb.content.startswith(b"%PDF")
    assert nb["Content-Disposition"] == 'attachment; filename="faktura-1.pdf"'
    assert nb["X-Content-SHA256"] == hashlib.sha256(nb.content).hexdigest()
    en = client.get(f"{PORTAL}/{pk}/pdf/en/")
    assert en.status_code == 200 and en["Content-Disposition"] == 'attachment; filename="invoice-1.pdf"'
    ehf = client.get(f"{PORTAL}/{pk}/ehf/")
    assert ehf.status_code == 200 and ehf["Content-Type"] == "application/xml" and b"<Invoice" in ehf.content
    note = client.get(f"{PORTAL}/{customers['note'].pk}/pdf/nb/")
    assert note.status_code == 200 and note["Content-Disposition"] == 'attachment; filename="kreditnota-4.pdf"'


def test_a_school_sees_only_its_own_invoices(client, customers):
    portal_login(client, customers["tenant"], customers["school"], "rektor@nordnes.no")
    html = client.get(f"{PORTAL}/", **EN).content.decode()
    assert f"{PORTAL}/{customers['schools'].pk}/" in html
    assert f"{PORTAL}/{customers['own'].pk}/" not in html
    assert client.get(f"{PORTAL}/{customers['own'].pk}/").status_code == 404


def test_another_customers_invoice_and_a_draft_are_not_found(client, customers):
    portal_login(client, customers["tenant"], customers["company"], "ola@fjord.no")
    html = client.get(f"{PORTAL}/", **EN).content.decode()
    assert f"{PORTAL}/{customers['other'].pk}/" in html and "Bergen kommune" not in html
    for key in ("own", "schools", "note", "draft"):
        pk = customers[key].pk
        for path in ("", "pdf/nb/", "pdf/en/", "ehf/"):
            assert client.get(f"{PORTAL}/{pk}/{path}").status_code == 404, (key, path)
    client.logout()
    portal_login(client, customers["tenant"], customers["kommune"], "kari@bergen.kommune.no")
    assert client.get(f"{PORTAL}/{customers['draft'].pk}/").status_code == 404
    assert client.get(f"{PORTAL}/{customers['draft'].pk}/pdf/nb/").status_code == 404


def test_another_tenants_invoice_is_not_found(client, customers, tenant_b):
    with tenant_context(tenant_b):
        theirs = invoice_for(CustomerFactory())
    portal_login(client, customers["tenant"], customers["company"], "ola@fjord.no")
    assert client.get(f"{PORTAL}/{theirs.pk}/").status_code == 404
    assert client.get(f"{PORTAL}/{theirs.pk}/pdf/nb/").status_code == 404


def test_not_logged_in_goes_to_the_portal_login_and_staff_are_not_portal_users(client, customers):
    response = client.get(f"{PORTAL}/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/alpha/login/")


def test_the_portal_navigation_links_to_the_invoices(client, customers):
    portal_login(client, customers["tenant"], customers["company"], "ola@fjord.no")
    html = client.get("/portal/alpha/", **EN).content.decode()
    assert f'href="{PORTAL}/"' in html and "Our invoices" in html


@pytest.mark.parametrize("n", [1, 20])
def test_the_portal_pages_use_a_bounded_number_of_queries(client, tenant_a, n, django_assert_max_num_queries):
    with tenant_context(tenant_a):
        kommune = CustomerFactory(kind=CustomerKind.KOMMUNE)
        schools = [CustomerFactory(kind=CustomerKind.SCHOOL, parent=kommune) for _i in range(3)]
        invoices = [invoice_for(schools[i % 3]) for i in range(n)]
        for invoice in invoices[:3]:
            services.credit_note_create(actor=ACTOR, invoice=invoice, on=d(2026, 3, 2), reason="x", net_amount="1")
        assert Invoice.objects.count() >= n
    portal_login(client, tenant_a, kommune, "k@kommune.no")
    with django_assert_max_num_queries(10):
        assert client.get(f"{PORTAL}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"{PORTAL}/{invoices[0].pk}/").status_code == 200
