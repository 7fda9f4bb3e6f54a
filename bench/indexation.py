"""The indexation job at scale: proposals for N contracts on one date.

    .venv/bin/python bench/indexation.py [--contracts 100000] [--approval staff|auto] [--keep]

Runs in a database of its own (``bench_indexation``, created and migrated here and dropped afterwards
unless ``--keep``). Tenants, plans and contracts come from ``bench/billing_run.py``'s setup (signed, active
contracts written in bulk) across the three vendors whose contracts are indexed one by one — Piscator
(fixed price), DigiReq (1–300 active users, volume tiers) and Identum (monthly fee and modules) — all
starting on 2024-03-02, with SSB's recorded KPI figures (fakes/ssb) as the index. So that every contract
falls due on the same date, each tenant gets the same policy (every anniversary, from the signing month's
index, SSB's KPI): on 2025-03-02 every contract has an indexation due, priced by the engine on its plan.

``--approval staff`` (default) measures the proposals as finance would preview them; ``--approval auto``
also applies them on the date (new price versions and events, as Piscator's policy does).
Reports seconds, contracts per second, queries per contract (a connection execute_wrapper) and the
process's peak RSS. Target (issue 10): 100 000 contracts under 20 s, a bounded number of queries per chunk.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import multiprocessing
import os
import pstats
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["AVTALE_TEST_DB"] = os.environ.get("AVTALE_BENCH_DB", "bench_indexation")

START = dt.date(2024, 3, 2)
AS_OF = dt.date(2025, 3, 2)
VENDORS = ("piscator", "digireq", "identum")


def run_tenant(slug: str) -> dict:
    """The run for one tenant in this process (as one Celery worker runs the per-tenant task)."""
    from django.db import connection

    from indexation import services
    from tenants.models import Tenant
    from tenants.tenancy import tenant_context

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    tenant = Tenant.objects.get(slug=slug)
    began = time.perf_counter()
    with connection.execute_wrapper(count), tenant_context(tenant):
        report = services.indexation_run(as_of=AS_OF)
    return {
        "slug": slug,
        "report": report,
        "seconds": time.perf_counter() - began,
        "queries": queries,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--approval", choices=("staff", "auto"), default="staff")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--profile", action="store_true", help="print the run's top functions (cProfile)")
    parser.add_argument("--workers", type=int, default=1, help="processes running tenants side by side")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from bench import billing_run
    from indexation import services
    from indexation.models import IndexationProposal, PriceAdjustment
    from pricing.models import Plan
    from tenants.audit import Actor
    from tenants.tenancy import tenant_context
    from tests.indexation.conftest import load_recorded_values

    billing_run.ON = START  # the bench's contracts start a year before the indexation date
    started = time.perf_counter()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    print(f"database {test_db}: created and migrated in {time.perf_counter() - started:.1f} s")
    try:
        started = time.perf_counter()
        tenants = billing_run.setup(args.contracts, list(VENDORS))
        load_recorded_values()
        for tenant in tenants:
            with tenant_context(tenant):
                services.policy_create(
                    actor=Actor.system("bench"),
                    data={
                        "code": "bench-anniversary",
                        "name_nb": "Årlig KPI fra signeringsmåneden",
                        "name_en": "Yearly CPI from the signing month",
                        "scope": "contract",
                        "plan": Plan.objects.get(),  # the vendor's one plan
                        "index_code": "kpi",
                        "timing": "anniversary",
                        "reference": "since_signing",
                        "cap": "none",
                        "falling": "lower",
                        "approval": args.approval,
                    },
                )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"setup: {args.contracts:,} contracts and SSB's figures in {time.perf_counter() - started:.1f} s")

        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if args.workers > 1:
            connection.close()
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                args.workers, mp_context=context, initializer=billing_run._worker_init, initargs=(test_db,)
            ) as pool:
                stats = list(pool.map(run_tenant, [t.slug for t in tenants]))
        else:
            if profiler:
                profiler.enable()
            stats = [run_tenant(t.slug) for t in tenants]
            if profiler:
                profiler.disable()
        seconds = time.perf_counter() - started
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(40)
        queries = sum(s["queries"] for s in stats)
        reports = [(s["slug"], s["report"], s["seconds"]) for s in stats]
        total = applied = 0
        for slug, report, spent in reports:
            with tenant_context(next(t for t in tenants if t.slug == slug)):
                n = IndexationProposal.objects.exclude(factor=None).count()
                adjustments = PriceAdjustment.objects.count()
            total += n
            applied += adjustments
            print(
                f"  {slug:<10} {n:>8,} proposals computed ({report.proposed:,} awaiting approval, "
                f"{report.applied:,} applied, {report.waiting:,} waiting) in {spent:.1f} s"
                + (f"; errors: {report.errors}" if report.errors else "")
            )
        rss = max(s["rss"] for s in stats)
        print(
            f"indexation run on {AS_OF.isoformat()}: {total:,} proposals ({applied:,} price versions applied) "
            f"in {seconds:.1f} s; {total / seconds:,.0f} contracts/s "
            f"({args.workers} worker process{'es' if args.workers > 1 else ''})"
        )
        chunks = sum((n_ + services.CHUNK - 1) // services.CHUNK for n_ in [args.contracts])
        print(
            f"  {queries / max(total, 1):.3f} queries per contract ({queries:,} queries, about "
            f"{queries / max(chunks, 1):.0f} per chunk of {services.CHUNK}); peak RSS {rss:,.0f} MiB per process"
        )
        per_100k = seconds * 100_000 / max(total, 1)
        print(f"target: {'OK ' if per_100k < 20 else 'MISS'} under 20 s per 100 000 contracts (here {per_100k:.1f} s)")
    finally:
        if not args.keep:
            connection.close()
            connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
