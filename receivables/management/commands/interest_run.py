"""``manage.py interest_run --as-of 2025-03-01 [--dry-run] [--tenant slug]``: interest invoices due on a date.

The nightly job runs this step inside ``collections_run`` (after defaults and reminders); this command runs it on
its own, e.g. to catch up or to see what a date would invoice."""

from receivables.interest_billing import InterestRunResult, interest_run
from tenants.jobs import JobCommand, for_each_tenant


class Command(JobCommand):
    help = "Issue the late-payment interest invoices (with reminder fees) due on a date (per tenant)."
    dry_run_help = "show what would be invoiced, write nothing"
    failure = "Some interest invoices failed (see above); what failed was not written. Rerun when fixed."

    def run(self, day, *, dry_run, tenant_slug):
        def failed(error):
            result = InterestRunResult(on=day, dry_run=dry_run)
            result.problems.append(f"{error.__class__.__name__}: {error}")
            return result

        return for_each_tenant(
            lambda _t: interest_run(on=day, dry_run=dry_run), tenant_slug=tenant_slug, on_error=failed
        )

    def report(self, slug, day, result, *, dry_run):
        self.stdout.write(f"{slug} {day.isoformat()}: {result.summary()}")
        for below in result.below_minimum:
            self.stdout.write(f"  {below.explain('en')}")
        for problem in result.problems:
            self.stdout.write(f"  {problem}")
        return bool(result.problems)
