"""Running work per tenant, for Celery tasks and management commands alike."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tenants import tenancy
from tenants.models import Tenant

OSLO = ZoneInfo("Europe/Oslo")
log = logging.getLogger(__name__)


def business_today() -> dt.date:
    """Today's business date in Europe/Oslo. Only the edges (beat, commands) call this."""
    return timezone.now().astimezone(OSLO).date()


def parse_as_of(value: str | dt.date | None) -> dt.date:
    if value is None or value == "":
        return business_today()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def for_each_tenant(
    work: Callable[[Tenant], object],
    *,
    tenant_slug: str | None = None,
    on_error: Callable[[Exception], object] | None = None,
) -> dict[str, object]:
    """Run ``work`` once per active tenant (or the one ``tenant_slug`` names), each inside its own tenant
    context. ``on_error``: a tenant whose work raises gets ``on_error(error)`` as its result (logged) and the
    next tenant goes on; without it the error propagates."""
    tenants = Tenant.objects.filter(is_active=True).order_by("pk")
    if tenant_slug:
        tenants = tenants.filter(slug=tenant_slug)
    results = {}
    for tenant in tenants:
        with tenancy.tenant_context(tenant):
            if on_error is None:
                results[tenant.slug] = work(tenant)
                continue
            try:
                results[tenant.slug] = work(tenant)
            except Exception as error:  # one tenant's failure never stops another's
                log.exception("%s failed for tenant %s", getattr(work, "__name__", "job"), tenant.slug)
                results[tenant.slug] = on_error(error)
    return results


class JobCommand(BaseCommand):
    """A per-tenant job as a command: ``--as-of YYYY-MM-DD`` (default today in Oslo), ``--dry-run``, ``--tenant``.
    Subclasses give :meth:`run` (results per tenant slug) and :meth:`report` (writes one tenant's lines, says
    whether it failed); a failure anywhere ends in a ``CommandError`` with :attr:`failure`."""

    failure = "Some work failed (see above); what failed was not written. Rerun when fixed."
    dry_run_help = "show what would happen, write nothing"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="business date, YYYY-MM-DD (default: today in Oslo)")
        parser.add_argument("--dry-run", action="store_true", help=self.dry_run_help)
        parser.add_argument("--tenant", default=None, help="tenant slug (default: all active tenants)")

    def run(self, day: dt.date, *, dry_run: bool, tenant_slug: str | None) -> dict[str, object]:
        raise NotImplementedError

    def report(self, slug: str, day: dt.date, result, *, dry_run: bool) -> bool:
        raise NotImplementedError

    def handle(self, *args, **options):
        try:
            day = parse_as_of(options["as_of"])
        except ValueError as exc:
            raise CommandError(f"--as-of: {options['as_of']!r} is not a date (YYYY-MM-DD)") from exc
        if options["tenant"] and not Tenant.objects.filter(slug=options["tenant"]).exists():
            raise CommandError(f"Unknown tenant {options['tenant']}")
        results = self.run(day, dry_run=options["dry_run"], tenant_slug=options["tenant"])
        failed = False
        for slug, result in results.items():
            failed |= self.report(slug, day, result, dry_run=options["dry_run"])
        if failed:
            raise CommandError(self.failure)
