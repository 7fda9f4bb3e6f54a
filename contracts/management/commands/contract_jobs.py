"""Run the contract jobs for a date: ``manage.py contract_jobs --as-of 2026-03-15 [--job renew] [--tenant slug]``."""

from django.core.management.base import BaseCommand, CommandError

from contracts import jobs
from tenants import tenancy
from tenants.jobs import parse_as_of
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Run the contract jobs (acceptance, end, renewal, reminders, trial pause, pause notices, deletion)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None)
        parser.add_argument("--job", choices=sorted(jobs.JOBS), default=None)
        parser.add_argument("--tenant", default=None, help="tenant slug (default: all)")

    def handle(self, *args, **options):
        day = parse_as_of(options["as_of"])
        tenants = Tenant.objects.filter(is_active=True)
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"Unknown tenant {options['tenant']}")
        for tenant in tenants.order_by("pk"):
            with tenancy.tenant_context(tenant):
                result = {options["job"]: jobs.JOBS[options["job"]](day)} if options["job"] else jobs.run_all(day)
            done = ", ".join(f"{k} {v}" for k, v in result.items() if v) or "nothing due"
            self.stdout.write(f"{tenant.slug} {day.isoformat()}: {done}")
