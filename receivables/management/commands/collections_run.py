"""``manage.py collections_run --as-of 2026-01-01 [--dry-run] [--tenant slug]``: defaults, reminders, interest."""

from django.core.management.base import BaseCommand, CommandError

from receivables.tasks import run_all
from tenants.jobs import parse_as_of
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Payment defaults (notice, suspension, pause), reminders and interest invoices due on a date."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="business date, YYYY-MM-DD (default: today in Oslo)")
        parser.add_argument("--dry-run", action="store_true", help="show what would happen, write nothing")
        parser.add_argument("--tenant", default=None, help="tenant slug (default: all)")

    def handle(self, *args, **options):
        try:
            day = parse_as_of(options["as_of"])
        except ValueError as exc:
            raise CommandError(f"--as-of: {options['as_of']!r} is not a date (YYYY-MM-DD)") from exc
        if options["tenant"] and not Tenant.objects.filter(slug=options["tenant"]).exists():
            raise CommandError(f"Unknown tenant {options['tenant']}")
        reports = run_all(day, dry_run=options["dry_run"], tenant_slug=options["tenant"])
        failed = False
        for slug, report in reports.items():
            prefix = "would do" if options["dry_run"] else "did"
            self.stdout.write(f"{slug} {day.isoformat()}: {prefix} {report.summary()}")
            for error in report.errors:
                self.stdout.write(f"  {error}")
            failed |= bool(report.errors)
        if failed:
            raise CommandError(
                "Some collections steps failed (see above); what failed was not written. Rerun when fixed."
            )
