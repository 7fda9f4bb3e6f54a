"""Deliver invoices: ``manage.py deliver_invoices --as-of 2026-03-20 [--now 2026-03-20T08:00+01:00] [--tenant slug]``.

Queues every issued invoice and credit note not yet delivered (issued on or before the date) and sends
what is due: EHF through the Peppol access point, otherwise the PDF by e-mail.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing import delivery, jobs
from tenants import tenancy
from tenants.jobs import parse_as_of
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Queue and send invoice deliveries (EHF via Peppol, otherwise PDF by e-mail)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="queue invoices issued up to this date (default: today)")
        parser.add_argument(
            "--now",
            default=None,
            help="send what is due at this moment, ISO with offset (default: now, or the "
            "end of --as-of when it is a past date)",
        )
        parser.add_argument("--send-only", action="store_true", help="only send what is due; queue nothing new")
        parser.add_argument("--tenant", default=None, help="tenant slug (default: all)")

    def handle(self, *args, **options):
        day = parse_as_of(options["as_of"])
        now = jobs.moment_for(day)
        if options["now"]:
            try:
                now = dt.datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError("--now: give an ISO date-time, e.g. 2026-03-20T08:00+01:00") from exc
            if timezone.is_naive(now):
                raise CommandError("--now: give the UTC offset too, e.g. 2026-03-20T08:00+01:00")
        tenants = Tenant.objects.filter(is_active=True)
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"Unknown tenant {options['tenant']}")
        for tenant in tenants.order_by("pk"):
            with tenancy.tenant_context(tenant):
                if options["send_only"]:
                    result = delivery.deliveries_send_due(now=now)
                else:
                    result = jobs.deliver(as_of=day, now=now)
            done = ", ".join(f"{k} {v}" for k, v in result.items() if v) or "nothing due"
            self.stdout.write(f"{tenant.slug} {day.isoformat()}: {done}")
