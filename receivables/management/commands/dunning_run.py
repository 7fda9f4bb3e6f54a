"""``manage.py dunning_run --as-of 2026-01-01 [--dry-run] [--tenant slug]``: the reminder (dunning) job."""

import logging

from django.core.management.base import BaseCommand, CommandError

from receivables.dunning import DunningResult, dunning_run
from tenants import tenancy
from tenants.jobs import parse_as_of
from tenants.models import Tenant

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Send the payment reminders due on a date, with their fees, PDFs and e-mails (per tenant)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="business date, YYYY-MM-DD (default: today in Oslo)")
        parser.add_argument("--dry-run", action="store_true", help="show what would be sent, write nothing")
        parser.add_argument("--tenant", default=None, help="tenant slug (default: all active tenants)")

    def handle(self, *args, **options):
        try:
            day = parse_as_of(options["as_of"])
        except ValueError as exc:
            raise CommandError(f"--as-of: {options['as_of']!r} is not a date (YYYY-MM-DD)") from exc
        tenants = Tenant.objects.filter(is_active=True).order_by("pk")
        if options["tenant"]:
            tenants = Tenant.objects.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"Unknown tenant {options['tenant']}")
        failed = False
        for tenant in tenants:
            with tenancy.tenant_context(tenant):
                try:
                    result = dunning_run(on=day, dry_run=options["dry_run"])
                except Exception as error:  # one tenant's failure never stops another's
                    log.exception("dunning run failed for %s on %s", tenant.slug, day)
                    result = DunningResult(on=day, dry_run=options["dry_run"])
                    result.problems.append(f"{error.__class__.__name__}: {error}")
            self.stdout.write(f"{tenant.slug} {day.isoformat()}: {result.summary()}")
            for line in (*result.problems, *result.warnings):
                self.stdout.write(f"  {line}")
            failed |= bool(result.problems)
        if failed:
            raise CommandError("Some reminders were not sent (see above); the others were. Rerun when fixed.")
