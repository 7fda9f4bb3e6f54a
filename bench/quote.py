"""Quotes per second: the pure engine, and the same quotes through the API.

    .venv/bin/python bench/quote.py [--seconds 3] [--api-requests 200]

Cases: Standard Norge, 300 standards in four categories with 12 concurrent users and the offline
add-on; Spekter, a kommune with 50 schools. The API part runs against a scratch tenant in the
database (embedded PostgreSQL unless DATABASE_URL is set) through Django's test client, i.e. the
whole stack but the network; the tenant is deleted afterwards.
Target (issue 3): at least 2 000 engine quotes per second for the 300-standard case.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pricing.engine.document import parse_plan  # noqa: E402
from pricing.engine.quote import QuoteInput, School, price  # noqa: E402
from pricing.engine.standards import HeldStandard  # noqa: E402
from pricing.plans import seed_plan_document  # noqa: E402


def standard_norge_case():
    plan = parse_plan(seed_plan_document("standard-norge"))
    items = tuple(HeldStandard(f"S{i}", str(1 + i % 4), Decimal(500 + (i * 37) % 3000)) for i in range(300))
    return plan, QuoteInput(standards=items, concurrent_users=12, addons=("offline",), start=dt.date(2026, 5, 10))


def spekter_case():
    plan = parse_plan(seed_plan_document("spekter"))
    schools = tuple(School(f"Skole {i}", 40 + (i * 53) % 1900) for i in range(50))
    return plan, QuoteInput(schools=schools)


def rate(fn, seconds: float) -> tuple[float, float]:
    """(calls per second, median microseconds per call) over about ``seconds``."""
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(50):
            fn()
        samples.append((time.perf_counter() - start) / 50)
    per_call = statistics.median(samples)
    return 1 / per_call, per_call * 1e6


def bench_engine(seconds: float) -> None:
    for name, (plan, data) in (
        ("Standard Norge, 300 standards", standard_norge_case()),
        ("Spekter, kommune with 50 schools", spekter_case()),
    ):
        per_second, micro = rate(lambda p=plan, d=data: price(p, d), seconds)
        print(f"engine  {name:<36} {per_second:>9,.0f} quotes/s  ({micro:,.0f} µs each)")


def bench_api(requests: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.test import Client

    from catalog import services as catalog_services
    from pricing import services as pricing_services
    from tenants import services as tenant_services
    from tenants.audit import Actor
    from tenants.models import Tenant
    from tenants.tenancy import tenant_context

    actor = Actor.system("bench")
    Tenant.objects.filter(slug="bench-quote").delete()
    tenant = Tenant.objects.create(slug="bench-quote", name="Bench", org_number="937620187")
    try:
        with tenant_context(tenant):
            product = catalog_services.product_save(actor=actor, data={"code": "p", "name_nb": "P", "name_en": "P"})
            for name in ("standard-norge", "spekter"):
                doc = seed_plan_document(name)
                plan = pricing_services.plan_create(
                    actor=actor, product=product, code=doc["code"], name_nb="x", name_en="x"
                )
                pricing_services.plan_version_create(
                    actor=actor, plan=plan, valid_from=dt.date(2020, 1, 1), document=doc
                )
            _key, raw = tenant_services.api_key_create(actor=actor, name="bench", scope="read_write")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        bodies = {
            "Standard Norge, 300 standards": {
                "plan": "standard-norge-abonnement",
                "concurrent_users": 12,
                "addons": ["offline"],
                "start": "2026-05-10",
                "standards": [{"category": str(1 + i % 4), "price": str(500 + (i * 37) % 3000)} for i in range(300)],
            },
            "Spekter, kommune with 50 schools": {
                "plan": "spekter-2020",
                "schools": [{"name": f"Skole {i}", "pupils": 40 + (i * 53) % 1900} for i in range(50)],
            },
        }
        for name, body in bodies.items():
            response = client.post("/api/v1/quotes", body, content_type="application/json")
            if response.status_code != 200:
                print(f"api     {name}: HTTP {response.status_code} {response.content[:200]!r}")
                continue
            start = time.perf_counter()
            for _ in range(requests):
                client.post("/api/v1/quotes", body, content_type="application/json")
            elapsed = time.perf_counter() - start
            print(f"api     {name:<36} {requests / elapsed:>9,.0f} quotes/s  ({elapsed / requests * 1e3:,.1f} ms each)")
    finally:
        with tenant_context(tenant):
            from tenants.models import ApiKey, AuditEvent

            AuditEvent.objects.all().delete()
            ApiKey.objects.all().delete()
            from pricing.models import Plan, PlanVersion

            PlanVersion.objects.all().delete()
            Plan.objects.all().delete()
            from catalog.models import Product

            Product.objects.all().delete()
        tenant.delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per engine case")
    parser.add_argument("--api-requests", type=int, default=200, help="requests per API case (0 skips the API)")
    args = parser.parse_args()
    bench_engine(args.seconds)
    if args.api_requests:
        bench_api(args.api_requests)


if __name__ == "__main__":
    main()
