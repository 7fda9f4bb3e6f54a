"""Import bank files (camt.054, Nets OCR giro) and book their payments by KID:
``manage.py bank_import --tenant slug DIR_OR_FILES... [--dry-run] [--on YYYY-MM-DD]``.

Each file in its own transaction; a malformed file is reported and skipped (the command then ends with an
error status); ``--dry-run`` shows what would be booked and writes nothing.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from billing.bank import bank_file_import
from tenants.audit import Actor
from tenants.jobs import parse_as_of
from tenants.models import Tenant
from tenants.tenancy import tenant_context


class _DryRun(Exception):
    """Raised to roll back a dry run's transaction."""


def _files(paths: list[str]) -> list[Path]:
    files = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            files.append(path)
        else:
            raise CommandError(f"No such file or directory: {name}")
    return files


def _messages(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(m for messages in error.message_dict.values() for m in messages)
    return "; ".join(error.messages)


class Command(BaseCommand):
    help = "Import bank files (camt.054, Nets OCR giro) for a tenant and book the payments by KID."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="bank files, or directories of them")
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--on", default=None, help="the import date, YYYY-MM-DD (default: today in Oslo)")
        parser.add_argument("--dry-run", action="store_true", help="show what would be booked; write nothing")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"Unknown tenant {options['tenant']}")
        on = parse_as_of(options["on"])
        dry_run = options["dry_run"]
        actor = Actor.job("bank_import")
        rejected = 0
        with tenant_context(tenant):
            for path in _files(options["paths"]):
                try:
                    with transaction.atomic():
                        result = bank_file_import(actor=actor, data=path.read_bytes(), file_name=path.name, on=on)
                        self._report(path, result, dry_run)
                        if dry_run:
                            raise _DryRun
                except _DryRun:
                    pass
                except ValidationError as error:
                    rejected += 1
                    self.stderr.write(f"{path.name}: skipped: {_messages(error)}")
        if rejected:
            raise CommandError(f"{rejected} file(s) rejected")

    def _report(self, path: Path, result, dry_run: bool) -> None:
        imp = result.bank_import
        if result.already_imported:
            self.stdout.write(f"{path.name}: already imported {imp.imported_on.isoformat()}; nothing booked")
            return
        verb = "would book" if dry_run else "booked"
        self.stdout.write(
            f"{path.name} ({imp.format}): {imp.payments} payment(s), {imp.total_amount} in total; "
            f"{verb} {imp.matched}, {imp.unmatched} unmatched"
            + (f", {imp.already_known} already imported" if imp.already_known else "")
        )
        for incoming in result.incoming:
            where = f"invoice {incoming.invoice.number}" if incoming.invoice_id else "unmatched"
            line = (
                f"  line {incoming.source_line}: {incoming.amount} {incoming.currency} {incoming.reference} → {where}"
            )
            if incoming.reason:
                line += f" ({incoming.reason})"
            self.stdout.write(line)
