"""``manage.py collections_run --as-of 2026-01-01 [--dry-run] [--tenant slug]``: defaults, reminders, interest."""

from receivables.tasks import run_all
from tenants.jobs import JobCommand


class Command(JobCommand):
    help = "Payment defaults (notice, suspension, pause), reminders and interest invoices due on a date."
    failure = "Some collections steps failed (see above); what failed was not written. Rerun when fixed."

    def run(self, day, *, dry_run, tenant_slug):
        return run_all(day, dry_run=dry_run, tenant_slug=tenant_slug)

    def report(self, slug, day, result, *, dry_run):
        prefix = "would do" if dry_run else "did"
        self.stdout.write(f"{slug} {day.isoformat()}: {prefix} {result.summary()}")
        for error in result.errors:
            self.stdout.write(f"  {error}")
        return bool(result.errors)
