"""``manage.py default_run --as-of 2026-01-01 [--dry-run] [--tenant slug]``: payment defaults only (notices,
suspensions, pauses, material breaches, closings); ``collections_run`` runs it with reminders and interest."""

import logging

from django.core.management.base import BaseCommand, CommandError

from receivables.default import DefaultRunResult, default_run
from tenants import tenancy
from tenants.jobs import parse_as_of
from tenants.models import Tenant

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Payment defaults due on a date, per tenant: suspension notices, suspensions, pauses, material breaches."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="business date, YYYY-MM-DD (default: today in Oslo)")
        parser.add_argument("--dry-run", action="store_true", help="show what would happen, write nothing")
        parser.add_argument("--tenant", default=None, help="tenant slug (default: all)")

    def handle(self, *args, **options):
        try:
            day = parse_as_of(options["as_of"])
        except ValueError as exc:
            raise CommandError(f"--as-of: {options['as_of']!r} is not a date (YYYY-MM-DD)") from exc
        tenants = Tenant.objects.filter(is_active=True).order_by("pk")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"Unknown tenant {options['tenant']}")
        failed = False
        for tenant in tenants:
            with tenancy.tenant_context(tenant):
                try:
                    result = default_run(on=day, dry_run=options["dry_run"])
                except Exception as error:  # one tenant's failure never stops another's
                    log.exception("default run failed for %s on %s", tenant.slug, day)
                    result = DefaultRunResult(on=day, dry_run=options["dry_run"])
                    result.errors.append(f"{error.__class__.__name__}: {error}")
            prefix = "would do" if options["dry_run"] else "did"
            self.stdout.write(f"{tenant.slug} {day.isoformat()}: {prefix} {result.summary()}")
            for error in result.errors:
                self.stdout.write(f"  {error}")
            failed |= bool(result.errors)
        if failed:
            raise CommandError("Some contracts failed (see above); nothing of theirs was written. Rerun when fixed.")
