"""Fetch the CPI series from SSB for a date: ``manage.py index_fetch --as-of 2026-12-11 [--series kpi-2025 …]
[--months 12] [--dry-run]``. Without ``--months`` every month SSB has is fetched (a backfill)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from pricing.index_services import SERIES, index_fetch
from tenants.jobs import parse_as_of


class Command(BaseCommand):
    help = "Fetch index values (KPI) from SSB and store the months not stored yet; report what is new or changed."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="business date (YYYY-MM-DD; default today in Oslo)")
        parser.add_argument(
            "--series",
            nargs="+",
            default=None,
            metavar="CODE",
            help=f"series codes (default all: {', '.join(s.code for s in SERIES)})",
        )
        parser.add_argument("--months", type=int, default=None, help="only SSB's latest N months (default: all)")
        parser.add_argument("--dry-run", action="store_true", help="report what would change; store nothing")

    def handle(self, *args, **options):
        try:
            day = parse_as_of(options["as_of"])
        except ValueError as exc:
            raise CommandError(f"--as-of {options['as_of']!r} is not a date (YYYY-MM-DD)") from exc
        try:
            report = index_fetch(
                as_of=day, series_codes=options["series"], months=options["months"], dry_run=options["dry_run"]
            )
        except ValidationError as exc:
            raise CommandError(" ".join(m for ms in exc.message_dict.values() for m in ms)) from exc
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            self.stderr.write("Some series were not fetched; their values are unchanged. Run again when SSB answers.")
