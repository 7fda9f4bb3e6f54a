"""Every change to a contract: one function per use case, locked, in a transaction, audited.

Dates come in as arguments (``on``: the business date); the rules are :mod:`contracts.terms` and
the moves :mod:`contracts.lifecycle`. Jobs (contracts/jobs.py) call the same functions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from contracts import lifecycle, notify, terms
from contracts.models import (
    Contract,
    ContractEvent,
    DataProcessingAgreement,
    OnboardingStep,
    PricedOn,
    Signature,
    SignatureMethod,
    StartRule,
    TerminationNotice,
)
from pricing.engine import standards as std
from pricing.engine.document import parse_plan
from pricing.models import Plan, Quote
from pricing.services import held_standards, quote_compute
from tenants import audit
from tenants.audit import Actor
from tenants.models import OWNER_KINDS, Contact, Customer, PortalUser

TERM_FIELDS = (
    "initial_term_months",
    "renewal_term_months",
    "notice_months",
    "notice_days",
    "binding_months",
    "start_rule",
    "start_offset_days",
    "acceptance_days",
    "ordinary_on_business_day",
    "dpa_required",
    "agreed_start",
)

# The seed vendors' terms (RULES §2–§6), used as defaults by product.
TERM_PRESETS: dict[str, dict[str, Any]] = {
    "spekter": {
        "initial_term_months": 12,
        "renewal_term_months": 12,
        "notice_months": 3,
        "start_rule": StartRule.ON_RECEIPT,
        "dpa_required": True,
    },
    "standard-norge": {
        "initial_term_months": 36,
        "renewal_term_months": 12,
        "notice_months": 3,
        "start_rule": StartRule.ON_RECEIPT,
    },
    "piscator": {
        "initial_term_months": 12,
        "renewal_term_months": 12,
        "notice_months": 6,
        "start_rule": StartRule.AFTER_SIGNING,
        "start_offset_days": 14,
        "acceptance_days": 14,
    },
    "digireq-annual": {
        "initial_term_months": 12,
        "renewal_term_months": 12,
        "notice_days": 30,
        "binding_months": 12,
        "start_rule": StartRule.ON_DATE,
    },
    "digireq-monthly": {"initial_term_months": 1, "renewal_term_months": 1, "start_rule": StartRule.ON_DATE},
    "identum": {
        "initial_term_months": 12,
        "renewal_term_months": 12,
        "notice_months": 3,
        "start_rule": StartRule.ON_DATE,
        "acceptance_days": 30,
        "ordinary_on_business_day": False,
    },
}


def _message(error: lifecycle.ForbiddenTransition) -> str:
    return error.message_en if (get_language() or "nb").startswith("en") else error.message_nb


def _locked(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().get(pk=contract.pk)


def _move(contract: Contract, event: str, *, actor: Actor, on: dt.date) -> None:
    """Apply a lifecycle move to a locked contract and record it (event row + audit)."""
    try:
        step = lifecycle.move(contract.state, event)
    except lifecycle.ForbiddenTransition as error:
        raise ValidationError({"state": _message(error)}) from error
    contract.state = step.to_state
    ContractEvent.objects.create(
        contract=contract,
        event=event,
        from_state=step.from_state,
        to_state=step.to_state,
        on=on,
        actor_label=actor.label[:200],
    )


def _save(contract: Contract, actor: Actor, action: str, before: dict) -> Contract:
    contract.save()
    audit.record(actor, action, contract, before=before, after=audit.snapshot(contract))
    return contract


def controller_of(customer: Customer) -> Customer | None:
    """The data controller for a DPA: the customer itself if a kommune/fylkeskommune, else its owner."""
    if customer.kind in OWNER_KINDS:
        return customer
    if customer.parent_id and customer.parent.kind in OWNER_KINDS:
        return customer.parent
    return None


def has_dpa(customer: Customer) -> bool:
    controller = controller_of(customer)
    return controller is not None and DataProcessingAgreement.objects.filter(controller=controller).exists()


def _next_reference(on: dt.date) -> str:
    prefix = f"AVT-{on.year}-"
    last = (
        Contract.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


# ---------------------------------------------------------------- create


def _validate_priced_on(plan: Plan, request: dict, on: dt.date) -> dict:
    """Price the request once (the engine refuses bad counts) so a contract is never created unpriceable."""
    body = {**request, "plan": plan.code}
    result, _version, _customer = quote_compute(request=body, on=on)
    return result.as_dict()


@transaction.atomic
def contract_create(
    *,
    actor: Actor,
    customer: Customer,
    plan: Plan,
    interval: str,
    priced_on: dict,
    terms_data: dict[str, Any],
    on: dt.date,
    quote: Quote | None = None,
    reference: str = "",
) -> Contract:
    """A draft contract with its terms and what it is priced on (validated by pricing it)."""
    unknown = set(terms_data) - set(TERM_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    contract = Contract(
        customer=customer,
        product=plan.product,
        plan=plan,
        interval=interval,
        quote=quote,
        reference=reference or _next_reference(on),
        **terms_data,
    )
    contract.full_clean(exclude=["tenant", "reference"], validate_unique=False)
    if contract.start_rule == StartRule.ON_DATE and contract.agreed_start is None:
        raise ValidationError({"agreed_start": _("Give the agreed start date.")})
    priced = {k: v for k, v in priced_on.items() if k not in ("plan", "save", "date")}
    effect = _validate_priced_on(plan, {**priced, "interval": interval}, on)
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError as exc:
        raise ValidationError({"reference": _("This reference is already in use.")}) from exc
    PricedOn.objects.create(
        contract=contract,
        effective_from=contract.agreed_start or on,
        request=priced,
        reason="initial",
        price_effect=effect,
        created_by=actor.label[:200],
    )
    ContractEvent.objects.create(
        contract=contract, event="create", from_state="", to_state=contract.state, on=on, actor_label=actor.label[:200]
    )
    audit.record(actor, "contract.create", contract, after=audit.snapshot(contract))
    return contract


@transaction.atomic
def contract_from_quote(*, actor: Actor, quote: Quote, terms_data: dict[str, Any], on: dt.date) -> Contract:
    if quote.customer_id is None:
        raise ValidationError({"customer": _("The quote has no customer; save it for a customer first.")})
    if quote.status != "saved":
        raise ValidationError({"quote": _("This quote has already become a contract or was withdrawn.")})
    contract = contract_create(
        actor=actor,
        customer=quote.customer,
        plan=quote.plan_version.plan,
        interval=quote.interval,
        priced_on=quote.request,
        terms_data=terms_data,
        on=on,
        quote=quote,
    )
    quote.status = "accepted"
    quote.save(update_fields=["status"])
    return contract


# ---------------------------------------------------------------- signing and the DPA gate


@transaction.atomic
def contract_send(*, actor: Actor, contract: Contract, on: dt.date) -> Contract:
    contract = _locked(contract)
    before = audit.snapshot(contract)
    _move(contract, "send", actor=actor, on=on)
    return _save(contract, actor, "contract.send", before)


def _activate(contract: Contract, *, actor: Actor, on: dt.date, event_base: str) -> None:
    """Start the term: dates from the terms, then into acceptance or ordinary operation."""
    t = contract.terms()
    contract.start_date = terms.start_date(
        t, signed_on=contract.signed_on, received_on=contract.received_on, agreed_start=contract.agreed_start
    )
    acceptance = terms.acceptance_period(t, contract.start_date)
    contract.acceptance_ends_on = acceptance.ends if acceptance else None
    contract.ordinary_from = acceptance.ordinary_from if acceptance else contract.start_date
    contract.term_index = 0
    contract.term_end = terms.nth_term_end(t, contract.start_date, 0)
    contract.notice_deadline = terms.notice_deadline(contract.term_end, t.notice)
    suffix = "_into_acceptance" if acceptance else ""
    _move(contract, event_base + suffix, actor=actor, on=on)
    OnboardingStep.objects.update_or_create(
        contract=contract,
        code="contract_signed",
        defaults={"done_on": contract.received_on, "done_by": actor.label[:200]},
    )


@transaction.atomic
def contract_sign(
    *,
    actor: Actor,
    contract: Contract,
    name: str,
    title: str,
    signed_at: dt.datetime,
    received_on: dt.date,
    document_sha256: str,
    method: str = SignatureMethod.PORTAL,
    ip_address: str | None = None,
    paper_copy=None,
) -> Contract:
    """Record the customer's signature. The term starts as the terms say (e.g. on receipt);
    with a DPA needed and none on file, the contract waits for it and gives no access yet."""
    contract = _locked(contract)
    if Signature.objects.filter(contract=contract).exists():
        raise ValidationError({"state": _("This contract is already signed.")})
    try:  # before any date is worked out: a trial (say) has no terms to start
        lifecycle.move(contract.state, "sign")
    except lifecycle.ForbiddenTransition as error:
        raise ValidationError({"state": _message(error)}) from error
    errors = {}
    if not (name or "").strip():
        errors["name"] = _("Give the name of the person signing.")
    if timezone.localdate(signed_at) > received_on:
        errors["received_on"] = _("The signed contract cannot be received before it was signed.")
    if len(document_sha256 or "") != 64:
        errors["document_sha256"] = _("The signed document's SHA-256 is missing.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(contract)
    contract.signed_on = timezone.localdate(signed_at)
    contract.received_on = received_on
    waiting = contract.dpa_required and not has_dpa(contract.customer)
    if waiting:
        _move(contract, "sign_awaiting_dpa", actor=actor, on=received_on)
    else:
        _activate(contract, actor=actor, on=received_on, event_base="sign")
        if contract.dpa_required:
            _tick(contract, "dpa_signed", received_on, actor)
    Signature.objects.create(
        contract=contract,
        method=method,
        name=name.strip(),
        title=title or "",
        signed_at=signed_at,
        received_on=received_on,
        ip_address=ip_address,
        document_sha256=document_sha256,
        paper_copy=paper_copy,
        recorded_by=actor.label[:200],
    )
    return _save(contract, actor, "contract.sign", before)


def _tick(contract: Contract, code: str, on: dt.date, actor: Actor) -> None:
    OnboardingStep.objects.update_or_create(
        contract=contract, code=code, defaults={"done_on": on, "done_by": actor.label[:200]}
    )


@transaction.atomic
def dpa_sign(
    *,
    actor: Actor,
    controller: Customer,
    signed_on: dt.date,
    signer_name: str,
    signer_title: str = "",
    document_sha256: str = "",
) -> DataProcessingAgreement:
    """The school owner signs the DPA once for all its schools; contracts waiting for it start."""
    if controller.kind not in OWNER_KINDS:
        owner = controller.parent.name if controller.parent_id else _("its kommune or fylkeskommune")
        raise ValidationError(
            {
                "controller": _(
                    "The data processing agreement is signed by the school owner (the controller), not by %(name)s: "
                    "ask %(owner)s to sign it."
                )
                % {"name": controller.name, "owner": owner}
            }
        )
    if not (signer_name or "").strip():
        raise ValidationError({"signer_name": _("Give the name of the person signing.")})
    if DataProcessingAgreement.objects.filter(controller=controller).exists():
        raise ValidationError(
            {"controller": _("%(name)s already has a data processing agreement on file.") % {"name": controller.name}}
        )
    dpa = DataProcessingAgreement.objects.create(
        controller=controller,
        signed_on=signed_on,
        signer_name=signer_name.strip(),
        signer_title=signer_title,
        document_sha256=document_sha256,
        recorded_by=actor.label[:200],
    )
    audit.record(actor, "dpa.sign", dpa, after=audit.snapshot(dpa))
    waiting = (
        Contract.objects.select_for_update()
        .filter(state=lifecycle.AWAITING_DPA)
        .filter(customer__in=[controller, *controller.children.all()])
    )
    for contract in waiting:
        before = audit.snapshot(contract)
        _activate(contract, actor=actor, on=signed_on, event_base="dpa_signed")
        _tick(contract, "dpa_signed", signed_on, actor)
        _save(contract, actor, "contract.dpa_signed", before)
    return dpa


@transaction.atomic
def onboarding_tick(*, actor: Actor, contract: Contract, code: str, on: dt.date) -> OnboardingStep:
    if code not in ("feide_activated",):
        raise ValidationError({"code": _("Only 'feide_activated' is ticked by hand.")})
    if not contract.dpa_required:
        raise ValidationError({"code": _("This contract has no Feide activation step.")})
    if contract.state not in (lifecycle.AWAITING_DPA, lifecycle.ACCEPTANCE, lifecycle.ACTIVE, lifecycle.NOTICE_GIVEN):
        raise ValidationError({"state": _("Feide is activated for a signed, running contract.")})
    step, _created = OnboardingStep.objects.update_or_create(
        contract=contract, code=code, defaults={"done_on": on, "done_by": actor.label[:200]}
    )
    audit.record(actor, "onboarding.tick", step, after=audit.snapshot(step))
    return step


def onboarding_checklist(contract: Contract) -> list[tuple[str, dt.date | None]]:
    steps = {s.code: s.done_on for s in contract.onboarding.all()}
    codes = ["contract_signed", *(["dpa_signed", "feide_activated"] if contract.dpa_required else [])]
    return [(code, steps.get(code)) for code in codes]


# ---------------------------------------------------------------- notice, renewal, end


def notice_preview(contract: Contract, received_on: dt.date) -> terms.NoticeEffect:
    """What a notice received on that day would do — shown before the notice is confirmed."""
    if contract.state not in (lifecycle.ACTIVE, lifecycle.ACCEPTANCE) or contract.start_date is None:
        try:
            lifecycle.move(contract.state, "give_notice")
        except lifecycle.ForbiddenTransition as error:
            raise ValidationError({"state": _message(error)}) from error
    return terms.notice_effect(contract.terms(), contract.start_date, received_on)


@transaction.atomic
def notice_give(
    *, actor: Actor, contract: Contract, given_by: str, received_on: dt.date, ends_on: dt.date | None = None
) -> TerminationNotice:
    """Record a notice. ``ends_on``: a termination without notice period that the terms grant (e.g. after a
    price increase above the index), ending on that date (exclusive) instead of by the notice rules."""
    contract = _locked(contract)
    if given_by not in ("customer", "vendor"):
        raise ValidationError({"given_by": _("Say who gives notice: customer or vendor.")})
    effect = notice_preview(contract, received_on)
    if ends_on is not None:
        if ends_on <= received_on:
            raise ValidationError({"ends_on": _("The agreement can only end after the notice is received.")})
        effect = terms.NoticeEffect(received_on, min(ends_on, effect.ends_on), received_on, False)
    before = audit.snapshot(contract)
    _move(contract, "give_notice", actor=actor, on=received_on)
    contract.ends_on = effect.ends_on
    notice = TerminationNotice.objects.create(
        contract=contract,
        given_by=given_by,
        received_on=received_on,
        ends_on=effect.ends_on,
        deadline=effect.deadline,
        late=effect.late,
        recorded_by=actor.label[:200],
    )
    _save(contract, actor, "contract.notice", before)
    # The confirmation to the customer and the vendor, whoever recorded the notice (page, portal or API).
    notify.send(
        contract,
        "notice_confirmed",
        key=f"notice-{notice.pk}",
        on=received_on,
        staff=True,
        notice=notice,
        last_day=notice.ends_on - terms.DAY,
    )
    return notice


@transaction.atomic
def contract_renew_due(*, actor: Actor, contract: Contract, on: dt.date) -> int:
    """Renew every term that has reached its end by ``on`` (none twice). Returns how many."""
    contract = _locked(contract)
    if contract.state not in (lifecycle.ACTIVE, lifecycle.NOTICE_GIVEN) or contract.term_end is None:
        return 0
    if contract.renewal_term_months is None:
        return 0
    renewed = 0
    before = audit.snapshot(contract)
    t = contract.terms()
    # Under notice, terms still renew up to the effective end (a late notice ends the next period).
    while contract.term_end <= on and (contract.state == lifecycle.ACTIVE or contract.term_end < contract.ends_on):
        _move(contract, "renew", actor=actor, on=contract.term_end)
        contract.term_index += 1
        contract.term_end = terms.nth_term_end(t, contract.start_date, contract.term_index)
        contract.notice_deadline = terms.notice_deadline(contract.term_end, t.notice)
        renewed += 1
    if renewed:
        _save(contract, actor, "contract.renew", before)
    return renewed


@transaction.atomic
def contract_end_due(*, actor: Actor, contract: Contract, on: dt.date) -> bool:
    """End a contract whose notice period (or non-renewing term) is over by ``on``."""
    contract = _locked(contract)
    end = (
        contract.ends_on
        if contract.state == lifecycle.NOTICE_GIVEN
        else (
            contract.term_end if contract.state == lifecycle.ACTIVE and contract.renewal_term_months is None else None
        )
    )
    if end is None or end > on:
        return False
    before = audit.snapshot(contract)
    _move(contract, "end", actor=actor, on=end)
    contract.ended_on = end
    _save(contract, actor, "contract.end", before)
    return True


@transaction.atomic
def contract_accept_due(*, actor: Actor, contract: Contract, on: dt.date) -> bool:
    """Acceptance period over without notice of deviations → ordinary operation."""
    contract = _locked(contract)
    if contract.state != lifecycle.ACCEPTANCE or contract.ordinary_from is None or contract.ordinary_from > on:
        return False
    before = audit.snapshot(contract)
    _move(contract, "accept", actor=actor, on=contract.ordinary_from)
    _save(contract, actor, "contract.accept", before)
    return True


# ---------------------------------------------------------------- trials (DigiReq)


@transaction.atomic
def trial_start(*, actor: Actor, customer: Customer, plan: Plan, on: dt.date) -> Contract:
    """A 14-day trial for a verified organisation: refused for bankrupt, dissolved or deleted ones,
    and once per organisation."""
    registry = customer.registry or {}
    if customer.verification != "verified":
        raise ValidationError({"org_number": _("The organisation number must be verified in Brønnøysund first.")})
    for flag, message in (
        ("bankrupt", _("%(name)s is bankrupt (konkurs) according to Brønnøysund; a trial cannot be started.")),
        ("under_liquidation", _("%(name)s is being wound up (under avvikling); a trial cannot be started.")),
        ("under_forced_liquidation", _("%(name)s is under forced dissolution; a trial cannot be started.")),
        ("deleted", _("%(name)s is deleted from Enhetsregisteret; a trial cannot be started.")),
    ):
        if registry.get(flag):
            raise ValidationError({"org_number": message % {"name": customer.name}})
    if Contract.objects.filter(customer__org_number=customer.org_number, trial_started_on__isnull=False).exists():
        raise ValidationError(
            {"org_number": _("%(name)s has already had a trial; one trial per organisation.") % {"name": customer.name}}
        )
    contract = Contract(
        customer=customer,
        product=plan.product,
        plan=plan,
        interval="month",
        reference=_next_reference(on),
        state=lifecycle.TRIAL,
        trial_started_on=on,
        trial_ends_on=terms.trial_end(on, 0),
        start_rule=StartRule.ON_DATE,
        **{k: v for k, v in TERM_PRESETS["digireq-monthly"].items() if k != "start_rule"},
    )
    contract.save()
    ContractEvent.objects.create(
        contract=contract, event="trial", from_state="", to_state=lifecycle.TRIAL, on=on, actor_label=actor.label[:200]
    )
    audit.record(actor, "contract.trial_start", contract, after=audit.snapshot(contract))
    return contract


@transaction.atomic
def trial_extend(*, actor: Actor, contract: Contract, on: dt.date) -> Contract:
    contract = _locked(contract)
    before = audit.snapshot(contract)
    _move(contract, "extend", actor=actor, on=on)  # first: only a trial has a trial to extend
    try:
        new_end = terms.trial_end(contract.trial_started_on, contract.trial_extensions + 1)
    except terms.TrialExtensionRefused as exc:
        raise ValidationError({"trial_extensions": _("A trial can be extended at most 3 times by 7 days.")}) from exc
    contract.trial_extensions += 1
    contract.trial_ends_on = new_end
    return _save(contract, actor, "contract.trial_extend", before)


@transaction.atomic
def trial_convert(*, actor: Actor, contract: Contract, interval: str, priced_on: dict, on: dt.date) -> Contract:
    """The customer confirms: a paid subscription from ``on``, monthly (no binding) or annual (12 months)."""
    if interval not in ("month", "year"):
        raise ValidationError({"interval": _("Choose monthly or annual payment.")})
    contract = _locked(contract)
    effect = _validate_priced_on(contract.plan, {**priced_on, "interval": interval}, on)
    before = audit.snapshot(contract)
    preset = TERM_PRESETS["digireq-annual" if interval == "year" else "digireq-monthly"]
    for field in TERM_FIELDS:
        if field in preset:
            setattr(contract, field, preset[field])
    contract.binding_months = preset.get("binding_months")
    contract.notice_days = preset.get("notice_days", 0)
    contract.interval = interval
    contract.agreed_start = on
    contract.signed_on = contract.received_on = on
    _activate_converted(contract, actor=actor, on=on)
    PricedOn.objects.update_or_create(
        contract=contract,
        effective_from=on,
        defaults={
            "request": {k: v for k, v in priced_on.items() if k not in ("plan", "save", "date")},
            "reason": "conversion",
            "price_effect": effect,
            "created_by": actor.label[:200],
        },
    )
    return _save(contract, actor, "contract.trial_convert", before)


def _activate_converted(contract: Contract, *, actor: Actor, on: dt.date) -> None:
    t = contract.terms()
    contract.start_date = on
    contract.ordinary_from = on
    contract.term_index = 0
    contract.term_end = terms.nth_term_end(t, on, 0)
    contract.notice_deadline = terms.notice_deadline(contract.term_end, t.notice)
    _move(contract, "convert", actor=actor, on=on)


@transaction.atomic
def contract_pause_due(*, actor: Actor, contract: Contract, on: dt.date) -> bool:
    """An unconfirmed trial whose end has come is paused; its data is kept 90 days."""
    contract = _locked(contract)
    if contract.state != lifecycle.TRIAL or contract.trial_ends_on is None or contract.trial_ends_on > on:
        return False
    before = audit.snapshot(contract)
    _move(contract, "pause", actor=actor, on=contract.trial_ends_on)
    contract.paused_on = contract.trial_ends_on
    contract.pause_reason = "trial"
    contract.deletion_due_on = terms.pause_timeline(contract.paused_on).deletion_on
    _save(contract, actor, "contract.pause", before)
    return True


@transaction.atomic
def contract_reactivate(*, actor: Actor, contract: Contract, on: dt.date) -> Contract:
    contract = _locked(contract)
    if contract.state == lifecycle.PAUSED and contract.deletion_due_on and on >= contract.deletion_due_on:
        raise ValidationError({"state": _("The 90 days have passed; the data is deleted and cannot be reactivated.")})
    before = audit.snapshot(contract)
    _move(contract, "reactivate", actor=actor, on=on)
    if contract.start_date is None:  # a paused trial: reactivation is its conversion, monthly from today
        contract.start_date = contract.agreed_start = contract.signed_on = contract.received_on = on
        t = contract.terms()
        contract.ordinary_from = on
        contract.term_end = terms.nth_term_end(t, on, 0)
        contract.notice_deadline = terms.notice_deadline(contract.term_end, t.notice)
    contract.paused_on = contract.deletion_due_on = None
    contract.pause_reason = ""  # a trial's or an unpaid invoice's pause: either is over
    return _save(contract, actor, "contract.reactivate", before)


# ---------------------------------------------------------------- payment default (receivables.default)


@transaction.atomic
def contract_suspend(*, actor: Actor, contract: Contract, on: dt.date) -> Contract:
    """Stop service for payment default (SSA-L, Piscator): the contract stays billable; access stops."""
    contract = _locked(contract)
    before = audit.snapshot(contract)
    _move(contract, "suspend", actor=actor, on=on)
    return _save(contract, actor, "contract.suspend", before)


@transaction.atomic
def contract_resume(*, actor: Actor, contract: Contract, on: dt.date) -> Contract:
    """Service back after a suspension (the arrears are paid, or staff decide)."""
    contract = _locked(contract)
    before = audit.snapshot(contract)
    _move(contract, "resume", actor=actor, on=on)
    return _save(contract, actor, "contract.resume", before)


@transaction.atomic
def contract_pause_unpaid(*, actor: Actor, contract: Contract, on: dt.date) -> Contract:
    """Pause an active contract for an invoice unpaid too long after its due date (DigiReq: 45 days): users
    lose access, the contract is not billed while paused, the data is kept 90 days from ``on``."""
    contract = _locked(contract)
    before = audit.snapshot(contract)
    _move(contract, "pause", actor=actor, on=on)
    contract.paused_on = on
    contract.pause_reason = "unpaid"
    contract.deletion_due_on = terms.pause_timeline(on).deletion_on
    return _save(contract, actor, "contract.pause_unpaid", before)


@transaction.atomic
def contract_delete_due(*, actor: Actor, contract: Contract, on: dt.date) -> bool:
    """90 days after the pause: delete the customer's own data (contacts, portal logins, usage);
    accounting records (contracts, invoices, audit) stay, as bookkeeping law requires."""
    contract = _locked(contract)
    if contract.state != lifecycle.PAUSED or contract.deletion_due_on is None or contract.deletion_due_on > on:
        return False
    before = audit.snapshot(contract)
    customer = contract.customer
    removed = {
        "contacts": Contact.objects.filter(customer=customer).delete()[0],
        "portal_users": PortalUser.objects.filter(customer=customer).delete()[0],
        "usage": PricedOn.objects.filter(contract=contract).delete()[0],
    }
    _move(contract, "delete", actor=actor, on=contract.deletion_due_on)
    contract.deleted_on = contract.deletion_due_on
    contract.save()
    audit.record(
        actor,
        "contract.delete_data",
        contract,
        before=before,
        after=audit.snapshot(contract),
        extra={"removed": removed},
    )
    return True


# ---------------------------------------------------------------- amendments


@transaction.atomic
def amendment_create(
    *, actor: Actor, contract: Contract, effective_from: dt.date, changes: dict[str, Any], reason: str, on: dt.date
) -> PricedOn:
    """Change what the contract is priced on from a date; history is kept; the price effect is the engine's."""
    contract = _locked(contract)
    if contract.start_date and effective_from < contract.start_date:
        raise ValidationError(
            {
                "effective_from": _("An amendment cannot take effect before the contract starts (%(start)s).")
                % {"start": contract.start_date.isoformat()}
            }
        )
    if contract.state not in lifecycle.OPEN:
        raise ValidationError({"state": _("An ended or deleted contract cannot be amended.")})
    current = contract.priced_on.filter(effective_from__lte=effective_from).order_by("-effective_from").first()
    base = dict(current.request) if current else {}
    unknown = set(changes) - {"schools", "quantities", "standards", "concurrent_users", "addons", "addon_amounts"}
    if unknown:
        raise ValidationError({name: _("This cannot be amended.") for name in sorted(unknown)})
    request = {**base, **changes}
    effect = amendment_price_effect(contract, base, request, effective_from, on)
    try:
        with transaction.atomic():
            row = PricedOn.objects.create(
                contract=contract,
                effective_from=effective_from,
                request=request,
                reason=reason[:200],
                price_effect=effect,
                created_by=actor.label[:200],
            )
    except IntegrityError as exc:
        raise ValidationError({"effective_from": _("There is already an amendment from this date.")}) from exc
    audit.record(actor, "contract.amend", row, after=audit.snapshot(row))
    return row


def amendment_price_effect(contract: Contract, old: dict, new: dict, effective_from: dt.date, on: dt.date) -> dict:
    """The engine's answer: the annual (or per-interval) price before and after, and for Standard Norge
    additions the charge for the remaining quarters, standards priced with D after the addition."""
    body = {"plan": contract.plan.code, "interval": contract.interval, "start": effective_from.isoformat()}
    before = quote_compute(request={**old, **body}, on=on)[0] if old else None
    after, version, _c = quote_compute(request={**new, **body}, on=on)
    result: dict[str, Any] = {
        "before": before.as_dict() if before else None,
        "after": after.as_dict(),
        "delta_net": None
        if (after.on_request or (before and before.on_request))
        else str(after.totals.net - (before.totals.net if before else 0)),
    }
    old_codes = {s.get("code") for s in old.get("standards") or []}
    added = [s for s in new.get("standards") or [] if s.get("code") not in old_codes]
    if added and old:
        spec = parse_plan(version.document)
        year = effective_from.year
        held = list(held_standards(old.get("standards"), year))
        new_items = list(held_standards(added, year))
        addition = std.addition(
            spec.licence_tables,
            spec.categories,
            held,
            new_items,
            new.get("concurrent_users") or old.get("concurrent_users"),
            effective_from,
        )
        result["addition"] = {
            "lines": [line.as_dict() for line in addition.lines],
            "total": str(addition.licence_total),
            "on_request": addition.on_request,
        }
    return result
