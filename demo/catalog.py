"""Demo catalogues: each vendor's products, add-ons, hourly services, plans and (Standard Norge) standards.

Loaded through the catalogue and pricing services; idempotent.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from catalog import services as catalog_services
from catalog.models import AddOn, HourlyService, Product, Standard, StandardCategory
from pricing import services as pricing_services
from pricing.models import Plan, PlanVersion, Quote
from pricing.plans import seed_plan_document
from tenants.audit import Actor
from tenants.models import Customer, CustomerKind

ACTOR = Actor.system("load_demo")

PLAN_FROM = {
    "spekter": dt.date(2020, 1, 1),
    "standard-norge": dt.date(2024, 1, 1),
    "piscator": dt.date(2024, 1, 1),
    "digireq": dt.date(2024, 1, 1),
    "identum": dt.date(2024, 1, 1),
}

CATALOGUE = {
    "spekter": {
        "product": (
            "spekter-digital",
            "Spekter digital",
            "Spekter digital",
            "Kartlegging av læringsmiljø for skoler, per skole per år.",
        ),
        "addons": [],
        "hourly": [],
    },
    "standard-norge": {
        "product": (
            "abonnement",
            "Abonnement på standarder",
            "Subscription on standards",
            "Egen kolleksjon av standarder, lisens etter formel per varekategori.",
        ),
        "addons": [
            ("offline", "Offlineløsning", "Offline solution"),
            ("direct_links", "Direktelenker", "Direct links"),
        ],
        "hourly": [],
    },
    "piscator": {
        "product": (
            "piscator-standard",
            "Piscator Standard",
            "Piscator Standard",
            "Mannskaps- og lønnssystem for rederier, SSA-L.",
        ),
        "addons": [],
        "hourly": [("consulting", "Konsulentbistand", "Consulting", "1800.00", "0.5", 1)],
    },
    "digireq": {
        "product": ("digireq", "DigiReq", "DigiReq", "Digitale rekvisisjoner, per aktiv bruker."),
        "addons": [],
        "hourly": [("extra", "Tilleggstjenester", "Extra services", "1200.00", "0.5", 1)],
    },
    "identum": {
        "product": ("eadm", "eAdm", "eAdm", "Identitets- og tilgangsstyring for kommuner, med SLA."),
        "addons": [
            ("module_feide", "Modul: Feide-integrasjon", "Module: Feide integration"),
            ("module_visma", "Modul: Visma-integrasjon", "Module: Visma integration"),
        ],
        "hourly": [
            (
                "support",
                "Fakturerbar support (per påbegynt halvtime)",
                "Billable support (per started half hour)",
                "1400.00",
                "0.5",
                30,
            )
        ],
    },
}

STANDARD_CATEGORIES = [
    ("1", "Norske standarder", "Norwegian standards", False, False, False),
    ("2", "ISO", "ISO", False, False, False),
    ("3", "IEC", "IEC", False, False, False),
    ("4", "ASTM", "ASTM", False, False, False),
    ("5", "Thomson Reuters m.fl.", "Thomson Reuters et al.", True, True, True),
    ("6", "DNV tjenestedokumenter", "DNV service documents", False, False, False),
]
TOPICS = [
    "Bygg og anlegg",
    "Elektro",
    "Maskin",
    "Kvalitetsledelse",
    "Miljøstyring",
    "Informasjonssikkerhet",
    "Brannsikkerhet",
    "Sveising",
    "Universell utforming",
    "Helse og sikkerhet",
    "Energi",
    "Transport",
]
PREFIX = {"1": "NS-EN", "2": "ISO", "3": "IEC", "4": "ASTM", "5": "TR", "6": "DNV-ST"}
COUNTS = {"1": 140, "2": 90, "3": 40, "4": 20, "5": 15, "6": 15}


def standards_csv(year: int, categories: set[str] | None = None) -> str:
    """A made-up catalogue of 320 standards with prices per 1 January ``year`` (deterministic); only the
    given ``categories`` when named."""
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    rows = ["code,title,category,price,withdrawn_on"]
    for category, count in COUNTS.items():
        for i in range(count):
            number = 1000 + i * 7
            code = f"{PREFIX[category]} {number}:{2010 + i % 15}"
            title = f"{rng.choice(TOPICS)} – del {i % 9 + 1}"
            base = Decimal(rng.randrange(450, 4200, 10))
            price = (base * (Decimal("1.04") ** (year - 2024))).quantize(Decimal("1"))
            withdrawn = "2025-06-30" if (category == "1" and i % 35 == 0) else ""
            if categories is None or category in categories:
                rows.append(f'{code},"{title}",{category},{price},{withdrawn}')
    return "\n".join(rows) + "\n"


def load_catalogue(slug: str, as_of: dt.date) -> dict[str, int]:
    spec = CATALOGUE[slug]
    created = {"products": 0, "plans": 0, "standards": 0}
    code, name_nb, name_en, description = spec["product"]
    product = Product.objects.filter(code=code).first()
    if product is None:
        product = catalog_services.product_save(
            actor=ACTOR, data={"code": code, "name_nb": name_nb, "name_en": name_en, "description": description}
        )
        created["products"] += 1
    for addon_code, nb, en in spec["addons"]:
        if not AddOn.objects.filter(product=product, code=addon_code).exists():
            catalog_services.addon_save(
                actor=ACTOR, product=product, data={"code": addon_code, "name_nb": nb, "name_en": en}
            )
    for h_code, nb, en, rate, travel, increment in spec["hourly"]:
        if not HourlyService.objects.filter(code=h_code).exists():
            catalog_services.hourly_service_save(
                actor=ACTOR,
                data={
                    "code": h_code,
                    "name_nb": nb,
                    "name_en": en,
                    "hourly_rate": Decimal(rate),
                    "travel_share": Decimal(travel),
                    "increment_minutes": increment,
                },
            )
    document = seed_plan_document(slug)
    plan = Plan.objects.filter(code=document["code"]).first()
    if plan is None:
        plan = pricing_services.plan_create(
            actor=ACTOR,
            product=product,
            code=document["code"],
            name_nb=document["name"]["nb"],
            name_en=document["name"]["en"],
        )
        created["plans"] += 1
    if not PlanVersion.objects.filter(plan=plan, valid_from=PLAN_FROM[slug]).exists():
        pricing_services.plan_version_create(
            actor=ACTOR,
            plan=plan,
            valid_from=PLAN_FROM[slug],
            document=document,
            note="Prisliste fra leverandørens eget dokument",
        )
    if slug == "standard-norge":
        for c_code, nb, en, higher, blocks, fetched in STANDARD_CATEGORIES:
            if not StandardCategory.objects.filter(code=c_code).exists():
                catalog_services.category_save(
                    actor=ACTOR,
                    data={
                        "code": c_code,
                        "name_nb": nb,
                        "name_en": en,
                        "users_one_level_higher": higher,
                        "building_blocks": blocks,
                        "yearly_prices_fetched": fetched,
                    },
                )
        # The vendor's price list for 2024. Later years: the publisher's list for the categories whose prices
        # are fetched each year (Thomson Reuters), imported; every other category's prices come from the
        # yearly CPI indexation of the catalogue that finance approves in the replay (demo/indexation.py).
        if not Standard.objects.filter(prices__year=2024).exists():
            result = catalog_services.standards_import_csv(actor=ACTOR, text=standards_csv(2024), year=2024)
            created["standards"] += result.created
        fetched = {c[0] for c in STANDARD_CATEGORIES if c[5]}
        for year in range(2025, as_of.year + 2):
            if not Standard.objects.filter(prices__year=year, category__code__in=fetched).exists():
                catalog_services.standards_import_csv(
                    actor=ACTOR, text=standards_csv(year, categories=fetched), year=year
                )
    return created


def demo_quote_request(slug: str) -> dict | None:
    """A worked quote for each vendor (the same ones the README documents)."""
    if slug == "spekter":
        owner = Customer.objects.filter(kind=CustomerKind.KOMMUNE).order_by("name").first()
        schools = [
            {"name": s.name, "pupils": p}
            for s, p in zip(Customer.objects.filter(parent=owner).order_by("name"), (87, 240, 1100), strict=False)
        ]
        return {
            "plan": "spekter-2020",
            "customer": owner.pk if owner else None,
            "schools": schools or [{"name": "Skole", "pupils": 240}],
        }
    if slug == "standard-norge":
        codes = [s.code for s in Standard.objects.filter(category__code="1").order_by("code")[:40]]
        codes += [s.code for s in Standard.objects.filter(category__code="2").order_by("code")[:10]]
        return {
            "plan": "standard-norge-abonnement",
            "standards": [{"code": c} for c in codes],
            "concurrent_users": 7,
            "addons": ["offline"],
            "start": "2026-05-10",
        }
    if slug == "digireq":
        return {"plan": "digireq-2026", "interval": "year", "quantities": {"active_users": 30}, "public_sector": True}
    if slug == "piscator":
        return {"plan": "piscator-standard", "interval": "quarter"}
    if slug == "identum":
        return {"plan": "identum-eadm", "interval": "month", "addons": ["module_feide"]}
    return None


def load_quote(slug: str, as_of: dt.date) -> None:
    if Quote.objects.exists():
        return
    request = demo_quote_request(slug)
    if request is not None:
        pricing_services.quote_save(
            actor=ACTOR,
            request={k: v for k, v in request.items() if v is not None},
            on=min(as_of, dt.date(2026, 5, 1)) if slug == "standard-norge" else as_of,
        )
