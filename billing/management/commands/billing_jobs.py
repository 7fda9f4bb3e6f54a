"""Run the nightly invoice jobs for a date.

``manage.py billing_jobs --as-of 2026-04-20 [--job overdue] [--tenant slug]``:

``deliver`` queues and sends invoice deliveries; ``overdue`` marks invoices past their due date with
something outstanding as overdue. The billing run itself is ``manage.py billing_run``.
"""

from django.core.management.base import BaseCommand, CommandError

from billing import jobs
from tenants import tenancy
from tenants.jobs import parse_as_of
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Run the invoice jobs (deliver, overdue) for a date."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="the business date, YYYY-MM-DD (default: today in Oslo)")
        parser.add_argument("--job", choices=sorted(jobs.JOBS), default=None)
        parser.add_argument("--tenant", default=None, help="tenant slug (default: all)")

    def handle(self, *args, **options):
        day = parse_as_of(options["as_of"])
        now = jobs.moment_for(day)
        tenants = Tenant.objects.filter(is_active=True)
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"Unknown tenant {options['tenant']}")
        for tenant in tenants.order_by("pk"):
            with tenancy.tenant_context(tenant):
                if options["job"]:
                    result = {options["job"]: jobs.JOBS[options["job"]](day, now)}
                else:
                    result = jobs.run_all(as_of=day, now=now)
            self.stdout.write(f"{tenant.slug} {day.isoformat()}: {_describe(result)}")


def _describe(result: dict) -> str:
    parts = []
    for name, value in result.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} {v}" for k, v in value.items() if v)
            parts.append(f"{name}: {inner or 'nothing due'}")
        else:
            parts.append(f"{name}: {value}")
    return "; ".join(parts)
