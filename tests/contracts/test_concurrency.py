"""A customer giving notice while the renewal job runs for the same contract, on two real connections."""

import datetime as dt
import threading

import pytest
from django.db import connection

from contracts import jobs, lifecycle, services
from contracts.models import Contract, ContractEvent, TerminationNotice
from tenants.tenancy import tenant_context
from tests.contracts.conftest import ACTOR, SHA, plan_for, signed_at, spekter_priced_on
from tests.factories import CustomerFactory, TenantFactory

d = dt.date


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(4))
def test_notice_and_renewal_at_once_end_in_one_consistent_state(attempt):
    tenant = TenantFactory()
    with tenant_context(tenant):
        plan = plan_for("spekter")
        kommune = CustomerFactory(kind="kommune")
        schools = [CustomerFactory(kind="school", parent=kommune) for _ in range(3)]
        contract = services.contract_create(
            actor=ACTOR,
            customer=kommune,
            plan=plan,
            interval="year",
            on=d(2026, 3, 1),
            priced_on=spekter_priced_on(schools),
            terms_data={**services.TERM_PRESETS["spekter"], "dpa_required": False},
        )
        services.contract_sign(
            actor=ACTOR,
            contract=contract,
            name="A",
            title="B",
            signed_at=signed_at(d(2026, 3, 14)),
            received_on=d(2026, 3, 15),
            document_sha256=SHA,
        )
    day = d(2027, 3, 15)  # the term ends today; a notice today is late (deadline 2026-12-14)
    barrier = threading.Barrier(2)
    errors = []

    def run(work):
        try:
            with tenant_context(tenant):
                barrier.wait(timeout=10)
                work()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    notice = threading.Thread(
        target=run,
        args=(lambda: services.notice_give(actor=ACTOR, contract=contract, given_by="customer", received_on=day),),
    )
    renewal = threading.Thread(target=run, args=(lambda: jobs.renew_due(day),))
    for t in (notice, renewal) if attempt % 2 else (renewal, notice):
        t.start()
    for t in (notice, renewal):
        t.join(timeout=30)
    assert errors == []
    with tenant_context(tenant):
        contract = Contract.objects.get(pk=contract.pk)
        # Whichever came first: one notice, the contract runs the renewed term to its end, renewed once.
        assert TerminationNotice.objects.filter(contract=contract).count() == 1
        assert contract.state == lifecycle.NOTICE_GIVEN
        assert (contract.ends_on, contract.term_end, contract.term_index) == (d(2028, 3, 15), d(2028, 3, 15), 1)
        assert ContractEvent.objects.filter(contract=contract, event="renew").count() == 1
        # Running the job again changes nothing.
        assert jobs.renew_due(day) == 0
