"""The nightly billing run through a real Celery worker and Redis: beat's task (no tenant) fans out one
task per tenant on the same queue, and each tenant's invoices are issued by the worker."""

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Invoice
from tenants.tenancy import tenant_context
from tests.billing.test_services import digireq_contract
from tests.contracts.conftest import plan_for
from tests.factories import TenantFactory
from tests.tenants.test_worker import redis_url, worker  # noqa: F401 - fixtures

pytestmark = pytest.mark.worker


def test_beats_billing_run_fans_out_per_tenant_in_a_real_worker(worker):  # noqa: F811
    queue, sender, process, log_path = worker
    tenants = [TenantFactory(slug="worker-billing-a"), TenantFactory(slug="worker-billing-b")]
    for tenant in tenants:
        with tenant_context(tenant):
            digireq_contract(plan_for("digireq"), "month")  # converted 2026-01-19, 30 users
    result = sender.send_task("billing.tasks.billing_run", args=["2026-01-19"], queue=queue)
    try:
        queued = result.get(timeout=60)["queued"]
        outcomes = [sender.AsyncResult(task_id).get(timeout=60) for task_id in queued.values()]
    except Exception:  # noqa: BLE001
        pytest.fail(f"The worker did not finish (exit code {process.poll()}):\n{log_path.read_text()[-4000:]}")
    assert set(queued) >= {t.slug for t in tenants}
    by_tenant = {slug: outcome[slug] for outcome in outcomes for slug in outcome}
    for tenant in tenants:
        assert by_tenant[tenant.slug] == {"contracts": 1, "invoices": 1}
        with tenant_context(tenant):
            invoice = Invoice.objects.get()
            assert (invoice.number, invoice.issue_date, invoice.total) == (1, dt.date(2026, 1, 19), Decimal("2812.50"))
