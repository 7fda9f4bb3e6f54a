"""Issue every invoice due on a date: ``manage.py billing_run --as-of 2026-03-20 [--dry-run] [--tenant slug]``."""

from django.core.management.base import BaseCommand, CommandError

from billing import run
from tenants.jobs import parse_as_of
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Run billing for a date: issue every invoice due (or, with --dry-run, show what would be invoiced)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="the billing date, YYYY-MM-DD (default: today in Oslo)")
        parser.add_argument("--dry-run", action="store_true", help="show what would be invoiced; write nothing")
        parser.add_argument("--tenant", default=None, help="tenant slug (default: all)")
        parser.add_argument("--chunk-size", type=int, default=run.CHUNK_SIZE)

    def handle(self, *args, **options):
        day = parse_as_of(options["as_of"])
        if options["tenant"] and not Tenant.objects.filter(slug=options["tenant"]).exists():
            raise CommandError(f"Unknown tenant {options['tenant']}")
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        results = run.run(
            day, tenant_slug=options["tenant"], dry_run=options["dry_run"], chunk_size=options["chunk_size"]
        )
        for result in results:
            if options["dry_run"]:
                self.stdout.write(f"{result.tenant} {day.isoformat()}: would issue {len(result.proposals)} invoice(s)")
                for p in result.proposals:
                    self.stdout.write(
                        f"  {p.contract_reference} {p.customer_name}: {p.period.start.isoformat()} – "
                        f"{p.period.end.isoformat()} net {p.net} VAT {p.vat} total {p.total} {p.currency}"
                        + (" (supplementary: hours and charges)" if p.supplementary else "")
                    )
                for c in result.credits:
                    self.stdout.write(f"  {c.contract_reference} {c.customer_name}: credit note, net {c.net}")
            else:
                self.stdout.write(
                    f"{result.tenant} {day.isoformat()}: {result.contracts} contract(s), "
                    f"{result.invoices} invoice(s) issued"
                    + (f", {result.credit_notes} credit note(s)" if result.credit_notes else "")
                )
            for problem in result.problems:
                self.stdout.write(f"  ! {problem.contract_reference}: {problem.message}")
