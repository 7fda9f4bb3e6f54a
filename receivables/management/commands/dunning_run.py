"""``manage.py dunning_run --as-of 2026-01-01 [--dry-run] [--tenant slug]``: the reminder (dunning) job."""

from receivables.dunning import DunningResult, dunning_run
from tenants.jobs import JobCommand, for_each_tenant


class Command(JobCommand):
    help = "Send the payment reminders due on a date, with their fees, PDFs and e-mails (per tenant)."
    dry_run_help = "show what would be sent, write nothing"
    failure = "Some reminders were not sent (see above); the others were. Rerun when fixed."

    def run(self, day, *, dry_run, tenant_slug):
        def failed(error):
            result = DunningResult(on=day, dry_run=dry_run)
            result.problems.append(f"{error.__class__.__name__}: {error}")
            return result

        return for_each_tenant(
            lambda _t: dunning_run(on=day, dry_run=dry_run), tenant_slug=tenant_slug, on_error=failed
        )

    def report(self, slug, day, result, *, dry_run):
        self.stdout.write(f"{slug} {day.isoformat()}: {result.summary()}")
        for line in (*result.problems, *result.warnings):
            self.stdout.write(f"  {line}")
        return bool(result.problems)
