"""The portal's Payments page (issue 11, item 6): what the customer owes and how to pay each invoice (account, KID,
amount), the reminders it was sent (its own PDFs only), late-payment interest with its calculation, and the box
that says an account is paused or suspended for non-payment, since when, what to pay and when data is deleted."""

from __future__ import annotations

import pytest

from receivables.models import Reminder
from tenants.models import PortalUser
from tenants.tenancy import tenant_context
from tests.factories import UserFactory
from tests.receivables.test_pages import EN, MODEL_BACKEND, ON, at, build_book, no_codes

pytestmark = pytest.mark.django_db
PORTAL = "/portal/alpha/payments"


@pytest.fixture
def book(tenant_a):
    with at(ON):
        return build_book(tenant_a)


def portal_login(client, tenant, customer, email):
    with tenant_context(tenant):
        user = UserFactory(email=email)
        PortalUser.objects.create(customer=customer, user=user)
    client.force_login(user, backend=MODEL_BACKEND)
    return user


def test_a_paused_customer_sees_what_to_pay_how_and_when_its_data_is_deleted(client, book):
    portal_login(client, book["tenant"], book["fjord"], "okonomi@fjorddata.no")
    with at(ON):
        response = client.get(f"{PORTAL}/")
    html = response.content.decode()
    assert response.status_code == 200
    no_codes(html)
    assert "er pauset fordi en faktura ikke er betalt" in html
    assert "Kontoen deres har vært pauset siden 14.09.2025." in html
    assert "Dataene deres slettes 13.12.2025 hvis fakturaen ikke er betalt innen da." in html
    assert "Tilgangen kommer tilbake så snart betalingen er mottatt" in html
    assert "Å betale nå: 2\u00a0812,50\u00a0kr" in html
    # How to pay: the vendor's account and the invoice's KID and amount.
    assert "8601 11 17947" in html and book["unpaid"].kid in html
    assert f"/portal/alpha/invoices/{book['unpaid'].pk}/" in html
    # Interest with its calculation; the reminders it was sent, with PDFs.
    assert "Forsinkelsesrente" in html and "Slik er det beregnet" in html and "/365" in html
    with tenant_context(book["tenant"]):
        reminder = Reminder.objects.filter(customer=book["fjord"]).first()
    assert reminder is not None and f"{PORTAL}/reminders/{reminder.pk}/pdf/" in html
    # Nothing of the other customers.
    assert "Bømlo" not in html and "Tasta" not in html
    pdf = client.get(f"{PORTAL}/reminders/{reminder.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_customer_under_notice_of_suspension_is_told_the_date_in_english(client, book):
    portal_login(client, book["tenant"], book["bomlo"], "finance@bomlo.no")
    with at(ON):
        html = client.get(f"{PORTAL}/", **EN).content.decode()
    no_codes(html)
    assert "will be suspended unless you pay" in html
    assert "We sent you a notice on 2025-07-29." in html and "The service stops on 2025-08-18" in html
    assert "To pay now: NOK\u00a050,000.00" in html
    assert "Reminders we have sent" in html and "Payment reminder" in html
    assert "reminder fee NOK\u00a035.00" in html
    assert "Betal" not in html and "Faktura" not in html


def test_a_customer_with_nothing_overdue_sees_no_alarm(client, book):
    from tests.factories import CustomerFactory

    with tenant_context(book["tenant"]):
        quiet = CustomerFactory(name="Stille AS")
    portal_login(client, book["tenant"], quiet, "stille@example.no")
    with at(ON):
        html = client.get(f"{PORTAL}/").content.decode()
    assert "Dere har ingenting igjen å betale. Takk!" in html
    assert "pauset" not in html and "stengt" not in html
    nav = client.get("/portal/alpha/").content.decode()
    assert f'href="{PORTAL}/"' in nav


def test_a_customer_cannot_download_another_customers_reminder(client, book, tenant_b):
    portal_login(client, book["tenant"], book["tasta"], "post@tasta.no")
    with tenant_context(book["tenant"]):
        other = Reminder.objects.filter(customer=book["bomlo"]).first()
        own = Reminder.objects.filter(customer=book["tasta"]).first()
    assert client.get(f"{PORTAL}/reminders/{other.pk}/pdf/").status_code == 404
    assert client.get(f"{PORTAL}/reminders/{own.pk}/pdf/").status_code == 200
    # Nor through another vendor's portal.
    assert client.get(f"/portal/beta/payments/reminders/{own.pk}/pdf/").status_code == 404


def test_the_page_needs_a_portal_login(client, book):
    response = client.get(f"{PORTAL}/")
    assert response.status_code == 302 and "/portal/alpha/login/" in response["Location"]


def test_interest_past_the_last_known_rate_is_said_to_wait_not_shown_as_none(client, tenant_a):
    """The statutory rate table ends with 2026's first half-year: a claim running past it is not guessed."""
    import datetime as dt

    from tests.factories import CustomerFactory
    from tests.receivables.test_pages import invoice_for

    with tenant_context(tenant_a):
        customer = CustomerFactory(name="Sen Betaler AS")
        invoice_for(customer, dt.date(2026, 7, 15), "4000.00")
    portal_login(client, tenant_a, customer, "sen@betaler.no")
    with at(dt.date(2026, 8, 20)):
        html = client.get(f"{PORTAL}/").content.decode()
    assert "Forsinkelsesrente fra 01.07.2026 er ikke beregnet ennå" in html
    assert "Ingen forsinkelsesrente." not in html
