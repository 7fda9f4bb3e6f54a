"""End to end in headless Chromium, in Norwegian: finance staff open Innfordring (totals, age buckets, the overdue
list, reminders due, customers at risk), follow a bucket, open a customer's ledger, import a bank file and see its
result, resolve the unmatched payment and suspend the customer whose notice has run out; the paused DigiReq
customer sees on Betalinger what to pay, how, and the date its data will be deleted. Every page at 1280 and
390 px wide with nothing sticking out sideways; axe-core finds no "serious" or "critical" issue.

Screenshots go to var/screenshots/ and /tmp/collections-shots/.
"""

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from billing.models import IncomingPayment, IncomingPaymentStatus
from contracts import lifecycle
from contracts.models import Contract
from fakes.bank import Credit, camt054
from tenants.models import PortalUser
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.e2e.test_flows import assert_accessible
from tests.e2e.test_indexation_flows import WIDE_ELEMENTS, log_in, moment
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.receivables.test_pages import ON, build_book

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SLUG = "piscator-inn"
SHOTS = Path("/tmp/collections-shots")  # noqa: S108 — copies of the screenshots to look at


def shoot(page, name, screenshot_dir):
    """axe-core and a screenshot at 1280 px, then again at 390 px with nothing wider than the screen."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert_accessible(page, name, screenshot_dir)
    shutil.copy(screenshot_dir / f"{name}.png", SHOTS / f"{name}.png")
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate(WIDE_ELEMENTS)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 and not wide, wide
    assert_accessible(page, f"{name}-390", screenshot_dir)
    shutil.copy(screenshot_dir / f"{name}-390.png", SHOTS / f"{name}-390.png")
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def vendor(settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    tenant = TenantFactory(slug=SLUG, name="Piscator AS")
    with moment(ON):
        book = build_book(tenant)
    with tenant_context(tenant):
        MembershipFactory(role=Role.FINANCE, user__email="okonomi@piscator.no", user__full_name="Frida Finans")
        user = UserFactory(email="okonomi@fjorddata.no", full_name="Per Betaler")
        PortalUser.objects.create(customer=book["fjord"], user=user)
    return book


def test_collections_overview_ledger_bank_import_and_the_paused_customers_portal(
    live_server, browser, vendor, screenshot_dir, tmp_path
):
    backoffice = f"{live_server.url}/backoffice/{SLUG}"
    portal = f"{live_server.url}/portal/{SLUG}"
    staff_ctx = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    customer_ctx = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    staff, customer = staff_ctx.new_page(), customer_ctx.new_page()
    for p in (staff, customer):
        p.set_default_timeout(30_000)
    try:
        with moment(ON):
            # 1. The overview from the side nav.
            log_in(staff, f"{backoffice}/login/", "okonomi@piscator.no")
            staff.get_by_role("link", name="Innfordring", exact=True).click()
            staff.wait_for_url(f"{backoffice}/collections/")
            assert staff.get_by_role("heading", level=1).inner_text() == "Innfordring"
            stats = staff.inner_text("ul.stats")
            assert (
                "66\u00a0812,50\u00a0kr" in stats
                and "61\u00a0812,50\u00a0kr" in stats
                and "5\u00a0000,00\u00a0kr" in stats
            )
            risk = staff.inner_text("section[aria-labelledby=h-risk]")
            assert "venter på at dere stenger" in risk and "slettes 13.12.2025" in risk
            shoot(staff, "collections-overview", screenshot_dir)

            # 2. A bucket, then Bømlo's ledger.
            staff.get_by_role("link", name="61–90 dager").click()
            staff.wait_for_url(f"{backoffice}/collections/?bucket=61_90*")
            assert "Forfalte fakturaer: 61–90 dager" in staff.inner_text("section[aria-labelledby=h-overdue]")
            staff.locator("section[aria-labelledby=h-overdue]").get_by_role("link", name="Bømlo Rederi AS").click()
            staff.wait_for_url(f"{backoffice}/collections/customers/*/")
            assert staff.get_by_role("heading", level=1).inner_text() == "Reskontro for Bømlo Rederi AS"
            staff.get_by_text("Slik er renten beregnet").first.click()
            assert "× 62/365" in staff.inner_text("section[aria-labelledby=h-open]")
            shoot(staff, "collections-ledger", screenshot_dir)

            # 3. Import a bank file: the result, then the unmatched payment is kept as credit.
            staff.goto(f"{backoffice}/collections/bank/")
            data = camt054(
                account="86011117947",
                owner="Piscator AS",
                day=ON,
                credits=[
                    Credit(Decimal("4000.00"), vendor["tasta_invoices"]["90_plus"].kid, ON, "Tasta skole", "E2E-1")
                ],
            )
            upload = tmp_path / "camt054-1509.xml"
            upload.write_bytes(data)
            staff.set_input_files("#id_file", str(upload))
            staff.get_by_role("button", name="Importer", exact=True).click()
            staff.wait_for_url(f"{backoffice}/collections/bank/*/")
            result = staff.inner_text("ul.stats")
            assert "koblet via KID" in result and "4\u00a0000,00\u00a0kr" in result
            shoot(staff, "collections-bank-result", screenshot_dir)
            staff.goto(f"{backoffice}/collections/unmatched/")
            shoot(staff, "collections-unmatched", screenshot_dir)
            incoming = vendor["incoming"]
            staff.fill(f"#id_r{incoming.pk}-note", "Avtalt med kunden")
            staff.get_by_role("button", name="Behold som tilgode").click()
            staff.wait_for_url(f"{backoffice}/collections/unmatched/")
            assert "Alle innbetalinger fra banken er koblet." in staff.inner_text("main")

            # 4. Suspend the customer whose notice ran out.
            staff.goto(f"{backoffice}/collections/defaults/")
            shoot(staff, "collections-defaults", screenshot_dir)
            staff.get_by_role("button", name="Steng nå · Bømlo Rederi AS").click()
            staff.wait_for_url(f"{backoffice}/collections/defaults/")
            assert "er stengt" in staff.inner_text(".messages, main")

            # 5. The paused customer's Payments page.
            log_in(customer, f"{portal}/login/", "okonomi@fjorddata.no")
            customer.get_by_role("link", name="Betalinger", exact=True).click()
            customer.wait_for_url(f"{portal}/payments/")
            box = customer.inner_text("section.alert")
            assert "pauset fordi en faktura ikke er betalt" in box and "13.12.2025" in box
            assert "2\u00a0812,50\u00a0kr" in box
            assert "8601 11 17947" in customer.inner_text("section[aria-labelledby=h-pay]")
            shoot(customer, "portal-payments", screenshot_dir)
        with tenant_context(vendor["tenant"]):
            assert IncomingPayment.objects.get(pk=vendor["incoming"].pk).status == IncomingPaymentStatus.RESOLVED_CREDIT
            assert Contract.objects.get(pk=vendor["bomlo_contract"].pk).state == lifecycle.SUSPENDED
    finally:
        staff_ctx.close()
        customer_ctx.close()
