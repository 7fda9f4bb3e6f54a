"""Two indexation runs at once, and two approvals at once, on real connections: one proposal, one price."""

import datetime as dt
import threading

import pytest
from django.db import connection

from indexation import services
from indexation.models import IndexationEvent, IndexationProposal, PriceAdjustment
from tenants.audit import Actor
from tenants.tenancy import tenant_context
from tests.billing.test_services import piscator_contract
from tests.contracts.conftest import plan_for
from tests.factories import TenantFactory
from tests.indexation.conftest import load_recorded_values, policy

d = dt.date


def at_once(tenant, *works):
    barrier = threading.Barrier(len(works))
    errors = []

    def run(work):
        try:
            with tenant_context(tenant):
                barrier.wait(timeout=10)
                work()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_runs_at_once_make_one_proposal_and_one_price(attempt):
    load_recorded_values()
    tenant = TenantFactory()
    with tenant_context(tenant):
        plan = plan_for("piscator")
        policy("piscator", plan)
        for _ in range(3):
            piscator_contract(plan, received=d(2024, 3, 4))
    day = d(2025, 3, 18)
    reports = []
    errors = at_once(
        tenant,
        lambda: reports.append(services.indexation_run(as_of=day)),
        lambda: reports.append(services.indexation_run(as_of=day)),
    )
    assert errors == []
    assert [r.errors for r in reports] == [[], []]  # neither run failed on the other's rows: they took turns
    assert sorted(r.applied for r in reports) == [0, 3]
    with tenant_context(tenant):
        assert IndexationProposal.objects.count() == 3
        assert PriceAdjustment.objects.count() == 3
        assert IndexationEvent.objects.filter(kind="indexation.applied").count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_make_one_price():
    load_recorded_values()
    tenant = TenantFactory()
    with tenant_context(tenant):
        plan = plan_for("digireq")
        policy("digireq", plan)
        from tests.indexation.test_services import digireq_annual

        digireq_annual(plan)
        services.indexation_run(as_of=d(2024, 12, 15))
        proposal = IndexationProposal.objects.get()
    staff = Actor.system("finance")
    errors = at_once(
        tenant,
        lambda: services.proposal_approve(actor=staff, proposal=proposal, on=d(2025, 1, 2)),
        lambda: services.proposal_approve(actor=staff, proposal=proposal, on=d(2025, 1, 2)),
    )
    assert errors == []
    with tenant_context(tenant):
        assert PriceAdjustment.objects.count() == 1
        assert IndexationEvent.objects.filter(kind="indexation.approved").count() == 1
