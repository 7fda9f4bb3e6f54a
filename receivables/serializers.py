"""Serializers of the collections API (receivables/api.py): shape only, as in the rest of the API.

Amounts are strings with two decimals; dates ISO 8601; texts meant for people come in both languages
(``{"nb": …, "en": …}``), as the invoice lines' explanations do. Choice fields document their values inline
(``enum``) rather than as shared components, so the schema has no enum-name collisions with the other apps'
``status`` and ``kind`` fields.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing import api as billing_api
from billing.models import BankImport, IncomingPayment, IncomingPaymentStatus, Invoice
from contracts.api import PlanCodeField
from pricing.api import TextsSerializer
from receivables import selectors
from receivables.models import (
    CollectionPolicy,
    DefaultAction,
    DefaultCase,
    DefaultStatus,
    InterestCharge,
    InterestConvention,
    InterestInvoicing,
    InvoiceHold,
    Reminder,
    ReminderKind,
    SuspendConfirm,
)
from tenants.api import StrictInputMixin

BUCKET_KEYS = [key for key, *_rest in selectors.BUCKETS]
LEDGER_KINDS = ["invoice", "credit_note", "payment", "reminder", "interest", "hold", "release"]
MAX_LEDGER_LIMIT = 5000


class EnumField(serializers.ChoiceField):
    """A choice field documented as a named enum component of its own (``enum_name``), so the schema has no
    enum-name collisions with the other apps' ``status``, ``kind`` and ``action`` fields."""

    def __init__(self, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(**kwargs)


class EnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "receivables.serializers.EnumField"

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={"type": "string", "enum": list(field.choices)},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


def enum_field(values, enum_name: str, **kwargs) -> EnumField:
    """A choice among ``values`` (codes, or Django choices), named ``enum_name`` in the schema."""
    codes = [v[0] if isinstance(v, tuple | list) else v for v in values]
    return EnumField(enum_name=enum_name, choices=[(c, c) for c in codes], **kwargs)


def texts(nb: str, en: str) -> dict:
    return {"nb": nb, "en": en}


class MoneyField(serializers.DecimalField):
    """An amount in kroner and øre: a string with two decimals out; a string or number in."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


# ================================================================ fields of input


class NotABoolMixin:
    """``true`` is not an id (Python would take it for 1)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class TenantInvoiceField(NotABoolMixin, serializers.PrimaryKeyRelatedField):
    """An invoice id of *this* tenant; another tenant's 'does not exist', like an unknown one."""

    default_error_messages = {
        "does_not_exist": gettext_lazy("Invoice {pk_value} does not exist."),
        "incorrect_type": gettext_lazy("Give the invoice's id as a number, not {data_type}."),
    }

    def get_queryset(self):
        return Invoice.objects.all()


@extend_schema_field(OpenApiTypes.INT)
class TenantContractField(NotABoolMixin, billing_api.TenantContractField):
    """A contract id of *this* tenant (billing's field), ``true`` refused."""


class ContractsInputSerializer(StrictInputMixin, serializers.Serializer):
    contracts = serializers.ListField(
        child=TenantContractField(), min_length=1, max_length=500, help_text="Contract ids (1–500)."
    )


# ================================================================ overview, overdue, at risk, ledger


class BucketSerializer(serializers.Serializer):
    key = enum_field(BUCKET_KEYS, "AgeBucketEnum", help_text="0_30, 31_60, 61_90 or 90_plus (days past due).")
    label = TextsSerializer()
    first_day = serializers.IntegerField(help_text="Days past due from (1 = the day after the due date).")
    last_day = serializers.IntegerField(allow_null=True, help_text="Days past due to, inclusive (null: no end).")
    count = serializers.IntegerField(help_text="Open invoices in the bucket (all currencies).")
    amount = MoneyField(help_text="What is open on them, NOK.")


class OverviewSerializer(serializers.Serializer):
    on = serializers.DateField(help_text="The day the ages are counted on.")
    currency = serializers.CharField(help_text="The sums are in NOK; other currencies are counted apart.")
    outstanding = MoneyField(help_text="Everything open on issued invoices, due or not.")
    not_due = MoneyField(help_text="Open, not yet due.")
    overdue = MoneyField(help_text="Open and past due (the sum of the buckets).")
    overdue_count = serializers.IntegerField(help_text="Invoices past due.")
    on_hold_count = serializers.IntegerField(help_text="Open invoices on hold (disputed).")
    other_currencies = serializers.IntegerField(help_text="Open invoices not in NOK (not in the sums).")
    buckets = BucketSerializer(many=True)
    unmatched_payments = serializers.IntegerField(help_text="Bank payments waiting for staff (GET /incoming-payments).")
    open_default_cases = serializers.IntegerField(help_text="Payment-default cases not closed (GET /default-cases).")


class LastReminderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    step = serializers.IntegerField()
    kind = enum_field(ReminderKind.choices, "ReminderKindEnum")
    sent_on = serializers.DateField()
    pay_by = serializers.DateField()


class OverdueInvoiceSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(source="pk", help_text="The invoice's id (GET /invoices/{id}).")
    number = serializers.IntegerField()
    kid = serializers.CharField()
    customer = serializers.IntegerField(source="customer_id")
    customer_name = serializers.CharField(source="customer.name")
    contract = serializers.IntegerField(source="contract_id", allow_null=True)
    contract_reference = serializers.CharField(source="contract.reference", allow_null=True, default=None)
    issue_date = serializers.DateField()
    due_date = serializers.DateField()
    days_past_due = serializers.IntegerField(help_text="On `on`: the day after the due date is 1.")
    bucket = enum_field(BUCKET_KEYS, "AgeBucketEnum")
    currency = serializers.CharField()
    total = MoneyField()
    open_amount = MoneyField(help_text="Total − credited − paid.")
    on_hold = serializers.BooleanField(help_text="An active hold (disputed): no reminders, fees or stop.")
    last_reminder = LastReminderSerializer(allow_null=True, help_text="The latest reminder sent for it, if any.")


class AtRiskSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    contract_reference = serializers.CharField()
    customer = serializers.IntegerField()
    customer_name = serializers.CharField()
    invoice = serializers.IntegerField(help_text="The oldest unpaid invoice.")
    invoice_number = serializers.IntegerField()
    due_date = serializers.DateField()
    days_past_due = serializers.IntegerField()
    action = enum_field(
        ["suspend", "pause"], "DefaultStepEnum", help_text="What the collection policy does on payment default."
    )
    action_on = serializers.DateField(
        help_text="The next step's day: the notice, the stop or the pause (on or before `on`: already taken)."
    )
    case = serializers.IntegerField(allow_null=True, help_text="The open default case (GET /default-cases/{id}).")
    case_status = enum_field(DefaultStatus.choices, "DefaultCaseStatusEnum", allow_null=True)
    material_breach = serializers.BooleanField(help_text="Flagged as a material breach (SSA-L).")
    deletion_due_on = serializers.DateField(allow_null=True, help_text="Paused: the day the data is deleted.")
    what = TextsSerializer(help_text="What happens, in words.")


class LedgerEntrySerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = enum_field(LEDGER_KINDS, "LedgerEntryKindEnum")
    text = TextsSerializer(help_text="The entry in words, in nb and en.")
    debit = MoneyField(help_text="What the customer owes more.")
    credit = MoneyField(help_text="What the customer owes less.")
    balance = MoneyField(help_text="Running balance after the entry.")
    invoice = serializers.IntegerField(allow_null=True)
    invoice_number = serializers.IntegerField(allow_null=True)
    reminder = serializers.IntegerField(allow_null=True, help_text="A reminder's id (its PDF: /reminders/{id}/pdf).")


class OutstandingSerializer(serializers.Serializer):
    total = MoneyField(help_text="Open on issued invoices, due or not.")
    overdue = MoneyField(help_text="Open and past due on `on`.")
    invoices = serializers.IntegerField()
    overdue_invoices = serializers.IntegerField()
    oldest_due = serializers.DateField(allow_null=True, help_text="Due date of the oldest past-due invoice.")


class LedgerSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    customer_name = serializers.CharField()
    includes_children = serializers.BooleanField(help_text="A kommune or fylkeskommune: its schools' rows too.")
    on = serializers.DateField()
    balance = MoneyField(help_text="The whole ledger's balance (debits − credits), whatever `limit` shows.")
    outstanding = OutstandingSerializer()
    entries = LedgerEntrySerializer(many=True, help_text="Oldest first; the newest `limit` entries.")
    truncated = serializers.BooleanField(help_text="True when older entries were left out (raise `limit`).")


# ================================================================ reminders, holds, interest


class ReminderSerializer(serializers.ModelSerializer):
    invoice_number = serializers.IntegerField(source="invoice.number", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    kind = enum_field(ReminderKind.choices, "ReminderKindEnum", read_only=True)
    kind_label = serializers.SerializerMethodField(help_text="The kind in words, in nb and en.")
    fee_explanation = serializers.SerializerMethodField(help_text="How the fee was set (or why none), nb and en.")
    pdf = serializers.SerializerMethodField(help_text="Where to download the PDF (null: none stored).")

    class Meta:
        model = Reminder
        fields = (
            "id",
            "invoice",
            "invoice_number",
            "customer",
            "customer_name",
            "step",
            "kind",
            "kind_label",
            "sent_on",
            "pay_by",
            "outstanding",
            "interest",
            "fee",
            "fee_explanation",
            "fee_invoice",
            "sha256",
            "pdf",
            "created_at",
        )
        read_only_fields = fields
        extra_kwargs = {
            "step": {"help_text": "The step of the collection policy (1 = the first)."},
            "outstanding": {"help_text": "Open on the invoice when sent."},
            "interest": {"help_text": "Interest accrued when sent."},
            "fee_invoice": {"help_text": "The interest and fee invoice the fee was charged on (null: not yet)."},
        }

    @extend_schema_field(TextsSerializer)
    def get_kind_label(self, obj: Reminder) -> dict:
        nb, en = selectors.REMINDER_KINDS.get(obj.kind, (obj.kind, obj.kind))
        return texts(nb, en)

    @extend_schema_field(TextsSerializer)
    def get_fee_explanation(self, obj: Reminder) -> dict:
        return texts(obj.fee_explanation_nb, obj.fee_explanation_en)

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf(self, obj: Reminder) -> str | None:
        has_pdf = getattr(obj, "has_pdf", None)
        if has_pdf is None:
            has_pdf = bool(obj.sha256)
        if not has_pdf:
            return None
        from rest_framework.reverse import reverse

        return reverse("receivables_api:reminder-pdf", kwargs={"pk": obj.pk}, request=self.context.get("request"))


class InvoiceHoldSerializer(serializers.ModelSerializer):
    invoice_number = serializers.IntegerField(source="invoice.number", read_only=True)
    customer = serializers.IntegerField(source="invoice.customer_id", read_only=True)
    customer_name = serializers.CharField(source="invoice.customer.name", read_only=True)
    active = serializers.SerializerMethodField(help_text="True until released.")

    class Meta:
        model = InvoiceHold
        fields = (
            "id",
            "invoice",
            "invoice_number",
            "customer",
            "customer_name",
            "reason",
            "held_on",
            "held_by",
            "active",
            "released_on",
            "released_by",
            "release_note",
            "created_at",
        )
        read_only_fields = fields

    def get_active(self, obj: InvoiceHold) -> bool:
        return obj.released_on is None


class HoldInputSerializer(StrictInputMixin, serializers.Serializer):
    invoice = TenantInvoiceField(help_text="The invoice's id: issued, with something left to pay.")
    reason = serializers.CharField(max_length=500, help_text="Why, e.g. what the customer disputes.")


class ReleaseInputSerializer(StrictInputMixin, serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, help_text="Optional.")


class InterestChargeSerializer(serializers.ModelSerializer):
    late_invoice_number = serializers.IntegerField(source="late_invoice.number", read_only=True)
    interest_invoice_number = serializers.IntegerField(source="interest_invoice.number", read_only=True)
    customer = serializers.IntegerField(source="late_invoice.customer_id", read_only=True)
    explanation = serializers.SerializerMethodField(help_text="The calculation, in nb and en.")

    class Meta:
        model = InterestCharge
        fields = (
            "id",
            "late_invoice",
            "late_invoice_number",
            "interest_invoice",
            "interest_invoice_number",
            "customer",
            "through",
            "amount",
            "total_to_date",
            "explanation",
            "created_at",
        )
        read_only_fields = fields
        extra_kwargs = {
            "late_invoice": {"help_text": "The invoice paid late."},
            "interest_invoice": {"help_text": "The interest invoice this charge is on."},
            "through": {"help_text": "Interest to and including this day."},
            "amount": {"help_text": "What this charge adds (total to date less earlier charges)."},
            "total_to_date": {"help_text": "All interest accrued on the late invoice to `through`."},
        }

    @extend_schema_field(TextsSerializer)
    def get_explanation(self, obj: InterestCharge) -> dict:
        return texts(obj.explanation_nb, obj.explanation_en)


# ================================================================ bank files and incoming payments


class BankImportSerializer(serializers.ModelSerializer):
    format = serializers.CharField(read_only=True, help_text="camt.054 or OCR giro (as recognised).")

    class Meta:
        model = BankImport
        fields = (
            "id",
            "file_name",
            "format",
            "file_id",
            "sha256",
            "imported_on",
            "imported_at",
            "imported_by",
            "payments",
            "matched",
            "unmatched",
            "already_known",
            "total_amount",
        )
        read_only_fields = fields
        extra_kwargs = {
            "file_id": {"help_text": "The bank's id of the file (camt MsgId, OCR forsendelse)."},
            "sha256": {"help_text": "SHA-256 of the file: the same file is imported once."},
            "payments": {"help_text": "Payments in the file."},
            "matched": {"help_text": "Booked on an invoice by this import."},
            "unmatched": {"help_text": "Left for staff (GET /incoming-payments)."},
            "already_known": {"help_text": "Payments imported before (by their bank reference): not booked again."},
            "total_amount": {"help_text": "The sum of the file's payments."},
        }


class IncomingPaymentSerializer(serializers.ModelSerializer):
    status = enum_field(IncomingPaymentStatus.choices, "IncomingPaymentStatusEnum", read_only=True)
    invoice_number = serializers.IntegerField(source="invoice.number", read_only=True, allow_null=True)
    bank_file_name = serializers.CharField(source="bank_import.file_name", read_only=True)

    class Meta:
        model = IncomingPayment
        fields = (
            "id",
            "bank_import",
            "bank_file_name",
            "source_line",
            "status",
            "amount",
            "currency",
            "kid",
            "kid_valid",
            "booked_on",
            "value_date",
            "reference",
            "payer_name",
            "payer_account",
            "to_account",
            "message",
            "invoice",
            "invoice_number",
            "payment",
            "unapplied",
            "reason",
            "note",
            "resolved_on",
            "resolved_by",
            "created_at",
        )
        read_only_fields = fields
        extra_kwargs = {
            "source_line": {"help_text": "Line (OCR) or entry (camt) in the file."},
            "payment": {"help_text": "The payment booked on the invoice (GET /payments/{id})."},
            "unapplied": {"help_text": "Paid beyond what was outstanding: for staff to refund or keep as credit."},
            "reason": {"help_text": "Why it was not matched (or the over-payment), in words."},
        }


class BankImportResultSerializer(BankImportSerializer):
    already_imported = serializers.BooleanField(
        read_only=True, help_text="The same file (SHA-256) was imported before: nothing was booked now."
    )
    incoming_payments = IncomingPaymentSerializer(
        many=True, read_only=True, help_text="The payments this import recorded (up to 1 000; [] when imported before)."
    )

    class Meta(BankImportSerializer.Meta):
        fields = (*BankImportSerializer.Meta.fields, "already_imported", "incoming_payments")
        read_only_fields = fields


class BankFileUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A camt.054 credit notification (XML) or a Nets OCR giro file.")


class MatchInputSerializer(StrictInputMixin, serializers.Serializer):
    invoice = TenantInvoiceField(help_text="The invoice's id to book the payment on.")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, help_text="Optional.")


class ResolveInputSerializer(StrictInputMixin, serializers.Serializer):
    how = enum_field(
        ["refund", "credit"],
        "ResolutionEnum",
        help_text="refund: paid back to the payer; credit: kept as credit on the customer's account.",
        error_messages={"invalid_choice": gettext_lazy("Choose refund or credit, not {input}.")},
    )
    note = serializers.CharField(max_length=500, help_text="What was done with the money.")


# ================================================================ payment default


class DefaultCaseSerializer(serializers.ModelSerializer):
    status = enum_field(DefaultStatus.choices, "DefaultCaseStatusEnum", read_only=True)
    action = enum_field(DefaultAction.choices, "DefaultActionEnum", read_only=True)
    contract_reference = serializers.CharField(source="contract.reference", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    invoice_number = serializers.IntegerField(source="invoice.number", read_only=True)
    deletion_due_on = serializers.DateField(
        source="contract.deletion_due_on", read_only=True, allow_null=True, help_text="Paused: data deleted on."
    )

    class Meta:
        model = DefaultCase
        fields = (
            "id",
            "contract",
            "contract_reference",
            "customer",
            "customer_name",
            "action",
            "status",
            "invoice",
            "invoice_number",
            "past_due_since",
            "opened_on",
            "notice_sent_on",
            "stop_on",
            "suspended_on",
            "paused_on",
            "material_breach_on",
            "deletion_due_on",
            "closed_on",
            "closed_reason",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields
        extra_kwargs = {
            "invoice": {"help_text": "The oldest unpaid invoice when the case opened."},
            "stop_on": {"help_text": "Suspension: the day service stops unless paid in full."},
            "material_breach_on": {"help_text": "The first day of a material breach (SSA-L), if flagged."},
            "closed_reason": {"help_text": "paid, held, deleted, or the reason staff gave."},
        }


class CloseCaseInputSerializer(StrictInputMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why, e.g. an agreed payment plan.")


# ================================================================ collection policies


STEPS_HELP = (
    "The reminder steps in order, each {kind: reminder|warning|final, after_days: 0–365, days_to_pay: 1–90, "
    'fee: reminder|demand|none, fee_amount?: "35.00"}. after_days counts from the due date for the first '
    "step and from the previous step's pay-by date after that; a warning or final notice gives at least 14 "
    "days to pay (inkassoloven §§ 9–10). An invalid step is a 400 on `dunning_steps[i].field` (i from 0)."
)


class CollectionPolicySerializer(serializers.ModelSerializer):
    plan = serializers.CharField(
        source="plan.code", read_only=True, allow_null=True, help_text="The plan's code (null: the tenant's default)."
    )
    interest = enum_field(InterestConvention.choices, "InterestConventionEnum", read_only=True)
    interest_invoicing = enum_field(InterestInvoicing.choices, "InterestInvoicingEnum", read_only=True)
    default_action = enum_field(DefaultAction.choices, "DefaultActionEnum", read_only=True)
    suspend_confirm = enum_field(SuspendConfirm.choices, "SuspendConfirmEnum", read_only=True)
    dunning_steps = serializers.JSONField(read_only=True, help_text="The reminder steps, as given (see the input).")

    class Meta:
        model = CollectionPolicy
        fields = (
            "id",
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
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class DunningStepSerializer(serializers.Serializer):
    kind = enum_field(ReminderKind.choices, "ReminderKindEnum")
    after_days = serializers.IntegerField(min_value=0, max_value=365)
    days_to_pay = serializers.IntegerField(min_value=1, max_value=90)
    fee = enum_field(["reminder", "demand", "none"], "ReminderFeeEnum", required=False)
    fee_amount = MoneyField(required=False, allow_null=True, help_text="The vendor's fee; leave out for the legal cap.")


class CollectionPolicyInputSerializer(StrictInputMixin, serializers.Serializer):
    name = serializers.CharField(max_length=120)
    plan = PlanCodeField(
        required=False, allow_null=True, help_text="The plan's code; leave out (or null) for the tenant's default."
    )
    interest = enum_field(
        InterestConvention.choices, "InterestConventionEnum", required=False, help_text="Default simple."
    )
    interest_invoicing = enum_field(
        InterestInvoicing.choices, "InterestInvoicingEnum", required=False, help_text="Default on_payment."
    )
    interest_minimum = MoneyField(
        max_digits=10, min_value=0, required=False, help_text="Interest below this is not invoiced yet. Default 0."
    )
    dunning_steps = DunningStepSerializer(many=True, required=False, help_text=STEPS_HELP)
    default_action = enum_field(DefaultAction.choices, "DefaultActionEnum", required=False, help_text="Default none.")
    default_after_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, help_text="Days past due before the notice or pause. Default 45."
    )
    suspend_notice_business_days = serializers.IntegerField(
        min_value=1, max_value=60, required=False, help_text="Default 14."
    )
    suspend_confirm = enum_field(
        SuspendConfirm.choices, "SuspendConfirmEnum", required=False, help_text="Default staff."
    )
    material_breach_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, allow_null=True, help_text="null: not flagged."
    )

    def to_internal_value(self, data):
        # The steps are checked by receivables.rules (the one definition), with its messages naming the step
        # and the field; the nested serializer above only documents their shape.
        raw_steps = data.get("dunning_steps", serializers.empty) if hasattr(data, "get") else serializers.empty
        if raw_steps is not serializers.empty and hasattr(data, "copy"):
            data = data.copy()
            data.pop("dunning_steps")
        errors = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors.update(exc.detail)
            value = {}
        if raw_steps is not serializers.empty:
            step_errors = steps_errors(raw_steps)
            if step_errors:
                errors.update(step_errors)
            else:
                value["dunning_steps"] = raw_steps
        if errors:
            raise serializers.ValidationError(errors)
        return value


def steps_errors(raw) -> dict[str, list[str]]:
    """``{"dunning_steps[1].days_to_pay": [message]}`` for every problem :func:`receivables.rules.parse_steps`
    finds (steps counted from 0, as the API counts list items), in the request's language."""
    from django.utils.translation import get_language

    from receivables.rules import StepsError, parse_steps

    if raw is None:
        return {"dunning_steps": [_("Give the steps as a list (an empty list: no reminders).")]}
    try:
        parse_steps(raw)
    except StepsError as error:
        lang = "en" if (get_language() or "nb").startswith("en") else "nb"
        out: dict[str, list[str]] = {}
        for problem in error.problems:
            if not problem.step:
                key = "dunning_steps"
            else:
                key = f"dunning_steps[{problem.step - 1}]" + (f".{problem.field}" if problem.field else "")
            out.setdefault(key, []).append(problem.nb if lang == "nb" else problem.en)
        return out
    return {}
