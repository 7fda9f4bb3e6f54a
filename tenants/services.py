"""Every change of tenant-side state: one function per use case, in a transaction, audited.

Services validate completely before writing (``full_clean``), so bad input raises
``django.core.exceptions.ValidationError`` with a message per field and nothing is written.
They run inside the current tenant (see tenants.tenancy) and take the acting ``Actor``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants import audit, brreg, tenancy
from tenants.audit import Actor
from tenants.models import (
    OWNER_KINDS,
    ApiKey,
    ApiKeyScope,
    Contact,
    Customer,
    CustomerKind,
    Membership,
    PortalUser,
    Tenant,
    User,
    VatTreatment,
    Verification,
)
from tenants.permissions import Role
from tenants.validation import normalise_org_number

CUSTOMER_FIELDS = (
    "org_number",
    "name",
    "kind",
    "parent",
    "address_line",
    "postal_code",
    "city",
    "country",
    "invoice_reference",
    "invoice_email",
    "peppol_endpoint",
    "vat_treatment",
    "is_active",
)
CONTACT_FIELDS = ("name", "title", "email", "phone", "role")
TENANT_FIELDS = (
    "name",
    "org_number",
    "mva_registered",
    "in_foretaksregisteret",
    "address_line",
    "postal_code",
    "city",
    "country",
    "bank_account",
    "peppol_id",
    "payment_terms_days",
    "currency",
    "email",
)


def _assign(obj, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(obj, name, value)


def _full_clean(obj, exclude: list[str] | None = None) -> None:
    obj.full_clean(exclude=["tenant", *(exclude or [])], validate_unique=False)


def _save_unique(obj, message: dict[str, str]) -> None:
    """Save, turning a unique-constraint violation into a field error (a race lost is still a 400)."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError(message) from exc


# ---------------------------------------------------------------- tenant profile


@transaction.atomic
def tenant_update(*, actor: Actor, tenant: Tenant, data: dict[str, Any]) -> Tenant:
    before = audit.snapshot(tenant)
    _assign(tenant, data, TENANT_FIELDS)
    tenant.org_number = normalise_org_number(tenant.org_number)
    _full_clean(tenant, exclude=["slug"])
    tenant.save()
    audit.record(actor, "tenant.update", tenant, before=before, after=audit.snapshot(tenant))
    return tenant


# ---------------------------------------------------------------- customers


def _check_customer_rules(customer: Customer) -> None:
    errors: dict[str, str] = {}
    if customer.parent_id is not None:
        if customer.pk is not None and customer.parent_id == customer.pk:
            errors["parent"] = _("A customer cannot be its own owner.")
        elif customer.parent.kind not in OWNER_KINDS:
            errors["parent"] = _("The owner must be a kommune or a fylkeskommune.")
        elif customer.kind in OWNER_KINDS:
            # Owners own; they are not owned. This also keeps the owner chain one level deep (no cycles).
            errors["parent"] = _("A kommune or fylkeskommune has no owner; leave this empty.")
    if customer.pk is not None and customer.kind not in OWNER_KINDS and customer.children.exists():
        errors["kind"] = _("This customer owns schools or other customers; it must stay a kommune or fylkeskommune.")
    if customer.kind == CustomerKind.SCHOOL and customer.parent_id is None:
        errors["parent"] = _("A school needs its owner (kommune or fylkeskommune).")
    if customer.country == "NO":
        if not customer.org_number:
            errors["org_number"] = _("A Norwegian organisation needs its organisation number.")
        if customer.vat_treatment == VatTreatment.REVERSE_CHARGE:
            errors["vat_treatment"] = _("Reverse charge is for customers abroad; choose Norwegian VAT or exempt.")
    elif customer.vat_treatment == VatTreatment.NORWAY:
        errors["vat_treatment"] = _("A customer abroad gets no Norwegian VAT: choose reverse charge or exempt.")
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class RegistryAnswer:
    """What Brønnøysund said about an org number: fetched before any transaction opens."""

    status: str  # not_applicable | found | not_found | unavailable
    info: brreg.OrgInfo | None = None
    error: str = ""
    checked_at: dt.datetime | None = None


def registry_lookup(org_number: str, country: str) -> RegistryAnswer:
    """Ask the registry (network I/O: call it outside transactions, so no lock waits on it)."""
    now = brreg.checked_at()
    if not org_number or country != "NO":
        return RegistryAnswer("not_applicable", checked_at=now)
    try:
        return RegistryAnswer("found", info=brreg.lookup(org_number), checked_at=now)
    except brreg.OrgNotFound:
        return RegistryAnswer("not_found", checked_at=now)
    except brreg.RegistryUnavailable as exc:
        return RegistryAnswer("unavailable", error=str(exc), checked_at=now)


def _apply_registry(customer: Customer, answer: RegistryAnswer, *, strict: bool) -> None:
    """Record ``answer`` on ``customer``. Unknown → error (when strict); registry down → saved unverified."""
    if answer.status == "not_found" and strict:
        raise ValidationError(
            {
                "org_number": _("%(org)s is not registered in Brønnøysund (Enhetsregisteret). Check the number.")
                % {"org": customer.org_number}
            }
        )
    if (
        answer.status == "unavailable"
        and not strict
        and customer.verification
        in (
            Verification.VERIFIED,
            Verification.NOT_FOUND,
        )
    ):
        return  # a re-check during an outage keeps what the registry said last time (and when)
    customer.verified_at = answer.checked_at
    customer.verification = {
        "not_applicable": Verification.NOT_APPLICABLE,
        "found": Verification.VERIFIED,
        "not_found": Verification.NOT_FOUND,
        "unavailable": Verification.NOT_VERIFIED,
    }[answer.status]
    customer.registry = (
        answer.info.as_dict() if answer.info else ({"error": answer.error} if answer.status == "unavailable" else {})
    )


def _validated_customer(customer: Customer, data: dict[str, Any]) -> Customer:
    _assign(customer, data, CUSTOMER_FIELDS)
    customer.org_number = normalise_org_number(customer.org_number)
    _full_clean(customer, exclude=["verification", "registry", "verified_at"])
    _check_customer_rules(customer)
    return customer


def customer_create(*, actor: Actor, data: dict[str, Any], verify: bool = True) -> Customer:
    customer = _validated_customer(Customer(), data)
    if verify:
        _apply_registry(customer, registry_lookup(customer.org_number, customer.country), strict=True)
    with transaction.atomic():
        _save_unique(customer, {"org_number": _("A customer with this organisation number already exists.")})
        audit.record(actor, "customer.create", customer, after=audit.snapshot(customer))
    return customer


def customer_update(*, actor: Actor, customer: Customer, data: dict[str, Any], verify: bool = True) -> Customer:
    draft = _validated_customer(Customer.objects.get(pk=customer.pk), data)
    answer = None
    if verify and draft.org_number != customer.org_number:
        answer = registry_lookup(draft.org_number, draft.country)
        _apply_registry(draft, answer, strict=True)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        before = audit.snapshot(customer)
        _validated_customer(customer, data)
        if answer is not None:
            _apply_registry(customer, answer, strict=True)
        _save_unique(customer, {"org_number": _("A customer with this organisation number already exists.")})
        audit.record(actor, "customer.update", customer, before=before, after=audit.snapshot(customer))
    return customer


def customer_verify(*, actor: Actor, customer: Customer) -> Customer:
    """Re-check the customer in Brønnøysund and record what it says now (never refuses)."""
    answer = registry_lookup(customer.org_number, customer.country)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.org_number != normalise_org_number(answer.info.org_number if answer.info else customer.org_number):
            return customer  # the number changed while we asked; the next check will see the new one
        before = audit.snapshot(customer)
        _apply_registry(customer, answer, strict=False)
        customer.save(update_fields=["verification", "verified_at", "registry", "updated_at"])
        after = audit.snapshot(customer)
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)} - {"verified_at"}
        if changed:
            audit.record(actor, "customer.verify", customer, before=before, after=after)
    return customer


@transaction.atomic
def customer_delete(*, actor: Actor, customer: Customer) -> None:
    if customer.children.exists():
        raise ValidationError(_("This customer owns other customers (schools); move or delete them first."))
    before = audit.snapshot(customer)
    audit.record(actor, "customer.delete", customer, before=before)
    customer.delete()


# ---------------------------------------------------------------- contacts


@transaction.atomic
def contact_create(*, actor: Actor, customer: Customer, data: dict[str, Any]) -> Contact:
    contact = Contact(customer=customer)
    _assign(contact, data, CONTACT_FIELDS)
    _full_clean(contact)
    contact.save()
    audit.record(actor, "contact.create", contact, after=audit.snapshot(contact))
    return contact


@transaction.atomic
def contact_update(*, actor: Actor, contact: Contact, data: dict[str, Any]) -> Contact:
    before = audit.snapshot(contact)
    _assign(contact, data, CONTACT_FIELDS)
    _full_clean(contact)
    contact.save()
    audit.record(actor, "contact.update", contact, before=before, after=audit.snapshot(contact))
    return contact


@transaction.atomic
def contact_delete(*, actor: Actor, contact: Contact) -> None:
    audit.record(actor, "contact.delete", contact, before=audit.snapshot(contact))
    contact.delete()


# ---------------------------------------------------------------- people


def _user_for(email: str, full_name: str, password: str | None) -> User:
    email = User.objects.normalize_email(email).lower()
    if not email:
        raise ValidationError({"email": _("Give an e-mail address.")})
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, full_name=full_name)
        user.full_clean(exclude=["password"])
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    return user


@transaction.atomic
def staff_add(*, actor: Actor, email: str, role: str, full_name: str = "", password: str | None = None) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of the roles.")})
    if role == Role.OWNER and actor.user is not None:
        _require_owner(actor)
    user = _user_for(email, full_name, password)
    if Membership.objects.filter(user=user).exists():
        raise ValidationError({"email": _("%(email)s is already on the staff.") % {"email": user.email}})
    membership = Membership(user=user, role=role)
    membership.save()
    audit.record(actor, "staff.add", membership, after=audit.snapshot(membership))
    return membership


def _require_owner(actor: Actor) -> None:
    if not Membership.objects.filter(user=actor.user, role=Role.OWNER, is_active=True).exists():
        raise PermissionDenied(_("Only an owner can make someone owner or change an owner's role."))


def _ensure_an_owner_remains(excluding: Membership) -> None:
    others = Membership.objects.filter(role=Role.OWNER, is_active=True).exclude(pk=excluding.pk)
    if not others.exists():
        raise ValidationError(_("The last owner cannot be removed or demoted; make someone else owner first."))


@transaction.atomic
def membership_set_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of the roles.")})
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if Role.OWNER in (role, membership.role) and actor.user is not None:
        _require_owner(actor)
    if membership.role == Role.OWNER and role != Role.OWNER:
        _ensure_an_owner_remains(membership)
    before = audit.snapshot(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(actor, "staff.role", membership, before=before, after=audit.snapshot(membership))
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: Membership) -> None:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.OWNER:
        if actor.user is not None:
            _require_owner(actor)
        _ensure_an_owner_remains(membership)
    audit.record(actor, "staff.remove", membership, before=audit.snapshot(membership))
    membership.delete()


@transaction.atomic
def portal_user_create(
    *, actor: Actor, customer: Customer, email: str, full_name: str = "", password: str | None = None
) -> PortalUser:
    user = _user_for(email, full_name, password)
    if PortalUser.objects.filter(user=user).exists():
        raise ValidationError({"email": _("%(email)s already has a portal login here.") % {"email": user.email}})
    portal_user = PortalUser(customer=customer, user=user)
    portal_user.save()
    audit.record(actor, "portal_user.create", portal_user, after=audit.snapshot(portal_user))
    return portal_user


@transaction.atomic
def portal_user_deactivate(*, actor: Actor, portal_user: PortalUser) -> PortalUser:
    before = audit.snapshot(portal_user)
    portal_user.is_active = False
    portal_user.save(update_fields=["is_active"])
    audit.record(actor, "portal_user.deactivate", portal_user, before=before, after=audit.snapshot(portal_user))
    return portal_user


# ---------------------------------------------------------------- API keys

KEY_PREFIX = "avt"


def _hash_key(raw_key: str) -> str:
    # A random 256-bit secret needs no slow hash: SHA-256 is enough and keeps every request cheap.
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, actor: Actor, name: str, scope: str = ApiKeyScope.READ) -> tuple[ApiKey, str]:
    """Create a key; returns it with the raw key, which is never stored and shown only now."""
    if not name or not name.strip():
        raise ValidationError({"name": _("Give the key a name, e.g. the system that will use it.")})
    if scope not in ApiKeyScope.values:
        raise ValidationError({"scope": _("Choose read or read_write.")})
    tenant = tenancy.require_tenant()
    prefix = secrets.token_hex(6)
    raw_key = f"{KEY_PREFIX}_{tenant.slug}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name.strip(), prefix=prefix, key_hash=_hash_key(raw_key), scope=scope, created_by=actor.user)
    key.full_clean(exclude=["tenant", "created_by"])
    key.save()
    audit.record(actor, "api_key.create", key, after=audit.snapshot(key))
    return key, raw_key


@transaction.atomic
def api_key_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        before = audit.snapshot(key)
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(actor, "api_key.revoke", key, before=before, after=audit.snapshot(key))
    return key


def parse_api_key(raw_key: str) -> tuple[str, str] | None:
    """(tenant slug, prefix) from ``avt_<slug>_<prefix>_<secret>``, or None if it has not that shape."""
    parts = (raw_key or "").split("_", 3)
    if len(parts) != 4 or parts[0] != KEY_PREFIX or not all(parts):
        return None
    return parts[1], parts[2]


def api_key_check(raw_key: str) -> ApiKey | None:
    """The active key of the *current* tenant matching ``raw_key``, or None. Records last use."""
    parsed = parse_api_key(raw_key)
    if parsed is None:
        return None
    key = ApiKey.objects.filter(prefix=parsed[1], revoked_at__isnull=True).first()
    if key is None or not secrets.compare_digest(key.key_hash, _hash_key(raw_key)):
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        # At most one write a minute per key, so a busy integration does not write on every call.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
