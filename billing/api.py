"""The billing API under ``/api/v1`` (issue 5): invoices and credit notes, their lines, payments,
deliveries and documents, time entries, and the billing run (see docs/billing-api.md).

Thin, like the rest of the API: serializers check the shape of the input, one function of
:mod:`billing.services` (or :mod:`billing.run`, :mod:`billing.files`, :mod:`billing.delivery`) does the
work with the key as actor; its ``ValidationError`` is a 400 per field. Every viewset derives from
:class:`TenantScopedViewSet`, so another tenant's invoice, payment or time entry is a 404, and its
customer, contract or hourly service in a body "does not exist" (400). Amounts are strings with two
decimals; dates are ISO 8601.
"""

from __future__ import annotations

import re

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse

from billing import files, numbering, run, services
from billing.models import (
    BillingRun,
    Delivery,
    FileFormat,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    TimeEntry,
    past_due_q,
)
from catalog.models import HourlyService
from contracts.api import InputDateField
from contracts.models import Contract
from pricing.api import TextsSerializer, error_paths
from pricing.engine.money import ZERO
from tenants import tenancy
from tenants.api import (
    BAD_REQUEST,
    LIST_BACKENDS,
    ErrorSerializer,
    StrictInputMixin,
    TenantAPIView,
    TenantCustomerField,
    TenantScopedViewSet,
)
from tenants.jobs import business_today

ON_HELP = "The business date (default: today in Norway)."
MONEY = dict(max_digits=14, decimal_places=2)


def _checked(serializer_class, data, context=None) -> dict:
    serializer = serializer_class(data=data, context=context or {})
    if not serializer.is_valid():
        raise serializers.ValidationError(error_paths(serializer.errors))
    return dict(serializer.validated_data)


class MoneyField(serializers.DecimalField):
    """An amount in kroner and øre: a string with two decimals out; a string or number in."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


# ================================================================ fields of input


@extend_schema_field(OpenApiTypes.INT)
class BillingCustomerField(TenantCustomerField):
    pass


@extend_schema_field(OpenApiTypes.INT)
class TenantContractField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        "does_not_exist": gettext_lazy("Contract {pk_value} does not exist."),
        "incorrect_type": gettext_lazy("Give the contract's id as a number, not {data_type}."),
    }

    def get_queryset(self):
        return Contract.objects.all()


@extend_schema_field(OpenApiTypes.INT)
class TenantHourlyServiceField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        "does_not_exist": gettext_lazy("Hourly service {pk_value} does not exist."),
        "incorrect_type": gettext_lazy("Give the hourly service's id as a number, not {data_type}."),
    }

    def get_queryset(self):
        return HourlyService.objects.all()


# ================================================================ output


class InvoiceLineSerializer(serializers.ModelSerializer):
    explanation = serializers.SerializerMethodField(help_text="How the amount was computed, in nb and en.")

    class Meta:
        model = InvoiceLine
        fields = (
            "id",
            "invoice",
            "position",
            "code",
            "description",
            "description_en",
            "explanation",
            "quantity",
            "unit_code",
            "unit_price",
            "net",
            "vat_category",
            "vat_rate",
            "period_start",
            "period_end",
        )
        read_only_fields = fields

    @extend_schema_field(TextsSerializer)
    def get_explanation(self, obj: InvoiceLine) -> dict:
        return {"nb": obj.explanation_nb, "en": obj.explanation_en}


class PaymentSerializer(serializers.ModelSerializer):
    invoice_number = serializers.IntegerField(source="invoice.number", read_only=True)

    class Meta:
        model = Payment
        fields = ("id", "invoice", "invoice_number", "amount", "paid_on", "reference", "recorded_by", "created_at")
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = (
            "id",
            "invoice",
            "channel",
            "recipient",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "external_id",
            "created_at",
            "sent_at",
        )
        read_only_fields = fields


class CreditNoteRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = ("id", "number", "issue_date", "net", "vat", "total", "reason")
        read_only_fields = fields


class DocumentLinksSerializer(serializers.Serializer):
    pdf_nb = serializers.URLField()
    pdf_en = serializers.URLField()
    ehf = serializers.URLField()


class InvoiceListSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="billing_api:invoice-detail")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_reference = serializers.CharField(source="contract.reference", read_only=True, allow_null=True)
    credited_invoice_number = serializers.IntegerField(
        source="credited_invoice.number", read_only=True, allow_null=True
    )
    outstanding = MoneyField(read_only=True, help_text="Total − credited − paid.")
    overdue = serializers.SerializerMethodField(help_text="Unpaid after its due date (as of today).")

    class Meta:
        model = Invoice
        fields = (
            "id",
            "url",
            "kind",
            "status",
            "series",
            "number",
            "customer",
            "customer_name",
            "contract",
            "contract_reference",
            "period_start",
            "period_end",
            "issue_date",
            "due_date",
            "kid",
            "currency",
            "net",
            "vat",
            "total",
            "paid_amount",
            "credited_amount",
            "outstanding",
            "overdue",
            "buyer_reference",
            "credited_invoice",
            "credited_invoice_number",
            "reason",
            "supplementary",
            "sent_at",
            "created_at",
        )
        read_only_fields = fields

    def get_overdue(self, obj: Invoice) -> bool:
        return obj.is_past_due(self.context.get("today") or business_today())


class InvoiceSerializer(InvoiceListSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    credit_notes = CreditNoteRefSerializer(many=True, read_only=True)
    deliveries = DeliverySerializer(many=True, read_only=True)
    documents = serializers.SerializerMethodField(help_text="Where to download the PDF (nb, en) and the EHF.")

    class Meta(InvoiceListSerializer.Meta):
        fields = (*InvoiceListSerializer.Meta.fields, "lines", "payments", "credit_notes", "deliveries", "documents")
        read_only_fields = fields

    @extend_schema_field(DocumentLinksSerializer)
    def get_documents(self, obj: Invoice) -> dict:
        request = self.context["request"]
        pdf = reverse("billing_api:invoice-pdf", kwargs={"pk": obj.pk}, request=request)
        return {
            "pdf_nb": f"{pdf}?lang=nb",
            "pdf_en": f"{pdf}?lang=en",
            "ehf": reverse("billing_api:invoice-ehf", kwargs={"pk": obj.pk}, request=request),
        }


class TimeEntrySerializer(serializers.ModelSerializer):
    contract_reference = serializers.CharField(source="contract.reference", read_only=True)
    service_code = serializers.CharField(source="service.code", read_only=True)
    billed = serializers.SerializerMethodField(help_text="True once it is on an invoice.")

    class Meta:
        model = TimeEntry
        fields = (
            "id",
            "contract",
            "contract_reference",
            "service",
            "service_code",
            "worked_on",
            "description",
            "hours",
            "travel_hours",
            "expenses",
            "expenses_description",
            "billed",
            "invoice",
            "recorded_by",
            "created_at",
        )
        read_only_fields = fields

    def get_billed(self, obj: TimeEntry) -> bool:
        return obj.invoice_id is not None


class BillingRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = BillingRun
        fields = (
            "id",
            "as_of",
            "status",
            "contracts_seen",
            "invoices_issued",
            "last_contract_id",
            "problems",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields


class ProposedLineSerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()
    description_en = serializers.CharField()
    explanation = TextsSerializer()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=4)
    unit_code = serializers.CharField()
    unit_price = MoneyField()
    net = MoneyField()
    vat_category = serializers.CharField()
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    period_start = serializers.DateField()
    period_end = serializers.DateField()


class ProposalSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    contract_reference = serializers.CharField()
    customer = serializers.IntegerField()
    customer_name = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    issue_date = serializers.DateField()
    currency = serializers.CharField()
    lines = ProposedLineSerializer(many=True)
    net = MoneyField()
    vat = MoneyField()
    total = MoneyField()


class ProblemSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    contract_reference = serializers.CharField()
    message = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    contracts = serializers.IntegerField(help_text="Billable contracts looked at.")
    invoices = serializers.IntegerField(help_text="How many invoices the run would issue.")
    net = MoneyField()
    vat = MoneyField()
    total = MoneyField()
    proposals = ProposalSerializer(many=True)
    problems = ProblemSerializer(many=True, help_text="Contracts that cannot be invoiced, and why.")


class RunStartedSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    task_id = serializers.CharField()
    state = serializers.CharField(help_text="SUCCESS when run at once (no broker); PENDING when queued.")
    result = serializers.DictField(
        allow_null=True, help_text="When run at once: {tenant: {contracts, invoices}}; null when queued."
    )
    runs = BillingRunSerializer(many=True, help_text="The BillingRun row for the date (empty while queued).")


def preview_data(result: run.RunResult) -> dict:
    proposals = [
        {
            "contract": p.contract_id,
            "contract_reference": p.contract_reference,
            "customer": p.customer_id,
            "customer_name": p.customer_name,
            "period_start": p.period.start,
            "period_end": p.period.end,
            "issue_date": p.issue_date,
            "currency": p.currency,
            "lines": [
                {
                    **{
                        name: getattr(line, name)
                        for name in ProposedLineSerializer._declared_fields
                        if name != "explanation"
                    },
                    "explanation": {"nb": line.explanation_nb, "en": line.explanation_en},
                }
                for line in p.lines
            ],
            "net": p.net,
            "vat": p.vat,
            "total": p.total,
        }
        for p in result.proposals
    ]
    return {
        "as_of": result.as_of,
        "contracts": result.contracts,
        "invoices": len(proposals),
        "net": sum((p["net"] for p in proposals), ZERO),
        "vat": sum((p["vat"] for p in proposals), ZERO),
        "total": sum((p["total"] for p in proposals), ZERO),
        "proposals": proposals,
        "problems": [
            {"contract": p.contract_id, "contract_reference": p.contract_reference, "message": p.message}
            for p in result.problems
        ],
    }


# ================================================================ input


class ManualLineSerializer(StrictInputMixin, serializers.Serializer):
    description = serializers.CharField(max_length=300)
    description_en = serializers.CharField(max_length=300, required=False, allow_blank=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, help_text="Default 1.")
    unit_price = MoneyField(help_text="Excluding VAT.")
    explanation = serializers.CharField(required=False, allow_blank=True, help_text="Default: quantity × price.")
    explanation_en = serializers.CharField(required=False, allow_blank=True)
    code = serializers.CharField(max_length=60, required=False, allow_blank=True)


class InvoiceCreateSerializer(StrictInputMixin, serializers.Serializer):
    customer = BillingCustomerField(help_text="The customer's id.")
    contract = TenantContractField(required=False, allow_null=True, help_text="The customer's contract, if any.")
    buyer_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    lines = ManualLineSerializer(many=True, allow_empty=False)


class IssueInputSerializer(StrictInputMixin, serializers.Serializer):
    on = InputDateField(required=False, help_text=ON_HELP)


class CreditInputSerializer(StrictInputMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Why it is credited (shown on the credit note).")
    net_amount = MoneyField(
        required=False, allow_null=True, help_text="Net before VAT for a partial credit; leave out to credit in full."
    )
    on = InputDateField(required=False, help_text=ON_HELP)


class PaymentInputSerializer(StrictInputMixin, serializers.Serializer):
    amount = MoneyField(help_text="Incl. VAT; at most what is outstanding.")
    paid_on = InputDateField()
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class TimeEntryInputSerializer(StrictInputMixin, serializers.Serializer):
    contract = TenantContractField()
    service = TenantHourlyServiceField(help_text="The hourly service (its rate and travel share apply).")
    worked_on = InputDateField()
    description = serializers.CharField(max_length=300)
    hours = serializers.DecimalField(max_digits=8, decimal_places=2, required=False, min_value=0)
    travel_hours = serializers.DecimalField(max_digits=8, decimal_places=2, required=False, min_value=0)
    expenses = MoneyField(max_digits=12, required=False, min_value=0, help_text="At cost, excl. VAT.")
    expenses_description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class AsOfInputSerializer(StrictInputMixin, serializers.Serializer):
    as_of = InputDateField(required=False, help_text="The run's date (default: today in Norway).")


class FileQuerySerializer(serializers.Serializer):
    lang = serializers.ChoiceField(choices=[("nb", "nb"), ("en", "en")], required=False)


# ================================================================ filters


def _int_filter(field_name: str, help_text: str):
    number = django_filters.NumberFilter(field_name=field_name, help_text=help_text)
    return extend_schema_field(OpenApiTypes.INT)(number)


class InvoiceFilter(django_filters.rest_framework.FilterSet):
    status = django_filters.ChoiceFilter(choices=InvoiceStatus.choices)
    kind = django_filters.ChoiceFilter(choices=InvoiceKind.choices)
    customer = _int_filter("customer_id", "Id of the customer.")
    contract = _int_filter("contract_id", "Id of the contract.")
    number = _int_filter("number", "The invoice or credit note number.")
    period_from = django_filters.DateFilter(
        field_name="period_end", lookup_expr="gte", help_text="Periods ending on or after this date."
    )
    period_to = django_filters.DateFilter(
        field_name="period_start", lookup_expr="lte", help_text="Periods starting on or before this date."
    )
    issued_from = django_filters.DateFilter(field_name="issue_date", lookup_expr="gte")
    issued_to = django_filters.DateFilter(field_name="issue_date", lookup_expr="lte")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", help_text="true: unpaid after the due date (as of today); false: the others."
    )

    class Meta:
        model = Invoice
        fields = (
            "status",
            "kind",
            "customer",
            "contract",
            "number",
            "period_from",
            "period_to",
            "issued_from",
            "issued_to",
            "overdue",
        )

    def filter_overdue(self, queryset, name, value):
        overdue = past_due_q(business_today())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class InvoiceLineFilter(django_filters.rest_framework.FilterSet):
    invoice = _int_filter("invoice_id", "Id of the invoice or credit note.")

    class Meta:
        model = InvoiceLine
        fields = ("invoice",)


class PaymentFilter(django_filters.rest_framework.FilterSet):
    invoice = _int_filter("invoice_id", "Id of the invoice.")
    paid_from = django_filters.DateFilter(field_name="paid_on", lookup_expr="gte")
    paid_to = django_filters.DateFilter(field_name="paid_on", lookup_expr="lte")

    class Meta:
        model = Payment
        fields = ("invoice", "paid_from", "paid_to")


class TimeEntryFilter(django_filters.rest_framework.FilterSet):
    contract = _int_filter("contract_id", "Id of the contract.")
    billed = django_filters.BooleanFilter(field_name="invoice", lookup_expr="isnull", exclude=True)

    class Meta:
        model = TimeEntry
        fields = ("contract", "billed")


# ================================================================ examples and responses

ID_PARAM = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Invoice (or credit note) id.")
STATE_400 = OpenApiResponse(
    ErrorSerializer, description="Bad input or not allowed in the invoice's status: a message per field."
)
SPEKTER_INVOICE_EXAMPLE = {
    "id": 41,
    "kind": "invoice",
    "status": "issued",
    "series": "invoice",
    "number": 1,
    "customer": 12,
    "customer_name": "Stavanger kommune",
    "contract_reference": "AVT-2026-0001",
    "period_start": "2026-03-15",
    "period_end": "2027-03-14",
    "issue_date": "2026-03-20",
    "due_date": "2026-04-19",
    "kid": "000000018",
    "currency": "NOK",
    "net": "26292.00",
    "vat": "6573.00",
    "total": "32865.00",
    "paid_amount": "0.00",
    "credited_amount": "0.00",
    "outstanding": "32865.00",
    "overdue": False,
}
MANUAL_DRAFT_EXAMPLE = OpenApiExample(
    "A one-off course",
    request_only=True,
    value={
        "customer": 12,
        "buyer_reference": "Ola Nordmann",
        "lines": [{"description": "Kurs i Spekter, 2 timer", "quantity": "1", "unit_price": "4500.00"}],
    },
)


def _rekey_lines(error: DjangoValidationError) -> DjangoValidationError:
    """The service names lines from 1 (``lines[1].quantity``); the API, like its input, from 0."""
    if not hasattr(error, "error_dict"):
        return error
    return DjangoValidationError(
        {
            re.sub(r"^lines\[(\d+)\]", lambda m: f"lines[{int(m.group(1)) - 1}]", key): value
            for key, value in error.error_dict.items()
        }
    )


# ================================================================ invoices and credit notes


class InvoiceQuerysetMixin:
    def scope_queryset(self, queryset):
        queryset = queryset.select_related("customer", "contract", "credited_invoice")
        if self.action == "list":
            return queryset
        return queryset.prefetch_related(
            "lines",
            Prefetch("payments", queryset=Payment.objects.select_related("invoice")),
            Prefetch("credit_notes", queryset=Invoice.objects.order_by("number", "id")),
            "deliveries",
        )

    def get_serializer_class(self):
        return InvoiceListSerializer if self.action == "list" else InvoiceSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": business_today()}


@extend_schema(tags=["invoices"])
@extend_schema_view(
    list=extend_schema(
        summary="Invoices and credit notes",
        description=(
            "Newest first. Filters: `status`, `kind` (invoice / credit_note), `customer`, `contract`, `number`, "
            "`period_from` / `period_to` (periods overlapping), `issued_from` / `issued_to`, `overdue=true`."
        ),
    ),
    retrieve=extend_schema(
        summary="One invoice or credit note",
        description="With its lines (each with its explanation in nb and en), payments, credit notes, deliveries "
        "and links to the PDF and EHF.",
        examples=[OpenApiExample("The Spekter invoice", value=SPEKTER_INVOICE_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Create a manual draft invoice",
        description="A one-off sale typed by hand: net = quantity × unit price per line; VAT from the customer's "
        "VAT treatment. A draft has no number until it is issued.",
        request=InvoiceCreateSerializer,
        responses={201: InvoiceSerializer, 400: BAD_REQUEST},
        examples=[MANUAL_DRAFT_EXAMPLE],
    ),
    destroy=extend_schema(
        summary="Delete a draft",
        description="An issued invoice is never deleted (400): credit it instead.",
        responses={204: None, 400: STATE_400},
    ),
)
class InvoiceViewSet(
    InvoiceQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    model = Invoice
    serializer_class = InvoiceSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = InvoiceFilter
    search_fields = ("customer__name", "buyer_reference", "kid")
    ordering_fields = ("issue_date", "due_date", "number", "total", "created_at", "id")
    ordering = ("-issue_date", "-number", "-id")

    def perform_content_negotiation(self, request, force=False):
        # The files answer PDF or XML whatever the Accept header says (errors stay JSON).
        return super().perform_content_negotiation(request, force=force or self.action in ("pdf", "ehf"))

    def _invoice(self, obj, http_status=status.HTTP_200_OK) -> Response:
        invoice = self.get_queryset().get(pk=obj.pk)
        return Response(InvoiceSerializer(invoice, context=self.get_serializer_context()).data, status=http_status)

    def create(self, request):
        data = _checked(InvoiceCreateSerializer, request.data, self.get_serializer_context())
        lines = [
            {key: (str(value) if key in ("quantity", "unit_price") else value) for key, value in line.items()}
            for line in data["lines"]
        ]
        try:
            invoice = services.invoice_manual_draft_create(
                actor=self.actor,
                customer=data["customer"],
                contract=data.get("contract"),
                lines=lines,
                buyer_reference=data.get("buyer_reference") or "",
                reason=data.get("reason") or "",
            )
        except DjangoValidationError as exc:
            raise _rekey_lines(exc) from exc
        return self._invoice(invoice, status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.invoice_draft_delete(actor=self.actor, invoice=instance)

    @extend_schema(
        summary="Issue a draft",
        description="Numbers it (gap-free, in the issuing transaction), sets KID, due date and totals, and keeps "
        "the document as issued. Without lines it is a 400 on `lines`; issued already, a 400 on `status`.",
        request=IssueInputSerializer,
        responses={200: InvoiceSerializer, 400: STATE_400},
        parameters=[ID_PARAM],
        examples=[OpenApiExample("Issue today", value={}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        invoice = self.get_object()
        data = _checked(IssueInputSerializer, request.data)
        invoice = services.invoice_issue(actor=self.actor, invoice=invoice, on=data.get("on") or business_today())
        return self._invoice(invoice)

    @extend_schema(
        summary="Credit an invoice (in full or in part)",
        description=(
            "Creates and issues a credit note referencing the invoice, numbered in sequence: in full without "
            "`net_amount` (every line), or in part with `net_amount` (net before VAT, at the invoice's VAT rate). "
            "The invoice itself is unchanged but for the amount credited. `reason` is required. Crediting more "
            "than what remains is a 400 on `net_amount`."
        ),
        request=CreditInputSerializer,
        responses={201: InvoiceSerializer, 400: STATE_400},
        parameters=[ID_PARAM],
        examples=[
            OpenApiExample("In full", value={"reason": "Feil skole"}, request_only=True),
            OpenApiExample("In part", value={"reason": "Rabatt", "net_amount": "1000.00"}, request_only=True),
        ],
    )
    @action(detail=True, methods=["post"])
    def credit(self, request, pk=None):
        invoice = self.get_object()
        data = _checked(CreditInputSerializer, request.data)
        note = services.credit_note_create(
            actor=self.actor,
            invoice=invoice,
            on=data.get("on") or business_today(),
            reason=data["reason"],
            net_amount=data.get("net_amount"),
        )
        return self._invoice(note, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Register a payment",
        description="Against an issued invoice; it becomes partly paid or paid. A credited invoice, a credit note "
        "or more than what is outstanding is a 400.",
        request=PaymentInputSerializer,
        responses={201: PaymentSerializer, 400: STATE_400},
        parameters=[ID_PARAM],
        examples=[
            OpenApiExample(
                "Paid in full",
                value={"amount": "32865.00", "paid_on": "2026-04-15", "reference": "Bank 2026-04-15"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def payments(self, request, pk=None):
        invoice = self.get_object()
        data = _checked(PaymentInputSerializer, request.data)
        payment = services.payment_register(
            actor=self.actor,
            invoice=invoice,
            amount=data["amount"],
            paid_on=data["paid_on"],
            reference=data.get("reference") or "",
        )
        payment = Payment.objects.select_related("invoice").get(pk=payment.pk)
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Send (or resend) the invoice to the customer",
        description="EHF via Peppol when the customer has a Peppol endpoint, else the PDF by e-mail; tried at once. "
        "The answer is the delivery with its status, attempts and last error. A draft, a customer without "
        "e-mail or Peppol endpoint, or an EHF that cannot be made is a 400.",
        request=None,
        responses={201: DeliverySerializer, 400: STATE_400},
        parameters=[ID_PARAM],
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        from billing import delivery  # written alongside; imported here so this module loads without it

        delivery_row = delivery.invoice_send(actor=self.actor, invoice=self.get_object())
        return Response(DeliverySerializer(delivery_row).data, status=status.HTTP_201_CREATED)

    def _file(self, fmt: str, language: str = "nb") -> HttpResponse:
        invoice = self.get_object()
        rendered = files.invoice_file(invoice=invoice, fmt=fmt, language=language)
        response = HttpResponse(rendered.content, content_type=rendered.content_type)
        response["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
        response["X-Content-SHA256"] = rendered.sha256
        return response

    @extend_schema(
        summary="The PDF",
        description="Of an issued invoice or credit note: stored once, with its SHA-256 in `X-Content-SHA256`. "
        "A draft gives a preview (not stored).",
        parameters=[
            ID_PARAM,
            OpenApiParameter("lang", str, OpenApiParameter.QUERY, enum=["nb", "en"], description="Default nb."),
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
            400: OpenApiResponse(ErrorSerializer, description="A bad `lang`."),
        },
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        query = _checked(FileQuerySerializer, request.query_params)
        return self._file(FileFormat.PDF, query.get("lang") or "nb")

    @extend_schema(
        summary="The EHF (Peppol BIS Billing 3.0 UBL)",
        description="Invoice or CreditNote XML, stored once, with its SHA-256 in `X-Content-SHA256`. An EHF that "
        "cannot be made (e.g. a customer without org number) is a 400 saying why.",
        parameters=[ID_PARAM],
        responses={
            (200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY, description="The UBL XML."),
            400: OpenApiResponse(ErrorSerializer, description="The EHF cannot be made; the reason is in `format`."),
        },
    )
    @action(detail=True, methods=["get"])
    def ehf(self, request, pk=None):
        return self._file(FileFormat.EHF)


@extend_schema(tags=["invoices"])
@extend_schema_view(
    list=extend_schema(
        summary="Credit notes",
        description="The same as `invoices?kind=credit_note`, with the same filters.",
    ),
    retrieve=extend_schema(summary="One credit note"),
)
class CreditNoteViewSet(InvoiceQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = Invoice
    serializer_class = InvoiceSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = InvoiceFilter
    search_fields = InvoiceViewSet.search_fields
    ordering_fields = InvoiceViewSet.ordering_fields
    ordering = InvoiceViewSet.ordering

    def scope_queryset(self, queryset):
        return super().scope_queryset(queryset.filter(kind=InvoiceKind.CREDIT_NOTE))


@extend_schema(tags=["invoices"])
@extend_schema_view(
    list=extend_schema(summary="Invoice lines", description="Filter: `invoice` (id). Each with its explanation."),
    retrieve=extend_schema(summary="One invoice line"),
)
class InvoiceLineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = InvoiceLine
    serializer_class = InvoiceLineSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = InvoiceLineFilter
    ordering_fields = ("position", "id")
    ordering = ("invoice", "position", "id")


@extend_schema(tags=["payments"])
@extend_schema_view(
    list=extend_schema(summary="Payments", description="Filters: `invoice` (id), `paid_from`, `paid_to`."),
    retrieve=extend_schema(summary="One payment"),
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = Payment
    serializer_class = PaymentSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = PaymentFilter
    search_fields = ("reference",)
    ordering_fields = ("paid_on", "amount", "id")
    ordering = ("-paid_on", "-id")

    def scope_queryset(self, queryset):
        return queryset.select_related("invoice")


# ================================================================ time entries


@extend_schema(tags=["time-entries"])
@extend_schema_view(
    list=extend_schema(summary="Time entries", description="Filters: `contract` (id), `billed` (true / false)."),
    retrieve=extend_schema(summary="One time entry"),
    create=extend_schema(
        summary="Record billable time",
        description="Hours at the service's rate, travel hours at its travel share (50 % for Piscator), expenses "
        "at cost; billed on the contract's next invoice.",
        request=TimeEntryInputSerializer,
        responses={201: TimeEntrySerializer, 400: BAD_REQUEST},
        examples=[
            OpenApiExample(
                "Piscator: 3 hours and 2 hours' travel",
                value={
                    "contract": 7,
                    "service": 3,
                    "worked_on": "2026-03-02",
                    "description": "Oppsett av mannskapslister",
                    "hours": "3",
                    "travel_hours": "2",
                },
                request_only=True,
            )
        ],
    ),
    destroy=extend_schema(
        summary="Delete a time entry not yet billed",
        description="A billed one is a 400: credit the invoice instead.",
        responses={204: None, 400: BAD_REQUEST},
    ),
)
class TimeEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantScopedViewSet):
    model = TimeEntry
    serializer_class = TimeEntrySerializer
    filter_backends = LIST_BACKENDS
    filterset_class = TimeEntryFilter
    search_fields = ("description",)
    ordering_fields = ("worked_on", "created_at", "id")
    ordering = ("-worked_on", "-id")

    def scope_queryset(self, queryset):
        return queryset.select_related("contract", "service")

    def create(self, request):
        data = _checked(TimeEntryInputSerializer, request.data, self.get_serializer_context())
        entry = services.time_entry_create(
            actor=self.actor,
            contract=data["contract"],
            service=data["service"],
            worked_on=data["worked_on"],
            description=data["description"],
            hours=data.get("hours") or 0,
            travel_hours=data.get("travel_hours") or 0,
            expenses=data.get("expenses") or 0,
            expenses_description=data.get("expenses_description") or "",
        )
        return self.respond(entry, status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.time_entry_delete(actor=self.actor, entry=instance)


# ================================================================ the billing run


@extend_schema(tags=["billing-runs"])
@extend_schema_view(
    list=extend_schema(summary="Billing runs", description="One row per date run: progress, counts, problems."),
    retrieve=extend_schema(summary="One billing run"),
)
class BillingRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = BillingRun
    serializer_class = BillingRunSerializer
    filter_backends = LIST_BACKENDS
    ordering_fields = ("as_of", "id")
    ordering = ("-as_of", "-id")

    @extend_schema(
        summary="Start the billing run for a date",
        description=(
            "Issues every invoice due on `as_of` for the key's tenant, through the Celery task "
            "`billing.tasks.billing_run`. With a broker the answer is 202 with the task id (follow it in "
            "`GET /billing-runs`); without one the run happens at once and the answer carries its result. "
            "Rerunning a date issues nothing twice."
        ),
        request=AsOfInputSerializer,
        responses={202: RunStartedSerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("20 March 2026", value={"as_of": "2026-03-20"}, request_only=True)],
    )
    def create(self, request):
        from billing import tasks

        as_of = _checked(AsOfInputSerializer, request.data).get("as_of") or business_today()
        task = tasks.billing_run.delay(as_of.isoformat(), self.tenant.slug)
        tenancy.activate(self.tenant)  # a task run at once clears the tenant when it ends (config/celery.py)
        done = task.ready()
        body = {
            "as_of": as_of,
            "task_id": task.id,
            "state": task.state,
            "result": task.result if done else None,
            "runs": BillingRun.objects.filter(as_of=as_of) if done else [],
        }
        return Response(RunStartedSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="What the billing run would invoice on a date",
        description="Every proposed invoice with its lines and totals, and the contracts that cannot be invoiced "
        "(`problems`). Writes nothing.",
        request=AsOfInputSerializer,
        responses={200: PreviewSerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("20 March 2026", value={"as_of": "2026-03-20"}, request_only=True)],
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def preview(self, request):
        as_of = _checked(AsOfInputSerializer, request.data).get("as_of") or business_today()
        return Response(PreviewSerializer(preview_data(run.preview(as_of))).data)


# ================================================================ the tenant's invoicing choices


class BillingSettingsSerializer(serializers.Serializer):
    credit_notes_own_series = serializers.BooleanField(
        help_text="True: credit notes are numbered in their own continuous series; false: in the invoice series."
    )
    kid_method = serializers.ChoiceField(choices=["mod10", "mod11"], help_text="The KID's check digit.")
    payment_terms_days = serializers.IntegerField(
        read_only=True, help_text="Days net from the invoice date (changed on the tenant's profile)."
    )


class BillingSettingsInputSerializer(StrictInputMixin, serializers.Serializer):
    credit_notes_own_series = serializers.BooleanField(required=False)
    kid_method = serializers.ChoiceField(choices=["mod10", "mod11"], required=False)


class BillingSettingsView(TenantAPIView):
    """The tenant's invoicing choices: the credit notes' number series and the KID method."""

    serializer_class = BillingSettingsSerializer

    def _data(self, current) -> dict:
        return {
            "credit_notes_own_series": current.credit_notes_own_series,
            "kid_method": current.kid_method,
            "payment_terms_days": self.tenant.payment_terms_days,
        }

    @extend_schema(operation_id="billing_settings_retrieve", tags=["billing"], summary="Invoicing settings")
    def get(self, request):
        return Response(self._data(numbering.settings_for_tenant()))

    @extend_schema(
        operation_id="billing_settings_partial_update",
        tags=["billing"],
        summary="Change the invoicing settings (read-write key)",
        description="The credit notes' series can change only before the first credit note is issued (400).",
        request=BillingSettingsInputSerializer,
        responses={200: BillingSettingsSerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("Credit notes in their own series", value={"credit_notes_own_series": True})],
    )
    def patch(self, request):
        data = self.validated_input(BillingSettingsInputSerializer, request.data, partial=True)
        current = services.billing_settings_update(actor=self.actor, **data)
        return Response(self._data(current))
