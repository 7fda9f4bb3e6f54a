"""Invoice services: the only writers of invoices, credit notes and payments (issue 5, RULES §1, §10).

Each validates fully first (``ValidationError`` with a message per field, nothing written), runs in one
transaction and writes an audit row. Issuing numbers the invoice inside that transaction
(:mod:`billing.numbering`); after issue PostgreSQL refuses any change but status and amounts paid or
credited (see the immutability migration).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from billing import numbering
from billing.document import (
    VAT_CATEGORY_BY_TREATMENT,
    DocumentLine,
    InvoiceDocument,
    Party,
    VatBreakdown,
    vat_breakdown,
)
from billing.generator import VAT_RATE_BY_CATEGORY, ProposedInvoice
from billing.models import (
    PAYABLE,
    BillingSettings,
    Charge,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    KidMethod,
    Payment,
    TimeEntry,
)
from catalog.models import HourlyService
from contracts import lifecycle
from contracts.models import Contract
from pricing.engine.money import ZERO, round_money
from tenants import audit
from tenants.audit import Actor
from tenants.models import Customer, Tenant
from tenants.tenancy import require_tenant

# ---------------------------------------------------------------- documents


def _seller(tenant: Tenant) -> Party:
    return Party(
        name=tenant.name,
        org_number=tenant.org_number,
        country=tenant.country or "NO",
        address_line=tenant.address_line,
        postal_code=tenant.postal_code,
        city=tenant.city,
        vat_registered=tenant.mva_registered,
        in_foretaksregisteret=tenant.in_foretaksregisteret,
        peppol_id=tenant.peppol_id,
        email=tenant.email,
        bank_account=tenant.bank_account,
    )


def _buyer(customer: Customer) -> Party:
    return Party(
        name=customer.name,
        org_number=customer.org_number,
        country=customer.country or "NO",
        address_line=customer.address_line,
        postal_code=customer.postal_code,
        city=customer.city,
        peppol_id=customer.peppol_endpoint,
        email=customer.invoice_email,
    )


def _document_line(line: InvoiceLine, number: int) -> DocumentLine:
    return DocumentLine(
        number=number,
        description=line.description,
        explanation=line.explanation_nb,
        explanation_en=line.explanation_en,
        quantity=line.quantity,
        unit_code=line.unit_code,
        unit_price=line.unit_price,
        net=line.net,
        vat_category=line.vat_category,
        vat_rate=line.vat_rate,
        period_start=line.period_start,
        period_end=line.period_end,
    )


def compose_document(
    invoice: Invoice,
    lines: tuple[DocumentLine, ...],
    *,
    tenant: Tenant,
    customer: Customer,
    order_reference: str,
    credited: Invoice | None = None,
) -> InvoiceDocument:
    """The document from an invoice's fields and its lines, with no query (the billing run's bulk path)."""
    terms_days = (invoice.due_date - invoice.issue_date).days if invoice.due_date and invoice.issue_date else None
    return InvoiceDocument(
        kind=invoice.kind,
        number=str(invoice.number) if invoice.number is not None else "",
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        seller=_seller(tenant),
        buyer=_buyer(customer),
        buyer_reference=invoice.buyer_reference,
        kid=invoice.kid,
        lines=lines,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        order_reference=order_reference,
        note=invoice.reason,
        payment_terms=f"{terms_days} dager netto" if terms_days is not None else "",
        credited_number=str(credited.number) if credited and credited.number is not None else "",
        credited_issue_date=credited.issue_date if credited else None,
        vat_breakdown=vat_breakdown(lines),
    )


def build_document(invoice: Invoice) -> InvoiceDocument:
    """The document from the rows as they are now (the seller as the tenant is now)."""
    lines = tuple(_document_line(line, i) for i, line in enumerate(invoice.lines.all(), start=1))
    return compose_document(
        invoice,
        lines,
        tenant=Tenant.objects.get(pk=invoice.tenant_id),
        customer=invoice.customer,
        order_reference=invoice.contract.reference if invoice.contract_id else "",
        credited=invoice.credited_invoice,
    )


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value):
    """``dataclasses.asdict(value)`` made JSON-ready (Decimal → str, date → ISO), without asdict's deep
    copies (the billing run's hot path)."""
    names = _FIELD_NAMES.get(type(value))
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES.setdefault(type(value), tuple(f.name for f in dataclasses.fields(value)))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _flat(value: Party | DocumentLine | VatBreakdown) -> dict:
    """``_plain`` for a dataclass of plain values (no nesting), in one pass over its ``__dict__``."""
    return {
        k: str(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, dt.date) else v
        for k, v in vars(value).items()
    }


def document_snapshot(document: InvoiceDocument) -> dict:
    """The document as JSON-ready data, as issued (parties, lines and VAT rows are flat data)."""
    out = {}
    for name in _FIELD_NAMES.get(InvoiceDocument) or _FIELD_NAMES.setdefault(
        InvoiceDocument, tuple(f.name for f in dataclasses.fields(InvoiceDocument))
    ):
        value = getattr(document, name)
        if isinstance(value, Party):
            out[name] = _flat(value)
        elif isinstance(value, tuple):
            out[name] = [_flat(v) for v in value]
        else:
            out[name] = _plain(value)
    return out


def _revive(cls, data: dict, **nested):
    out = {}
    for f in dataclasses.fields(cls):
        if f.name not in data or f.name in nested:
            continue
        value = data[f.name]
        kind = str(f.type)
        if value is not None and "Decimal" in kind:
            value = Decimal(value)
        elif value is not None and "dt.date" in kind:
            value = dt.date.fromisoformat(value)
        out[f.name] = value
    return cls(**out, **nested)


def document_from_snapshot(data: dict) -> InvoiceDocument:
    return _revive(
        InvoiceDocument,
        data,
        seller=Party(**data["seller"]),
        buyer=Party(**data["buyer"]),
        lines=tuple(_revive(DocumentLine, line) for line in data["lines"]),
        vat_breakdown=tuple(_revive(VatBreakdown, v) for v in data["vat_breakdown"]),
    )


def invoice_document(invoice: Invoice) -> InvoiceDocument:
    """The invoice or credit note as the PDF and EHF render it: as issued (the stored snapshot), or a
    draft's preview from its rows."""
    if invoice.document:
        return document_from_snapshot(invoice.document)
    return build_document(invoice)


# ---------------------------------------------------------------- drafts and issue


@transaction.atomic
def invoice_draft_create(
    *, actor: Actor, proposal: ProposedInvoice, billing_run_date: dt.date | None = None
) -> Invoice:
    """A draft invoice with the proposal's lines (no number yet); the time entries and charges it bills are
    linked to it (a deleted draft lets them go again)."""
    invoice = Invoice.objects.create(
        kind=InvoiceKind.INVOICE,
        customer_id=proposal.customer_id,
        contract_id=proposal.contract_id,
        period_start=proposal.period.start,
        period_end=proposal.period.end,
        currency=proposal.currency,
        buyer_reference=proposal.buyer_reference,
        billing_run_date=billing_run_date,
        supplementary=proposal.supplementary,
    )
    if proposal.time_entry_ids:
        TimeEntry.objects.filter(pk__in=proposal.time_entry_ids, invoice__isnull=True).update(invoice=invoice)
    if proposal.charge_ids:
        Charge.objects.filter(pk__in=proposal.charge_ids, invoice__isnull=True).update(invoice=invoice)
    for charge in proposal.new_charges:
        charge.as_row(invoice_id=invoice.pk, created_by=actor.label).save()
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                tenant_id=invoice.tenant_id,
                position=i,
                code=line.code,
                description=line.description[:300],
                description_en=line.description_en[:300],
                explanation_nb=line.explanation_nb,
                explanation_en=line.explanation_en,
                quantity=line.quantity,
                unit_code=line.unit_code,
                unit_price=line.unit_price,
                net=line.net,
                vat_category=line.vat_category,
                vat_rate=line.vat_rate,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for i, line in enumerate(proposal.lines, start=1)
        ]
    )
    audit.record(actor, "invoice.draft", invoice, after=audit.snapshot(invoice))
    return invoice


def _locked(invoice: Invoice) -> Invoice:
    Invoice.objects.select_for_update().filter(pk=invoice.pk).values_list("pk").get()
    return Invoice.objects.select_related("customer", "contract", "credited_invoice").get(pk=invoice.pk)


@transaction.atomic
def invoice_issue(*, actor: Actor, invoice: Invoice, on: dt.date) -> Invoice:
    """Number the draft (gap-free, in this transaction), set KID, due date and totals, store the document."""
    invoice = _locked(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        raise ValidationError({"status": _("Only a draft can be issued; this one is already issued.")})
    lines = list(invoice.lines.all())
    if not lines:
        raise ValidationError({"lines": _("An invoice without lines cannot be issued.")})
    tenant = require_tenant()
    settings = numbering.settings_for_tenant()
    before = audit.snapshot(invoice)
    breakdown = vat_breakdown([_document_line(line, i) for i, line in enumerate(lines, start=1)])
    net = sum((line.net for line in lines), ZERO)
    vat = sum((v.tax for v in breakdown), ZERO)
    invoice.series = numbering.series_for(invoice.kind, settings)
    invoice.number = numbering.take_number(invoice.series)
    invoice.issue_date = on
    if invoice.kind == InvoiceKind.INVOICE:
        invoice.due_date = on + dt.timedelta(days=tenant.payment_terms_days or 30)
        invoice.kid = numbering.kid_for(invoice.number, settings.kid_method)
    invoice.net, invoice.vat, invoice.total = net, vat, net + vat
    invoice.status = InvoiceStatus.ISSUED
    invoice.document = document_snapshot(build_document(invoice))
    invoice.save()
    audit.record(actor, f"{invoice.kind}.issue", invoice, before=before, after=audit.snapshot(invoice))
    return invoice


# ---------------------------------------------------------------- credit notes


def _amount(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: _("Give the amount as a number, e.g. 1000.00.")}) from exc
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({field: _("The amount must be more than zero.")})
    if amount != round_money(amount):
        raise ValidationError({field: _("Give the amount in kroner and øre (at most two decimals).")})
    return amount


def _credit_state_errors(invoice: Invoice) -> dict[str, str]:
    if invoice.kind != InvoiceKind.INVOICE:
        return {"invoice": _("A credit note corrects an invoice, not another credit note.")}
    if invoice.status == InvoiceStatus.DRAFT:
        return {"invoice": _("A draft is not credited; change or delete it instead.")}
    if invoice.status == InvoiceStatus.CREDITED:
        return {"invoice": _("This invoice is already credited in full.")}
    return {}


def _credit_lines(invoice: Invoice, *, reason: str, net_amount) -> tuple[list[InvoiceLine], Decimal, Decimal]:
    """The lines of a credit note for a creditable ``invoice`` (every line, or one line of ``net_amount`` at
    the invoice's VAT rate) and their net and VAT; a ``ValidationError`` when it cannot be credited so.
    Writes nothing."""
    lines = list(invoice.lines.all())
    remaining = invoice.total - invoice.credited_amount
    if net_amount in (None, ""):
        if invoice.credited_amount:
            raise ValidationError(
                {"net_amount": _("Part of this invoice is already credited; give the amount to credit.")}
            )
        credit_lines = [
            InvoiceLine(
                position=line.position,
                code=line.code,
                description=line.description,
                description_en=line.description_en,
                explanation_nb=line.explanation_nb,
                explanation_en=line.explanation_en,
                quantity=line.quantity,
                unit_code=line.unit_code,
                unit_price=line.unit_price,
                net=line.net,
                vat_category=line.vat_category,
                vat_rate=line.vat_rate,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for line in lines
        ]
    else:
        amount = _amount(net_amount, "net_amount")
        categories = {(line.vat_category, line.vat_rate) for line in lines}
        if len(categories) != 1:
            raise ValidationError({"net_amount": _("This invoice has several VAT rates; credit it in full.")})
        category, rate = categories.pop()
        number = invoice.number
        credit_lines = [
            InvoiceLine(
                position=1,
                code="credit",
                description=f"Kreditering av faktura {number}",
                description_en=f"Credit of invoice {number}",
                explanation_nb=reason.strip(),
                explanation_en=reason.strip(),
                quantity=Decimal("1"),
                unit_code="EA",
                unit_price=amount,
                net=amount,
                vat_category=category,
                vat_rate=rate,
                period_start=invoice.period_start,
                period_end=invoice.period_end,
            )
        ]
    net = sum((line.net for line in credit_lines), ZERO)
    vat = sum((v.tax for v in vat_breakdown([_document_line(line, 1) for line in credit_lines])), ZERO)
    if net + vat > remaining:
        raise ValidationError(
            {
                "net_amount": _("You cannot credit more than what remains of the invoice: %(r)s incl. VAT.")
                % {"r": remaining}
            }
        )
    return credit_lines, net, vat


def credit_note_preview(*, invoice: Invoice, net_amount=None) -> dict:
    """What :func:`credit_note_create` would issue — ``{"net", "vat", "total", "full"}`` — computed the same
    way, with the same refusals; writes nothing."""
    if errors := _credit_state_errors(invoice):
        raise ValidationError(errors)
    _lines, net, vat = _credit_lines(invoice, reason="", net_amount=net_amount)
    return {"net": net, "vat": vat, "total": net + vat, "full": net_amount in (None, "")}


@transaction.atomic
def credit_note_create(*, actor: Actor, invoice: Invoice, on: dt.date, reason: str, net_amount=None) -> Invoice:
    """A credit note referencing ``invoice``: in full (``net_amount`` None: every line) or in part (a net
    amount before VAT, at the invoice's VAT rate). Issued and numbered at once; the invoice is unchanged
    but for the amount credited (and its status when fully credited)."""
    invoice = _locked(invoice)
    errors = _credit_state_errors(invoice)
    if not (reason or "").strip():
        errors["reason"] = _("Say why the invoice is credited.")
    if errors:
        raise ValidationError(errors)
    credit_lines, _net, _vat = _credit_lines(invoice, reason=reason, net_amount=net_amount)
    note = Invoice.objects.create(
        kind=InvoiceKind.CREDIT_NOTE,
        customer=invoice.customer,
        contract=invoice.contract,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        currency=invoice.currency,
        buyer_reference=invoice.buyer_reference,
        credited_invoice=invoice,
        reason=reason.strip()[:300],
    )
    for line in credit_lines:
        line.invoice = note
        line.tenant_id = note.tenant_id
    InvoiceLine.objects.bulk_create(credit_lines)
    audit.record(actor, "credit_note.draft", note, after=audit.snapshot(note))
    note = invoice_issue(actor=actor, invoice=note, on=on)
    before = audit.snapshot(invoice)
    invoice.credited_amount += note.total
    if invoice.credited_amount >= invoice.total:
        invoice.status = InvoiceStatus.CREDITED
    elif invoice.paid_amount and invoice.paid_amount >= invoice.total - invoice.credited_amount:
        invoice.status = InvoiceStatus.PAID
    invoice.save(update_fields=["credited_amount", "status"])
    audit.record(actor, "invoice.credit", invoice, before=before, after=audit.snapshot(invoice))
    return note


@transaction.atomic
def charges_credit_note_create(*, actor: Actor, invoice: Invoice, on: dt.date, charges: list[Charge]) -> Invoice:
    """A credit note referencing ``invoice`` for credits (negative charges, e.g. an amendment lowering the
    price for the rest of an invoiced period) that would make an invoice's total negative. One line per
    charge, with its explanation; the charges are billed on the note. Refused when the credits exceed what
    remains of the invoice (nothing written)."""
    invoice = _locked(invoice)
    if invoice.kind != InvoiceKind.INVOICE or invoice.status == InvoiceStatus.DRAFT:
        raise ValidationError({"invoice": _("A credit note corrects an issued invoice.")})
    if not charges or any(c.net >= 0 or c.invoice_id is not None for c in charges):
        raise ValidationError({"charges": _("Only unbilled credits (negative charges) go on a credit note.")})
    category = VAT_CATEGORY_BY_TREATMENT[invoice.customer.vat_treatment]
    rate = VAT_RATE_BY_CATEGORY[category]
    lines = [
        InvoiceLine(
            position=i,
            code=(charge.code or "credit")[:60],
            description=charge.description[:300],
            description_en=(charge.description_en or charge.description)[:300],
            explanation_nb=charge.explanation_nb,
            explanation_en=charge.explanation_en or charge.explanation_nb,
            quantity=Decimal("1"),
            unit_code="EA",
            unit_price=-charge.net,
            net=-charge.net,
            vat_category=category,
            vat_rate=rate,
            period_start=charge.period_start,
            period_end=charge.period_end,
        )
        for i, charge in enumerate(charges, start=1)
    ]
    breakdown = vat_breakdown([_document_line(line, 1) for line in lines])
    credit_total = sum((line.net for line in lines), ZERO) + sum((v.tax for v in breakdown), ZERO)
    remaining = invoice.total - invoice.credited_amount
    if invoice.status == InvoiceStatus.CREDITED or credit_total > remaining:
        raise ValidationError(
            {
                "charges": _(
                    "The credit of %(c)s incl. VAT is more than what remains of invoice %(n)s (%(r)s); "
                    "credit it by hand."
                )
                % {"c": credit_total, "n": invoice.number, "r": remaining}
            }
        )
    note = Invoice.objects.create(
        kind=InvoiceKind.CREDIT_NOTE,
        customer=invoice.customer,
        contract=invoice.contract,
        period_start=min((c.period_start for c in charges if c.period_start), default=None),
        period_end=max((c.period_end for c in charges if c.period_end), default=None),
        currency=invoice.currency,
        buyer_reference=invoice.buyer_reference,
        credited_invoice=invoice,
        reason=charges[0].description[:300],
    )
    for line in lines:
        line.invoice, line.tenant_id = note, note.tenant_id
    InvoiceLine.objects.bulk_create(lines)
    audit.record(actor, "credit_note.draft", note, after=audit.snapshot(note))
    note = invoice_issue(actor=actor, invoice=note, on=on)
    Charge.objects.filter(pk__in=[c.pk for c in charges], invoice__isnull=True).update(invoice=note)
    before = audit.snapshot(invoice)
    invoice.credited_amount += note.total
    if invoice.credited_amount >= invoice.total:
        invoice.status = InvoiceStatus.CREDITED
    elif invoice.paid_amount and invoice.paid_amount >= invoice.total - invoice.credited_amount:
        invoice.status = InvoiceStatus.PAID
    invoice.save(update_fields=["credited_amount", "status"])
    audit.record(actor, "invoice.credit", invoice, before=before, after=audit.snapshot(invoice))
    return note


# ---------------------------------------------------------------- payments


@transaction.atomic
def payment_register(*, actor: Actor, invoice: Invoice, amount, paid_on: dt.date, reference: str = "") -> Payment:
    """Record a payment; the invoice becomes partly paid or paid."""
    invoice = _locked(invoice)
    if invoice.kind != InvoiceKind.INVOICE:
        raise ValidationError({"invoice": _("Payments are registered against invoices, not credit notes.")})
    if invoice.status == InvoiceStatus.CREDITED:
        raise ValidationError({"invoice": _("This invoice is credited; it cannot be paid.")})
    if invoice.status not in PAYABLE:
        raise ValidationError({"invoice": _("Only an issued, unpaid invoice can be paid.")})
    value = _amount(amount, "amount")
    if not isinstance(paid_on, dt.date):
        raise ValidationError({"paid_on": _("Give the payment date (YYYY-MM-DD).")})
    outstanding = invoice.total - invoice.credited_amount - invoice.paid_amount
    if value > outstanding:
        raise ValidationError(
            {"amount": _("The payment is more than what is outstanding: %(o)s.") % {"o": outstanding}}
        )
    payment = Payment.objects.create(
        invoice=invoice, amount=value, paid_on=paid_on, reference=(reference or "")[:100], recorded_by=actor.label[:200]
    )
    before = audit.snapshot(invoice)
    invoice.paid_amount += value
    invoice.status = InvoiceStatus.PAID if value == outstanding else InvoiceStatus.PARTLY_PAID
    invoice.save(update_fields=["paid_amount", "status"])
    audit.record(actor, "payment.register", payment, after=audit.snapshot(payment))
    audit.record(actor, "invoice.payment", invoice, before=before, after=audit.snapshot(invoice))
    # A payment that clears a contract's arrears ends its payment default at once (suspension or pause).
    from receivables.default import on_payment  # lazily: receivables imports billing

    on_payment(invoice, paid_on, actor)
    return payment


# ---------------------------------------------------------------- manual drafts


def _decimal(value, field: str, *, allow_negative: bool = False, places: int = 2) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: _("Give a number, e.g. 1000.00.")}) from exc
    if not number.is_finite():
        raise ValidationError({field: _("Give a number, e.g. 1000.00.")})
    if number < 0 and not allow_negative:
        raise ValidationError({field: _("The number cannot be negative.")})
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError({field: _("At most %(n)s decimals.") % {"n": places}})
    if abs(number) >= Decimal("1e11"):
        raise ValidationError({field: _("The number is too large.")})
    return number


@transaction.atomic
def invoice_manual_draft_create(
    *,
    actor: Actor,
    customer: Customer,
    lines: list[dict],
    contract: Contract | None = None,
    buyer_reference: str = "",
    reason: str = "",
) -> Invoice:
    """A draft invoice typed by staff (a one-off sale): each line ``{"description", "quantity",
    "unit_price", "explanation"?, "description_en"?, "explanation_en"?}``; net = quantity × unit price
    rounded once; VAT from the customer's treatment. A supplementary invoice (outside the periods)."""
    if contract is not None and contract.customer_id != customer.pk:
        raise ValidationError({"contract": _("The contract belongs to another customer.")})
    if not lines:
        raise ValidationError({"lines": _("Add at least one line.")})
    category = VAT_CATEGORY_BY_TREATMENT[customer.vat_treatment]
    rows, errors = [], {}
    for i, line in enumerate(lines, start=1):
        try:
            if not isinstance(line, dict):
                raise ValidationError({"line": _("Each line is an object with description, quantity and unit_price.")})
            description = str(line.get("description") or "").strip()
            if not description:
                raise ValidationError({"description": _("Say what the line is for.")})
            quantity = _decimal(line.get("quantity", 1), "quantity", places=4)
            if quantity == 0:
                raise ValidationError({"quantity": _("The quantity cannot be zero.")})
            unit_price = _decimal(line.get("unit_price"), "unit_price")
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"lines[{i}].{field}"] = messages
            continue
        net = round_money(quantity * unit_price)
        worked = f"{quantity.normalize():f} × {unit_price} = {net}"
        rows.append(
            InvoiceLine(
                position=i,
                code=str(line.get("code") or "manual")[:60],
                description=description[:300],
                description_en=str(line.get("description_en") or description)[:300],
                explanation_nb=str(line.get("explanation") or worked),
                explanation_en=str(line.get("explanation_en") or line.get("explanation") or worked),
                quantity=quantity,
                unit_code="EA",
                unit_price=unit_price,
                net=net,
                vat_category=category,
                vat_rate=VAT_RATE_BY_CATEGORY[category],
            )
        )
    if errors:
        raise ValidationError(errors)
    invoice = Invoice.objects.create(
        kind=InvoiceKind.INVOICE,
        customer=customer,
        contract=contract,
        supplementary=True,
        buyer_reference=(buyer_reference or customer.invoice_reference or "")[:100],
        reason=(reason or "")[:300],
    )
    for row in rows:
        row.invoice = invoice
        row.tenant_id = invoice.tenant_id
    InvoiceLine.objects.bulk_create(rows)
    audit.record(actor, "invoice.draft", invoice, after=audit.snapshot(invoice))
    return invoice


@transaction.atomic
def invoice_draft_delete(*, actor: Actor, invoice: Invoice) -> None:
    """Delete a draft (an issued invoice is never deleted: credit it)."""
    invoice = _locked(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        raise ValidationError({"status": _("An issued invoice is never deleted; credit it instead.")})
    before = audit.snapshot(invoice)
    audit.record(actor, "invoice.draft_delete", invoice, before=before)
    TimeEntry.objects.filter(invoice=invoice).update(invoice=None)
    invoice.charges.update(invoice=None)
    invoice.lines.all().delete()
    invoice.delete()


# ---------------------------------------------------------------- time entries

TIME_ENTRY_OPEN_STATES = lifecycle.OPEN


@transaction.atomic
def time_entry_create(
    *,
    actor: Actor,
    contract: Contract,
    service: HourlyService,
    worked_on: dt.date,
    description: str,
    hours=0,
    travel_hours=0,
    expenses=0,
    expenses_description: str = "",
) -> TimeEntry:
    """Record billable time on a contract; it is billed on the contract's next invoice."""
    errors: dict[str, list[str]] = {}
    values = {}
    for field, value in (("hours", hours), ("travel_hours", travel_hours), ("expenses", expenses)):
        try:
            values[field] = _decimal(value if value not in (None, "") else 0, field)
        except ValidationError as error:
            errors.update(error.message_dict)
    if not errors:
        if values["hours"] > 1000 or values["travel_hours"] > 1000:
            errors["hours"] = [_("At most 1000 hours in one entry.")]
        elif not any(values.values()):
            errors["hours"] = [_("Give hours, travel hours or expenses.")]
    if not (description or "").strip():
        errors["description"] = [_("Say what the time was spent on.")]
    if not isinstance(worked_on, dt.date):
        errors["worked_on"] = [_("Give the date (YYYY-MM-DD).")]
    tenant_id = require_tenant().pk
    if service is None or getattr(service, "tenant_id", None) != tenant_id:
        errors["service"] = [_("Unknown hourly service; choose one of yours.")]
    elif not service.is_active:
        errors["service"] = [_("This hourly service is no longer active.")]
    if contract is None or getattr(contract, "tenant_id", None) != tenant_id:
        raise ValidationError({"contract": _("Unknown contract.")})
    if contract.state not in lifecycle.OPEN:
        errors["contract"] = [_("Time cannot be recorded on an ended contract.")]
    if values.get("expenses") and not (expenses_description or "").strip():
        errors["expenses_description"] = [_("Say what the expenses were for (e.g. travel at state rates).")]
    if errors:
        raise ValidationError(errors)
    entry = TimeEntry.objects.create(
        contract=contract,
        service=service,
        worked_on=worked_on,
        description=description.strip()[:300],
        expenses_description=(expenses_description or "").strip()[:200],
        recorded_by=actor.label[:200],
        **values,
    )
    audit.record(actor, "time_entry.create", entry, after=audit.snapshot(entry))
    return entry


@transaction.atomic
def time_entry_delete(*, actor: Actor, entry: TimeEntry) -> None:
    """Delete a time entry not yet billed (a billed one is corrected by a credit note)."""
    entry = TimeEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.invoice_id is not None:
        raise ValidationError({"invoice": _("This time is already invoiced; credit the invoice instead.")})
    audit.record(actor, "time_entry.delete", entry, before=audit.snapshot(entry))
    entry.delete()


# ---------------------------------------------------------------- the tenant's invoicing choices


@transaction.atomic
def billing_settings_update(*, actor: Actor, credit_notes_own_series=None, kid_method=None) -> BillingSettings:
    """Change the tenant's invoicing choices (``None``: keep). Credit notes move to (or from) their own
    continuous series only before the first credit note is issued, so no series is broken midway; the KID
    method applies to invoices issued from now on."""
    require_tenant()
    current = BillingSettings.objects.select_for_update().filter().first()
    created = current is None
    if created:
        BillingSettings.objects.bulk_create([BillingSettings()], ignore_conflicts=True)
        current = BillingSettings.objects.select_for_update().get()
    before = {} if created else audit.snapshot(current)
    errors = {}
    if kid_method is not None and kid_method not in KidMethod.values:
        errors["kid_method"] = _("Choose mod10 or mod11.")
    if credit_notes_own_series is not None and not isinstance(credit_notes_own_series, bool):
        errors["credit_notes_own_series"] = _("Give true or false.")
    elif (
        credit_notes_own_series is not None
        and credit_notes_own_series != current.credit_notes_own_series
        and Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exclude(status=InvoiceStatus.DRAFT).exists()
    ):
        errors["credit_notes_own_series"] = _(
            "Credit notes have been issued in the current series; the choice is made before the first credit "
            "note, so that every series stays continuous."
        )
    if errors:
        raise ValidationError(errors)
    if credit_notes_own_series is not None:
        current.credit_notes_own_series = credit_notes_own_series
    if kid_method is not None:
        current.kid_method = kid_method
    current.save()
    audit.record(actor, "billing_settings.update", current, before=before, after=audit.snapshot(current))
    return current
