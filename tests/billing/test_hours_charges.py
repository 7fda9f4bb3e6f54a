"""Time entries and amendment charges in the billing run (issue 5 items 1 and 8), against PostgreSQL: hours on
the next invoice or a supplementary one, billed once, shown by the dry run; amendments inside an invoiced
period as charges, credits or a credit note, once; a bounded number of queries per chunk; bad time entries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext

from billing import run, services
from billing.models import Charge, Invoice, TimeEntry
from catalog import services as catalog_services
from catalog.models import HourlyService
from contracts import services as contract_services
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.billing.test_services import ACTOR, digireq_contract, piscator_contract, sign, totals
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
d = dt.date
D = Decimal


def consulting(rate="1800.00", **extra):
    return HourlyService.objects.create(
        code=extra.pop("code", "konsulent"),
        name_nb="Konsulenttimer",
        name_en="Consulting",
        hourly_rate=D(rate),
        **extra,
    )


def record(contract, service, worked_on, hours=0, travel_hours=0, expenses=0, **extra):
    return services.time_entry_create(
        actor=ACTOR,
        contract=contract,
        service=service,
        worked_on=worked_on,
        description=extra.pop("description", "Oppsett av mannskapsmodul"),
        hours=hours,
        travel_hours=travel_hours,
        expenses=expenses,
        **extra,
    )


@pytest.fixture
def piscator(tenant_a):
    """A Piscator contract starting (and first invoiced) 2026-02-16, quarterly 24 000.00; consulting 1 800/h."""
    with tenant_context(tenant_a):
        yield piscator_contract(plan_for("piscator")), consulting()


# ---------------------------------------------------------------- hours


def test_piscator_hours_on_the_period_invoice_3_h_and_2_h_travel_are_7200(piscator, tenant_a):
    contract, service = piscator
    with tenant_context(tenant_a):
        entry = record(contract, service, d(2026, 2, 16), hours="3", travel_hours="2")
        run.run_tenant(d(2026, 2, 16))
        invoice = Invoice.objects.get()
        lines = list(invoice.lines.order_by("position"))
        assert [(line.code, line.quantity, line.unit_price, line.net) for line in lines] == [
            ("service", D("1"), D("24000.00"), D("24000.00")),
            ("hours:konsulent", D("3"), D("1800.00"), D("5400.00")),
            ("travel:konsulent", D("2"), D("900.00"), D("1800.00")),
        ]
        assert sum(line.net for line in lines[1:]) == D("7200.00")
        assert totals(invoice) == (D("31200.00"), D("7800.00"), D("39000.00"))
        assert lines[1].description == "Konsulenttimer 16.02.2026: Oppsett av mannskapsmodul"
        assert lines[1].description_en == "Consulting 2026-02-16: Oppsett av mannskapsmodul"
        assert lines[1].explanation_nb == "3 t × 1\u00a0800,00 = 5\u00a0400,00"
        assert lines[2].explanation_en == "Travel time 2 h × 900.00 (50 % of the hourly rate 1,800.00) = 1,800.00"
        assert (lines[1].unit_code, lines[1].period_start) == ("HUR", d(2026, 2, 16))
        entry.refresh_from_db()
        assert entry.invoice_id == invoice.pk
        assert not invoice.supplementary
        # The stored document (PDF and EHF) carries the hour lines too, and is the one built from the rows.
        assert [line["net"] for line in invoice.document["lines"]] == ["24000.00", "5400.00", "1800.00"]
        assert invoice.document == services.document_snapshot(services.build_document(invoice))
        event = AuditEvent.objects.get(action="invoice.issue", object_id=str(invoice.pk))
        assert (event.object_repr, event.changes["number"], event.changes["total"]) == (
            "Faktura 1",
            [None, 1],
            [None, "39000.00"],
        )


def test_hours_without_a_period_invoice_wait_for_the_next_month_then_go_on_a_supplementary_invoice(piscator, tenant_a):
    contract, service = piscator
    with tenant_context(tenant_a):
        run.run_tenant(d(2026, 2, 16))  # the first quarter, before any hours
        record(contract, service, d(2026, 2, 20), hours="3", travel_hours="2")
        later = record(contract, service, d(2026, 3, 2), hours="1")
        assert run.run_tenant(d(2026, 2, 27)).invoices == 0  # this month's hours wait
        assert run.run_tenant(d(2026, 3, 1)).invoices == 1  # February's hours on 1 March
        extra = Invoice.objects.get(supplementary=True)
        assert (extra.number, extra.issue_date, extra.period_start, extra.period_end) == (
            2,
            d(2026, 3, 1),
            d(2026, 2, 20),
            d(2026, 2, 20),
        )
        assert totals(extra) == (D("7200.00"), D("1800.00"), D("9000.00"))
        assert extra.kid and extra.due_date == d(2026, 3, 31)
        # The rerun bills nothing again; March's hour is still waiting.
        assert run.run_tenant(d(2026, 3, 1)).invoices == 0
        assert run.run_tenant(d(2026, 3, 31)).invoices == 0
        later.refresh_from_db()
        assert later.invoice_id is None
        assert run.run_tenant(d(2026, 4, 1)).invoices == 1
        later.refresh_from_db()
        assert Invoice.objects.get(pk=later.invoice_id).net == D("1800.00")
        assert TimeEntry.objects.filter(invoice__isnull=True).count() == 0
        assert list(Invoice.objects.order_by("number").values_list("number", flat=True)) == [1, 2, 3]


def test_the_dry_run_shows_the_hours_and_writes_nothing(piscator, tenant_a):
    contract, service = piscator
    with tenant_context(tenant_a):
        record(contract, service, d(2026, 2, 16), hours="3", travel_hours="2")
        proposals = run.preview(d(2026, 2, 16)).proposals
        assert [p.net for p in proposals] == [D("31200.00")]
        assert [line.net for line in proposals[0].lines] == [D("24000.00"), D("5400.00"), D("1800.00")]
        assert Invoice.objects.count() == 0
        assert TimeEntry.objects.get().invoice_id is None
        assert run.preview(d(2026, 2, 16)).proposals[0].total == D("39000.00")  # still there: nothing written


def test_expenses_and_half_hour_increments(tenant_a):
    with tenant_context(tenant_a):
        contract = piscator_contract(plan_for("piscator"))
        support = consulting(rate="1200.00", code="support", increment_minutes=30)
        record(contract, support, d(2026, 2, 16), hours="1.2", expenses="812.40", expenses_description="Fly Bergen")
        run.run_tenant(d(2026, 2, 16))
        lines = list(Invoice.objects.get().lines.order_by("position"))[1:]
        assert [(line.code, line.quantity, line.net) for line in lines] == [
            ("hours:support", D("1.5"), D("1800.00")),
            ("expenses:support", D("1"), D("812.40")),
        ]
        assert "per påbegynte 30 min" in lines[0].explanation_nb
        assert lines[1].description == "Utlegg, Konsulenttimer 16.02.2026: Oppsett av mannskapsmodul"


def test_bad_time_entries_are_refused_and_nothing_is_written(piscator, tenant_a, tenant_b):
    contract, service = piscator
    with tenant_context(tenant_b):
        foreign = consulting(code="fremmed")
    with tenant_context(tenant_a):
        cases = [
            ({"hours": "-1"}, "hours"),
            ({"hours": "abc"}, "hours"),
            ({"hours": "1.234"}, "hours"),
            ({"hours": "0"}, "hours"),
            ({"hours": "2000"}, "hours"),
            ({"expenses": "100"}, "expenses_description"),
            ({"hours": "1", "description": " "}, "description"),
            ({"hours": "1", "service": foreign}, "service"),
        ]
        for extra, field in cases:
            with pytest.raises(ValidationError) as err:
                record(contract, extra.pop("service", service), d(2026, 2, 20), **extra)
            assert field in err.value.message_dict, extra
        service.is_active = False
        service.save()
        with pytest.raises(ValidationError) as err:
            record(contract, service, d(2026, 2, 20), hours="1")
        assert err.value.message_dict["service"] == [gettext("This hourly service is no longer active.")]
        service.is_active = True
        service.save()
        contract.state = "ended"
        contract.save()
        with pytest.raises(ValidationError) as err:
            record(contract, service, d(2026, 2, 20), hours="1")
        assert list(err.value.message_dict) == ["contract"]
        assert TimeEntry.objects.count() == 0


# ---------------------------------------------------------------- amendments


def amend(contract, effective_from, changes, on=None):
    return contract_services.amendment_create(
        actor=ACTOR,
        contract=contract,
        effective_from=effective_from,
        changes=changes,
        reason="Flere brukere",
        on=on or effective_from,
    )


@pytest.fixture
def digireq(tenant_a):
    """DigiReq monthly, 30 active users (2 250.00 a month), from 2026-01-19; the first month invoiced."""
    with tenant_context(tenant_a):
        contract = digireq_contract(plan_for("digireq"), "month")
        run.run_tenant(d(2026, 1, 19))
        yield contract


def test_an_increase_inside_an_invoiced_month_is_charged_for_the_rest_of_it_once(digireq, tenant_a):
    with tenant_context(tenant_a):
        row = amend(digireq, d(2026, 2, 1), {"quantities": {"active_users": 40}})
        assert run.preview(d(2026, 1, 31)).proposals == []  # not in effect yet
        preview = run.preview(d(2026, 2, 1)).proposals
        assert [(p.supplementary, p.net) for p in preview] == [(True, D("435.48"))]
        assert Charge.objects.count() == 0  # the dry run writes nothing
        assert run.run_tenant(d(2026, 2, 1)).invoices == 1
        charge = Charge.objects.get()
        # 40 × 75 = 3 000 instead of 30 × 75 = 2 250: 750 × 18/31 days (1–18 February of 19 Jan – 18 Feb).
        assert (charge.priced_on_id, charge.net, charge.period_start, charge.period_end) == (
            row.pk,
            D("435.48"),
            d(2026, 2, 1),
            d(2026, 2, 18),
        )
        invoice = Invoice.objects.get(supplementary=True)
        assert charge.invoice_id == invoice.pk
        assert totals(invoice) == (D("435.48"), D("108.87"), D("544.35"))
        line = invoice.lines.get()
        assert "750,00 × 18/31 dager = 435,48" in line.explanation_nb
        assert "750.00 × 18/31 days = 435.48" in line.explanation_en
        assert run.run_tenant(d(2026, 2, 1)).invoices == 0  # billed once
        assert run.run_tenant(d(2026, 2, 2)).invoices == 0
        # The next month is priced on the amendment.
        run.run_tenant(d(2026, 2, 19))
        assert Invoice.objects.get(period_start=d(2026, 2, 19)).net == D("3000.00")
        assert Charge.objects.count() == 1


def test_a_charge_due_with_a_period_invoice_goes_on_it(digireq, tenant_a):
    with tenant_context(tenant_a):
        amend(digireq, d(2026, 2, 10), {"quantities": {"active_users": 40}}, on=d(2026, 2, 10))
        run.run_tenant(d(2026, 2, 19))  # no run between 10 and 18 February
        invoice = Invoice.objects.get(period_start=d(2026, 2, 19))
        # 3 000 for the new month + 750 × 9/31 (10–18 February) = 217.74
        assert [line.net for line in invoice.lines.order_by("position")] == [D("3000.00"), D("217.74")]
        assert invoice.net == D("3217.74")
        assert Invoice.objects.filter(supplementary=True).count() == 0


def test_a_decrease_that_would_make_an_invoice_negative_is_a_credit_note(digireq, tenant_a):
    with tenant_context(tenant_a):
        first = Invoice.objects.get()
        amend(digireq, d(2026, 2, 1), {"quantities": {"active_users": 20}})
        result = run.run_tenant(d(2026, 2, 1))
        assert (result.invoices, result.credit_notes, result.problems) == (0, 1, [])
        note = Invoice.objects.get(kind="credit_note")
        # 20 × 75 = 1 500 instead of 2 250: −750 × 18/31 = −435.48, credited on invoice 1.
        assert (note.number, note.credited_invoice_id) == (2, first.pk)
        assert totals(note) == (D("435.48"), D("108.87"), D("544.35"))
        assert "−750,00 × 18/31 dager = −435,48" in note.lines.get().explanation_nb
        first.refresh_from_db()
        assert first.credited_amount == D("544.35")
        assert Charge.objects.get().invoice_id == note.pk
        assert run.run_tenant(d(2026, 2, 2)).credit_notes == 0


def test_a_credit_smaller_than_the_period_invoice_is_a_credit_line_on_it(digireq, tenant_a):
    with tenant_context(tenant_a):
        amend(digireq, d(2026, 2, 10), {"quantities": {"active_users": 20}}, on=d(2026, 2, 10))
        run.run_tenant(d(2026, 2, 19))
        invoice = Invoice.objects.get(period_start=d(2026, 2, 19))
        lines = list(invoice.lines.order_by("position"))
        # 1 500 for the new month − 750 × 9/31 = −217.74 (quantity −1 at 217.74: no negative price in EHF)
        assert [(line.quantity, line.unit_price, line.net) for line in lines] == [
            (D("1"), D("1500.00"), D("1500.00")),
            (D("-1"), D("217.74"), D("-217.74")),
        ]
        assert invoice.net == D("1282.26")


def test_standard_norge_standards_added_mid_year_are_charged_for_the_remaining_quarters(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("standard-norge")
        for code in ("1", "2"):
            catalog_services.category_save(actor=ACTOR, data={"code": code, "name_nb": code, "name_en": code})
        cat1 = [f"NS 1-{i}" for i in range(40)]
        cat2 = [f"ISO 2-{i}" for i in range(15)]
        rows = [f"{c},T,1,1200" for c in cat1] + [f"{c},T,2,1500" for c in cat2]
        for year in (2026, 2027):
            catalog_services.standards_import_csv(
                actor=ACTOR, text="code,title,category,price\n" + "\n".join(rows), year=year
            )
        held = [{"code": c} for c in cat1 + cat2[:10]]
        contract = contract_services.contract_create(
            actor=ACTOR,
            customer=CustomerFactory(),
            plan=plan,
            interval="year",
            on=d(2026, 5, 1),
            priced_on={"standards": held, "concurrent_users": 7, "addons": ["offline"]},
            terms_data=contract_services.TERM_PRESETS["standard-norge"],
        )
        sign(contract, d(2026, 5, 10))
        run.run_tenant(d(2026, 5, 10))
        assert Invoice.objects.get().net == D("54573.75")
        amend(contract, d(2026, 8, 15), {"standards": held + [{"code": c} for c in cat2[10:]]}, on=d(2026, 8, 14))
        assert run.run_tenant(d(2026, 8, 14)).invoices == 0
        assert run.run_tenant(d(2026, 8, 15)).invoices == 1
        extra = Invoice.objects.get(supplementary=True)
        # 5 × 1 500 × (1 − 0.15: D for 15 in category 2) × 4 × 0.45 = 11 475 a year; Q3–Q4: 2/4 = 5 737.50
        assert totals(extra) == (D("5737.50"), D("1434.38"), D("7171.88"))
        line = extra.lines.get()
        assert (line.code, line.period_start, line.period_end) == (
            "amendment:addition",
            d(2026, 8, 15),
            d(2026, 12, 31),
        )
        assert "2/4 of the annual price" in line.explanation_en
        assert Charge.objects.get().invoice_id == extra.pk
        assert run.run_tenant(d(2026, 8, 16)).invoices == 0
        # 1 January: everything together, at D for 15 standards in category 2.
        run.run_tenant(d(2027, 1, 1))
        # 48 000 × 0.5 × 4 × 0.45 = 43 200; 22 500 × 0.85 × 1.8 = 34 425; offline 10 % of 77 625 = 7 762.50
        assert Invoice.objects.get(period_start=d(2027, 1, 1)).net == D("85387.50")


# ---------------------------------------------------------------- queries per chunk


def _queries(on, chunk_size=100):
    with CaptureQueriesContext(connection) as ctx:
        run.run_tenant(on, chunk_size=chunk_size)
    return len(ctx.captured_queries)


def test_a_chunk_uses_the_same_number_of_queries_for_2_and_for_8_contracts(tenant_a, tenant_b):
    counts = []
    for tenant, n in ((tenant_a, 2), (tenant_b, 8)):
        with tenant_context(tenant):
            plan = plan_for("digireq", code=tenant.slug)
            service = consulting()
            contracts = [digireq_contract(plan, "month", name=f"K{i} AS") for i in range(n)]
            for contract in contracts:
                record(contract, service, d(2026, 1, 19), hours="2")
            for contract in contracts[: n // 2]:
                amend(contract, d(2026, 2, 1), {"quantities": {"active_users": 40}}, on=d(2026, 1, 20))
            counts.append((_queries(d(2026, 1, 19)), _queries(d(2026, 2, 1)), _queries(d(2026, 2, 19))))
            assert Invoice.objects.count() == n + n // 2 + n
            assert TimeEntry.objects.filter(invoice__isnull=True).count() == 0
    assert counts[0] == counts[1]
    assert max(counts[1]) <= 40


def test_a_manual_charge_is_billed_once_on_the_next_invoice(digireq, tenant_a):
    with tenant_context(tenant_a):
        charge = Charge.objects.create(
            contract=digireq,
            source="manual",
            due_on=d(2026, 2, 19),
            code="setup",
            description="Ekstra opplæring",
            description_en="Extra training",
            explanation_nb="Avtalt pris",
            explanation_en="Agreed price",
            net=D("1500.00"),
        )
        assert run.run_tenant(d(2026, 2, 18)).invoices == 0  # not due yet
        run.run_tenant(d(2026, 2, 19))
        invoice = Invoice.objects.get(period_start=d(2026, 2, 19))
        assert [(line.code, line.net) for line in invoice.lines.order_by("position")] == [
            ("active_users", D("2250.00")),
            ("setup", D("1500.00")),
        ]
        charge.refresh_from_db()
        assert charge.invoice_id == invoice.pk
        assert run.run_tenant(d(2026, 2, 19)).invoices == 0
        assert Invoice.objects.count() == 2


def test_the_dry_run_shows_a_credit_note_and_writes_nothing(digireq, tenant_a):
    from io import StringIO

    from django.core.management import call_command

    with tenant_context(tenant_a):
        amend(digireq, d(2026, 2, 1), {"quantities": {"active_users": 20}})
    out = StringIO()
    call_command("billing_run", "--as-of", "2026-02-01", "--dry-run", "--tenant", tenant_a.slug, stdout=out)
    assert f"{digireq.reference} Kunde AS: credit note, net 435.48" in out.getvalue()
    with tenant_context(tenant_a):
        assert (Invoice.objects.count(), Charge.objects.count()) == (1, 0)


def test_a_draft_from_a_proposal_holds_its_time_entries_until_it_is_deleted(piscator, tenant_a):
    from billing import generator

    contract, service = piscator
    with tenant_context(tenant_a):
        entry = record(contract, service, d(2026, 2, 16), hours="3", travel_hours="2")
        (proposal,), problems = generator.proposals_for(contract, d(2026, 2, 16))
        assert (proposal.net, proposal.time_entry_ids, problems) == (D("31200.00"), (entry.pk,), [])
        draft = services.invoice_draft_create(actor=ACTOR, proposal=proposal)
        entry.refresh_from_db()
        assert entry.invoice_id == draft.pk
        assert run.preview(d(2026, 2, 16)).proposals == []  # the period and the hours are taken by the draft
        services.invoice_draft_delete(actor=ACTOR, invoice=draft)
        entry.refresh_from_db()
        assert entry.invoice_id is None
        run.run_tenant(d(2026, 2, 16))
        entry.refresh_from_db()
        assert Invoice.objects.get(pk=entry.invoice_id).net == D("31200.00")


def test_spekter_and_standard_norge_chunks_use_the_same_queries_at_1_and_3_contracts(tenant_a, tenant_b):
    from tenants.models import CustomerKind
    from tests.billing.test_services import spekter_contract

    counts = []
    for tenant, n in ((tenant_a, 1), (tenant_b, 3)):
        with tenant_context(tenant):
            plan = plan_for("spekter", code=tenant.slug)
            for i in range(n):
                spekter_contract(plan, kommune=CustomerFactory(name=f"Kommune {i}", kind=CustomerKind.KOMMUNE))
            sn = plan_for("standard-norge", code=f"{tenant.slug}-sn")
            catalog_services.category_save(actor=ACTOR, data={"code": "1", "name_nb": "1", "name_en": "1"})
            catalog_services.standards_import_csv(
                actor=ACTOR,
                text="code,title,category,price\n" + "\n".join(f"NS {k},T,1,1000" for k in range(30)),
                year=2026,
            )
            for i in range(n):
                contract = contract_services.contract_create(
                    actor=ACTOR,
                    customer=CustomerFactory(),
                    plan=sn,
                    interval="year",
                    on=d(2026, 3, 1),
                    priced_on={"standards": [{"code": f"NS {k}"} for k in range(10 + i)], "concurrent_users": 3},
                    terms_data=contract_services.TERM_PRESETS["standard-norge"],
                )
                sign(contract, d(2026, 3, 20))
            counts.append(_queries(d(2026, 3, 20)))
            assert Invoice.objects.count() == 2 * n
    assert counts[0] == counts[1]
