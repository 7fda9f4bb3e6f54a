"""Demo contracts for the five vendors, replayed from 2024-01-01 to the demo date through the same
services and jobs production runs (renewals, notice ends, acceptance, trial pauses, notices, deletion),
with the billing run, payments, the overdue job and deliveries on each step (see demo/billing.py).

Each vendor has a small story: dated actions (order, send, sign, DPA, notice, trials, amendments).
Between actions the jobs run on every date where something falls due, so messages carry the right
dates. Idempotent: actions already done are skipped, and the jobs change nothing on a second run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from django.utils import timezone

from catalog.models import Standard
from contracts import jobs, lifecycle, services, terms
from contracts.documents import store_contract_document
from contracts.models import Contract, DataProcessingAgreement
from pricing.models import Plan
from tenants.audit import Actor
from tenants.models import Customer

CUSTOMERS = json.loads((Path(__file__).resolve().parent / "customers.json").read_text(encoding="utf-8"))["tenants"]
START = dt.date(2024, 1, 1)
STAFF = Actor.system("load_demo (staff)")
CUSTOMER = Actor.system("load_demo (customer)")

Action = tuple[dt.date, str, Callable[[], object]]


def _customer(slug: str, key: str) -> Customer:
    row = next(r for r in CUSTOMERS[slug] if r["key"] == key)
    return (
        Customer.objects.get(org_number=row["org_number"])
        if row.get("org_number")
        else Customer.objects.get(name=row["name"])
    )


def _pupils(slug: str, owner_key: str) -> list[dict]:
    rows = [r for r in CUSTOMERS[slug] if r.get("parent") == owner_key and r.get("pupils")]
    return [{"name": r["name"], "customer": _customer(slug, r["key"]).pk, "pupils": r["pupils"]} for r in rows]


def _contract(reference: str) -> Contract | None:
    return Contract.objects.filter(reference=reference).first()


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def _document_hash(contract: Contract) -> str:
    return store_contract_document(contract).sha256


def create(
    reference: str,
    slug: str,
    key: str,
    plan_code: str,
    interval: str,
    preset: str,
    priced_on: dict,
    on: dt.date,
    **extra,
) -> Callable[[], object]:
    def run():
        if _contract(reference):
            return None
        return services.contract_create(
            actor=STAFF,
            customer=_customer(slug, key),
            plan=Plan.objects.get(code=plan_code),
            interval=interval,
            priced_on=priced_on,
            terms_data={**services.TERM_PRESETS[preset], **extra},
            on=on,
            reference=reference,
        )

    return run


def send(reference: str, on: dt.date) -> Callable[[], object]:
    def run():
        contract = _contract(reference)
        if contract.state == lifecycle.DRAFT:
            services.contract_send(actor=STAFF, contract=contract, on=on)
            _document_hash(contract)

    return run


def sign(reference: str, signed: dt.date, received: dt.date, name: str, title: str) -> Callable[[], object]:
    def run():
        contract = _contract(reference)
        if contract.state in (lifecycle.DRAFT, lifecycle.SENT):
            # The customer signs the document they were shown: render and keep it first if it never was.
            doc = contract.documents.first()
            sha = doc.sha256 if doc else _document_hash(contract)
            services.contract_sign(
                actor=CUSTOMER,
                contract=contract,
                name=name,
                title=title,
                signed_at=_at(signed),
                received_on=received,
                document_sha256=sha,
                ip_address="192.0.2.10",
            )

    return run


def dpa(slug: str, key: str, on: dt.date, name: str) -> Callable[[], object]:
    def run():
        controller = _customer(slug, key)
        if not DataProcessingAgreement.objects.filter(controller=controller).exists():
            services.dpa_sign(
                actor=CUSTOMER, controller=controller, signed_on=on, signer_name=name, signer_title="Kommunaldirektør"
            )

    return run


def feide(reference: str, on: dt.date) -> Callable[[], object]:
    def run():
        contract = _contract(reference)
        if not contract.onboarding.filter(code="feide_activated").exists():
            services.onboarding_tick(actor=STAFF, contract=contract, code="feide_activated", on=on)

    return run


def notice(reference: str, on: dt.date, given_by: str = "customer") -> Callable[[], object]:
    def run():
        contract = _contract(reference)
        if not contract.notices.exists() and contract.state in (lifecycle.ACTIVE, lifecycle.ACCEPTANCE):
            services.notice_give(
                actor=CUSTOMER if given_by == "customer" else STAFF,
                contract=contract,
                given_by=given_by,
                received_on=on,
            )

    return run


def amend(reference: str, on: dt.date, changes: Callable[[], dict], reason: str) -> Callable[[], object]:
    def run():
        contract = _contract(reference)
        if not contract.priced_on.filter(effective_from=on).exists() and contract.state in lifecycle.OPEN:
            services.amendment_create(
                actor=STAFF, contract=contract, effective_from=on, changes=changes(), reason=reason, on=on
            )

    return run


def trial(reference: str, slug: str, key: str, on: dt.date) -> Callable[[], object]:
    def run():
        if _contract(reference):
            return
        contract = services.trial_start(
            actor=CUSTOMER, customer=_customer(slug, key), plan=Plan.objects.get(code="digireq-2026"), on=on
        )
        Contract.objects.filter(pk=contract.pk).update(reference=reference)

    return run


def extend(reference: str, on: dt.date, times: int) -> Callable[[], object]:
    def run():
        contract = _contract(reference)
        while contract.state == lifecycle.TRIAL and contract.trial_extensions < times:
            contract = services.trial_extend(actor=STAFF, contract=contract, on=on)

    return run


def convert(reference: str, on: dt.date, interval: str, users: int) -> Callable[[], object]:
    def run():
        contract = _contract(reference)
        if contract.state == lifecycle.TRIAL:
            services.trial_convert(
                actor=CUSTOMER,
                contract=contract,
                interval=interval,
                priced_on={"quantities": {"active_users": users}},
                on=on,
            )

    return run


def _standards(category: str, count: int, offset: int = 0) -> list[dict]:
    codes = Standard.objects.filter(category__code=category).order_by("code").values_list("code", flat=True)
    return [{"code": c} for c in codes[offset : offset + count]]


def story(slug: str, as_of: dt.date) -> list[Action]:
    d = dt.date
    recent = as_of - dt.timedelta(days=30)
    if slug == "spekter":
        return [
            (
                d(2024, 2, 1),
                "order",
                create(
                    "SP-2024-001",
                    slug,
                    "stavanger",
                    "spekter-2020",
                    "year",
                    "spekter",
                    {"schools": _pupils(slug, "stavanger")},
                    d(2024, 2, 1),
                ),
            ),
            (d(2024, 2, 2), "send", send("SP-2024-001", d(2024, 2, 2))),
            (
                d(2024, 2, 15),
                "sign",
                sign("SP-2024-001", d(2024, 2, 14), d(2024, 2, 15), "Marianne Tjelta", "Kommunalsjef oppvekst"),
            ),
            (d(2024, 2, 20), "dpa", dpa(slug, "stavanger", d(2024, 2, 20), "Geir Helland")),
            (d(2024, 3, 1), "feide", feide("SP-2024-001", d(2024, 3, 1))),
            (
                d(2025, 8, 1),
                "amend",
                amend(
                    "SP-2024-001",
                    d(2025, 8, 1),
                    lambda: {"schools": [{**s, "pupils": s["pupils"] + 20} for s in _pupils(slug, "stavanger")]},
                    "Nye elevtall høsten 2025",
                ),
            ),
            (
                d(2025, 9, 1),
                "order",
                create(
                    "SP-2025-002",
                    slug,
                    "sandnes",
                    "spekter-2020",
                    "year",
                    "spekter",
                    {"schools": _pupils(slug, "sandnes")},
                    d(2025, 9, 1),
                ),
            ),
            (d(2025, 9, 3), "send", send("SP-2025-002", d(2025, 9, 3))),
            (d(2025, 9, 10), "dpa", dpa(slug, "sandnes", d(2025, 9, 10), "Frode Skjæveland")),
            (d(2025, 9, 12), "sign", sign("SP-2025-002", d(2025, 9, 11), d(2025, 9, 12), "Bente Mæland", "Rektor")),
            (d(2026, 5, 10), "notice", notice("SP-2025-002", d(2026, 5, 10))),  # on time: ends 2026-09-12
            (
                d(2026, 10, 1),
                "order",
                create(
                    "SP-2026-003",
                    slug,
                    "rogaland",
                    "spekter-2020",
                    "year",
                    "spekter",
                    {"schools": _pupils(slug, "rogaland")},
                    d(2026, 10, 1),
                ),
            ),
            (d(2026, 10, 2), "send", send("SP-2026-003", d(2026, 10, 2))),
            (
                d(2026, 10, 20),
                "sign",
                sign("SP-2026-003", d(2026, 10, 19), d(2026, 10, 20), "Sigrid Hopland", "Fylkesdirektør"),
            ),  # waits for Rogaland's DPA
        ]
    if slug == "standard-norge":
        return [
            (
                d(2024, 5, 2),
                "order",
                create(
                    "SN-2024-001",
                    slug,
                    "fjordbygg",
                    "standard-norge-abonnement",
                    "year",
                    "standard-norge",
                    {
                        "standards": _standards("1", 40) + _standards("2", 10),
                        "concurrent_users": 7,
                        "addons": ["offline"],
                    },
                    d(2024, 5, 2),
                ),
            ),
            (d(2024, 5, 3), "send", send("SN-2024-001", d(2024, 5, 3))),
            (
                d(2024, 5, 10),
                "sign",
                sign("SN-2024-001", d(2024, 5, 10), d(2024, 5, 10), "Kari Mjelde", "Daglig leder"),
            ),
            (
                d(2025, 8, 12),
                "amend",
                amend(
                    "SN-2024-001",
                    d(2025, 8, 12),
                    lambda: {"standards": _standards("1", 45) + _standards("2", 10)},
                    "5 nye norske standarder",
                ),
            ),
            (
                d(2024, 9, 1),
                "order",
                create(
                    "SN-2024-002",
                    slug,
                    "nordvik",
                    "standard-norge-abonnement",
                    "year",
                    "standard-norge",
                    {"standards": _standards("1", 12) + _standards("3", 8), "concurrent_users": 3},
                    d(2024, 9, 1),
                ),
            ),
            (d(2024, 9, 5), "sign", sign("SN-2024-002", d(2024, 9, 5), d(2024, 9, 5), "Ola Nordvik", "Daglig leder")),
            (d(2026, 10, 1), "notice", notice("SN-2024-002", d(2026, 10, 1))),  # on time: ends 2027-09-05
            (
                d(2026, 11, 2),
                "order",
                create(
                    "SN-2026-003",
                    slug,
                    "teknoplan",
                    "standard-norge-abonnement",
                    "year",
                    "standard-norge",
                    {"standards": _standards("1", 30), "concurrent_users": 5},
                    d(2026, 11, 2),
                ),
            ),
            (d(2026, 11, 3), "send", send("SN-2026-003", d(2026, 11, 3))),  # sent, not yet signed
        ]
    if slug == "piscator":
        return [
            (
                d(2024, 3, 1),
                "order",
                create("PI-2024-001", slug, "vestkyst", "piscator-standard", "quarter", "piscator", {}, d(2024, 3, 1)),
            ),
            (d(2024, 3, 4), "sign", sign("PI-2024-001", d(2024, 3, 4), d(2024, 3, 4), "Linn Aarseth", "CFO")),
            (d(2026, 10, 1), "notice", notice("PI-2024-001", d(2026, 10, 1))),  # late (deadline 09-17): 2028-03-18
            (
                d(2024, 6, 1),
                "order",
                create("PI-2024-002", slug, "bomlo", "piscator-standard", "quarter", "piscator", {}, d(2024, 6, 1)),
            ),
            (d(2024, 6, 3), "sign", sign("PI-2024-002", d(2024, 6, 3), d(2024, 6, 3), "Nils Bømlo", "Daglig leder")),
            (d(2025, 11, 20), "notice", notice("PI-2024-002", d(2025, 11, 20))),  # on time: ends 2026-06-17
            (
                d(2026, 11, 10),
                "order",
                create("PI-2026-003", slug, "arktisk", "piscator-standard", "quarter", "piscator", {}, d(2026, 11, 10)),
            ),
            (
                d(2026, 11, 10),
                "sign",
                sign("PI-2026-003", d(2026, 11, 10), d(2026, 11, 10), "Nina Johansen", "Daglig leder"),
            ),  # starts 11-24, in acceptance
        ]
    if slug == "digireq":
        return [
            (
                d(2024, 2, 1),
                "order",
                create(
                    "DR-2024-001",
                    slug,
                    "drammen",
                    "digireq-2026",
                    "year",
                    "digireq-annual",
                    {"quantities": {"active_users": 120}},
                    d(2024, 2, 1),
                    agreed_start=d(2024, 2, 1),
                ),
            ),
            (
                d(2024, 2, 1),
                "sign",
                sign("DR-2024-001", d(2024, 2, 1), d(2024, 2, 1), "Espen Berntsen", "Virksomhetsleder"),
            ),
            (d(2025, 6, 2), "trial", trial("DR-T-001", slug, "nordlys-vann", d(2025, 6, 2))),  # never confirmed
            (d(2026, 1, 5), "trial", trial("DR-T-002", slug, "kvalitetshuset", d(2026, 1, 5))),
            (d(2026, 1, 19), "convert", convert("DR-T-002", d(2026, 1, 19), "month", 30)),
            (d(2026, 2, 2), "trial", trial("DR-T-003", slug, "lillestrom", d(2026, 2, 2))),
            (d(2026, 2, 10), "extend", extend("DR-T-003", d(2026, 2, 10), 3)),
            (d(2026, 3, 6), "convert", convert("DR-T-003", d(2026, 3, 6), "year", 85)),
            (d(2026, 4, 1), "trial", trial("DR-T-004", slug, "sikkerhet-ost", d(2026, 4, 1))),
            (d(2026, 4, 10), "convert", convert("DR-T-004", d(2026, 4, 10), "month", 12)),
            (d(2026, 9, 3), "notice", notice("DR-T-004", d(2026, 9, 3))),  # monthly: ends at the paid month's end
            (recent, "trial", trial("DR-T-005", slug, "bodo-havn", recent)),  # paused now, data kept 90 days
            (
                as_of - dt.timedelta(days=5),
                "trial",
                trial("DR-T-006", slug, "kongsberg", as_of - dt.timedelta(days=5)),
            ),  # in trial now
        ]
    if slug == "identum":
        return [
            (
                d(2024, 3, 15),
                "order",
                create(
                    "ID-2024-001",
                    slug,
                    "tromso",
                    "identum-eadm",
                    "month",
                    "identum",
                    {"addons": ["module_feide"]},
                    d(2024, 3, 15),
                    agreed_start=d(2024, 4, 1),
                ),
            ),
            (d(2024, 3, 20), "sign", sign("ID-2024-001", d(2024, 3, 20), d(2024, 3, 20), "Øyvind Skadberg", "IT-sjef")),
            (
                d(2024, 10, 1),
                "order",
                create(
                    "ID-2024-002",
                    slug,
                    "vestland",
                    "identum-eadm",
                    "month",
                    "identum",
                    {"addons": ["module_feide", "module_visma"]},
                    d(2024, 10, 1),
                    agreed_start=d(2024, 11, 1),
                ),
            ),
            (
                d(2024, 10, 15),
                "sign",
                sign("ID-2024-002", d(2024, 10, 15), d(2024, 10, 15), "Sigrid Hopland", "Digitaliseringsdirektør"),
            ),
            (
                d(2026, 12, 20) if as_of >= d(2026, 12, 20) else d(2099, 1, 1),
                "notice",
                notice("ID-2024-002", d(2026, 12, 20)),
            ),
            (
                d(2026, 10, 25),
                "order",
                create(
                    "ID-2026-003",
                    slug,
                    "agder",
                    "identum-eadm",
                    "month",
                    "identum",
                    {},
                    d(2026, 10, 25),
                    agreed_start=d(2026, 11, 10),
                ),
            ),
            (
                d(2026, 10, 30),
                "sign",
                sign("ID-2026-003", d(2026, 10, 30), d(2026, 10, 30), "Kjersti Ås", "IT-direktør"),
            ),  # acceptance until 2026-12-10
        ]
    return []


def _due_dates(after: dt.date) -> list[dt.date]:
    """Every date after ``after`` on which a job has something to do for the contracts as they are now."""
    dates = set()
    for c in Contract.objects.filter(state__in=lifecycle.OPEN):
        for day in (
            c.ordinary_from if c.state == lifecycle.ACCEPTANCE else None,
            c.term_end,
            c.ends_on,
            c.trial_ends_on if c.state == lifecycle.TRIAL else None,
            c.deletion_due_on,
        ):
            if day:
                dates.add(day)
        if c.notice_deadline:
            dates.add(terms.notice_reminder_date(c.notice_deadline))
        if c.state == lifecycle.PAUSED and c.paused_on:
            dates.update(day for day, _kind in terms.pause_timeline(c.paused_on).notices)
    return sorted(day for day in dates if day > after)


def replay(slug: str, as_of: dt.date) -> int:
    """Play the vendor's story and the jobs from 2024-01-01 to ``as_of``. Returns the job runs made."""
    from demo import billing, collections, indexation

    billing.choose_settings(slug)
    everything = story(slug, as_of) + billing.story(slug, as_of) + indexation.story(slug, as_of)
    actions = sorted((a for a in everything if a[0] <= as_of), key=lambda a: a[0])
    day, runs, i = START, 0, 0
    while day <= as_of:
        while i < len(actions) and actions[i][0] <= day:
            actions[i][2]()
            i += 1
        indexation.indexation_day(day)  # as beat orders them: prices first, then contracts, then billing
        jobs.run_all(day)
        billing.billing_day(slug, day)
        runs += 1
        candidates = [d for d in _due_dates(day) if d <= as_of] + sorted(billing.billing_dates(day, as_of))
        candidates += sorted(indexation.indexation_dates(day, as_of))
        candidates += sorted(collections.collections_dates(day, as_of))
        if i < len(actions):
            candidates.append(actions[i][0])
        if not candidates:
            break
        day = min(candidates)
    if day < as_of:
        indexation.indexation_day(as_of)
        jobs.run_all(as_of)
        billing.billing_day(slug, as_of)
        runs += 1
    return runs
