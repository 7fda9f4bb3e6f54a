"""``manage.py default_run --as-of 2026-01-01 [--dry-run] [--tenant slug]``: payment defaults only (notices,
suspensions, pauses, material breaches, closings); ``collections_run`` runs it with reminders and interest."""

from receivables.default import DefaultRunResult, default_run
from tenants.jobs import JobCommand, for_each_tenant


class Command(JobCommand):
    help = "Payment defaults due on a date, per tenant: suspension notices, suspensions, pauses, material breaches."
    failure = "Some contracts failed (see above); nothing of theirs was written. Rerun when fixed."

    def run(self, day, *, dry_run, tenant_slug):
        def failed(error):
            result = DefaultRunResult(on=day, dry_run=dry_run)
            result.errors.append(f"{error.__class__.__name__}: {error}")
            return result

        return for_each_tenant(
            lambda _t: default_run(on=day, dry_run=dry_run), tenant_slug=tenant_slug, on_error=failed
        )

    def report(self, slug, day, result, *, dry_run):
        prefix = "would do" if dry_run else "did"
        self.stdout.write(f"{slug} {day.isoformat()}: {prefix} {result.summary()}")
        for error in result.errors:
            self.stdout.write(f"  {error}")
        return bool(result.errors)
