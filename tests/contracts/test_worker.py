"""A contract job through a real Celery worker and Redis (the worker fixtures are the foundation's)."""

import datetime as dt

import pytest

from contracts import lifecycle, services
from contracts.models import Contract, ContractEvent
from tenants.tenancy import tenant_context
from tests.contracts.conftest import ACTOR, SHA, plan_for, signed_at
from tests.factories import CustomerFactory, TenantFactory
from tests.tenants.test_worker import redis_url, worker  # noqa: F401 - fixtures

pytestmark = pytest.mark.worker


def test_the_renewal_job_runs_in_a_real_worker(worker):  # noqa: F811
    queue, sender, process, log_path = worker
    tenant = TenantFactory(slug="worker-contracts")
    with tenant_context(tenant):
        plan = plan_for("digireq")
        contract = services.contract_create(
            actor=ACTOR,
            customer=CustomerFactory(),
            plan=plan,
            interval="year",
            on=dt.date(2026, 1, 19),
            priced_on={"quantities": {"active_users": 30}},
            terms_data={**services.TERM_PRESETS["digireq-annual"], "agreed_start": dt.date(2026, 1, 19)},
        )
        services.contract_sign(
            actor=ACTOR,
            contract=contract,
            name="A",
            title="B",
            signed_at=signed_at(dt.date(2026, 1, 19)),
            received_on=dt.date(2026, 1, 19),
            document_sha256=SHA,
        )
    result = sender.send_task("contracts.tasks.run_job", args=["renew", tenant.pk, "2027-01-19"], queue=queue)
    try:
        renewed = result.get(timeout=60)
    except Exception:  # noqa: BLE001
        pytest.fail(f"The worker did not finish (exit code {process.poll()}):\n{log_path.read_text()[-4000:]}")
    assert renewed == 1
    with tenant_context(tenant):
        contract = Contract.objects.get(pk=contract.pk)
        assert (contract.state, contract.term_end, contract.notice_deadline) == (
            lifecycle.ACTIVE,
            dt.date(2028, 1, 19),
            dt.date(2027, 12, 19),
        )
        assert (
            ContractEvent.objects.get(contract=contract, event="renew").actor_label == "job contracts_renew 2027-01-19"
        )
