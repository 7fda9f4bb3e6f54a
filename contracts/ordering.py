"""Ordering in the portal (the Spekter order form) and the DigiReq trial sign-up.

Each is one use case over the existing services: ask Brønnøysund first (outside any transaction),
then create the customers that are missing (``tenants.services.customer_create``), their contacts,
a portal login where needed, and the draft contract (``contract_create``) or the trial
(``trial_start``) — all in one transaction, so bad input saves nothing. Errors come back as a
``ValidationError`` keyed by the form's field names (``school-<i>-<field>`` for a school row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contracts import services as contract_services
from contracts.models import Contract
from pricing.models import Plan
from pricing.selectors import plan_version_in_force
from tenants import brreg
from tenants import services as tenant_services
from tenants.audit import Actor
from tenants.models import OWNER_KINDS, ContactRole, Customer, CustomerKind, PortalUser

OWNER_FORMS = {"KOMM": CustomerKind.KOMMUNE, "FYLK": CustomerKind.FYLKESKOMMUNE}


def _components(plan: Plan, on: dt.date) -> list[dict]:
    version = plan_version_in_force(plan, on)
    return list((version.document or {}).get("components") or []) if version else []


def order_plan(on: dt.date) -> Plan | None:
    """The plan ordered with the school order form: priced per school (Spekter)."""
    for plan in Plan.objects.filter(is_active=True).order_by("code"):
        if any(c.get("quantity") == "per_school" for c in _components(plan, on)):
            return plan
    return None


def trial_plan(on: dt.date) -> Plan | None:
    """The plan a self sign-up trial runs on: priced per active user, paid monthly or yearly (DigiReq)."""
    for plan in Plan.objects.filter(is_active=True).order_by("code"):
        version = plan_version_in_force(plan, on)
        if version and "month" in (version.document or {}).get("intervals", []):
            if any(c.get("quantity") == "active_users" for c in _components(plan, on)):
                return plan
    return None


def _lookup(org_number: str) -> brreg.OrgInfo | None:
    """The registry's answer, None when it is down (the customer is then saved as not verified)."""
    try:
        return brreg.lookup(org_number)
    except brreg.RegistryUnavailable:
        return None


def _flags(info: brreg.OrgInfo) -> str:
    if info.bankrupt:
        return _("bankrupt (konkurs)")
    if info.deleted:
        return _("deleted from Enhetsregisteret")
    if info.under_liquidation or info.under_forced_liquidation:
        return _("being wound up")
    return ""


def _rekey(error: ValidationError, prefix: str, mapping: dict[str, str] | None = None) -> ValidationError:
    mapping = mapping or {}
    if not hasattr(error, "error_dict"):
        return ValidationError({f"{prefix}org_number": error.messages})
    out = {}
    for field, errors in error.error_dict.items():
        out[mapping.get(field, f"{prefix}{field}")] = [m for e in errors for m in e.messages]
    return ValidationError(out)


@dataclass
class OrderResult:
    contract: Contract
    portal_user: PortalUser | None
    created: list[Customer]
    unverified: bool


def check_order(order: dict[str, Any], schools: list[dict[str, Any]], *, logged_in_as: Customer | None) -> dict:
    """Registry answers and the customers that exist already; field errors for what cannot be right."""
    errors: dict[str, list[str]] = {}
    owner_org = order["owner_org_number"]
    if logged_in_as is not None:
        own = {logged_in_as.org_number, logged_in_as.parent.org_number if logged_in_as.parent_id else ""}
        if owner_org not in own:
            errors["owner_org_number"] = [
                _("You are logged in for %(name)s: order for your own kommune or fylkeskommune, or log out first.")
                % {"name": logged_in_as.name}
            ]
    if order["bill_to"] == "school" and len(schools) != 1:
        errors["bill_to"] = [_("The school can receive the invoice only when one school is ordered.")]
    owner = Customer.objects.filter(org_number=owner_org).first()
    owner_info = None
    try:
        owner_info = _lookup(owner_org)
    except brreg.OrgNotFound:
        errors["owner_org_number"] = [
            _("%(org)s is not registered in Brønnøysund (Enhetsregisteret). Check the number.") % {"org": owner_org}
        ]
    if owner_info is not None and owner_info.organisation_form not in OWNER_FORMS:
        errors.setdefault("owner_org_number", []).append(
            _("%(name)s is not a kommune or fylkeskommune according to Brønnøysund.") % {"name": owner_info.name}
        )
    if owner is not None and owner.kind not in OWNER_KINDS:
        errors.setdefault("owner_org_number", []).append(
            _("%(name)s is registered with us as something other than a kommune or fylkeskommune.")
            % {"name": owner.name}
        )
    existing_schools: list[Customer | None] = []
    unverified = owner_info is None
    for i, school in enumerate(schools):
        key = f"school-{i}-org_number"
        found = Customer.objects.filter(org_number=school["org_number"]).first()
        existing_schools.append(found)
        if school["org_number"] == owner_org:
            errors[key] = [_("This is the owner's number; give the school's own organisation number.")]
            continue
        try:
            info = _lookup(school["org_number"])
        except brreg.OrgNotFound:
            errors[key] = [
                _("%(org)s is not registered in Brønnøysund (Enhetsregisteret). Check the number.")
                % {"org": school["org_number"]}
            ]
            continue
        if info is None:
            unverified = True
        elif _flags(info):
            errors[key] = [
                _("%(name)s is %(flag)s according to Brønnøysund.") % {"name": info.name, "flag": _flags(info)}
            ]
        elif info.parent_org_number and info.parent_org_number != owner_org:
            errors[key] = [
                _("Brønnøysund lists %(name)s under %(parent)s, not under %(owner)s.")
                % {"name": info.name, "parent": info.parent_org_number, "owner": owner_org}
            ]
        if found is not None and found.parent_id and (owner is None or found.parent_id != owner.pk):
            errors.setdefault(key, []).append(
                _("%(name)s is registered with us under another owner.") % {"name": found.name}
            )
    if errors:
        raise ValidationError(errors)
    return {"owner": owner, "owner_info": owner_info, "schools": existing_schools, "unverified": unverified}


def order_submit(
    *,
    actor: Actor,
    plan: Plan,
    order: dict[str, Any],
    schools: list[dict[str, Any]],
    on: dt.date,
    logged_in_as: Customer | None = None,
) -> OrderResult:
    """Customers (owner and schools) if missing, contacts, a portal login for an anonymous orderer,
    and a draft contract on the Spekter terms."""
    checked = check_order(order, schools, logged_in_as=logged_in_as)
    invoice = {
        "address_line": order["address_line"],
        "postal_code": order["postal_code"],
        "city": order["city"],
        "invoice_reference": order["invoice_reference"],
    }
    bill_owner = order["bill_to"] == "owner"
    created: list[Customer] = []
    with transaction.atomic():
        owner = checked["owner"]
        if owner is None:
            info = checked["owner_info"]
            kind = OWNER_FORMS.get(info.organisation_form) if info else None
            if kind is None:
                kind = CustomerKind.FYLKESKOMMUNE if "fylke" in order["owner_name"].lower() else CustomerKind.KOMMUNE
            data = {"org_number": order["owner_org_number"], "name": order["owner_name"], "kind": kind, "country": "NO"}
            try:
                owner = tenant_services.customer_create(actor=actor, data={**data, **(invoice if bill_owner else {})})
            except ValidationError as error:
                raise _rekey(error, "owner_", {"name": "owner_name", "org_number": "owner_org_number"}) from error
            created.append(owner)
        school_customers = []
        for i, (row, found) in enumerate(zip(schools, checked["schools"], strict=True)):
            if found is None:
                data = {
                    "org_number": row["org_number"],
                    "name": row["name"],
                    "kind": CustomerKind.SCHOOL,
                    "parent": owner,
                    "country": "NO",
                    **(invoice if not bill_owner else {}),
                }
                try:
                    found = tenant_services.customer_create(actor=actor, data=data)
                except ValidationError as error:
                    raise _rekey(error, f"school-{i}-") from error
                created.append(found)
            school_customers.append(found)
            tenant_services.contact_create(
                actor=actor,
                customer=found,
                data={
                    "name": row["contact_name"],
                    "title": row["contact_title"],
                    "email": row.get("contact_email") or "",
                    "phone": "",
                    "role": ContactRole.SCHOOL_CONTACT,
                },
            )
        billed = owner if bill_owner else school_customers[0]
        tenant_services.contact_create(
            actor=actor,
            customer=billed,
            data={
                "name": order["orderer_name"],
                "title": order["orderer_title"],
                "email": order["orderer_email"],
                "phone": "",
                "role": ContactRole.ORDERER,
            },
        )
        priced_on = {
            "schools": [
                {"name": row["name"], "customer": customer.pk, "pupils": row["pupils"]}
                for row, customer in zip(schools, school_customers, strict=True)
            ]
        }
        try:
            contract = contract_services.contract_create(
                actor=actor,
                customer=billed,
                plan=plan,
                interval="year",
                priced_on=priced_on,
                terms_data=contract_services.TERM_PRESETS["spekter"],
                on=on,
            )
        except ValidationError as error:
            raise _rekey(error, "", {"schools": "__all__"}) from error
        portal_user = None
        if logged_in_as is None and not PortalUser.objects.filter(user__email__iexact=order["orderer_email"]).exists():
            portal_user = tenant_services.portal_user_create(
                actor=actor, customer=billed, email=order["orderer_email"], full_name=order["orderer_name"]
            )
    return OrderResult(contract, portal_user, created, checked["unverified"])


def trial_signup(
    *, actor: Actor, plan: Plan, org_number: str, full_name: str, email: str, on: dt.date
) -> tuple[Contract, PortalUser]:
    """A 14-day trial for an organisation verified in Brønnøysund, with a portal login for the person signing up."""
    try:
        info = brreg.lookup(org_number)
    except brreg.OrgNotFound as exc:
        raise ValidationError(
            {
                "org_number": _("%(org)s is not registered in Brønnøysund (Enhetsregisteret). Check the number.")
                % {"org": org_number}
            }
        ) from exc
    except brreg.RegistryUnavailable as exc:
        raise ValidationError(
            {"org_number": _("Brønnøysund is not answering right now, so we cannot check the number. Try again later.")}
        ) from exc
    if _flags(info):
        raise ValidationError(
            {
                "org_number": _("%(name)s is %(flag)s according to Brønnøysund; a trial cannot be started.")
                % {"name": info.name, "flag": _flags(info)}
            }
        )
    customer = Customer.objects.filter(org_number=org_number).first()
    if customer is not None:
        customer = tenant_services.customer_verify(actor=actor, customer=customer)
    with transaction.atomic():
        if customer is None:
            kind = (
                info.suggested_kind
                if info.suggested_kind in (CustomerKind.KOMMUNE, CustomerKind.FYLKESKOMMUNE, CustomerKind.COMPANY)
                else CustomerKind.OTHER
            )
            customer = tenant_services.customer_create(
                actor=actor,
                data={
                    "org_number": org_number,
                    "name": info.name,
                    "kind": kind,
                    "address_line": info.post_address_line or info.address_line,
                    "postal_code": info.post_postal_code or info.postal_code,
                    "city": info.post_city or info.city,
                    "country": "NO",
                    "invoice_email": email,
                },
            )
        contract = contract_services.trial_start(actor=actor, customer=customer, plan=plan, on=on)
        portal_user = tenant_services.portal_user_create(
            actor=actor, customer=customer, email=email, full_name=full_name
        )
        tenant_services.contact_create(
            actor=actor,
            customer=customer,
            data={"name": full_name, "title": "", "email": email, "phone": "", "role": ContactRole.ORDERER},
        )
    return contract, portal_user
