"""End to end in headless Chromium: a kommune orders Spekter for two schools in the portal, staff send the
contract, the customer signs it, the owner signs the DPA, staff tick Feide, and — nine months later —
the customer gives a late notice and is told the date it takes effect before confirming.

The clock is moved with time-machine (the live server runs in this process). axe-core checks every
page; no "serious" or "critical" issue is allowed. Screenshots go to var/screenshots/.
"""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from contracts import lifecycle
from contracts.models import Contract, OnboardingStep, Signature, TerminationNotice
from tenants.models import PortalUser
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.contracts.conftest import plan_for
from tests.e2e.test_flows import PASSWORD, assert_accessible
from tests.factories import CustomerFactory, MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SLUG = "spekter-e2e"


def moment(day: dt.date, hour: int = 10):
    return time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0))), tick=True)


@pytest.fixture
def spekter_vendor(settings):
    # Session cookies without an expiry date: the browser's clock is not moved, the server's is.
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    tenant = TenantFactory(slug=SLUG, name="Læringsmiljøsenteret")
    with tenant_context(tenant):
        plan_for("spekter")
        staff = MembershipFactory(role=Role.SALES, user__email="salg@spekter.no", user__full_name="Siri Salg").user
        kommune = CustomerFactory(
            name="Stavanger kommune", kind="kommune", org_number="944387234", city="Stavanger", postal_code="4068"
        )
        user = UserFactory(email="olav@stavanger.kommune.no", full_name="Olav Innkjøp")
        PortalUser.objects.create(customer=kommune, user=user)
    return {"tenant": tenant, "staff": staff, "kommune": kommune}


def log_in(page, url, email):
    page.goto(url)
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/login/" not in page.url


def contract_in_db():
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(slug=SLUG)):
        return Contract.objects.select_related("customer").get()


def test_order_send_sign_dpa_feide_and_a_late_notice(live_server, browser, spekter_vendor, brreg_fake, screenshot_dir):
    portal = f"{live_server.url}/portal/{SLUG}"
    backoffice = f"{live_server.url}/backoffice/{SLUG}"
    customer_ctx = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900})
    staff_ctx = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900})
    customer, staff = customer_ctx.new_page(), staff_ctx.new_page()
    for p in (customer, staff):
        p.set_default_timeout(20_000)
    try:
        with moment(dt.date(2026, 3, 10)):
            # 1. The kommune orders Spekter for two schools.
            log_in(customer, f"{portal}/login/", "olav@stavanger.kommune.no")
            customer.goto(f"{portal}/order/")
            assert customer.input_value("#id_owner_org_number") == "944387234"
            customer.click("button[name=action][value=add_school]")
            customer.wait_for_selector("#id_school-1-name")
            rows = [
                ("Hundvåg skole", "924195932", "240", "Rita Rektor", "Rektor"),
                ("Buøy skole", "934605756", "95", "Ivar Inspektør", "Inspektør"),
            ]
            for i, (name, org, pupils, contact, title) in enumerate(rows):
                customer.fill(f"#id_school-{i}-name", name)
                customer.fill(f"#id_school-{i}-org_number", org)
                customer.fill(f"#id_school-{i}-pupils", pupils)
                customer.fill(f"#id_school-{i}-contact_name", contact)
                customer.fill(f"#id_school-{i}-contact_title", title)
            customer.fill("#id_address_line", "Postboks 8001")
            customer.fill("#id_postal_code", "4068")
            customer.fill("#id_city", "Stavanger")
            customer.fill("#id_invoice_reference", "Oppvekst 4410")
            customer.fill("#id_orderer_title", "Innkjøpssjef")
            assert_accessible(customer, "portal-order-filled", screenshot_dir)
            customer.click("button[name=action][value=order]")
            customer.wait_for_url(f"{portal}/order/sent/")
            assert "AVT-2026-0001" in customer.content()
            assert_accessible(customer, "portal-order-sent", screenshot_dir)
            contract = contract_in_db()
            assert (contract.state, contract.customer.name) == (lifecycle.DRAFT, "Stavanger kommune")

            # 2. Staff find it and send it for signature.
            log_in(staff, f"{backoffice}/login/", "salg@spekter.no")
            staff.goto(f"{backoffice}/contracts/")
            assert_accessible(staff, "backoffice-contract-list", screenshot_dir)
            staff.click(f"a[href='/backoffice/{SLUG}/contracts/{contract.pk}/']")
            staff.wait_for_url(f"{backoffice}/contracts/{contract.pk}/")
            assert_accessible(staff, "backoffice-contract-draft", screenshot_dir)
            with staff.expect_navigation():
                staff.click(f"form[action$='/contracts/{contract.pk}/send/'] button")
            assert contract_in_db().state == lifecycle.SENT

        with moment(dt.date(2026, 3, 15)):
            # 3. The customer reads and signs in the portal.
            customer.goto(f"{portal}/contracts/{contract.pk}/")
            assert_accessible(customer, "portal-contract-sent", screenshot_dir)
            customer.click(f"a[href='/portal/{SLUG}/contracts/{contract.pk}/sign/']")
            customer.wait_for_url(f"{portal}/contracts/{contract.pk}/sign/")
            customer.fill("#id_name", "Olav Innkjøp")
            customer.fill("#id_title", "Innkjøpssjef")
            customer.check("#id_confirm")
            assert_accessible(customer, "portal-contract-sign", screenshot_dir)
            customer.click("form.form button[type=submit]")
            customer.wait_for_url(f"{portal}/contracts/{contract.pk}/")
            assert contract_in_db().state == lifecycle.AWAITING_DPA

            # 4. The owner (the kommune) signs the data processing agreement.
            customer.goto(f"{portal}/contracts/dpa/")
            customer.fill("#id_signer_title", "Kommunaldirektør")
            customer.check("#id_confirm")
            assert_accessible(customer, "portal-dpa", screenshot_dir)
            customer.click("form.form button[type=submit]")
            customer.wait_for_url(f"{portal}/contracts/")
            contract = contract_in_db()
            assert (contract.state, contract.start_date, contract.term_end, contract.notice_deadline) == (
                lifecycle.ACTIVE,
                dt.date(2026, 3, 15),
                dt.date(2027, 3, 15),
                dt.date(2026, 12, 14),
            )
            with tenant_context(spekter_vendor["tenant"]):
                signature = Signature.objects.get()
                assert signature.document_sha256 == contract.documents.get().sha256
                assert signature.ip_address == "127.0.0.1"
            assert_accessible(customer, "portal-contracts", screenshot_dir)

            # 5. Staff tick "activated in Feide".
            staff.goto(f"{backoffice}/contracts/{contract.pk}/")
            with staff.expect_navigation():
                staff.click("form[action$='/onboarding/'] button")
            with tenant_context(spekter_vendor["tenant"]):
                assert OnboardingStep.objects.get(code="feide_activated").done_on == dt.date(2026, 3, 15)
            assert_accessible(staff, "backoffice-contract-active", screenshot_dir)

        with moment(dt.date(2026, 12, 20)):
            # 6. Too late for this term: the customer is told the date before confirming.
            customer_ctx.clear_cookies()
            log_in(customer, f"{portal}/login/", "olav@stavanger.kommune.no")
            customer.goto(f"{portal}/contracts/{contract.pk}/")
            customer.click(f"a[href='/portal/{SLUG}/contracts/{contract.pk}/notice/']")
            customer.wait_for_url(f"{portal}/contracts/{contract.pk}/notice/")
            effect = customer.inner_text("#notice-effect")
            assert "14.12.2026" in effect and "14.03.2028" in effect
            assert_accessible(customer, "portal-notice-preview-late", screenshot_dir)
            with tenant_context(spekter_vendor["tenant"]):
                assert TerminationNotice.objects.count() == 0
            customer.click("button[name=action][value=confirm]")
            customer.wait_for_url(f"{portal}/contracts/{contract.pk}/")
            assert "14.03.2028" in customer.inner_text("main")
            assert_accessible(customer, "portal-contract-notice-given", screenshot_dir)
            with tenant_context(spekter_vendor["tenant"]):
                notice = TerminationNotice.objects.get()
                assert (notice.late, notice.ends_on, notice.given_by) == (True, dt.date(2028, 3, 15), "customer")
            customer.set_viewport_size({"width": 390, "height": 844})
            assert_accessible(customer, "portal-contract-notice-given-mobile", screenshot_dir)
    finally:
        customer_ctx.close()
        staff_ctx.close()
