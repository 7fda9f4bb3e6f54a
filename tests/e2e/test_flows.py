"""End to end in headless Chromium: the back-office with Brønnøysund prefill, and the portal.

axe-core checks every page on the way; no "serious" or "critical" issue is allowed.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tenants.models import Customer, PortalUser
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory, MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def assert_accessible(page, name, screenshot_dir):
    page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    if bad:
        print(f"axe on {name}:\n" + results.generate_report())
    assert [(v["id"], v["impact"]) for v in bad] == [], name


@pytest.fixture
def vendor():
    tenant = TenantFactory(slug="pavakt-demo", name="Påvakt Demo AS")
    with tenant_context(tenant):
        staff = MembershipFactory(role=Role.SALES, user__email="selger@pavakt.no", user__full_name="Sara Selger").user
        kommune = CustomerFactory(name="Bergen kommune", kind="kommune", city="Bergen")
        CustomerFactory(name="Fjord Data AS", city="Stavanger")
        portal = UserFactory(email="kari@bergen.kommune.no", full_name="Kari Nordmann")
        PortalUser.objects.create(customer=kommune, user=portal)
    return {"tenant": tenant, "staff": staff, "kommune": kommune, "portal": portal}


def test_staff_creates_a_customer_with_bronnoysund_prefill_and_finds_it(
    live_server, page, vendor, brreg_fake, screenshot_dir
):
    base = f"{live_server.url}/backoffice/pavakt-demo"
    page.goto(f"{base}/")
    assert page.url == f"{base}/login/?next=/backoffice/pavakt-demo/"
    assert_accessible(page, "backoffice-login", screenshot_dir)
    page.get_by_label("E-post").fill("selger@pavakt.no")
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Oversikt"
    assert_accessible(page, "backoffice-dashboard", screenshot_dir)

    page.get_by_role("link", name="Kunder", exact=True).first.click()
    page.get_by_role("link", name="Ny kunde").click()
    page.wait_for_url(f"{base}/customers/new/")
    # Saving the empty form: the errors are listed at the top and beside each field.
    page.get_by_label("Organisasjonsnummer").fill("937620188")
    page.get_by_role("button", name="Lagre kunde").click()
    assert page.locator("#error-summary").is_visible()
    assert page.get_attribute("#id_org_number", "aria-invalid") == "true"
    assert page.get_attribute("#id_name", "aria-describedby") == "id_name_error"
    assert_accessible(page, "backoffice-customer-errors", screenshot_dir)
    page.get_by_label("Organisasjonsnummer").fill("937620187")
    page.get_by_role("button", name="Hent fra Brønnøysund").click()
    name_field = page.get_by_label("Navn", exact=False).first
    page.wait_for_function("document.querySelector('#id_name').value !== ''")
    assert page.input_value("#id_name") == "PÅVAKT AS"
    assert page.input_value("#id_kind") == "company"
    assert "Funnet i Brønnøysund" in page.locator("#lookup-status").inner_text()
    assert name_field.is_visible()
    assert_accessible(page, "backoffice-customer-prefilled", screenshot_dir)

    page.get_by_role("button", name="Lagre kunde").click()
    page.wait_for_url(f"{base}/customers/*/")
    assert page.get_by_role("heading", level=1).inner_text() == "PÅVAKT AS"
    assert "Bekreftet i Brønnøysund" in page.content()
    assert_accessible(page, "backoffice-customer-detail", screenshot_dir)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page, "backoffice-customer-detail-mobile", screenshot_dir)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{base}/customers/")
    page.get_by_label("Søk").fill("påvakt")
    page.wait_for_function("document.querySelectorAll('#results tbody tr').length === 1")
    assert page.locator("#results tbody tr").first.locator("td").first.inner_text() == "PÅVAKT AS"
    assert "q=p%C3%A5vakt" in page.url or "q=påvakt" in page.url  # htmx pushed the search into the URL
    assert_accessible(page, "backoffice-customer-search", screenshot_dir)

    with tenant_context(vendor["tenant"]):
        saved = Customer.objects.get(org_number="937620187")
        assert (saved.name, saved.kind, saved.verification) == ("PÅVAKT AS", "company", "verified")


def test_the_form_without_javascript_still_prefills(live_server, browser, vendor, brreg_fake, screenshot_dir):
    context = browser.new_context(java_script_enabled=False, locale="nb-NO")
    page = context.new_page()
    base = f"{live_server.url}/backoffice/pavakt-demo"
    page.goto(f"{base}/login/")
    page.fill("#id_email", "selger@pavakt.no")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/customers/new/")
    page.fill("#id_org_number", "937620187")
    page.click("#brreg-lookup")
    assert page.input_value("#id_name") == "PÅVAKT AS"
    context.close()


def test_a_customer_logs_into_the_portal_and_sees_their_organisation(live_server, page, vendor, screenshot_dir):
    base = f"{live_server.url}/portal/pavakt-demo"
    page.goto(f"{base}/login/")
    assert_accessible(page, "portal-login", screenshot_dir)
    page.get_by_label("E-post").fill("kari@bergen.kommune.no")
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Bergen kommune"
    assert "Fjord Data AS" not in page.content()
    assert_accessible(page, "portal-profile", screenshot_dir)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page, "portal-profile-mobile", screenshot_dir)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Kontakter", exact=True).first.click()
    page.wait_for_url(f"{base}/contacts/")
    assert_accessible(page, "portal-contacts", screenshot_dir)


def test_the_front_page_lists_the_vendor(live_server, page, vendor, screenshot_dir):
    page.goto(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Påvakt Demo AS").is_visible()
    assert_accessible(page, "home", screenshot_dir)


def test_the_owner_pages_are_accessible(live_server, page, vendor, screenshot_dir):
    with tenant_context(vendor["tenant"]):
        owner = MembershipFactory(role=Role.OWNER, user__email="eier@pavakt.no").user
    base = f"{live_server.url}/backoffice/pavakt-demo"
    page.goto(f"{base}/login/")
    page.fill("#id_email", owner.email)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/api-keys/")
    page.get_by_label("Navn").fill("Regnskap")
    page.get_by_role("button", name="Lag nøkkel").click()
    assert page.input_value("#raw-key").startswith("avt_pavakt-demo_")
    assert_accessible(page, "backoffice-api-key-created", screenshot_dir)
    for path, name in [
        ("staff/", "backoffice-staff"),
        ("api-keys/", "backoffice-api-keys"),
        ("audit/", "backoffice-audit"),
        ("settings/", "backoffice-settings"),
        (f"customers/{vendor['kommune'].pk}/", "backoffice-kommune"),
    ]:
        page.goto(f"{base}/{path}")
        assert_accessible(page, name, screenshot_dir)
