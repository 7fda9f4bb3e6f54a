"""End to end in headless Chromium: finance staff preview and start the billing run, open the invoice,
download its PDF, credit it in part and register a payment (by keyboard); the kommune sees the invoice in
the portal and downloads it. axe-core checks every page: no "serious" or "critical" issue.

Screenshots go to var/screenshots/ and /tmp/shots/. The pages are shown in English (the new billing texts
are translated to Bokmål by the lead at the end).
"""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from billing.models import Invoice, Payment
from tenants.models import PortalUser, Tenant
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.billing.test_services import spekter_contract
from tests.contracts.conftest import plan_for
from tests.e2e.test_flows import PASSWORD, assert_accessible
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SLUG = "spekter-billing"
SHOTS = Path("/tmp/shots")  # noqa: S108 — the brief asks for copies of the screenshots here


def moment(day: dt.date, hour: int = 10):
    return time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0))), tick=True)


@pytest.fixture
def vendor(settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    tenant = TenantFactory(slug=SLUG, name="Læringsmiljøsenteret")
    with tenant_context(tenant):
        contract = spekter_contract(plan_for("spekter"))  # signed 2026-03-15, DPA 2026-03-20
        MembershipFactory(role=Role.FINANCE, user__email="okonomi@spekter.no", user__full_name="Frida Finans")
        user = UserFactory(email="olav@stavanger.kommune.no", full_name="Olav Innkjøp")
        PortalUser.objects.create(customer=contract.customer, user=user)
    return {"tenant": tenant, "contract": contract}


def shoot(page, name, screenshot_dir):
    assert_accessible(page, name, screenshot_dir)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot_dir / f"{name}.png", SHOTS / f"{name}.png")


def log_in(page, url, email):
    page.goto(url)
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/login/" not in page.url


def the_invoice():
    with tenant_context(Tenant.objects.get(slug=SLUG)):
        return Invoice.objects.get(kind="invoice")


def test_billing_run_invoice_pdf_partial_credit_payment_and_the_portal(live_server, browser, vendor, screenshot_dir):
    backoffice = f"{live_server.url}/backoffice/{SLUG}"
    portal = f"{live_server.url}/portal/{SLUG}"
    staff_ctx = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    customer_ctx = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    staff, customer = staff_ctx.new_page(), customer_ctx.new_page()
    for p in (staff, customer):
        p.set_default_timeout(30_000)
    try:
        with moment(dt.date(2026, 3, 20)):
            # 1. Preview the billing run: what would be invoiced, nothing written.
            log_in(staff, f"{backoffice}/login/", "okonomi@spekter.no")
            staff.get_by_role("link", name="Billing run").click()
            staff.wait_for_url(f"{backoffice}/billing/run/")
            assert staff.input_value("#id_as_of") == "2026-03-20"
            shoot(staff, "billing-run", screenshot_dir)
            staff.get_by_role("button", name="Preview").click()
            staff.wait_for_selector("#preview")
            preview = staff.inner_text("#preview")
            assert "1 invoice from 1 contract(s) looked at" in preview
            assert "Stavanger kommune" in preview and "NOK\u00a032,865.00" in preview
            shoot(staff, "billing-run-preview", screenshot_dir)
            with tenant_context(vendor["tenant"]):
                assert Invoice.objects.count() == 0

            # 2. Start it: the invoice is issued.
            staff.get_by_role("button", name="Start: issue 1 invoice").click()
            staff.wait_for_selector(
                "text=Billing run for 2026-03-20 done: 1 contract(s), 1 invoice(s) issued.", timeout=90_000
            )
            shoot(staff, "billing-run-done", screenshot_dir)
            invoice = the_invoice()
            assert (invoice.number, invoice.total) == (1, Decimal("32865.00"))

            # 3. The list and the invoice.
            staff.get_by_role("link", name="Invoices", exact=True).first.click()
            staff.wait_for_url(f"{backoffice}/billing/")
            shoot(staff, "invoice-list", screenshot_dir)
            staff.get_by_role("link", name="1 · Stavanger kommune").click()
            staff.wait_for_url(f"{backoffice}/billing/invoices/{invoice.pk}/")
            assert staff.get_by_role("heading", level=1).inner_text() == "Invoice 1 · Stavanger kommune"
            shoot(staff, "invoice-detail", screenshot_dir)

            # 4. Download the PDF.
            with staff.expect_download() as download_info:
                staff.get_by_role("link", name="PDF (Norwegian)").click()
            download = download_info.value
            assert download.suggested_filename == "faktura-1.pdf"
            assert Path(download.path()).read_bytes().startswith(b"%PDF")
            staff.reload()
            assert "SHA-256" in staff.inner_text("section[aria-labelledby=h-files]")

            # 5. Credit 1 000 kr net, by keyboard: the radio with Space, the fields typed.
            staff.get_by_role("link", name="Credit", exact=True).click()
            staff.wait_for_url(f"{backoffice}/billing/invoices/{invoice.pk}/credit/")
            staff.focus("#id_mode_1")
            staff.keyboard.press("Space")
            assert staff.is_checked("#id_mode_1")
            staff.focus("#id_net_amount")
            staff.keyboard.type("1000")
            staff.keyboard.press("Tab")
            staff.keyboard.type("Rabatt for sen oppstart")
            staff.keyboard.press("Enter")  # submits the form with its first button: Continue
            staff.wait_for_selector("#credit-preview")
            assert "NOK\u00a01,250.00" in staff.inner_text("#credit-preview")
            shoot(staff, "credit-confirm", screenshot_dir)
            staff.get_by_role("button", name="Confirm: issue the credit note").click()
            staff.wait_for_selector("text=Credit note 2 issued for invoice 1")
            assert staff.get_by_role("heading", level=1).inner_text() == "Credit note 2 · Stavanger kommune"
            shoot(staff, "credit-note-detail", screenshot_dir)

            # 6. Register a payment on the invoice (keyboard: type and Enter).
            staff.get_by_role("link", name="Invoice 1").first.click()
            staff.wait_for_url(f"{backoffice}/billing/invoices/{invoice.pk}/")
            assert "NOK\u00a031,615.00" in staff.inner_text("#outstanding")
            staff.focus("#id_payment-amount")
            staff.keyboard.type("10000,00")
            staff.fill("#id_payment-reference", "Bank 2026-03-20")
            staff.focus("#id_payment-reference")
            staff.keyboard.press("Enter")
            staff.wait_for_selector("text=Payment of NOK\u00a010,000.00 registered.")
            assert "NOK\u00a021,615.00" in staff.inner_text("#outstanding")
            assert "Partly paid" in staff.inner_text("main")
            shoot(staff, "invoice-paid-partly", screenshot_dir)
            with tenant_context(vendor["tenant"]):
                assert list(Payment.objects.values_list("amount", "paid_on")) == [
                    (Decimal("10000.00"), dt.date(2026, 3, 20))
                ]

            # 7. The other billing pages pass axe too: a new manual invoice (a row added) and time.
            staff.get_by_role("link", name="Invoices", exact=True).first.click()
            staff.get_by_role("link", name="New invoice").click()
            staff.wait_for_url(f"{backoffice}/billing/invoices/new/")
            staff.fill("#id_line-0-description", "Kurs")
            staff.get_by_role("button", name="Add line").click()
            staff.wait_for_selector("#id_line-1-description")
            assert staff.input_value("#id_line-0-description") == "Kurs"
            # Focus moves to the new row once htmx has settled the swap (it fails after the timeout otherwise).
            staff.wait_for_function("document.activeElement && document.activeElement.id === 'id_line-1-description'")
            shoot(staff, "invoice-new", screenshot_dir)
            staff.select_option("#id_customer", label="Stavanger kommune")
            staff.fill("#id_line-0-unit_price", "500")
            staff.focus("#id_line-0-unit_price")
            staff.keyboard.press("Enter")  # Enter saves the draft (it does not remove a row)
            staff.wait_for_selector("text=Draft saved. Check it and issue it.")
            with tenant_context(vendor["tenant"]):
                draft = Invoice.objects.get(status="draft")
                assert list(draft.lines.values_list("description", "net")) == [("Kurs", Decimal("500.00"))]
            staff.get_by_role("link", name="Time", exact=True).click()
            staff.wait_for_url(f"{backoffice}/billing/time/")
            shoot(staff, "time-entries", screenshot_dir)
            staff.get_by_role("link", name="Invoicing settings").click()
            staff.wait_for_url(f"{backoffice}/billing/settings/")
            assert "MOD10" in staff.inner_text("main")  # finance reads the choice; owners and admins change it
            shoot(staff, "billing-settings", screenshot_dir)

            # 8. The customer sees it in the portal and downloads it.
            log_in(customer, f"{portal}/login/", "olav@stavanger.kommune.no")
            customer.get_by_role("link", name="Our invoices").click()
            customer.wait_for_url(f"{portal}/invoices/")
            table = customer.inner_text("main table")
            assert "Invoice 1" in table and "Credit note 2" in table and invoice.kid in table
            assert "Draft" not in table  # the draft made above is not shown to the customer
            assert "NOK\u00a021,615.00" in table and "Partly paid" in table
            shoot(customer, "portal-invoices", screenshot_dir)
            customer.get_by_role("link", name="Invoice 1", exact=True).click()
            customer.wait_for_url(f"{portal}/invoices/{invoice.pk}/")
            assert "8601 11 17947" in customer.inner_text("main")
            shoot(customer, "portal-invoice-detail", screenshot_dir)
            with customer.expect_download() as download_info:
                customer.get_by_role("link", name="EHF (XML)").click()
            assert b"<Invoice" in Path(download_info.value.path()).read_bytes()
    finally:
        staff_ctx.close()
        customer_ctx.close()
