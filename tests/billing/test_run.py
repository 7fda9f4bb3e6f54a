"""The billing run in process: the command (with --dry-run), the Celery task, reruns, resuming after a crash,
and contracts that cannot be priced reported rather than crashing the run."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing import run, tasks
from billing.models import BillingRun, Invoice
from tenants.tenancy import tenant_context
from tests.billing.test_services import digireq_contract, piscator_contract, spekter_contract
from tests.contracts.conftest import plan_for

pytestmark = pytest.mark.django_db
d = dt.date


@pytest.fixture
def three_contracts(tenant_a):
    """A Spekter contract (DPA 2026-03-20) and two DigiReq monthly ones (from 2026-01-19)."""
    with tenant_context(tenant_a):
        digireq = plan_for("digireq")
        contracts = [digireq_contract(digireq, "month", name=f"K{i} AS") for i in range(2)]
        contracts.append(spekter_contract(plan_for("spekter")))
        yield contracts


def numbers(tenant):
    with tenant_context(tenant):
        return sorted(Invoice.objects.values_list("number", flat=True))


def test_dry_run_shows_what_would_be_invoiced_and_writes_nothing(three_contracts, tenant_a):
    out = StringIO()
    call_command("billing_run", "--as-of", "2026-03-20", "--dry-run", "--tenant", tenant_a.slug, stdout=out)
    text = out.getvalue()
    assert f"{tenant_a.slug} 2026-03-20: would issue 7 invoice(s)" in text  # DigiReq 19 Jan, Feb, Mar twice; Spekter
    assert "2026-03-15 – 2027-03-14 net 26292.00 VAT 6573.00 total 32865.00 NOK" in text
    assert "2026-02-19 – 2026-03-18 net 2250.00 VAT 562.50 total 2812.50 NOK" in text
    with tenant_context(tenant_a):
        assert Invoice.objects.count() == 0
        assert BillingRun.objects.count() == 0


def test_the_command_issues_and_a_rerun_changes_nothing(three_contracts, tenant_a):
    out = StringIO()
    call_command("billing_run", "--as-of", "2026-03-20", stdout=out)
    assert f"{tenant_a.slug} 2026-03-20: 3 contract(s), 7 invoice(s) issued" in out.getvalue()
    with tenant_context(tenant_a):
        first = list(Invoice.objects.order_by("number").values_list("number", "contract_id", "period_start", "total"))
        call_command("billing_run", "--as-of", "2026-03-20", stdout=StringIO())
        again = list(Invoice.objects.order_by("number").values_list("number", "contract_id", "period_start", "total"))
        assert again == first
        assert [n for n, *_ in first] == [1, 2, 3, 4, 5, 6, 7]
        row = BillingRun.objects.get()
        assert (row.status, row.as_of, row.last_contract_id) == ("done", d(2026, 3, 20), three_contracts[-1].pk)


def test_unknown_tenant_is_an_error(db):
    with pytest.raises(CommandError, match="Unknown tenant nope"):
        call_command("billing_run", "--as-of", "2026-03-20", "--tenant", "nope")


def test_a_run_that_crashes_after_a_chunk_resumes_after_it(three_contracts, tenant_a, monkeypatch):
    calls = []
    real = run._load

    def crash_on_second_chunk(ids):
        calls.append(ids)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(ids)

    monkeypatch.setattr(run, "_load", crash_on_second_chunk)
    with tenant_context(tenant_a):
        with pytest.raises(RuntimeError):
            run.run_tenant(d(2026, 3, 20), chunk_size=1)
        row = BillingRun.objects.get()
        assert (row.status, row.last_contract_id, row.invoices_issued) == ("running", three_contracts[0].pk, 3)
        assert Invoice.objects.count() == 3  # the first contract's January, February and March
        monkeypatch.setattr(run, "_load", real)
        calls.clear()
        result = run.run_tenant(d(2026, 3, 20), chunk_size=1)
        assert (result.contracts, result.invoices) == (2, 4)  # resumed after the first contract
    assert numbers(tenant_a) == [1, 2, 3, 4, 5, 6, 7]


def test_a_contract_that_cannot_be_priced_is_reported_and_the_rest_invoiced(tenant_a):
    from catalog import services as catalog_services
    from contracts import services as contract_services
    from tests.billing.test_services import ACTOR, sign
    from tests.factories import CustomerFactory

    with tenant_context(tenant_a):
        plan = plan_for("standard-norge")
        catalog_services.category_save(actor=ACTOR, data={"code": "1", "name_nb": "1", "name_en": "1"})
        contract = contract_services.contract_create(
            actor=ACTOR,
            customer=CustomerFactory(),
            plan=plan,
            interval="year",
            on=d(2026, 5, 1),
            priced_on={"standards": [{"code": "X", "category": "1", "price": "1000"}], "concurrent_users": 51},
            terms_data=contract_services.TERM_PRESETS["standard-norge"],
        )
        sign(contract, d(2026, 5, 10))
        piscator_contract(plan_for("piscator"), received=d(2026, 4, 20))
        result = run.run_tenant(d(2026, 5, 10))
        assert result.invoices == 1
        assert [p.contract_reference for p in result.problems] == [contract.reference]
        assert "on request" in result.problems[0].message
        assert BillingRun.objects.get().problems[0]["contract_reference"] == contract.reference


def test_the_celery_task_runs_every_tenant(three_contracts, tenant_a, tenant_b):
    outcome = tasks.billing_run.delay("2026-01-19").get()
    assert outcome == {tenant_a.slug: {"contracts": 3, "invoices": 2}, tenant_b.slug: {"contracts": 0, "invoices": 0}}
    with tenant_context(tenant_a):
        assert sorted(Invoice.objects.values_list("total", flat=True)) == [Decimal("2812.50")] * 2


def test_with_a_broker_beats_run_queues_one_task_per_tenant(tenant_a, tenant_b, settings, monkeypatch):
    """Beat's run (no tenant) fans out per tenant so the tenants' runs spread over the workers."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []

    class Queued:
        def __init__(self, n):
            self.id = f"task-{n}"

    def apply_async(args, queue=None):
        queued.append((*args, queue))
        return Queued(len(queued))

    monkeypatch.setattr(tasks.billing_run, "apply_async", apply_async)
    outcome = tasks.billing_run.run("2026-01-19")
    assert queued == [("2026-01-19", tenant_a.slug, None), ("2026-01-19", tenant_b.slug, None)]
    assert outcome == {"queued": {tenant_a.slug: "task-1", tenant_b.slug: "task-2"}}
    with tenant_context(tenant_a):
        assert not Invoice.objects.exists()  # nothing ran in the fanning task itself
