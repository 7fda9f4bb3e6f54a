"""The billing run with real processes on PostgreSQL: ``manage.py billing_run`` in subprocesses against the
test database. Twice → the same invoices; two at once → no duplicate and no gap; killed with SIGKILL after
its first chunk committed and run again → complete, no duplicate, no gap; an issued invoice cannot be
changed in SQL."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import DatabaseError, connection, transaction

from billing.models import BillingRun, Invoice
from tenants.tenancy import tenant_context
from tests.billing.test_services import piscator_contract
from tests.contracts.conftest import plan_for
from tests.factories import TenantFactory

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-02-16"  # Piscator contracts signed 2026-02-02 start (and are invoiced) on 2026-02-16
CONTRACTS = 6
CHUNK = "2"


def _database_url() -> str:
    """The test database as a URL for a child process (as tests/tenants/test_worker.py builds it)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or ""
    location = quote(host, safe="") if host.startswith("/") else f"{host or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgresql://{user}{password}@{location}/{quote(db['NAME'], safe='')}"


def _env(pause: float = 0) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "DB_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("BILLING_RUN_CHUNK_PAUSE", None)
    if pause:
        env["BILLING_RUN_CHUNK_PAUSE"] = str(pause)
    return env


def _command(tenant) -> list[str]:
    return [
        sys.executable,
        "manage.py",
        "billing_run",
        "--as-of",
        AS_OF,
        "--tenant",
        tenant.slug,
        "--chunk-size",
        CHUNK,
    ]


def start(tenant, pause: float = 0) -> subprocess.Popen:
    return subprocess.Popen(
        _command(tenant), cwd=ROOT, env=_env(pause), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen, timeout: float = 60) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


@pytest.fixture
def billed_tenant(transactional_db):
    tenant = TenantFactory(slug="piscator-vendor")
    with tenant_context(tenant):
        plan = plan_for("piscator")
        ids = [piscator_contract(plan).pk for _ in range(CONTRACTS)]
    return tenant, ids


def invoices(tenant) -> list[tuple]:
    with tenant_context(tenant):
        return list(
            Invoice.objects.order_by("number").values_list("number", "contract_id", "period_start", "total", "kid")
        )


def assert_complete_without_gap(tenant, contract_ids):
    rows = invoices(tenant)
    assert [r[0] for r in rows] == list(range(1, CONTRACTS + 1))  # no gap, no repeat
    assert sorted(r[1] for r in rows) == sorted(contract_ids)  # every contract once
    assert {r[2] for r in rows} == {dt.date(2026, 2, 16)}
    return rows


def test_the_run_twice_gives_the_same_invoices(billed_tenant):
    tenant, ids = billed_tenant
    assert f"{CONTRACTS} invoice(s) issued" in finish(start(tenant))
    first = assert_complete_without_gap(tenant, ids)
    assert "0 invoice(s) issued" in finish(start(tenant))
    assert invoices(tenant) == first


def test_two_runs_at_once_make_no_duplicate_and_no_gap(billed_tenant):
    tenant, ids = billed_tenant
    a, b = start(tenant, pause=0.3), start(tenant, pause=0.3)
    out_a, out_b = finish(a), finish(b)
    assert_complete_without_gap(tenant, ids)
    issued = [int(out.split("contract(s), ")[1].split(" invoice")[0]) for out in (out_a, out_b)]
    assert sum(issued) == CONTRACTS


def test_a_run_killed_after_its_first_chunk_resumes_without_duplicate_or_gap(billed_tenant):
    tenant, ids = billed_tenant
    proc = start(tenant, pause=30)  # sleeps 30 s after each committed chunk
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with tenant_context(tenant):
                row = BillingRun.objects.filter(last_contract_id__gt=0).first()
            if row is not None:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        else:
            pytest.fail("the first chunk never committed")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with tenant_context(tenant):
        row = BillingRun.objects.get()
        assert (row.status, row.last_contract_id, row.invoices_issued) == ("running", sorted(ids)[1], 2)
    assert [r[0] for r in invoices(tenant)] == [1, 2]
    out = finish(start(tenant))
    assert f"{CONTRACTS - 2} contract(s), {CONTRACTS - 2} invoice(s) issued" in out  # resumed after the chunk
    assert_complete_without_gap(tenant, ids)
    with tenant_context(tenant):
        assert BillingRun.objects.get().status == "done"


def test_an_update_of_an_issued_invoice_in_sql_is_refused_by_the_database(billed_tenant):
    tenant, _ids = billed_tenant
    finish(start(tenant))
    with tenant_context(tenant):
        invoice = Invoice.objects.order_by("number").first()
        with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE billing_invoice SET total = 0 WHERE id = %s", [invoice.pk])
        assert Invoice.objects.get(pk=invoice.pk).total == invoice.total
