"""Price changes in the customer portal: the announced and past price changes of the customer's own
contracts (a kommune also its schools'), with the explanation, the yearly prices, the dates and the
letter; terminating before an increase above the index (confirm, then the agreement ends the day before
the new price); another customer's or vendor's price change is "not found" (404)."""

import datetime as dt
import re
from decimal import Decimal as D
from html import unescape

import pytest
import time_machine
from django.utils import timezone

from contracts import lifecycle
from contracts import services as contract_services
from contracts.models import Contract
from indexation import services
from indexation.models import IndexationEvent, IndexationProposal
from tenants.audit import Actor
from tenants.models import CustomerKind, PortalUser
from tenants.tenancy import tenant_context
from tests.billing.test_services import sign
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory, UserFactory
from tests.indexation.conftest import ACTOR, policy

pytestmark = pytest.mark.django_db
d = dt.date
STAFF = Actor.system("finance@test")
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
PORTAL = "/portal/alpha/price-changes"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
START = d(2024, 2, 1)


def at(day: dt.date):
    return time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0))), tick=False)


def html_of(response) -> str:
    """The page's text as a reader sees it: entities decoded, inline tags (<strong>, <span>) removed."""
    return re.sub(r"</?(strong|span)[^>]*>", "", unescape(response.content.decode()))


def annual(plan, customer, users=120):
    contract = contract_services.contract_create(
        actor=ACTOR,
        customer=customer,
        plan=plan,
        interval="year",
        priced_on={"quantities": {"active_users": users}},
        terms_data={**contract_services.TERM_PRESETS["digireq-annual"], "agreed_start": START},
        on=START,
    )
    return sign(contract, START)


def portal_login(client, tenant, customer, email):
    with tenant_context(tenant):
        user = UserFactory(email=email)
        PortalUser.objects.create(customer=customer, user=user)
    client.force_login(user, backend=MODEL_BACKEND)
    return user


@pytest.fixture
def changes(kpi, tenant_a):
    """DigiReq: a kommune, its school and a company, each with a yearly contract from 2024-02-01. The
    1 January 2025 change up to CPI is approved and applied for all three; on 2025-06-20 an increase of 9 %
    above CPI from 1 January 2026 is proposed and approved for each (letters sent, customers may terminate);
    the school's 2026 one is left awaiting approval instead (never shown to the customer)."""
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        pol = policy("digireq", plan)
        kommune = CustomerFactory(name="Lillestrøm kommune", kind=CustomerKind.KOMMUNE)
        school = CustomerFactory(name="Kjeller skole", kind=CustomerKind.SCHOOL, parent=kommune)
        company = CustomerFactory(name="Fjord Data AS")
        contracts = {
            "kommune": annual(plan, kommune),
            "school": annual(plan, school, users=30),
            "company": annual(plan, company, users=60),
        }
        services.indexation_run(as_of=d(2024, 12, 15))
        services.proposals_approve(actor=STAFF, policy=pol, effective_on=d(2025, 1, 1), on=d(2024, 12, 16))
        services.indexation_run(as_of=d(2025, 1, 1))
        increases = {}
        for key, contract in contracts.items():
            p = services.increase_request(
                actor=STAFF, contract=contract, percent=D("9"), effective_on=d(2026, 1, 1), on=d(2025, 6, 20)
            )
            if key != "school":
                p = services.proposal_approve(actor=STAFF, proposal=p, on=d(2025, 6, 20))
            increases[key] = p
        past = {
            key: IndexationProposal.objects.get(contract=c, effective_on=d(2025, 1, 1)) for key, c in contracts.items()
        }
    return {
        "tenant": tenant_a,
        "kommune": kommune,
        "school": school,
        "company": company,
        "contracts": contracts,
        "increases": increases,
        "past": past,
    }


def test_the_kommune_sees_its_own_and_its_schools_price_changes_not_the_companys(client, changes):
    portal_login(client, changes["tenant"], changes["kommune"], "kari@lillestrom.kommune.no")
    own, school = changes["contracts"]["kommune"], changes["contracts"]["school"]
    company = changes["contracts"]["company"]
    increase, past = changes["increases"]["kommune"], changes["past"]["kommune"]
    with at(d(2025, 7, 1)):
        response = client.get(f"{PORTAL}/", **EN)
    html = html_of(response)
    assert response.status_code == 200
    assert "Announced changes" in html and "Earlier changes" in html
    # Announced: the kommune's own increase, with the yearly prices, the date, the letter and the right to end.
    assert f"From 2026-01-01 · agreement {own.reference}" in html
    assert f"NOK\u00a0{increase.old_amount:,.2f}" in html and f"NOK\u00a0{increase.new_amount:,.2f}" in html
    assert "(+9 %)" in html
    # The explanation in words: announced in June, before the index of its date was published.
    assert "Announced price increase +9.00 % from 2026-01-01" in html and "may terminate" in html
    assert f"/price-changes/{increase.pk}/letter/" in html
    assert f"/price-changes/{increase.pk}/terminate/" in html
    # The school's increase awaits the vendor's approval: not shown. Its past change is.
    assert f"/price-changes/{changes['increases']['school'].pk}/" not in html
    assert school.reference in html and "Kjeller skole" in html
    # Earlier: 1 January 2025 for the kommune and its school, with the index explanation.
    assert "Index adjustment" in html and "CPI November 2024 / November 2023" in html
    assert f"NOK\u00a0{past.old_amount:,.2f}" in html and f"NOK\u00a0{past.new_amount:,.2f}" in html
    # Never the company's, never internal codes.
    assert company.reference not in html and "Fjord Data" not in html
    assert "kpi-1-januar" not in html and "object (" not in html
    nav = html_of(client.get("/portal/alpha/", **EN))
    assert f"{PORTAL}/" in nav and ">Price changes<" in nav


def test_a_company_sees_only_its_own(client, changes):
    portal_login(client, changes["tenant"], changes["company"], "ola@fjorddata.no")
    with at(d(2025, 7, 1)):
        html = html_of(client.get(f"{PORTAL}/", **EN))
    assert changes["contracts"]["company"].reference in html
    assert changes["contracts"]["kommune"].reference not in html and "Lillestrøm" not in html
    assert "Kjeller" not in html


def test_the_letter_downloads_for_the_customers_own_and_schools_changes_only(client, changes):
    portal_login(client, changes["tenant"], changes["kommune"], "kari@lillestrom.kommune.no")
    with at(d(2025, 7, 1)):
        response = client.get(f"{PORTAL}/{changes['increases']['kommune'].pk}/letter/")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content[:4] == b"%PDF"
        assert changes["contracts"]["kommune"].reference in response["Content-Disposition"]
        assert client.get(f"{PORTAL}/{changes['increases']['company'].pk}/letter/").status_code == 404
        assert client.get(f"{PORTAL}/{changes['increases']['school'].pk}/letter/").status_code == 404  # not approved
        assert client.get(f"{PORTAL}/{changes['past']['kommune'].pk}/letter/").status_code == 404  # no letter sent


def test_terminating_before_the_increase_confirms_then_ends_the_agreement_the_day_before(client, changes):
    tenant, contract = changes["tenant"], changes["contracts"]["kommune"]
    p = changes["increases"]["kommune"]
    portal_login(client, tenant, changes["kommune"], "kari@lillestrom.kommune.no")
    with at(d(2025, 7, 10)):
        confirm = client.get(f"{PORTAL}/{p.pk}/terminate/", **EN)
        html = html_of(confirm)
        assert confirm.status_code == 200
        assert "The agreement ends on 2025-12-31, the day before the new price takes effect on 2026-01-01" in html
        assert "There is no notice period" in html
        assert "Terminate: the agreement ends on 2025-12-31" in html
        with tenant_context(tenant):
            assert Contract.objects.get(pk=contract.pk).ends_on is None  # the confirm page writes nothing
        response = client.post(f"{PORTAL}/{p.pk}/terminate/", **EN)
        assert response.status_code == 302 and response["Location"] == f"{PORTAL}/"
        html = html_of(client.get(f"{PORTAL}/", **EN))
        assert f"Agreement {contract.reference} is terminated. It runs to and including 2025-12-31" in html
        assert "The agreement is terminated: it runs to and including 2025-12-31" in html
        assert f"/price-changes/{p.pk}/terminate/" not in html  # done: no second offer
        again = client.post(f"{PORTAL}/{p.pk}/terminate/", **EN)
        assert again.status_code == 400 and "already ends before the price change" in html_of(again)
    with tenant_context(tenant):
        c = Contract.objects.get(pk=contract.pk)
        assert (c.state, c.ends_on) == (lifecycle.NOTICE_GIVEN, d(2026, 1, 1))
        assert IndexationEvent.objects.filter(kind="indexation.terminated", proposal=p).count() == 1
        assert c.notices.count() == 1


def test_the_kommune_cannot_terminate_its_schools_agreement_nor_after_the_date(client, changes):
    tenant = changes["tenant"]
    with tenant_context(tenant):
        school_increase = services.proposal_approve(
            actor=STAFF, proposal=changes["increases"]["school"], on=d(2025, 6, 21)
        )
    portal_login(client, tenant, changes["kommune"], "kari@lillestrom.kommune.no")
    with at(d(2025, 7, 10)):
        html = html_of(client.get(f"{PORTAL}/", **EN))
        assert f"/price-changes/{school_increase.pk}/terminate/" not in html
        assert "Kjeller skole does so in its own portal login" in html
        assert client.get(f"{PORTAL}/{school_increase.pk}/terminate/").status_code == 404
        assert client.post(f"{PORTAL}/{school_increase.pk}/terminate/").status_code == 404
        # A change without the right to terminate (up to CPI) has no termination page.
        assert client.get(f"{PORTAL}/{changes['past']['kommune'].pk}/terminate/").status_code == 404
    p = changes["increases"]["kommune"]
    with at(d(2026, 1, 1)):  # the new price's day: too late (the job has not run yet, it is still approved)
        page = client.get(f"{PORTAL}/{p.pk}/terminate/", **EN)
        assert page.status_code == 200 and "The right to terminate ended" in html_of(page)
        assert client.post(f"{PORTAL}/{p.pk}/terminate/").status_code == 400
    with tenant_context(tenant):
        assert Contract.objects.get(pk=changes["contracts"]["school"].pk).ends_on is None
        assert Contract.objects.get(pk=changes["contracts"]["kommune"].pk).ends_on is None


def test_another_customers_or_vendors_price_change_is_not_found(client, changes, tenant_b):
    portal_login(client, changes["tenant"], changes["company"], "ola@fjorddata.no")
    p = changes["increases"]["kommune"]
    with at(d(2025, 7, 10)):
        for url in (f"{PORTAL}/{p.pk}/letter/", f"{PORTAL}/{p.pk}/terminate/"):
            assert client.get(url).status_code == 404, url
        assert client.post(f"{PORTAL}/{p.pk}/terminate/").status_code == 404
    with tenant_context(tenant_b):
        customer = CustomerFactory(name="Beta-kunde AS")
    portal_login(client, tenant_b, customer, "kunde@beta.no")
    with at(d(2025, 7, 10)):
        listing = html_of(client.get("/portal/beta/price-changes/", **EN))
        assert "No price changes are announced." in listing and "Lillestrøm" not in listing
        assert client.get(f"/portal/beta/price-changes/{p.pk}/terminate/").status_code == 404
        assert client.get(f"/portal/beta/price-changes/{p.pk}/letter/").status_code == 404
    with tenant_context(changes["tenant"]):
        assert Contract.objects.get(pk=changes["contracts"]["kommune"].pk).ends_on is None


def test_not_logged_in_goes_to_the_portal_login(client, changes):
    response = client.get(f"{PORTAL}/")
    assert response.status_code == 302 and "/portal/alpha/login/" in response["Location"]
