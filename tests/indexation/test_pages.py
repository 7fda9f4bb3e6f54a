"""Indexation pages in the back-office: the overview (what needs doing, the index chart, the policies in
words, recently applied), the proposal list and detail, approve / reject / approve all, the letter, hand
entry of an index value and its removal, a contract's price history and an increase above the index —
per role, through the pages doing what the services do, bad input → the message and nothing written,
another tenant's objects → 404."""

import datetime as dt
from decimal import Decimal as D
from html import unescape

import pytest
import time_machine
from django.utils import timezone

from indexation import services
from indexation.models import IndexationProposal, PriceAdjustment
from pricing.index_services import index_value_enter
from pricing.models import IndexSeries, IndexValueOverride
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.billing.test_services import piscator_contract
from tests.contracts.conftest import plan_for
from tests.factories import MembershipFactory
from tests.indexation.conftest import policy
from tests.indexation.test_services import digireq_annual, identum_contract

pytestmark = pytest.mark.django_db
d = dt.date
STAFF = Actor.system("finance@test")
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
BO = "/backoffice/alpha/indexation"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
APPROVERS = (Role.OWNER, Role.ADMIN, Role.FINANCE)
OTHERS = (Role.SALES, Role.SUPPORT, Role.VIEWER)


def at(day: dt.date):
    return time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0))), tick=False)


def login(client, tenant, role):
    with tenant_context(tenant):
        user = MembershipFactory(role=role, user__email=f"{role}@{tenant.slug}.no").user
    client.force_login(user, backend=MODEL_BACKEND)
    return user


def html_of(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def digireq(kpi, tenant_a):
    """DigiReq's policy (1 January, up to CPI, 6 months' notice above it) and two yearly contracts; the run
    on 2024-12-15 proposes 1 January 2025 for both (November 2024 against November 2023)."""
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        pol = policy("digireq", plan)
        drammen = digireq_annual(plan)
        asker = digireq_annual(plan, users=40, name="Asker kommune")
        services.indexation_run(as_of=d(2024, 12, 15))
        proposals = {p.contract_id: p for p in IndexationProposal.objects.all()}
    return {
        "tenant": tenant_a,
        "plan": plan,
        "policy": pol,
        "drammen": drammen,
        "asker": asker,
        "proposal": proposals[drammen.pk],
        "other": proposals[asker.pk],
    }


@pytest.fixture
def identum_waiting(kpi, tenant_a):
    """Identum's sub-index policy: 1 January 2025 applied, 1 January 2026 waiting for September 2025."""
    with tenant_context(tenant_a):
        plan = plan_for("identum")
        policy("identum", plan)
        contract = identum_contract(plan)
        services.indexation_run(as_of=d(2024, 11, 1))
        services.indexation_run(as_of=d(2025, 1, 1))
        services.indexation_run(as_of=d(2025, 11, 1))
        noticed = IndexationProposal.objects.get(contract=contract, effective_on=d(2025, 1, 1))
        waiting = IndexationProposal.objects.get(contract=contract, effective_on=d(2026, 1, 1))
    return {"tenant": tenant_a, "contract": contract, "noticed": noticed, "waiting": waiting}


# ---------------------------------------------------------------- pages per role


@pytest.mark.parametrize("role", [*APPROVERS, *OTHERS])
def test_every_role_sees_the_overview_the_list_and_the_detail_and_only_finance_roles_get_the_actions(
    client, digireq, role
):
    login(client, digireq["tenant"], role)
    p = digireq["proposal"]
    approver = role in APPROVERS
    with at(d(2024, 12, 16)):
        overview = client.get(f"{BO}/", **EN)
        html = html_of(overview)
        assert overview.status_code == 200
        assert "What needs doing" in html and "Awaiting approval" in html
        assert "1 January, up to the CPI change over the last 12 months" in html  # the policy's name
        # The policy in words, the way a finance person reads it.
        assert (
            "1 January, up to CPI over the last 12 months (read on 15 December), no notice up to CPI, "
            "6 months' notice above CPI, customer may terminate, never lowered, approved by staff" in html
        )
        # Two contracts, one date: the yearly prices before and after and the revenue effect, summed.
        with tenant_context(digireq["tenant"]):
            both = IndexationProposal.objects.all()
            old = sum(x.old_amount for x in both)
            effect = sum(x.new_amount - x.old_amount for x in both)
        assert f"NOK\u00a0{old:,.2f}" in html and f"NOK\u00a0{effect:,.2f}" in html
        assert ("Approve all 2" in html) is approver
        # The index chart: inline SVG with its title and description, one line per base.
        assert '<svg viewBox="0 0 640 280" role="img"' in html
        assert '<title id="chart-kpi-title">Consumer price index (CPI), all-item, the last 5 years</title>' in html
        assert html.count("<polyline") >= 2 and "2015=100" in html
        assert "Model object" not in html and "IndexationProposal object" not in html

        listing = client.get(f"{BO}/proposals/", **EN)
        html = html_of(listing)
        assert listing.status_code == 200
        assert "2 price changes" in html and "Drammen kommune" in html and "Asker kommune" in html
        assert "Awaiting approval" in html

        detail = client.get(f"{BO}/proposals/{p.pk}/", **EN)
        html = html_of(detail)
        assert detail.status_code == 200
        assert f"Price change from 2025-01-01 · {digireq['drammen'].reference} · Drammen kommune" in html
        assert "NOK\u00a079,560.00" in html  # 120 users × 65 × 12 × 0.85
        assert "November 2023" in html and "November 2024" in html  # the index months
        assert "SSB table 03013" in html
        assert (f"/indexation/proposals/{p.pk}/approve/" in html) is approver
        assert (f"/indexation/proposals/{p.pk}/reject/" in html) is approver
        assert ("Approve all 2 for this date" in html) is approver
        assert f"/indexation/contracts/{digireq['drammen'].pk}/price-history/" in html

        history = client.get(f"{BO}/contracts/{digireq['drammen'].pk}/price-history/", **EN)
        assert history.status_code == 200
        assert ("Propose an increase above the index" in html_of(history)) is approver
        values = client.get(f"{BO}/index-values/", **EN)
        assert values.status_code == 200
        assert ('name="value"' in html_of(values)) is approver

        nav = html_of(client.get("/backoffice/alpha/", **EN))
        assert f"{BO}/" in nav and ">Indexation<" in nav
        contract_page = html_of(client.get(f"/backoffice/alpha/contracts/{digireq['drammen'].pk}/", **EN))
        assert f"{BO}/contracts/{digireq['drammen'].pk}/price-history/" in contract_page


@pytest.mark.parametrize("role", OTHERS)
def test_roles_without_the_permission_get_403_and_nothing_changes(client, digireq, identum_waiting, role):
    login(client, digireq["tenant"], role)
    p, contract = digireq["proposal"], digireq["drammen"]
    with tenant_context(digireq["tenant"]):
        series = IndexSeries.objects.get(code="kpi-services-wages-2015")
        override = index_value_enter(
            actor=STAFF, series=series, month="2025-09", value="133,0", note="SSB", today=d(2025, 11, 2)
        )
    posts = [
        (f"{BO}/proposals/{p.pk}/approve/", {}),
        (f"{BO}/proposals/{p.pk}/reject/", {"reason": "No"}),
        (f"{BO}/proposals/approve/", {"policy": digireq["policy"].pk, "effective_on": "2025-01-01"}),
        (f"{BO}/index-values/", {"series": series.pk, "month": "2025-08", "value": "1", "note": "x"}),
        (f"{BO}/index-values/{override.pk}/delete/", {}),
        (f"{BO}/contracts/{contract.pk}/increase/", {"percent": "9", "effective_on": "2026-01-01"}),
    ]
    with at(d(2024, 12, 16)):
        for url, data in posts:
            assert client.post(url, data).status_code == 403, url
        assert client.get(f"{BO}/contracts/{contract.pk}/increase/").status_code == 403
        assert client.get(f"{BO}/index-values/{override.pk}/delete/").status_code == 403
    with tenant_context(digireq["tenant"]):
        assert set(IndexationProposal.objects.filter(policy=digireq["policy"]).values_list("status", flat=True)) == {
            "proposed"
        }
        assert IndexValueOverride.objects.count() == 1


def test_not_logged_in_goes_to_the_login_and_staff_of_another_vendor_get_404(client, digireq, tenant_b):
    response = client.get(f"{BO}/")
    assert response.status_code == 302 and "/backoffice/alpha/login/" in response["Location"]
    login(client, tenant_b, Role.OWNER)
    assert client.get(f"{BO}/").status_code == 404


# ---------------------------------------------------------------- approve, reject, approve all


def test_approving_through_the_page_does_what_the_service_does(client, digireq):
    login(client, digireq["tenant"], Role.FINANCE)
    p = digireq["proposal"]
    with at(d(2024, 12, 16)):
        response = client.post(f"{BO}/proposals/{p.pk}/approve/", **EN)
        assert response.status_code == 302 and response["Location"] == f"{BO}/proposals/{p.pk}/"
        page = html_of(client.get(response["Location"], **EN))
    with tenant_context(digireq["tenant"]):
        p.refresh_from_db()
        assert (p.status, p.decided_on, p.decided_by) == ("approved", d(2024, 12, 16), "finance@alpha.no")
        assert AuditEvent.objects.filter(action="indexation.approve", object_id=str(p.pk)).count() == 1
        other = IndexationProposal.objects.get(pk=digireq["other"].pk)
        assert other.status == "proposed"  # only this one
    assert f"Approved: {digireq['drammen'].reference} (Drammen kommune) goes from NOK\u00a079,560.00 to" in page
    assert "Approved, takes effect on its date" in page
    assert "/approve/" not in page  # decided: no buttons
    with at(d(2024, 12, 17)):  # approving again changes nothing and is refused nothing
        assert client.post(f"{BO}/proposals/{p.pk}/approve/").status_code == 302
    with tenant_context(digireq["tenant"]):
        assert AuditEvent.objects.filter(action="indexation.approve", object_id=str(p.pk)).count() == 1
        services.indexation_run(as_of=d(2025, 1, 1))
        assert PriceAdjustment.objects.filter(contract=digireq["drammen"]).count() == 1


def test_approve_all_for_a_policy_and_date(client, digireq):
    login(client, digireq["tenant"], Role.OWNER)
    with at(d(2024, 12, 16)):
        response = client.post(
            f"{BO}/proposals/approve/",
            {"policy": digireq["policy"].pk, "effective_on": "2025-01-01", "next": "overview"},
            **EN,
        )
        assert response.status_code == 302 and response["Location"] == f"{BO}/"
        page = html_of(client.get(f"{BO}/", **EN))
    assert "2 price change(s) under “1 January, up to the CPI change over the last 12 months” from 2025-01-01" in page
    assert "Approved, taking effect later" in page
    with tenant_context(digireq["tenant"]):
        assert set(IndexationProposal.objects.values_list("status", flat=True)) == {"approved"}


def test_rejecting_needs_a_reason_then_records_it(client, digireq):
    login(client, digireq["tenant"], Role.FINANCE)
    p = digireq["proposal"]
    with at(d(2024, 12, 16)):
        response = client.post(f"{BO}/proposals/{p.pk}/reject/", {"reason": "  "}, **EN)
        assert response.status_code == 400
        assert "Why it is rejected: This field is required." in html_of(response)
        with tenant_context(digireq["tenant"]):
            assert IndexationProposal.objects.get(pk=p.pk).status == "proposed"
        response = client.post(f"{BO}/proposals/{p.pk}/reject/", {"reason": "Agreed to keep the price"}, **EN)
        assert response.status_code == 302
        page = html_of(client.get(response["Location"], **EN))
    assert "keeps its price on 2025-01-01" in page and "Agreed to keep the price" in page
    with tenant_context(digireq["tenant"]):
        assert IndexationProposal.objects.get(pk=p.pk).status == "rejected"
        event = AuditEvent.objects.get(action="indexation.reject", object_id=str(p.pk))
        assert event.changes["reason"] == [None, "Agreed to keep the price"]


def test_approving_after_the_notice_date_says_when_the_change_then_takes_effect(client, digireq):
    login(client, digireq["tenant"], Role.FINANCE)
    with tenant_context(digireq["tenant"]):
        services.proposals_approve(
            actor=STAFF, policy=digireq["policy"], effective_on=d(2025, 1, 1), on=d(2024, 12, 16)
        )
        services.indexation_run(as_of=d(2025, 1, 1))
        p = services.increase_request(
            actor=STAFF, contract=digireq["drammen"], percent=D("9"), effective_on=d(2026, 1, 1), on=d(2025, 6, 20)
        )
    with at(d(2025, 7, 2)):
        overview = html_of(client.get(f"{BO}/", **EN))
        assert "Notice date passed" in overview and "had to be told by 2025-07-01" in overview
        page = html_of(client.get(f"{BO}/proposals/{p.pk}/", **EN))
        assert "The customer had to be told by 2025-07-01 for the change on 2026-01-01" in page
        assert "the change takes effect on 2026-01-02" in page  # 6 months from today
        response = client.post(f"{BO}/proposals/{p.pk}/approve/", **EN)
        assert response.status_code == 302
        page = html_of(client.get(response["Location"], **EN))
    assert "told too late for 2026-01-01, so the change takes effect on 2026-01-02" in page
    with tenant_context(digireq["tenant"]):
        p.refresh_from_db()
        assert (p.status, p.effective_on, p.notice_sent_on) == ("approved", d(2026, 1, 2), d(2025, 7, 2))


def test_the_list_filters_by_status_policy_date_and_name(client, digireq, identum_waiting):
    login(client, digireq["tenant"], Role.VIEWER)
    with at(d(2025, 11, 2)):
        html = html_of(client.get(f"{BO}/proposals/?status=waiting", **EN))
        assert "1 price change" in html and "Tromsø kommune" in html and "Drammen" not in html
        assert "September 2025" in html  # why it waits, in words
        html = html_of(client.get(f"{BO}/proposals/?policy={digireq['policy'].pk}&effective_on=2025-01-01", **EN))
        assert "2 price changes" in html and "Tromsø" not in html
        html = html_of(client.get(f"{BO}/proposals/?q=asker", **EN))
        assert "1 price change" in html and "Asker kommune" in html
        partial = client.get(f"{BO}/proposals/?q=asker", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results", **EN)
        assert "<html" not in html_of(partial) and "Asker kommune" in html_of(partial)
        html = html_of(client.get(f"{BO}/proposals/?effective_on=not-a-date&status=nonsense", **EN))
        assert "price change" in html  # unknown filters are ignored


# ---------------------------------------------------------------- waiting, hand entry, the letter


def test_a_waiting_change_says_why_on_the_overview(client, identum_waiting):
    login(client, identum_waiting["tenant"], Role.FINANCE)
    with at(d(2025, 11, 2)):
        html = html_of(client.get(f"{BO}/", **EN))
    assert "Waiting for the index" in html
    assert "September 2025" in html and "not published or fetched yet" in html
    assert f"{BO}/index-values/" in html


def test_hand_entry_refuses_bad_input_then_stores_the_value_with_its_note_and_removes_it(client, identum_waiting):
    tenant = identum_waiting["tenant"]
    login(client, tenant, Role.FINANCE)
    with tenant_context(tenant):
        series = IndexSeries.objects.get(code="kpi-services-wages-2015")
    with at(d(2025, 11, 2)):
        bad = client.post(f"{BO}/index-values/", {"series": series.pk, "month": "2025-13", "value": "abc", "note": "x"})
        html = html_of(bad)
        assert bad.status_code == 400
        assert "Ikke en måned" in html and "Skriv indeksen som et tall" in html  # the service's words, in Bokmål
        bad = client.post(
            f"{BO}/index-values/", {"series": series.pk, "month": "2025-07", "value": "130", "note": "x"}, **EN
        )
        assert bad.status_code == 400 and "already stored" in html_of(bad)  # SSB's own value is there
        assert client.post(f"{BO}/index-values/", {"series": series.pk, "month": "2025-09"}).status_code == 400
        with tenant_context(tenant):
            assert IndexValueOverride.objects.count() == 0
        ok = client.post(
            f"{BO}/index-values/",
            {"series": series.pk, "month": "2025-09", "value": "133,0", "note": "SSB's release of 10 October"},
            **EN,
        )
        assert ok.status_code == 302
        page = html_of(client.get(f"{BO}/index-values/", **EN))
        assert "is 133.0 (entered by hand)" in page and "SSB's release of 10 October" in page
        with tenant_context(tenant):
            override = IndexValueOverride.objects.get()
            assert (override.month, override.value, override.entered_by) == (
                d(2025, 9, 1),
                D("133.000"),
                "finance@alpha.no",
            )
            assert AuditEvent.objects.filter(action="index_value_override.create").count() == 1
            # The next run uses it: the waiting change goes on.
            services.indexation_run(as_of=d(2025, 11, 2))
            assert IndexationProposal.objects.get(pk=identum_waiting["waiting"].pk).status == "approved"
        confirm = client.get(f"{BO}/index-values/{override.pk}/delete/", **EN)
        assert confirm.status_code == 200 and "Remove the value entered by hand?" in html_of(confirm)
        assert client.post(f"{BO}/index-values/{override.pk}/delete/").status_code == 302
    with tenant_context(tenant):
        assert IndexValueOverride.objects.count() == 0
        assert AuditEvent.objects.filter(action="index_value_override.delete").count() == 1


def test_the_letter_is_a_pdf_for_a_change_the_customer_was_told_of(client, identum_waiting):
    login(client, identum_waiting["tenant"], Role.VIEWER)
    noticed = identum_waiting["noticed"]
    with at(d(2025, 11, 2)):
        page = html_of(client.get(f"{BO}/proposals/{noticed.pk}/", **EN))
        assert f"/indexation/proposals/{noticed.pk}/letter/nb/" in page
        for lang in ("nb", "en"):
            response = client.get(f"{BO}/proposals/{noticed.pk}/letter/{lang}/")
            assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
            assert response.content[:4] == b"%PDF"
            assert f"-{lang}.pdf" in response["Content-Disposition"]
        waiting = identum_waiting["waiting"]
        assert client.get(f"{BO}/proposals/{waiting.pk}/letter/nb/").status_code == 404


# ---------------------------------------------------------------- price history and an increase above the index


def test_price_history_after_an_applied_change(client, digireq):
    login(client, digireq["tenant"], Role.SALES)
    with tenant_context(digireq["tenant"]):
        services.proposal_approve(actor=STAFF, proposal=digireq["proposal"], on=d(2024, 12, 16))
        services.indexation_run(as_of=d(2025, 1, 1))
        p = IndexationProposal.objects.get(pk=digireq["proposal"].pk)
    with at(d(2025, 2, 1)):
        html = html_of(client.get(f"{BO}/contracts/{digireq['drammen'].pk}/price-history/", **EN))
    assert "Index adjustment" in html and "Agreement started" in html
    assert f"NOK\u00a0{p.new_amount:,.2f}" in html and "was NOK\u00a079,560.00" in html
    assert f"{BO}/proposals/{p.pk}/" in html
    assert "Propose an increase above the index" not in html  # sales may not


def test_an_increase_above_the_index_through_the_page(client, digireq):
    login(client, digireq["tenant"], Role.FINANCE)
    contract = digireq["drammen"]
    url = f"{BO}/contracts/{contract.pk}/increase/"
    with tenant_context(digireq["tenant"]):
        services.proposals_approve(
            actor=STAFF, policy=digireq["policy"], effective_on=d(2025, 1, 1), on=d(2024, 12, 16)
        )
        services.indexation_run(as_of=d(2025, 1, 1))
    with at(d(2025, 6, 20)):
        form = client.get(url, **EN)
        html = html_of(form)
        assert form.status_code == 200
        assert "must be announced 6 months before it takes effect" in html
        assert "the earliest date is 2026-01-01" in html and 'value="2026-01-01"' in html
        for data, message in (
            ({"percent": "abc", "effective_on": "2026-01-01"}, "Give the increase as a number"),
            ({"percent": "0", "effective_on": "2026-01-01"}, "more than 0 and at most 100"),
            ({"percent": "9", "effective_on": "2026-02-01"}, "Under this policy a price changes on 2027-01-01"),
            ({"percent": "9", "effective_on": ""}, "This field is required"),
        ):
            response = client.post(url, data, **EN)
            assert response.status_code == 400 and message in html_of(response), data
        with tenant_context(digireq["tenant"]):
            assert not IndexationProposal.objects.filter(effective_on=d(2026, 1, 1)).exists()
        response = client.post(url, {"percent": "9,0", "effective_on": "2026-01-01"}, **EN)
        assert response.status_code == 302
        page = html_of(client.get(response["Location"], **EN))
    with tenant_context(digireq["tenant"]):
        p = IndexationProposal.objects.get(contract=contract, effective_on=d(2026, 1, 1))
        assert (p.status, p.factor, p.above_cap, p.may_terminate, p.notice_by) == (
            "proposed",
            D("1.09"),
            True,
            True,
            d(2025, 7, 1),
        )
    assert response["Location"] == f"{BO}/proposals/{p.pk}/"
    assert "The increase is proposed" in page and "above the index" in page and "+9 %" in page


def test_an_increase_is_not_offered_where_the_policy_has_no_notice_above_the_index(client, kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("piscator")
        policy("piscator", plan)
        contract = piscator_contract(plan, received=d(2024, 3, 4))
    login(client, tenant_a, Role.FINANCE)
    with at(d(2024, 6, 1)):
        page = client.get(f"{BO}/contracts/{contract.pk}/increase/", **EN)
        assert page.status_code == 200 and "allows no increase above the index" in html_of(page)
        assert 'name="percent"' not in html_of(page)
        assert client.post(f"{BO}/contracts/{contract.pk}/increase/", {"percent": "9"}).status_code == 200
        history = html_of(client.get(f"{BO}/contracts/{contract.pk}/price-history/", **EN))
        assert "Propose an increase above the index" not in history
        assert "on each contract anniversary, by CPI since the signing month" in history
    with tenant_context(tenant_a):
        assert IndexationProposal.objects.count() == 0


# ---------------------------------------------------------------- isolation


def test_another_vendors_proposal_contract_and_value_are_not_found(client, digireq, tenant_b):
    with tenant_context(digireq["tenant"]):
        series = IndexSeries.objects.get(code="kpi-services-wages-2015")
        override = index_value_enter(
            actor=STAFF, series=series, month="2025-09", value="133", note="x", today=d(2026, 1, 5)
        )
    login(client, tenant_b, Role.OWNER)
    p, contract = digireq["proposal"], digireq["drammen"]
    base = "/backoffice/beta/indexation"
    with at(d(2026, 1, 5)):
        for url in (
            f"{base}/proposals/{p.pk}/",
            f"{base}/proposals/{p.pk}/letter/nb/",
            f"{base}/contracts/{contract.pk}/price-history/",
            f"{base}/contracts/{contract.pk}/increase/",
            f"{base}/index-values/{override.pk}/delete/",
        ):
            assert client.get(url).status_code == 404, url
        for url in (
            f"{base}/proposals/{p.pk}/approve/",
            f"{base}/proposals/{p.pk}/reject/",
            f"{base}/index-values/{override.pk}/delete/",
        ):
            assert client.post(url, {"reason": "x"}).status_code == 404, url
        # Approving all for another vendor's policy: not a choice here, nothing approved.
        client.post(f"{base}/proposals/approve/", {"policy": digireq["policy"].pk, "effective_on": "2025-01-01"})
        listing = html_of(client.get(f"{base}/proposals/", **EN))
        assert "0 price changes" in listing and "Drammen" not in listing
        overview = html_of(client.get(f"{base}/", **EN))
        assert "Drammen" not in overview and "entered by hand" not in overview
    with tenant_context(digireq["tenant"]):
        assert set(IndexationProposal.objects.values_list("status", flat=True)) == {"proposed"}
        assert IndexValueOverride.objects.count() == 1


def test_the_pages_in_bokmal(client, digireq):
    login(client, digireq["tenant"], Role.FINANCE)
    with at(d(2024, 12, 16)):
        html = html_of(client.get(f"{BO}/"))
        assert ">Prisjustering<" in html and "Hva må gjøres" in html and "Venter på godkjenning" in html
        assert (
            "1. januar, inntil KPI siste 12 måneder (lest 15. desember), uten varsel inntil KPI, "
            "6 måneder varsel ved økning utover KPI, kunden kan si opp, senkes aldri, godkjennes av ansatte" in html
        )
        detail = html_of(client.get(f"{BO}/proposals/{digireq['proposal'].pk}/"))
        assert "79\u00a0560,00\u00a0kr" in detail
        assert "Godkjenn" in detail and "Per år før" in detail and "november 2024" in detail
        assert "Prisendring fra 01.01.2025" in detail
