"""The billing run at scale: N contracts across the five vendors' plans, invoiced for one date.

    .venv/bin/python bench/billing_run.py [--contracts 100000] [--chunk-size 1000] [--keep]

Runs in a database of its own (``bench_billing`` on the same server, created and migrated here and dropped
afterwards unless ``--keep``), so it never touches the demo's data. The five tenants, their products,
plans and the Standard Norge catalogue come from the demo's loader functions; the contracts (signed and
active, starting on the run date, so every one has an invoice due) are written in bulk: Spekter kommuner
with 1–3 schools and a DPA each, Standard Norge collections of 20–60 catalogue standards with 3–12
concurrent users, Piscator fixed price (2 % with hours recorded), DigiReq monthly with 1–300 active users,
Identum monthly with modules.

Reports contracts per second, queries per contract (counted with a connection execute_wrapper), peak
memory (the process's maximum RSS, and Python's own allocations during the run with ``--tracemalloc``,
which slows it), and the time PostgreSQL's ``COPY`` takes to write the same invoice and line rows into
plain tables with the same columns and indexes: the lower bound, and the run's ratio to it.
Targets (issue 5): 100 000 contracts in at most 60 s on a 2-core machine, within 10 × COPY, under 1 GiB.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import multiprocessing
import os
import pstats
import resource
import sys
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["AVTALE_TEST_DB"] = os.environ.get("AVTALE_BENCH_DB", "bench_billing")

ON = dt.date(2026, 3, 2)
VENDOR_SLUGS = ("spekter", "standard-norge", "piscator", "digireq", "identum")
INTERVAL = {"spekter": "year", "standard-norge": "year", "piscator": "quarter", "digireq": "month", "identum": "month"}
BATCH = 5000
SLOWEST_FIRST = ("standard-norge", "spekter", "digireq", "identum", "piscator")


def _request(slug: str, i: int, standards: list[str]) -> dict:
    if slug == "spekter":
        return {
            "schools": [{"name": f"Skole {i}-{s}", "pupils": 40 + (i * 53 + s * 211) % 1400} for s in range(1 + i % 3)]
        }
    if slug == "standard-norge":
        count = 20 + (i * 7) % 41
        first = (i * 13) % max(1, len(standards) - count)
        return {"standards": [{"code": c} for c in standards[first : first + count]], "concurrent_users": 3 + i % 10}
    if slug == "digireq":
        return {"quantities": {"active_users": 1 + (i * 37) % 300}}
    if slug == "identum":
        return {"addons": [["module_feide"], ["module_feide", "module_visma"], []][i % 3]}
    return {}


def create_contracts(tenant, slug: str, n: int) -> None:
    """``n`` signed, active contracts of the vendor's plan starting on :data:`ON` (written in bulk)."""
    from billing.models import TimeEntry
    from catalog.models import HourlyService, Product, Standard
    from contracts.models import Contract, DataProcessingAgreement, PricedOn
    from pricing.models import Plan
    from tenants.models import Customer, CustomerKind

    product = Product.objects.get()
    plan = Plan.objects.get()
    standards = list(Standard.objects.order_by("code").values_list("code", flat=True))
    service = HourlyService.objects.first()
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        kind = CustomerKind.KOMMUNE if slug == "spekter" else CustomerKind.COMPANY
        customers = Customer.objects.bulk_create(
            [
                Customer(
                    tenant=tenant, name=f"{slug} kunde {start + i}", kind=kind, invoice_reference=f"REF-{start + i}"
                )
                for i in range(size)
            ]
        )
        if slug == "spekter":
            DataProcessingAgreement.objects.bulk_create(
                [
                    DataProcessingAgreement(
                        tenant=tenant, controller=c, signed_on=ON, signer_name="Ordfører", recorded_by="bench"
                    )
                    for c in customers
                ]
            )
        contracts = Contract.objects.bulk_create(
            [
                Contract(
                    tenant=tenant,
                    reference=f"B-{slug}-{start + i:06d}",
                    customer=c,
                    product=product,
                    plan=plan,
                    interval=INTERVAL[slug],
                    state="active",
                    dpa_required=slug == "spekter",
                    signed_on=ON,
                    received_on=ON,
                    start_date=ON,
                    term_end=dt.date(ON.year + 1, ON.month, ON.day),
                )
                for i, c in enumerate(customers)
            ]
        )
        PricedOn.objects.bulk_create(
            [
                PricedOn(tenant=tenant, contract=c, effective_from=ON, request=_request(slug, start + i, standards))
                for i, c in enumerate(contracts)
            ]
        )
        if service is not None and slug == "piscator":
            TimeEntry.objects.bulk_create(
                [
                    TimeEntry(
                        tenant=tenant,
                        contract=c,
                        service=service,
                        worked_on=ON - dt.timedelta(days=3),
                        hours=Decimal("3"),
                        travel_hours=Decimal("2"),
                        description="Opplæring",
                    )
                    for c in contracts[::50]
                ]
            )


def setup(n: int, vendors: list[str]) -> list:
    from django.db import transaction

    from demo.catalog import load_catalogue
    from demo.loader import DemoSummary, load_tenant
    from demo.vendors import VENDORS
    from tenants.tenancy import tenant_context

    tenants = []
    specs = {v["slug"]: v for v in VENDORS}
    for k, slug in enumerate(vendors):
        share = n // len(vendors) + (1 if k < n % len(vendors) else 0)
        with transaction.atomic():
            tenant = load_tenant(specs[slug], DemoSummary())
            with tenant_context(tenant):
                load_catalogue(slug, ON)
                create_contracts(tenant, slug, share)
        tenants.append(tenant)
    from django.db import connection

    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would have them after a bulk load
        cursor.execute("ANALYZE")
    return tenants


def copy_bound(tenants) -> tuple[float, int, int]:
    """Seconds PostgreSQL's COPY takes to write the run's invoice and line rows into plain tables with the
    same columns and indexes (no triggers, no row-level security): the lower bound."""
    from django.db import connection

    from tenants.tenancy import tenant_context

    dumps = {"billing_invoice": io.BytesIO(), "billing_invoiceline": io.BytesIO()}
    rows = {"billing_invoice": 0, "billing_invoiceline": 0}
    for tenant in tenants:
        with tenant_context(tenant), connection.cursor() as cursor:
            for table, buffer in dumps.items():
                with cursor.cursor.copy(f"COPY {table} TO STDOUT") as copy:  # our own table names
                    for data in copy:
                        buffer.write(data)
                cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own table names
                rows[table] += cursor.fetchone()[0]
    with connection.cursor() as cursor:
        for table in dumps:
            cursor.execute(f"DROP TABLE IF EXISTS bench_copy_{table}")
            cursor.execute(f"CREATE TABLE bench_copy_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)")
        started = time.perf_counter()
        for table, buffer in dumps.items():
            with cursor.cursor.copy(f"COPY bench_copy_{table} FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        seconds = time.perf_counter() - started
        for table in dumps:
            cursor.execute(f"DROP TABLE bench_copy_{table}")
    return seconds, rows["billing_invoice"], rows["billing_invoiceline"]


def _worker_init(db_name: str) -> None:
    import django

    django.setup()
    from django.db import connection

    connection.settings_dict["NAME"] = db_name


def bill_tenant(slug: str, chunk: int, sql_times: bool = False, profile: bool = False) -> dict:
    """Run the billing run for one tenant in this process (as one Celery worker runs the per-tenant task)."""
    from django.db import connection

    from billing import run
    from tenants.models import Tenant
    from tenants.tenancy import tenant_context

    queries = 0
    by_statement: dict[str, list] = {}

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if sql_times:
                spent = by_statement.setdefault(" ".join(sql.split()[:4])[:60], [0, 0.0])
                spent[0] += 1
                spent[1] += time.perf_counter() - began

    tenant = Tenant.objects.get(slug=slug)
    profiler = cProfile.Profile() if profile else None
    began = time.perf_counter()
    with connection.execute_wrapper(count), tenant_context(tenant):
        if profiler:
            profiler.enable()
        result = run.run_tenant(ON, chunk_size=chunk)
        if profiler:
            profiler.disable()
    seconds = time.perf_counter() - began
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(45)
    return {
        "tenant": slug,
        "contracts": result.contracts,
        "invoices": result.invoices,
        "problems": len(result.problems),
        "seconds": seconds,
        "queries": queries,
        "by_statement": by_statement,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--workers", type=int, default=1, help="processes billing tenants side by side (default 1)")
    parser.add_argument("--vendors", default=",".join(VENDOR_SLUGS), help="comma-separated (default: all five)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards (to look at it)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--sql-times", action="store_true", help="print the time spent per kind of statement")
    parser.add_argument("--profile", action="store_true", help="print the run's top functions (cProfile; slower)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from billing import run
    from billing.models import Invoice
    from tenants.tenancy import tenant_context

    started = time.perf_counter()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    print(f"database {test_db}: created and migrated in {time.perf_counter() - started:.1f} s")
    try:
        started = time.perf_counter()
        tenants = setup(args.contracts, [v for v in args.vendors.split(",") if v])
        print(f"setup: {args.contracts:,} contracts in {time.perf_counter() - started:.1f} s")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if args.tracemalloc:
            tracemalloc.start()
        chunk = args.chunk_size or run.CHUNK_SIZE
        # The slowest tenants first, so the workers finish together.
        slugs = sorted((t.slug for t in tenants), key=lambda slug: SLOWEST_FIRST.index(slug))
        started = time.perf_counter()
        if args.workers > 1:
            connection.close()
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                args.workers, mp_context=context, initializer=_worker_init, initargs=(test_db,)
            ) as pool:
                stats = list(pool.map(bill_tenant, slugs, [chunk] * len(slugs), [args.sql_times] * len(slugs)))
        else:
            stats = [bill_tenant(slug, chunk, args.sql_times, args.profile) for slug in slugs]
        seconds = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
        rss = max(s["rss"] for s in stats)
        if args.sql_times:
            merged: dict[str, list] = {}
            for s in stats:
                for statement, (n, spent) in s["by_statement"].items():
                    row = merged.setdefault(statement, [0, 0.0])
                    row[0] += n
                    row[1] += spent
            for statement, (n, spent) in sorted(merged.items(), key=lambda kv: -kv[1][1])[:15]:
                print(f"  {spent:7.2f} s {n:6} × {statement}")
        contracts = sum(s["contracts"] for s in stats)
        invoices = sum(s["invoices"] for s in stats)
        problems = sum(s["problems"] for s in stats)
        queries = sum(s["queries"] for s in stats)
        for s in stats:
            print(
                f"  {s['tenant']:<15} {s['contracts']:>8,} contracts {s['invoices']:>8,} invoices "
                f"{s['problems']} problems in {s['seconds']:.1f} s"
            )
        print(
            f"billing run: {contracts:,} contracts, {invoices:,} invoices, {problems} problems in {seconds:.1f} s "
            f"({args.workers} worker process{'es' if args.workers > 1 else ''})"
        )
        print(
            f"  {contracts / seconds:,.0f} contracts/s; {queries / max(contracts, 1):.3f} queries per contract "
            f"({queries:,} queries, chunk {chunk})"
        )
        print(
            f"  peak RSS {rss:,.0f} MiB per process (the bench's own process before the run: {rss_before:,.0f} MiB)"
            + (f"; Python allocations peak {traced:,.0f} MiB (tracemalloc)" if traced is not None else "")
        )
        with tenant_context(tenants[0]):
            assert Invoice.objects.filter(status="draft").count() == 0
        copy_seconds, invoice_rows, line_rows = copy_bound(tenants)
        print(
            f"COPY lower bound: {invoice_rows:,} invoice rows + {line_rows:,} line rows in {copy_seconds:.2f} s; "
            f"the run takes {seconds / copy_seconds:.1f} × COPY"
        )
        verdict = [
            f"{'OK ' if seconds * 100_000 / max(contracts, 1) <= 60 else 'MISS'} ≤ 60 s per 100 000 contracts "
            f"(here {seconds * 100_000 / max(contracts, 1):.0f} s)",
            f"{'OK ' if seconds <= 10 * copy_seconds else 'MISS'} ≤ 10 × COPY",
            f"{'OK ' if rss < 1024 else 'MISS'} < 1 GiB",
        ]
        print("targets: " + "; ".join(verdict))
    finally:
        if not args.keep:
            connection.close()
            connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
