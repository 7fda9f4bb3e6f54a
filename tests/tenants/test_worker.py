"""A real Celery worker (a separate process) runs the re-check task from Redis against the test database.

This is the one test of the path production takes: a task sent through the broker, picked up by a
worker that sets the tenant itself, writes through row-level security, and reports its result.
Without Redis it is skipped on a developer's machine, and fails under CI (CI must provide Redis).
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.db import connection

from tenants.models import AuditEvent, Customer, Verification
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory, TenantFactory

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
STAVANGER_KOMMUNE = "944387234"
AS_OF = "2026-11-24"

pytestmark = pytest.mark.worker


def _redis_reachable(url: str) -> str | None:
    """None when Redis answers PING, else the reason."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{exc.__class__.__name__}: {exc}"
    return None


@pytest.fixture(scope="module")
def redis_url():
    problem = _redis_reachable(REDIS_URL)
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide Redis at {REDIS_URL} for the worker test: {problem}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({problem}); set REDIS_URL to run the worker test")
    return REDIS_URL


def _database_url() -> str:
    """The test database as a URL the worker can use (the embedded server's HOST is a socket directory)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or ""
    if host.startswith("/"):
        # Percent-encoded in the host part: config/database.py replaces OPTIONS, so "?host=" would be lost.
        location = quote(host, safe="")
    else:
        location = f"{host or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgresql://{user}{password}@{location}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def worker(redis_url, brreg_fake, transactional_db, tmp_path):
    """A Celery worker process on its own queue; yields (queue, sender app). Always terminated."""
    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "BRREG_BASE_URL": brreg_fake.brreg_url,
        "OUTSIDE_SERVICE_RETRIES": "0",
        "OUTSIDE_SERVICE_TIMEOUT": "5",
        "DB_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
            "--hostname",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The test process sends with its own small app: the project's app was configured at import
    # (eager, memory broker) and stays untouched for the other tests.
    sender = Celery("avtale-test-sender", broker=redis_url, backend=redis_url)
    sender.conf.update(task_always_eager=False, broker_connection_retry_on_startup=False)
    try:
        yield queue, sender, process, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
        sender.close()


def test_a_real_worker_reverifies_a_tenants_customers(worker, brreg_fake):
    queue, sender, process, log_path = worker
    # given a tenant whose customer was saved without a registry check (committed: the worker must see it)
    tenant = TenantFactory(slug="worker-test", name="Worker Test AS")
    with tenant_context(tenant):
        customer = CustomerFactory(name="Stavanger kommune", kind="kommune", org_number=STAVANGER_KOMMUNE)
        assert customer.verification == Verification.NOT_VERIFIED
    asked = len(brreg_fake.state.requests)

    # when the task goes through Redis to the worker process
    result = sender.send_task("tenants.tasks.customers_reverify", args=[tenant.pk, AS_OF], queue=queue)
    try:
        counts = result.get(timeout=60)
    except Exception:  # noqa: BLE001 - show the worker's log whatever went wrong
        pytest.fail(f"The worker did not finish the task (exit code {process.poll()}):\n{log_path.read_text()[-4000:]}")

    # then it reports, and has written the registry's answer, audited as the job, in the database
    assert counts == {"verified": 1}
    with tenant_context(tenant):
        stored = Customer.objects.get(pk=customer.pk)
        assert stored.verification == Verification.VERIFIED
        assert stored.registry["name"] == "STAVANGER KOMMUNE"
        event = AuditEvent.objects.get(action="customer.verify", object_id=str(customer.pk))
        assert event.actor_label == f"job customers_reverify {AS_OF}"
    # and it was the worker process that asked the (fake) registry
    assert brreg_fake.state.requests[asked:] == [f"/brreg/enhetsregisteret/api/enheter/{STAVANGER_KOMMUNE}"]
