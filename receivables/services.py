"""Writers for collection policies (the reminder, interest and default rules as data). The jobs and the
staff actions on invoices and defaults have their own modules (dunning, interest_billing, default)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pricing.models import Plan
from receivables.models import (
    CollectionPolicy,
    DefaultAction,
    InterestConvention,
    InterestInvoicing,
    SuspendConfirm,
)
from tenants import audit
from tenants.audit import Actor

FIELDS = (
    "name",
    "plan",
    "interest",
    "interest_invoicing",
    "interest_minimum",
    "dunning_steps",
    "default_action",
    "default_after_days",
    "suspend_notice_business_days",
    "suspend_confirm",
    "material_breach_days",
)
CHOICES = {
    "interest": InterestConvention,
    "interest_invoicing": InterestInvoicing,
    "default_action": DefaultAction,
    "suspend_confirm": SuspendConfirm,
}


def _validate(policy: CollectionPolicy) -> None:
    from django.utils.translation import get_language

    from receivables.rules import StepsError, parse_steps

    errors: dict[str, str] = {}
    if not (policy.name or "").strip():
        errors["name"] = _("Give the rules a name.")
    for field, choices in CHOICES.items():
        if getattr(policy, field) not in choices.values:
            errors[field] = _("Choose one of: %(c)s.") % {"c": ", ".join(choices.values)}
    try:
        minimum = Decimal(str(policy.interest_minimum))
        if not minimum.is_finite() or minimum < 0 or minimum != minimum.quantize(Decimal("0.01")):
            raise InvalidOperation
        policy.interest_minimum = minimum
    except (InvalidOperation, ValueError):
        errors["interest_minimum"] = _("Give an amount of 0 or more, with at most two decimals.")
    for field, low, high in (
        ("default_after_days", 1, 365),
        ("suspend_notice_business_days", 1, 60),
        ("material_breach_days", 1, 365),
    ):
        value = getattr(policy, field)
        if value is None and field == "material_breach_days":
            continue
        if not isinstance(value, int) or not low <= value <= high:
            errors[field] = _("Give a whole number from %(l)s to %(h)s.") % {"l": low, "h": high}
    try:
        parse_steps(policy.dunning_steps)
    except StepsError as error:
        lang = "en" if (get_language() or "nb").startswith("en") else "nb"
        errors["dunning_steps"] = " ".join(error.messages(lang))
    if errors:
        raise ValidationError(errors)


def _save(policy: CollectionPolicy) -> CollectionPolicy:
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError as error:
        if policy.plan_id:
            raise ValidationError({"plan": _("This plan has collection rules already; change those.")}) from error
        raise ValidationError({"plan": _("The default collection rules exist already; change those.")}) from error
    return policy


@transaction.atomic
def collection_policy_create(*, actor: Actor, **fields) -> CollectionPolicy:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    plan = fields.get("plan")
    if plan is not None and not isinstance(plan, Plan):
        raise ValidationError({"plan": _("Unknown plan.")})
    policy = CollectionPolicy(**fields)
    _validate(policy)
    _save(policy)
    audit.record(actor, "collection_policy.create", policy, after=audit.snapshot(policy))
    return policy


@transaction.atomic
def collection_policy_update(*, actor: Actor, policy: CollectionPolicy, **fields) -> CollectionPolicy:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    policy = CollectionPolicy.objects.select_for_update().get(pk=policy.pk)
    before = audit.snapshot(policy)
    for name, value in fields.items():
        setattr(policy, name, value)
    _validate(policy)
    _save(policy)
    audit.record(actor, "collection_policy.update", policy, before=before, after=audit.snapshot(policy))
    return policy


@transaction.atomic
def contract_collection_policy_set(*, actor: Actor, contract, policy: CollectionPolicy | None):
    """Give one contract its own collection rules (``None``: back to its plan's, else the tenant's)."""
    from contracts.models import Contract

    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    before = {"collection_policy": contract.collection_policy_id}
    contract.collection_policy = policy
    contract.save(update_fields=["collection_policy", "updated_at"])
    audit.record(
        actor,
        "contract.collection_policy",
        contract,
        before=before,
        after={"collection_policy": policy.pk if policy else None},
    )
    return contract
