"""The indexation job and use cases against PostgreSQL, for each seed vendor's policy, on SSB's figures:
proposals, waiting for a missing month, notices with the letter, approval, the price applied as a new
price version on its date, the invoice that shows it, increases above CPI and the customer's termination."""

import datetime as dt
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from billing import run
from billing.models import Invoice
from catalog.models import Standard, StandardCategory, StandardPrice
from contracts import lifecycle
from contracts import services as contract_services
from contracts.models import Contract, Message
from indexation import services
from indexation.history import price_history
from indexation.models import IndexationEvent, IndexationProposal, PriceAdjustment
from pricing.index_services import index_value_enter
from pricing.models import IndexSeries, PlanVersion
from pricing.services import quote_compute
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.billing.test_services import piscator_contract, sign
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory
from tests.indexation.conftest import ACTOR, policy

pytestmark = pytest.mark.django_db
d = dt.date
STAFF = Actor.system("finance@test")


def run_on(day):
    return services.indexation_run(as_of=day)


ID_SIGNED, ID_START, DR_START = dt.date(2024, 3, 20), dt.date(2024, 4, 1), dt.date(2024, 2, 1)


def identum_contract(plan, signed=ID_SIGNED, start=ID_START, addons=("module_feide",)):
    contract = contract_services.contract_create(
        actor=ACTOR,
        customer=CustomerFactory(name="Tromsø kommune", invoice_email="faktura@tromso.example"),
        plan=plan,
        interval="month",
        priced_on={"addons": list(addons)},
        terms_data={**contract_services.TERM_PRESETS["identum"], "agreed_start": start},
        on=signed,
    )
    return sign(contract, signed)


def digireq_annual(plan, *, start=DR_START, users=120, name="Drammen kommune"):
    contract = contract_services.contract_create(
        actor=ACTOR,
        customer=CustomerFactory(name=name, invoice_email="faktura@kunde.example"),
        plan=plan,
        interval="year",
        priced_on={"quantities": {"active_users": users}},
        terms_data={**contract_services.TERM_PRESETS["digireq-annual"], "agreed_start": start},
        on=start,
    )
    return sign(contract, start)


# ---------------------------------------------------------------- Piscator: SSA-L, contract anniversary


def test_piscator_first_anniversary_from_the_signing_month_applied_without_notice(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("piscator")
        policy("piscator", plan)
        contract = piscator_contract(plan, received=d(2024, 3, 4))
        assert contract.start_date == d(2024, 3, 18)
        assert run_on(d(2025, 3, 17)).proposed == 0  # not before the anniversary
        report = run_on(d(2025, 3, 18))
        assert (report.approved, report.applied, report.notices) == (1, 1, 0)
        p = IndexationProposal.objects.get()
        # Before the base change was published (February 2026) only 2015 = 100 existed.
        assert (p.series.code, p.base) == ("kpi-2015", "2015=100")
        assert (p.reference_month, p.new_month) == (d(2024, 3, 1), d(2025, 2, 1))
        assert (p.reference_value, p.new_value) == (D("132.600"), D("137.000"))  # SSB 03013 2024M03 / 2025M02
        assert p.old_amount == D("96000.00")
        assert p.new_amount == D("99185.52")  # 96 000 × 137.0 / 132.6 = 99 185.520…
        assert p.status == "applied" and p.notice_by is None
        adjustment = PriceAdjustment.objects.get()
        assert (adjustment.contract_id, adjustment.effective_from) == (contract.pk, d(2025, 3, 18))
        assert "KPI februar 2025 / mars 2024 = 137,0 / 132,6 = +3,32" in adjustment.explanation_nb
        assert not Message.objects.filter(kind="price_change").exists()


def test_piscator_next_invoice_carries_the_indexed_price_and_says_so(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("piscator")
        policy("piscator", plan)
        contract = piscator_contract(plan, received=d(2024, 3, 4))
        for day in (d(2024, 3, 18), d(2024, 6, 18), d(2024, 9, 18), d(2024, 12, 18)):
            run.run_tenant(day)
        run_on(d(2025, 3, 18))
        run.run_tenant(d(2025, 3, 18))
        before = Invoice.objects.filter(contract=contract, period_start=d(2024, 12, 18)).get()
        after = Invoice.objects.filter(contract=contract, period_start=d(2025, 3, 18)).get()
        assert before.net == D("24000.00")
        assert after.net == D("24796.38")  # 99 185.52 a year, a quarter of it
        line = after.lines.get()
        assert "Prisjustert etter KPI: KPI februar 2025 / mars 2024" in line.explanation_nb
        assert "Price indexed by CPI: CPI February 2025 / March 2024" in line.explanation_en


def test_piscator_second_change_crosses_the_base_change(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("piscator")
        policy("piscator", plan)
        piscator_contract(plan, received=d(2024, 3, 4))
        run_on(d(2025, 3, 18))
        run_on(d(2026, 3, 18))
        second = IndexationProposal.objects.get(effective_on=d(2026, 3, 18))
        # From the last month used (February 2025) to February 2026, both on the 2025 = 100 series.
        assert (second.series.code, second.reference_month, second.new_month) == (
            "kpi-2025",
            d(2025, 2, 1),
            d(2026, 2, 1),
        )
        assert (second.reference_value, second.new_value) == (D("99.500"), D("102.200"))
        assert second.old_amount == D("99185.52")
        # The plan's price: 99 185.52 × 102.2 / 99.5 = 101 876.99 (each step rounded once); a year of it is
        # four quarterly invoices of 25 469.25.
        assert second.new_amount == D("101877.00")
        assert PriceAdjustment.objects.count() == 2


def test_a_rerun_and_approving_twice_make_one_price(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("piscator")
        policy("piscator", plan)
        piscator_contract(plan, received=d(2024, 3, 4))
        run_on(d(2025, 3, 18))
        again = run_on(d(2025, 3, 18))
        assert (again.proposed, again.approved, again.applied) == (0, 0, 0)
        p = IndexationProposal.objects.get()
        services.proposal_approve(actor=STAFF, proposal=p, on=d(2025, 3, 19))
        services.proposal_approve(actor=STAFF, proposal=p, on=d(2025, 3, 19))
        assert PriceAdjustment.objects.count() == 1
        assert IndexationEvent.objects.filter(kind="indexation.applied").count() == 1


def test_the_command_dry_run_writes_nothing_then_the_run_does(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("piscator")
        policy("piscator", plan)
        piscator_contract(plan, received=d(2024, 3, 4))
    out = StringIO()
    call_command("indexation_run", "--as-of", "2025-03-18", "--dry-run", "--tenant", tenant_a.slug, stdout=out)
    assert f"{tenant_a.slug} 2025-03-18: would do 1 approved, 1 applied" in out.getvalue()
    with tenant_context(tenant_a):
        assert IndexationProposal.objects.count() == 0
        assert PriceAdjustment.objects.count() == 0
    out = StringIO()
    call_command("indexation_run", "--as-of", "2025-03-18", stdout=out)
    assert f"{tenant_a.slug} 2025-03-18: did 1 approved, 1 applied" in out.getvalue()
    with pytest.raises(CommandError, match="not a date"):
        call_command("indexation_run", "--as-of", "18.03.2025")
    with pytest.raises(CommandError, match="Unknown tenant"):
        call_command("indexation_run", "--as-of", "2025-03-18", "--tenant", "nope")


def test_an_ended_contract_gets_no_proposal(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("piscator")
        policy("piscator", plan)
        contract = piscator_contract(plan, received=d(2024, 3, 4))
        contract_services.notice_give(
            actor=ACTOR, contract=Contract.objects.get(pk=contract.pk), given_by="customer", received_on=d(2024, 4, 2)
        )
        contract.refresh_from_db()
        assert contract.ends_on <= d(2025, 3, 18)
        assert run_on(d(2025, 3, 18)).proposed + run_on(d(2025, 3, 18)).approved == 0


# ---------------------------------------------------------------- Identum: sub-index, 1 January, 4 weeks' notice


def test_identum_notice_with_the_letter_then_applied_on_1_january(kpi, tenant_a, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a):
        plan = plan_for("identum")
        policy("identum", plan)
        contract = identum_contract(plan)
        assert run_on(d(2024, 10, 31)).approved == 0  # read on 1 November
        with django_capture_on_commit_callbacks(execute=True):
            report = run_on(d(2024, 11, 1))
        assert (report.approved, report.notices) == (1, 1)
        p = IndexationProposal.objects.get()
        assert p.series.code == "kpi-services-wages-2015"
        assert (p.reference_month, p.new_month, p.reference_value, p.new_value) == (
            d(2023, 9, 1),
            d(2024, 9, 1),
            D("127.200"),
            D("128.100"),
        )
        assert (p.notice_by, p.notice_sent_on, p.effective_on) == (d(2024, 12, 4), d(2024, 11, 1), d(2025, 1, 1))
        assert p.old_amount == D("138000.00")  # (10 000 + 1 500) × 12
        message = Message.objects.get(kind="price_change", contract=contract)
        assert "01.01.2025" in message.subject
        sent = mail.outbox[-1]
        assert sent.attachments[0][0].endswith(".pdf") and sent.attachments[0][1][:4] == b"%PDF"
        assert PriceAdjustment.objects.count() == 0  # not before 1 January
        assert run_on(d(2025, 1, 1)).applied == 1
        assert PriceAdjustment.objects.get().factor == D("1.00707547")


def test_identum_2026_waits_for_the_missing_month_and_says_why(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("identum")
        policy("identum", plan)
        identum_contract(plan)
        run_on(d(2024, 11, 1))
        run_on(d(2025, 1, 1))
        report = run_on(d(2025, 11, 1))
        assert report.waiting == 1
        p = IndexationProposal.objects.get(effective_on=d(2026, 1, 1))
        assert p.status == "waiting"
        assert "September 2025" in p.waiting_en and "not published or fetched yet" in p.waiting_en
        assert p.factor is None and p.new_amount is None  # nothing guessed
        written = p.updated_at
        again = run_on(d(2025, 11, 2))
        assert again.waiting == 0  # no second proposal; it keeps waiting, and the report says why
        assert any("September 2025" in reason for reason in again.waiting_reasons)
        assert IndexationProposal.objects.count() == 2
        p.refresh_from_db()
        assert p.updated_at == written  # a rerun that finds nothing new writes nothing


def test_a_value_entered_by_hand_lets_a_waiting_proposal_go_on(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("identum")
        policy("identum", plan)
        identum_contract(plan)
        run_on(d(2024, 11, 1))
        run_on(d(2025, 11, 1))
        series = IndexSeries.objects.get(code="kpi-services-wages-2015")
        index_value_enter(
            actor=STAFF, series=series, month="2025-09", value=D("133.0"), note="Test figure", today=d(2025, 11, 20)
        )
        report = run_on(d(2025, 11, 20))
        p = IndexationProposal.objects.get(effective_on=d(2026, 1, 1))
        assert p.status == "approved" and p.new_value == D("133.000") and p.reference_value == D("128.100")
        assert report.notices == 1 and p.notice_sent_on == d(2025, 11, 20)
        assert p.late_notice is False  # 20 November is before 4 December


def test_an_index_too_late_for_the_notice_waits_for_staff_and_approving_moves_the_date(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("identum")
        policy("identum", plan)
        identum_contract(plan)
        run_on(d(2024, 11, 1))
        run_on(d(2025, 11, 1))
        index_value_enter(
            actor=STAFF, series="kpi-services-wages-2015", month="2025-09", value=D("133.0"), note="Test figure",
            today=d(2025, 12, 20),
        )  # fmt: skip
        run_on(d(2025, 12, 20))  # after 4 December: 4 weeks' notice before 1 January is no longer possible
        p = IndexationProposal.objects.get(effective_on=d(2026, 1, 1))
        assert p.status == "proposed" and p.late_notice and p.notice_sent_on is None
        services.proposal_approve(actor=STAFF, proposal=p, on=d(2025, 12, 20))
        p.refresh_from_db()
        assert (p.status, p.effective_on, p.notice_sent_on) == ("approved", d(2026, 1, 17), d(2025, 12, 20))
        assert "notified too late for 2026-01-01, so it takes effect on 2026-01-17" in p.explanation_en
        run_on(d(2026, 1, 1))
        assert PriceAdjustment.objects.filter(effective_from__year=2026).count() == 0
        run_on(d(2026, 1, 17))
        assert PriceAdjustment.objects.filter(effective_from=d(2026, 1, 17)).count() == 1


# ---------------------------------------------------------------- DigiReq: up to CPI; above it with 6 months


def test_digireq_proposed_for_staff_approval_up_to_cpi(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        policy("digireq", plan)
        contract = digireq_annual(plan)
        report = run_on(d(2024, 12, 15))
        assert report.proposed == 1
        p = IndexationProposal.objects.get()
        assert p.status == "proposed" and p.notice_by is None
        assert (p.reference_month, p.new_month) == (d(2023, 11, 1), d(2024, 11, 1))
        assert p.old_amount == D("79560.00")  # 120 users × 65 × 12 × 0.85
        assert run_on(d(2025, 1, 1)).applied == 0  # not approved: not applied
        services.proposal_approve(actor=STAFF, proposal=p, on=d(2025, 1, 2))
        p.refresh_from_db()
        assert p.status == "applied"  # approved after its date: applied at once
        assert AuditEvent.objects.filter(action="indexation.approve", object_id=str(p.pk)).exists()
        history = price_history(contract, today=d(2025, 1, 2))
        assert [h.reason for h in history] == ["start", "indexation"]
        assert history[-1].yearly_price == p.new_amount and history[-1].previous_yearly_price == D("79560.00")


def test_digireq_above_cpi_needs_6_months_and_lets_the_customer_terminate_before_it(
    kpi, tenant_a, django_capture_on_commit_callbacks
):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        policy("digireq", plan)
        contract = digireq_annual(plan)
        with pytest.raises(ValidationError, match="må varsles 6 måneder før"):
            services.increase_request(
                actor=STAFF, contract=contract, percent=D("9"), effective_on=d(2026, 1, 1), on=d(2025, 7, 2)
            )
        p = services.increase_request(
            actor=STAFF, contract=contract, percent=D("9"), effective_on=d(2026, 1, 1), on=d(2025, 6, 20)
        )
        assert p.status == "proposed" and p.above_cap and p.may_terminate
        assert p.notice_by == d(2025, 7, 1)
        assert "9,00" in p.explanation_nb
        with django_capture_on_commit_callbacks(execute=True):
            services.proposal_approve(actor=STAFF, proposal=p, on=d(2025, 6, 20))
        p.refresh_from_db()
        assert p.notice_sent_on == d(2025, 6, 20)
        assert "terminate" in mail.outbox[-1].body or "si opp" in mail.outbox[-1].body
        portal = Actor.system("portal user")
        notice = services.terminate_before_increase(actor=portal, proposal=p, on=d(2025, 7, 10))
        assert notice.ends_on == d(2026, 1, 1)  # ends before the increase, without notice period
        contract.refresh_from_db()
        assert (contract.state, contract.ends_on) == (lifecycle.NOTICE_GIVEN, d(2026, 1, 1))
        report = run_on(d(2026, 1, 1))
        p.refresh_from_db()
        assert p.status == "withdrawn" and report.withdrawn == 1
        assert PriceAdjustment.objects.count() == 0


def test_an_above_cpi_increase_kept_takes_effect_with_the_index_recorded(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        policy("digireq", plan)
        contract = digireq_annual(plan)
        p = services.increase_request(
            actor=STAFF, contract=contract, percent=D("9"), effective_on=d(2026, 1, 1), on=d(2025, 6, 20)
        )
        services.proposal_approve(actor=STAFF, proposal=p, on=d(2025, 6, 20))
        run_on(d(2025, 12, 15))  # November 2025 is published: the index is recorded
        p.refresh_from_db()
        assert p.new_month == d(2025, 11, 1) and p.factor == D("1.09") and p.above_cap
        run_on(d(2026, 1, 1))
        assert PriceAdjustment.objects.get().factor == D("1.09")


def test_bad_increase_requests_are_refused_and_write_nothing(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        policy("digireq", plan)
        contract = digireq_annual(plan)
        for percent, effective, field in (
            (D("0"), d(2026, 1, 1), "percent"),
            (D("-5"), d(2026, 1, 1), "percent"),
            (D("9"), d(2026, 2, 1), "effective_on"),  # DigiReq changes prices on 1 January only
        ):
            with pytest.raises(ValidationError) as caught:
                services.increase_request(
                    actor=STAFF, contract=contract, percent=percent, effective_on=effective, on=d(2025, 6, 1)
                )
            assert field in caught.value.message_dict
        assert IndexationProposal.objects.count() == 0


def test_reject_then_the_date_is_not_proposed_again(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        policy("digireq", plan)
        digireq_annual(plan)
        run_on(d(2024, 12, 15))
        p = IndexationProposal.objects.get()
        services.proposal_reject(actor=STAFF, proposal=p, on=d(2024, 12, 16), reason="Not this year")
        assert run_on(d(2024, 12, 17)).proposed == 0
        with pytest.raises(ValidationError):
            services.proposal_approve(actor=STAFF, proposal=p, on=d(2024, 12, 18))


# ---------------------------------------------------------------- Spekter: the list; Standard Norge: the catalogue


def test_spekter_list_indexed_in_whole_kroner_as_a_new_price_list_version(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("spekter")
        policy("spekter", plan, first_effective_on=d(2025, 1, 1))
        assert run_on(d(2024, 11, 14)).proposed == 0
        assert run_on(d(2024, 11, 15)).proposed == 1
        p = IndexationProposal.objects.get()
        assert (p.scope, p.plan_id, p.effective_on, p.status) == ("list", plan.pk, d(2025, 1, 1), "proposed")
        # What customers will read on their invoices: the index and the date, never the vendor's totals.
        assert p.explanation_nb == (
            "KPI oktober 2024 / oktober 2023 = 134,5 / 131,1 = +2,59\u00a0% (grunnlag 2015=100): "
            "prislisten fra 2025-01-01 (hele kroner)"
        )
        services.proposal_approve(actor=STAFF, proposal=p, on=d(2024, 11, 20))
        assert run_on(d(2025, 1, 1)).applied == 1
        version = PlanVersion.objects.get(plan=plan, valid_from=d(2025, 1, 1))
        tiers = version.document["components"][0]["tiers"]
        assert [t["flat_amount"] for t in tiers[:2]] == ["2967", "3401"]  # 2 892 and 3 315 × 134.5/131.1
        assert (
            PlanVersion.objects.get(plan=plan, valid_from=d(2020, 1, 1)).document["components"][0]["tiers"][0][
                "flat_amount"
            ]
            == "2892"
        )  # history is not edited
        result, used, _c = quote_compute(
            request={"plan": plan.code, "interval": "year", "schools": [{"name": "A", "pupils": 80}]},
            on=d(2025, 2, 1),
        )
        assert used == version and result.totals.net == D("2967.00")
        assert "Prisjustert" not in result.lines[0].explain("nb")  # a quote shows the list as it is


def test_standard_norge_catalogue_prices_for_the_new_year(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("standard-norge")
        policy("standard-norge", plan, first_effective_on=d(2025, 1, 1))
        category = StandardCategory.objects.create(code="9", name_nb="Test", name_en="Test")
        for n, price in enumerate((D("1000"), D("2500"), D("3999")), start=1):
            standard = Standard.objects.create(code=f"NS {n}", title=f"Standard {n}", category=category)
            StandardPrice.objects.create(standard=standard, year=2024, price=price)
        fetched = StandardCategory.objects.create(
            code="5", name_nb="Thomson Reuters", name_en="Thomson Reuters", yearly_prices_fetched=True
        )
        publisher = Standard.objects.create(code="ASTM 1", title="Fetched yearly", category=fetched)
        StandardPrice.objects.create(standard=publisher, year=2024, price=D("900"))  # not indexed: imported
        imported = Standard.objects.create(code="NS 9", title="Imported", category=category)
        StandardPrice.objects.create(standard=imported, year=2024, price=D("500"))
        StandardPrice.objects.create(standard=imported, year=2025, price=D("777"))  # an imported list wins
        run_on(d(2024, 11, 15))
        p = IndexationProposal.objects.get()
        assert p.scope == "catalogue" and p.old_amount == D("7999.00")
        services.proposal_approve(actor=STAFF, proposal=p, on=d(2024, 11, 20))
        run_on(d(2025, 1, 1))
        prices = dict(StandardPrice.objects.filter(year=2025).values_list("standard__code", "price"))
        assert prices == {"NS 1": D("1026.00"), "NS 2": D("2565.00"), "NS 3": D("4103.00"), "NS 9": D("777.00")}


def test_one_policys_failure_does_not_stop_another(kpi, tenant_a, monkeypatch):
    with tenant_context(tenant_a):
        piscator = plan_for("piscator")
        policy("piscator", piscator)
        piscator_contract(piscator, received=d(2023, 10, 18))  # starts 2023-11-01: first anniversary 2024-11-01
        identum = plan_for("identum", code="i")
        policy("identum", identum)
        identum_contract(identum, signed=d(2024, 1, 10), start=d(2024, 2, 1))  # read on 2024-11-01
        real = services._propose_chunk

        def broken(policy, *args, **kwargs):
            if policy.code == "ssa-l-kpi":
                raise RuntimeError("disk full")
            return real(policy, *args, **kwargs)

        monkeypatch.setattr(services, "_propose_chunk", broken)
        report = run_on(d(2024, 11, 1))
        assert any("ssa-l-kpi: RuntimeError: disk full" in e for e in report.errors)
        assert IndexationProposal.objects.filter(policy__code="kpi-arbeidskraft").exists()
        assert not IndexationProposal.objects.filter(policy__code="ssa-l-kpi").exists()
        monkeypatch.setattr(services, "_propose_chunk", real)
        assert run_on(d(2024, 11, 1)).applied == 1  # the rerun does it


def test_policies_as_data_refuse_bad_input(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("identum")
        with pytest.raises(ValidationError) as caught:
            policy("identum", plan, notice_days=14)
        assert "notice" in caught.value.message_dict
        with pytest.raises(ValidationError) as caught:
            policy("identum", plan, index_code="kpi-unknown")
        assert "index_code" in caught.value.message_dict
        with pytest.raises(ValidationError) as caught:
            policy("spekter", None)
        assert "plan" in caught.value.message_dict
        assert not services.IndexationPolicy.objects.exists()
