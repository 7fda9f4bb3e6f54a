"""End to end in headless Chromium: the price calculator in the back-office and in the portal, and
axe-core on the catalogue, plan, version, new-version and calculator pages (no serious/critical issue)."""

import datetime as dt

import pytest

from pricing.models import PlanVersion, Quote
from tenants.models import CustomerKind, PortalUser
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.e2e.test_flows import PASSWORD, assert_accessible
from tests.factories import CustomerFactory, MembershipFactory, TenantFactory, UserFactory
from tests.pricing.test_pages import load_plans

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def vendor():
    tenant = TenantFactory(slug="spekter-demo", name="Spekter Demo AS")
    plans = load_plans(tenant)
    with tenant_context(tenant):
        finance = MembershipFactory(role=Role.FINANCE, user__email="okonomi@spekter.no").user
        kommune = CustomerFactory(name="Nordby kommune", kind=CustomerKind.KOMMUNE)
        portal = UserFactory(email="kari@nordby.kommune.no", full_name="Kari Nordmann")
        PortalUser.objects.create(customer=kommune, user=portal)
    return {"tenant": tenant, "plans": plans, "finance": finance, "kommune": kommune, "portal": portal}


def log_in(page, base, email):
    page.goto(f"{base}/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_staff_prices_spekters_three_schools_and_saves_the_quote(live_server, page, vendor, screenshot_dir):
    base = f"{live_server.url}/backoffice/spekter-demo"
    log_in(page, base, "okonomi@spekter.no")
    page.get_by_role("link", name="Priskalkulator").click()
    page.wait_for_url(f"{base}/calculator/")
    page.select_option("#id_plan_choice", "spekter-2020")
    page.wait_for_function("document.querySelector('#id_school-0-pupils') !== null")
    page.wait_for_load_state("networkidle")
    assert_accessible(page, "backoffice-calculator", screenshot_dir)

    page.select_option("#id_customer", label="Nordby kommune")
    for i, (name, pupils) in enumerate(
        (("Nordby skole", "87"), ("Sørby skole", "240"), ("Vestby ungdomsskole", "1100"))
    ):
        if i:
            page.get_by_role("button", name="Legg til skole").click()
            page.wait_for_selector(f"#id_school-{i}-name")
        page.fill(f"#id_school-{i}-name", name)
        page.fill(f"#id_school-{i}-pupils", pupils)
    page.get_by_role("button", name="Beregn", exact=True).click()
    page.wait_for_selector("#result")
    total = page.locator("#result [data-total=total]").first.inner_text()
    assert total == "32\u00a0865,00\u00a0kr"
    assert page.locator("#result [data-total=net]").first.inner_text() == "26\u00a0292,00\u00a0kr"
    assert "1\u00a0100 elever: trinn 1001–1250 gir 18\u00a0525,00" in page.locator("#result").inner_text()
    assert "Anskaffelsesregelverket" in page.locator("#result").inner_text()
    assert_accessible(page, "backoffice-calculator-result", screenshot_dir)

    # A school with 0 pupils: the message beside the row, nothing priced or saved.
    page.fill("#id_school-1-pupils", "0")
    page.get_by_role("button", name="Lagre tilbud").click()
    page.wait_for_selector("#error-summary")
    assert "Antall elever må være minst 1" in page.locator("#err_school-1").inner_text()
    assert page.get_attribute("#id_school-1-pupils", "aria-invalid") == "true"
    assert_accessible(page, "backoffice-calculator-errors", screenshot_dir)
    page.fill("#id_school-1-pupils", "240")
    page.get_by_role("button", name="Lagre tilbud").click()
    page.wait_for_url(f"{base}/quotes/*/")
    assert "32\u00a0865,00\u00a0kr" in page.locator("#result").inner_text()
    assert_accessible(page, "backoffice-quote-detail", screenshot_dir)
    with tenant_context(vendor["tenant"]):
        quote = Quote.objects.get()
        assert (quote.customer_id, str(quote.total)) == (vendor["kommune"].pk, "32865.00")


def test_the_catalogue_and_plan_pages_are_accessible(live_server, page, vendor, screenshot_dir):
    base = f"{live_server.url}/backoffice/spekter-demo"
    log_in(page, base, "okonomi@spekter.no")
    plans = vendor["plans"]
    with tenant_context(vendor["tenant"]):
        spekter = plans["spekter"].versions.get()
        sn = plans["standard-norge"].versions.get()
    for path, name in [
        ("catalog/", "backoffice-catalogue"),
        ("catalog/standards/", "backoffice-standards"),
        ("plans/", "backoffice-plans"),
        (f"plans/{plans['spekter'].pk}/", "backoffice-plan"),
        (f"plans/versions/{spekter.pk}/", "backoffice-version-spekter"),
        (f"plans/versions/{sn.pk}/", "backoffice-version-standard-norge"),
        ("quotes/", "backoffice-quotes"),
        ("calculator/?plan=standard-norge-abonnement", "backoffice-calculator-standard-norge"),
    ]:
        page.goto(f"{base}/{path}")
        assert_accessible(page, name, screenshot_dir)

    # The new-version editor: a gap is refused naming the row; then saved.
    page.goto(f"{base}/plans/{plans['spekter'].pk}/versions/new/")
    assert_accessible(page, "backoffice-version-new", screenshot_dir)
    page.fill("#id_valid_from", "2027-01-01")
    page.fill("#id_c0-1-lower", "102")
    page.get_by_role("button", name="Lagre versjon").click()
    page.wait_for_selector("#error-summary")
    assert "Hull før trinn 2" in page.locator("#err_c0-1").inner_text()
    assert_accessible(page, "backoffice-version-new-errors", screenshot_dir)
    page.fill("#id_c0-1-lower", "101")
    page.fill("#id_c0-0-flat_amount", "2990")
    page.get_by_role("button", name="Lagre versjon").click()
    page.wait_for_url(f"{base}/plans/versions/*/")
    with tenant_context(vendor["tenant"]):
        saved = PlanVersion.objects.get(plan=plans["spekter"], valid_from=dt.date(2027, 1, 1))
        assert saved.document["components"][0]["tiers"][0]["flat_amount"] == "2990"

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/calculator/?plan=spekter-2020")
    assert_accessible(page, "backoffice-calculator-mobile", screenshot_dir)


def test_a_customer_uses_the_portal_calculator(live_server, page, vendor, screenshot_dir):
    base = f"{live_server.url}/portal/spekter-demo"
    log_in(page, base, "kari@nordby.kommune.no")
    page.get_by_role("link", name="Priser", exact=True).click()
    page.wait_for_url(f"{base}/prices/")
    page.select_option("#id_plan_choice", "digireq-2026")
    page.wait_for_function("document.querySelector('#id_qty_active_users') !== null")
    page.wait_for_load_state("networkidle")
    page.select_option("#id_interval", "year")
    page.fill("#id_qty_active_users", "30")
    page.get_by_role("button", name="Beregn", exact=True).click()
    page.wait_for_selector("#result")
    # 30 users × 75 = 2 250 a month; annual: 12 × 2 250 × 0.85 = 22 950; 25 % VAT → 28 687,50.
    assert page.locator("#result [data-total=total]").first.inner_text() == "28\u00a0687,50\u00a0kr"
    assert "Lagre tilbud" not in page.content()
    assert_accessible(page, "portal-calculator", screenshot_dir)
    page.get_by_role("link", name="Våre tilbud").click()
    page.wait_for_url(f"{base}/quotes/")
    assert_accessible(page, "portal-quotes", screenshot_dir)
    with tenant_context(vendor["tenant"]):
        assert Quote.objects.count() == 0
