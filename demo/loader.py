"""Loads the demo: the five seed vendors with staff, customers, contacts, portal users and an API key,
then replays the jobs production runs. Idempotent: a second run changes nothing.

Everything goes through the same services the back-office, portal and API use.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from billing.models import Invoice, Payment
from contracts.models import Contract
from demo.catalog import load_catalogue, load_quote
from demo.collections import load_collection_policy
from demo.contracts import replay as replay_contracts
from demo.indexation import load_index_figures, load_policy
from demo.vendors import DEMO_PASSWORD, OPERATOR, VENDORS
from indexation.models import IndexationProposal
from pricing.models import IndexationPolicy
from receivables.models import CollectionPolicy, DefaultCase, InterestCharge, Reminder
from tenants import services, tasks
from tenants.audit import Actor
from tenants.models import ApiKey, ApiKeyScope, Customer, Membership, PortalUser, Tenant, User
from tenants.tenancy import tenant_context

CUSTOMERS_FILE = Path(__file__).resolve().parent / "customers.json"
DEMO_KEY_NAME = "Demo integration"
ACTOR = Actor.system("load_demo")
TENANT_FIELDS = (
    "name",
    "org_number",
    "mva_registered",
    "in_foretaksregisteret",
    "address_line",
    "postal_code",
    "city",
    "bank_account",
    "email",
)
CUSTOMER_KEYS = (
    "org_number",
    "name",
    "kind",
    "address_line",
    "postal_code",
    "city",
    "country",
    "invoice_reference",
    "invoice_email",
    "peppol_endpoint",
    "vat_treatment",
)


@dataclass
class DemoSummary:
    tenants: list[dict] = field(default_factory=list)
    operator: str = ""
    created: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n


def _keys_file() -> Path:
    return Path(settings.VAR_DIR) / "demo_api_keys.json"


def _load_keys() -> dict[str, str]:
    path = _keys_file()
    return json.loads(path.read_text()) if path.exists() else {}


def _save_keys(keys: dict[str, str]) -> None:
    path = _keys_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys, indent=1))
    path.chmod(0o600)


def load_operator(summary: DemoSummary) -> None:
    email, name = OPERATOR
    if not User.objects.filter(email=email).exists():
        User.objects.create_superuser(email, DEMO_PASSWORD, full_name=name)
        summary.count("operator")
    summary.operator = email


def load_tenant(spec: dict, summary: DemoSummary) -> Tenant:
    tenant = Tenant.objects.filter(slug=spec["slug"]).first()
    if tenant is None:
        tenant = Tenant(slug=spec["slug"], **{k: spec[k] for k in TENANT_FIELDS if k in spec})
        tenant.peppol_id = f"0192:{tenant.org_number}"
        tenant.full_clean()
        tenant.save()
        summary.count("tenants")
    return tenant


def load_staff(spec: dict, summary: DemoSummary) -> list[tuple[str, str]]:
    logins = []
    for role, name, email in spec["staff"]:
        if not Membership.objects.filter(user__email=email).exists():
            services.staff_add(actor=ACTOR, email=email, role=role, full_name=name, password=DEMO_PASSWORD)
            summary.count("staff")
        logins.append((role, email))
    return logins


def load_customers(rows: list[dict], summary: DemoSummary) -> list[str]:
    """Customers in file order (owners before their schools), with contacts and portal users."""
    by_key: dict[str, Customer] = {}
    portal_logins = []
    for row in rows:
        customer = (
            Customer.objects.filter(org_number=row["org_number"]).first()
            if row.get("org_number")
            else Customer.objects.filter(name=row["name"]).first()
        )
        if customer is None:
            data = {k: row[k] for k in CUSTOMER_KEYS if k in row}
            if row.get("parent"):
                data["parent"] = by_key[row["parent"]]
            customer = services.customer_create(actor=ACTOR, data=data)
            summary.count("customers")
            # Contacts and logins only with a new customer: a later deletion (e.g. a paused trial's
            # data after 90 days) must not be undone by loading the demo again.
            for contact in row.get("contacts", []):
                services.contact_create(actor=ACTOR, customer=customer, data=contact)
                summary.count("contacts")
            for person in row.get("portal_users", []):
                services.portal_user_create(
                    actor=ACTOR,
                    customer=customer,
                    email=person["email"],
                    full_name=person.get("full_name", ""),
                    password=DEMO_PASSWORD,
                )
                summary.count("portal users")
        by_key[row["key"]] = customer
        for person in row.get("portal_users", []):
            if not PortalUser.objects.filter(user__email=person["email"]).exists():
                continue
            portal_logins.append(f"{person['email']} ({customer.name})")
    return portal_logins


def load_api_key(tenant: Tenant, keys: dict[str, str], summary: DemoSummary) -> str:
    active = ApiKey.objects.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True).first()
    if active is not None and tenant.slug in keys:
        return keys[tenant.slug]
    if active is not None:  # the raw key was lost with var/: rotate it
        services.api_key_revoke(actor=ACTOR, key=active)
    _key, raw = services.api_key_create(actor=ACTOR, name=DEMO_KEY_NAME, scope=ApiKeyScope.READ_WRITE)
    keys[tenant.slug] = raw
    summary.count("api keys")
    return raw


def _collections_counts() -> dict[str, int]:
    return {
        "reminders sent": Reminder.objects.count(),
        "interest invoices": Invoice.objects.filter(purpose="interest").count(),
        "late invoices charged interest": InterestCharge.objects.values("late_invoice").distinct().count(),
        "suspensions for non-payment": DefaultCase.objects.exclude(suspended_on=None).count(),
        "pauses for non-payment": DefaultCase.objects.exclude(paused_on=None).count(),
    }


def replay_jobs(as_of: dt.date, summary: DemoSummary | None = None) -> None:
    """The jobs production runs: contracts replayed from 2024-01-01 per vendor with the billing run,
    payments and invoice jobs on the same days (demo/billing.py), then today's registry check."""
    for tenant in Tenant.objects.filter(slug__in=[v["slug"] for v in VENDORS]).order_by("pk"):
        with tenant_context(tenant), transaction.atomic():
            before = Contract.objects.count()
            invoices_before, payments_before = Invoice.objects.count(), Payment.objects.count()
            collections_before = _collections_counts()
            applied_before = IndexationProposal.objects.filter(status="applied").count()
            notices_before = IndexationProposal.objects.exclude(notice_sent_on=None).count()
            replay_contracts(tenant.slug, as_of)
            if summary is not None:
                for what, n in (
                    ("contracts", Contract.objects.count() - before),
                    ("invoices and credit notes", Invoice.objects.count() - invoices_before),
                    ("payments", Payment.objects.count() - payments_before),
                    (
                        "price indexations applied",
                        IndexationProposal.objects.filter(status="applied").count() - applied_before,
                    ),
                    (
                        "price-change notices",
                        IndexationProposal.objects.exclude(notice_sent_on=None).count() - notices_before,
                    ),
                    *((what, n - collections_before.get(what, 0)) for what, n in _collections_counts().items()),
                ):
                    if n:
                        summary.count(what, n)
    tasks.customers_reverify_all(as_of.isoformat())


def load(as_of: dt.date) -> DemoSummary:
    summary = DemoSummary()
    customers = json.loads(CUSTOMERS_FILE.read_text(encoding="utf-8"))["tenants"] if CUSTOMERS_FILE.exists() else {}
    keys = _load_keys()
    with transaction.atomic():
        load_operator(summary)
        for what, n in load_index_figures(as_of).items():
            if n:
                summary.count(what, n)
    for spec in VENDORS:
        with transaction.atomic():
            tenant = load_tenant(spec, summary)
            with tenant_context(tenant):
                staff = load_staff(spec, summary)
                portal = load_customers(customers.get(spec["slug"], []), summary)
                for what, n in load_catalogue(spec["slug"], as_of).items():
                    if n:
                        summary.count(what, n)
                had_rules = CollectionPolicy.objects.exists()
                if load_collection_policy(spec["slug"]) and not had_rules:
                    summary.count("collection rules")
                had_policy = IndexationPolicy.objects.exists()
                if load_policy(spec["slug"]) and not had_policy:
                    summary.count("indexation policies")
                api_key = load_api_key(tenant, keys, summary)
        _save_keys(keys)
        summary.tenants.append(
            {"slug": tenant.slug, "name": tenant.name, "staff": staff, "portal": portal, "api_key": api_key}
        )
    replay_jobs(as_of, summary)
    for tenant in Tenant.objects.filter(slug__in=[v["slug"] for v in VENDORS]).order_by("pk"):
        with tenant_context(tenant), transaction.atomic():
            load_quote(tenant.slug, as_of)  # after the replay: a quote reads the year's catalogue prices
    return summary
