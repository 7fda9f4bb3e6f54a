"""``manage.py interest_run --as-of 2025-03-01 [--dry-run] [--tenant slug]``: interest invoices due on a date.

The nightly job runs this step inside ``collections_run`` (after defaults and reminders); this command runs it on
its own, e.g. to catch up or to see what a date would invoice."""

import logging

from django.core.management.base import BaseCommand, CommandError

from receivables.interest_billing import InterestRunResult, interest_run
from tenants import tenancy
from tenants.jobs import parse_as_of
from tenants.models import Tenant

log = logging.getLogger(__name__)


def run_all(day, *, dry_run: bool = False, tenant_slug: str | None = None) -> dict[str, InterestRunResult]:
    """The run for every active tenant (or one); a tenant whose run fails is reported, the next goes on."""
    tenants = Tenant.objects.filter(is_active=True).order_by("pk")
    if tenant_slug:
        tenants = tenants.filter(slug=tenant_slug)
    results = {}
    for tenant in tenants:
        with tenancy.tenant_context(tenant):
            try:
                results[tenant.slug] = interest_run(on=day, dry_run=dry_run)
            except Exception as error:  # one tenant's failure never stops another's
                log.exception("interest run failed for %s on %s", tenant.slug, day)
                result = InterestRunResult(on=day, dry_run=dry_run)
                result.problems.append(f"{error.__class__.__name__}: {error}")
                results[tenant.slug] = result
    return results


class Command(BaseCommand):
    help = "Issue the late-payment interest invoices (with reminder fees) due on a date (per tenant)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="business date, YYYY-MM-DD (default: today in Oslo)")
        parser.add_argument("--dry-run", action="store_true", help="show what would be invoiced, write nothing")
        parser.add_argument("--tenant", default=None, help="tenant slug (default: all)")

    def handle(self, *args, **options):
        try:
            day = parse_as_of(options["as_of"])
        except ValueError as exc:
            raise CommandError(f"--as-of: {options['as_of']!r} is not a date (YYYY-MM-DD)") from exc
        if options["tenant"] and not Tenant.objects.filter(slug=options["tenant"]).exists():
            raise CommandError(f"Unknown tenant {options['tenant']}")
        results = run_all(day, dry_run=options["dry_run"], tenant_slug=options["tenant"])
        failed = False
        for slug, result in results.items():
            self.stdout.write(f"{slug} {day.isoformat()}: {result.summary()}")
            for below in result.below_minimum:
                self.stdout.write(f"  {below.explain('en')}")
            for problem in result.problems:
                self.stdout.write(f"  {problem}")
            failed |= bool(result.problems)
        if failed:
            raise CommandError(
                "Some interest invoices failed (see above); what failed was not written. Rerun when fixed."
            )
