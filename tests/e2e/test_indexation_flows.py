"""End to end in headless Chromium, in Norwegian: finance staff open Prisjustering (what needs doing, the
CPI chart, the policies), review the 1 January changes and approve one, then approve the rest for the
date; half a year later they propose a 9 % increase above CPI on a contract and approve it (the letter
goes out); the customer sees it under Prisendringer in the portal and terminates before it, confirming
that the agreement ends the day before the new price. Every page at 1280 and 390 px wide; axe-core finds
no "serious" or "critical" issue.

Screenshots go to var/screenshots/ and /tmp/indexation-shots/.
"""

import datetime as dt
import shutil
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from contracts import lifecycle
from contracts.models import Contract
from indexation import services
from indexation.models import IndexationProposal
from pricing.models import IndexSeries
from tenants.models import CustomerKind, PortalUser, Tenant
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.contracts.conftest import plan_for
from tests.e2e.test_flows import PASSWORD, assert_accessible
from tests.factories import CustomerFactory, MembershipFactory, TenantFactory, UserFactory
from tests.indexation.conftest import load_recorded_values, policy
from tests.indexation.test_portal_pages import annual

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SLUG = "digireq-ix"
SHOTS = Path("/tmp/indexation-shots")  # noqa: S108 — copies of the screenshots to look at
d = dt.date


def moment(day: dt.date, hour: int = 10):
    return time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0))), tick=True)


@pytest.fixture
def vendor(settings):
    """DigiReq with its CPI policy and three kommuner on yearly contracts from 2024-02-01; the run on
    2024-12-15 proposes 1 January 2025 for all three."""
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    load_recorded_values()
    IndexSeries.objects.update(fetched_at=timezone.make_aware(dt.datetime(2024, 12, 11, 6, 0)))
    tenant = TenantFactory(slug=SLUG, name="DigiReq AS")
    with tenant_context(tenant):
        plan = plan_for("digireq")
        pol = policy("digireq", plan)
        contracts = {}
        for name, users in (("Drammen kommune", 120), ("Asker kommune", 40), ("Lillestrøm kommune", 80)):
            contracts[name] = annual(plan, CustomerFactory(name=name, kind=CustomerKind.KOMMUNE), users=users)
        services.indexation_run(as_of=d(2024, 12, 15))
        MembershipFactory(role=Role.FINANCE, user__email="okonomi@digireq.no", user__full_name="Frida Finans")
        user = UserFactory(email="innkjop@lillestrom.kommune.no", full_name="Lise Innkjøp")
        PortalUser.objects.create(customer=contracts["Lillestrøm kommune"].customer, user=user)
    return {"tenant": tenant, "policy": pol, "contracts": contracts}


WIDE_ELEMENTS = """() => {
  const w = document.documentElement.clientWidth;
  return [...document.querySelectorAll("body *")]
    .filter(e => !(e.parentElement && e.parentElement.closest(".table-wrap")))
    .filter(e => {
      const card = e.parentElement && e.parentElement.closest(".card");
      const limit = card ? card.getBoundingClientRect().right : w;
      return e.getBoundingClientRect().right > limit + 1;
    })
    .slice(0, 8)
    .map(e => `${e.tagName}.${e.className}: ${(e.textContent || "").trim().slice(0, 50)}`);
}"""


def shoot(page, name, screenshot_dir, *, mobile=True):
    """axe-core and a screenshot at 1280 px, then again at 390 px."""
    assert_accessible(page, name, screenshot_dir)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot_dir / f"{name}.png", SHOTS / f"{name}.png")
    if mobile:
        page.set_viewport_size({"width": 390, "height": 844})
        # Nothing sticks out sideways (wide tables and the chart scroll inside their own region).
        wide = page.evaluate(WIDE_ELEMENTS)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 and not wide, wide
        assert_accessible(page, f"{name}-390", screenshot_dir)
        shutil.copy(screenshot_dir / f"{name}-390.png", SHOTS / f"{name}-390.png")
        page.set_viewport_size({"width": 1280, "height": 900})


def log_in(page, url, email):
    page.goto(url)
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/login/" not in page.url


def proposals(vendor, **filters):
    with tenant_context(vendor["tenant"]):
        return list(IndexationProposal.objects.filter(**filters).select_related("contract__customer"))


def test_overview_approve_increase_and_the_customer_terminates_before_it(live_server, browser, vendor, screenshot_dir):
    backoffice = f"{live_server.url}/backoffice/{SLUG}"
    portal = f"{live_server.url}/portal/{SLUG}"
    staff_ctx = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    customer_ctx = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    staff, customer = staff_ctx.new_page(), customer_ctx.new_page()
    for p in (staff, customer):
        p.set_default_timeout(30_000)
    drammen = vendor["contracts"]["Drammen kommune"]
    lillestrom = vendor["contracts"]["Lillestrøm kommune"]
    try:
        with moment(d(2024, 12, 16)):
            # 1. The overview: what needs doing, the chart, the policies.
            log_in(staff, f"{backoffice}/login/", "okonomi@digireq.no")
            staff.get_by_role("link", name="Prisjustering", exact=True).click()
            staff.wait_for_url(f"{backoffice}/indexation/")
            assert staff.get_by_role("heading", level=1).inner_text() == "Prisjustering"
            todo = staff.inner_text("section[aria-labelledby=h-todo]")
            assert "Venter på godkjenning" in todo and "01.01.2025" in todo and "Godkjenn alle 3" in todo
            assert staff.locator("svg[role=img] title").first.text_content().startswith("Konsumprisindeksen")
            policies = staff.inner_text("section[aria-labelledby=h-policies]")
            assert "6 måneder varsel ved økning utover KPI, kunden kan si opp" in policies
            shoot(staff, "indexation-overview", screenshot_dir)

            # 2. Review the date's changes, open Drammen's and approve it.
            staff.get_by_role("link", name="Se over · 1. januar, inntil KPI-endringen siste 12 måneder").click()
            staff.wait_for_url(f"{backoffice}/indexation/proposals/?*")
            assert "3 prisendringer" in staff.inner_text("#results")
            shoot(staff, "indexation-proposals", screenshot_dir)
            staff.get_by_role("link", name=f"{drammen.reference} · Drammen kommune · 01.01.2025").click()
            staff.wait_for_url(f"{backoffice}/indexation/proposals/*/")
            heading = staff.get_by_role("heading", level=1).inner_text()
            assert heading == f"Prisendring fra 01.01.2025 · {drammen.reference} · Drammen kommune"
            price = staff.inner_text("section[aria-labelledby=h-price]")
            assert "79\u00a0560,00\u00a0kr" in price
            assert "november 2023" in staff.inner_text("section[aria-labelledby=h-index]").lower()
            shoot(staff, "indexation-proposal", screenshot_dir)
            staff.get_by_role("button", name="Godkjenn", exact=True).click()
            staff.wait_for_selector("text=Godkjent: " + drammen.reference)
            assert "Godkjent, gjelder fra datoen" in staff.inner_text("main")
            shoot(staff, "indexation-proposal-approved", screenshot_dir, mobile=False)
            assert [p.status for p in proposals(vendor, contract=drammen)] == ["approved"]

            # 3. The rest of the date from the overview, in one go.
            staff.get_by_role("navigation", name="Administrasjon").get_by_role("link", name="Prisjustering").click()
            staff.get_by_role(
                "button", name="Godkjenn alle 2 · 1. januar, inntil KPI-endringen siste 12 måneder"
            ).click()
            staff.wait_for_selector("text=2 prisendring(er) etter")
            assert {p.status for p in proposals(vendor, effective_on=d(2025, 1, 1))} == {"approved"}

            # The page for entering a month by hand when SSB cannot be reached.
            staff.get_by_role("link", name="Legg inn en indeksverdi").click()
            staff.wait_for_url(f"{backoffice}/indexation/index-values/")
            assert staff.get_by_label("Hvor verdien kommer fra").is_visible()
            shoot(staff, "indexation-index-values", screenshot_dir)

        with tenant_context(vendor["tenant"]):
            services.indexation_run(as_of=d(2025, 1, 1))  # applied on the date

        with moment(d(2025, 6, 20)):
            # 4. An increase above CPI for Lillestrøm, 6 months ahead, proposed and approved (the letter goes).
            log_in(staff, f"{backoffice}/login/", "okonomi@digireq.no")  # the session ran out meanwhile
            staff.goto(f"{backoffice}/indexation/contracts/{lillestrom.pk}/price-history/")
            assert "Prisjustering etter indeks" in staff.inner_text("main")
            shoot(staff, "indexation-price-history", screenshot_dir)
            staff.get_by_role("link", name="Foreslå en økning utover indeksen").click()
            assert staff.input_value("#id_effective_on") == "2026-01-01"
            staff.fill("#id_percent", "9")
            shoot(staff, "indexation-increase", screenshot_dir, mobile=False)
            staff.get_by_role("button", name="Foreslå økningen").click()
            staff.wait_for_selector("text=Økningen er foreslått")
            staff.get_by_role("button", name="Godkjenn", exact=True).click()
            staff.wait_for_selector("text=Kunden har fått tilsendt brevet om prisendring.")
            increase = proposals(vendor, contract=lillestrom, effective_on=d(2026, 1, 1))[0]
            assert (increase.status, increase.notice_sent_on, increase.may_terminate) == (
                "approved",
                d(2025, 6, 20),
                True,
            )

        with moment(d(2025, 7, 10)):
            # 5. The customer sees the announced increase and terminates before it.
            log_in(customer, f"{portal}/login/", "innkjop@lillestrom.kommune.no")
            customer.get_by_role("link", name="Prisendringer").click()
            customer.wait_for_url(f"{portal}/price-changes/")
            announced = customer.inner_text("section[aria-labelledby=h-announced]")
            assert f"Fra 01.01.2026 · avtale {lillestrom.reference}" in announced and "(+9 %)" in announced
            assert "Prisjustering etter indeks" in customer.inner_text("section[aria-labelledby=h-past]")
            shoot(customer, "portal-price-changes", screenshot_dir)
            customer.get_by_role("link", name=f"Si opp før prisendringen · {lillestrom.reference}").click()
            customer.wait_for_url(f"{portal}/price-changes/{increase.pk}/terminate/")
            assert "Avtalen slutter 31.12.2025, dagen før den nye prisen gjelder fra 01.01.2026" in customer.inner_text(
                "main"
            )
            shoot(customer, "portal-terminate-confirm", screenshot_dir)
            with tenant_context(vendor["tenant"]):
                assert Contract.objects.get(pk=lillestrom.pk).ends_on is None
            customer.get_by_role("button", name="Si opp: avtalen slutter 31.12.2025").click()
            customer.wait_for_url(f"{portal}/price-changes/")
            assert "Avtalen er sagt opp: den løper til og med 31.12.2025" in customer.inner_text("main")
            shoot(customer, "portal-terminated", screenshot_dir)
            with tenant_context(vendor["tenant"]):
                c = Contract.objects.get(pk=lillestrom.pk)
                assert (c.state, c.ends_on) == (lifecycle.NOTICE_GIVEN, d(2026, 1, 1))
    finally:
        customer_ctx.close()
        staff_ctx.close()
    assert Tenant.objects.filter(slug=SLUG).exists()
