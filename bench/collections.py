"""Collections at scale: a bank file of N payments imported, and the dunning job over N open invoices.

    .venv/bin/python bench/collections.py [--payments 100000] [--invoices 100000] [--keep] [--profile]

Runs in a database of its own (``bench_collections``, created and migrated here and dropped afterwards
unless ``--keep``), with Piscator as the tenant (its demo profile and collection rules: SSA-L interest,
reminders with the statutory fee, notice and suspension).

1. **Bank import**: N issued invoices with KIDs, and one camt.054 file from the fake bank (fakes/bank) with a
   payment for each — most by KID in full, every 20th in part, every 50th without a KID (matched by amount
   and payer or left unmatched) — imported through ``billing.bank.bank_file_import`` as the upload, the API
   and the command do. Then the same file again (nothing booked twice).
2. **Dunning**: N more open invoices, due on the days of the 90 days before the run date, and the collections
   reminder job (``receivables.dunning.dunning_run``) on that date — the first run, which catches up on
   every invoice past its first reminder day — then on the next day (the nightly steady state).

Reports seconds, queries per item (a connection execute_wrapper) and the process's peak RSS.
Target (issue 11): each under 30 s for 100 000.
"""

from __future__ import annotations

import sys

# This file's name is the standard library's ``collections``: run as a script, its folder must not come first
# on the import path, or every ``import collections`` after this line would find this file.
if sys.path and sys.path[0] == __import__("os").path.dirname(__import__("os").path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402
import cProfile
import datetime as dt
import os
import pstats
import resource
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["AVTALE_TEST_DB"] = os.environ.get("AVTALE_BENCH_DB", "bench_collections")

ON = dt.date(2026, 3, 2)
CUSTOMERS = 2000


class Counter:
    def __init__(self):
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_customers() -> list[int]:
    from tenants.models import Customer

    Customer.objects.bulk_create(
        [Customer(name=f"Rederi {i:05d} AS", org_number="", country="NO") for i in range(CUSTOMERS)],
        batch_size=2000,
    )
    return list(Customer.objects.order_by("pk").values_list("pk", flat=True))


def make_invoices(customers: list[int], n: int, first_number: int, due_for) -> list[dict]:
    """N issued invoices in bulk (as the billing run writes them), KIDs as the tenant's number series gives."""
    from billing.models import Invoice, InvoiceKind, InvoiceStatus
    from billing.numbering import kid_for
    from tenants.bulk import insert_rows

    rows = []
    for i in range(n):
        number = first_number + i
        due = due_for(i)
        net = Decimal(1000 + (i % 97) * 25)
        rows.append(
            {
                "kind": InvoiceKind.INVOICE,
                "status": InvoiceStatus.OVERDUE if due < ON else InvoiceStatus.SENT,
                "customer_id": customers[i % len(customers)],
                "series": "invoice",
                "number": number,
                "issue_date": due - dt.timedelta(days=30),
                "due_date": due,
                "kid": kid_for(number),
                "net": net,
                "vat": net / 4,
                "total": net * Decimal("1.25"),
            }
        )
    insert_rows(Invoice, rows)
    return rows


def bank_file(rows: list[dict], names: dict[int, str], account: str, owner: str) -> bytes:
    from fakes.bank import Credit, camt054

    credits = []
    for i, row in enumerate(rows):
        amount = row["total"]
        kid = row["kid"]
        if i % 20 == 7:
            amount = (amount / 2).quantize(Decimal("0.01"))  # a partial payment
        if i % 50 == 11:
            kid = None  # no KID: matched by amount and payer, or left for staff
        credits.append(Credit(amount, kid, ON, names[row["customer_id"]], f"BENCH-{row['number']}"))
    return camt054(account=account, owner=owner, day=ON, credits=credits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--profile", action="store_true", help="print the top functions (cProfile)")
    parser.add_argument("--skip", choices=("bank", "dunning"), default=None, help="leave one part out")
    parser.add_argument("--send-sample", type=int, default=200, help="reminders sent to time the sending")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction

    from billing.bank import bank_file_import
    from billing.models import IncomingPayment, Payment
    from demo.collections import load_collection_policy
    from demo.loader import DemoSummary, load_tenant
    from demo.vendors import VENDORS
    from receivables.models import Reminder
    from tenants.audit import Actor
    from tenants.models import Customer
    from tenants.tenancy import tenant_context

    actor = Actor.system("bench")
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    print(f"database {test_db}: created and migrated in {time.perf_counter() - started:.1f} s")
    try:
        spec = next(v for v in VENDORS if v["slug"] == "piscator")
        with transaction.atomic():
            tenant = load_tenant(spec, DemoSummary())
        with tenant_context(tenant):
            load_collection_policy("piscator")
            customers = make_customers()
            names = dict(Customer.objects.values_list("pk", "name"))
            if args.skip != "bank":
                started = time.perf_counter()
                rows = make_invoices(customers, args.payments, 1, lambda i: ON + dt.timedelta(days=5))
                data = bank_file(rows, names, tenant.bank_account, tenant.name)
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
                print(
                    f"setup: {args.payments:,} invoices and a camt.054 file of {len(data) / 1e6:.1f} MB "
                    f"in {time.perf_counter() - started:.1f} s"
                )
                counter = Counter()
                if profiler:
                    profiler.enable()
                started = time.perf_counter()
                with connection.execute_wrapper(counter):
                    result = bank_file_import(actor=actor, data=data, file_name="bench.xml", on=ON)
                seconds = time.perf_counter() - started
                if profiler:
                    profiler.disable()
                imported = result.bank_import
                print(
                    f"bank import: {imported.payments:,} payments ({imported.matched:,} matched, "
                    f"{imported.unmatched:,} unmatched) in {seconds:.1f} s; {imported.payments / seconds:,.0f}/s; "
                    f"{counter.queries / imported.payments:.3f} queries per payment; peak RSS {rss():,.0f} MiB"
                )
                print(f"target: {'OK ' if seconds < 30 else 'MISS'} under 30 s (here {seconds:.1f} s)")
                counter = Counter()
                started = time.perf_counter()
                with connection.execute_wrapper(counter):
                    again = bank_file_import(actor=actor, data=data, file_name="bench-again.xml", on=ON)
                print(
                    f"  the same file again: already imported={again.already_imported}, "
                    f"{time.perf_counter() - started:.2f} s, {counter.queries} queries; "
                    f"payments booked {Payment.objects.count():,}, incoming {IncomingPayment.objects.count():,}"
                )
            if args.skip != "dunning":
                from receivables.dunning import dunning_run, reminders_send

                started = time.perf_counter()
                make_invoices(customers, args.invoices, 10_000_000, lambda i: ON - dt.timedelta(days=1 + i % 90))
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
                print(
                    f"setup: {args.invoices:,} open invoices due over 90 days in {time.perf_counter() - started:.1f} s"
                )
                for day, label in ((ON, "first run (catching up)"), (ON + dt.timedelta(days=1), "next day")):
                    before = Reminder.objects.count()
                    counter = Counter()
                    if profiler:
                        profiler.enable()
                    started = time.perf_counter()
                    with connection.execute_wrapper(counter):
                        result = dunning_run(on=day, send=False)
                    seconds = time.perf_counter() - started
                    if profiler:
                        profiler.disable()
                    recorded = Reminder.objects.count() - before
                    print(
                        f"dunning {label} on {day}: {args.invoices:,} open invoices looked at, {recorded:,} reminders "
                        f"decided and recorded in {seconds:.1f} s; {counter.queries / args.invoices:.3f} queries per "
                        f"invoice; peak RSS {rss():,.0f} MiB"
                    )
                    print(f"target: {'OK ' if seconds < 30 else 'MISS'} under 30 s (here {seconds:.1f} s)")
                    assert recorded == result.recorded
                sample = list(
                    Reminder.objects.filter(pdf__isnull=True).values_list("pk", flat=True)[: args.send_sample]
                )
                started = time.perf_counter()
                sent = reminders_send(on=day, only=sample)
                seconds = time.perf_counter() - started
                print(
                    f"sending (PDF rendered and e-mailed, one transaction each): {len(sent.sent):,} reminders in "
                    f"{seconds:.1f} s = {1000 * seconds / max(len(sent.sent), 1):.0f} ms each"
                )
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(35)
    finally:
        if not args.keep:
            connection.close()
            connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
