"""The nightly collections job: defaults, reminders and interest invoices for each tenant on one date, with a
dry run that writes nothing, idempotent, and the command and Celery task that run it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from billing.models import Invoice
from contracts.models import Message
from receivables.jobs import collections_run
from receivables.models import DefaultCase, InterestCharge, Reminder
from receivables.tasks import collections_run_task
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.receivables.test_pages import at, build_book

pytestmark = pytest.mark.django_db
ON = dt.date(2025, 9, 15)


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Reminder, DefaultCase, InterestCharge, Invoice, Message, AuditEvent)
    }


@pytest.fixture
def book(tenant_a):
    with at(ON):
        return build_book(tenant_a)


def test_the_job_runs_every_step_and_a_dry_run_writes_nothing(book):
    day = ON + dt.timedelta(days=20)
    with tenant_context(book["tenant"]):
        before = counts()
        dry = collections_run(on=day, dry_run=True)
        assert counts() == before
        assert set(dry.results) == {"default", "dunning", "interest"} and dry.errors == []
        assert "would" in dry.summary()
        done = collections_run(on=day)
        assert done.errors == [] and Reminder.objects.count() > before["Reminder"]
        after = counts()
        again = collections_run(on=day)  # the same day twice: nothing more
        assert again.errors == [] and counts() == after


def test_the_command_and_the_task(book, capsys, tenant_b):
    day = (ON + dt.timedelta(days=20)).isoformat()
    call_command("collections_run", "--as-of", day, "--tenant", "alpha", "--dry-run")
    out = capsys.readouterr().out
    assert out.startswith(f"alpha {day}: would do default:") and "dunning:" in out and "interest:" in out
    with pytest.raises(CommandError, match="not a date"):
        call_command("collections_run", "--as-of", "15.09.2025")
    with pytest.raises(CommandError, match="Unknown tenant"):
        call_command("collections_run", "--tenant", "nobody")
    result = collections_run_task.apply(args=(day,)).get()  # eager: every active tenant in turn
    assert set(result) >= {"alpha", "beta"} and result["alpha"]["errors"] == []
    with tenant_context(book["tenant"]):
        assert Reminder.objects.exists()
