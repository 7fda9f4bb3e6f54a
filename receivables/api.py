"""The collections API under ``/api/v1`` (issue 11, item 6 and item 1's bank files): what is owed and how late,
a customer's ledger, reminders and their PDFs, invoice holds, interest charges, bank-file import and the
unmatched queue, payment-default cases and customers at risk, and the collection policies (see
docs/collections-api.md).

Thin, like the rest of the API: reads come from :mod:`receivables.selectors` (and ``at_risk``), every change
from one service (:mod:`receivables.dunning`, :mod:`receivables.default`, :mod:`billing.bank`,
:mod:`receivables.services`) with the key as actor; a service's ``ValidationError`` is a 400 per field.
Every viewset derives from :class:`tenants.api.TenantScopedViewSet` (or reads the tenant-scoped managers), so
another tenant's reminder, hold, import, payment, case or policy is a 404 and its invoice in a body "does
not exist" (400). Writes use the business date, today in Norway. Amounts are strings with two decimals.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from pathlib import PurePath

import django_filters
from django import forms
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from billing import bank
from billing.models import PAYABLE, BankImport, IncomingPayment, IncomingPaymentStatus, Invoice, InvoiceKind
from billing.selectors import customer_family_q
from contracts.api import InputDateField
from pricing.api import error_paths
from receivables import selectors
from receivables import serializers as s
from receivables.forms import MAX_BANK_FILE
from receivables.models import CollectionPolicy, DefaultCase, DefaultStatus, InterestCharge, InvoiceHold, Reminder
from tenants.api import (
    BAD_REQUEST,
    LIST_BACKENDS,
    ErrorSerializer,
    StrictInputMixin,
    TenantAPIView,
    TenantScopedViewSet,
)
from tenants.jobs import business_today
from tenants.models import OWNER_KINDS, Customer

ON_HELP = "The day to count on (default: today in Norway), YYYY-MM-DD."
MAX_UPLOAD_OVERHEAD = 1024 * 1024  # room for the multipart envelope around a file of MAX_BANK_FILE
LEDGER_LIMIT = 1000
ZERO = selectors.ZERO
FILTER_BACKENDS = [DjangoFilterBackend, OrderingFilter]  # lists without a search


def _checked(serializer_class, data, context=None) -> dict:
    serializer = serializer_class(data=data, context=context or {})
    if not serializer.is_valid():
        raise serializers.ValidationError(error_paths(serializer.errors))
    return dict(serializer.validated_data)


def _bucket_of(days: int) -> str:
    for key, first, last, _nb, _en in selectors.BUCKETS:
        if days >= first and (last is None or days <= last):
            return key
    return selectors.BUCKETS[0][0]


def _ids(*names: str) -> list[OpenApiParameter]:
    return [OpenApiParameter(name, int, OpenApiParameter.PATH) for name in names]


def _not_found_if_bad_id(value) -> int:
    """A path id that is not a whole number is 'not found', as everywhere in the API."""
    text = str(value)
    if not text.isdigit() or len(text) > 18:
        raise Http404
    return int(text)


# ================================================================ query input


class OnQuerySerializer(serializers.Serializer):
    on = InputDateField(required=False, help_text=ON_HELP)


class OverdueQuerySerializer(OnQuerySerializer):
    bucket = serializers.ChoiceField(choices=s.BUCKET_KEYS, required=False, allow_blank=True)
    customer = serializers.IntegerField(min_value=1, required=False)


class LedgerQuerySerializer(OnQuerySerializer):
    limit = serializers.IntegerField(min_value=1, max_value=s.MAX_LEDGER_LIMIT, required=False)


ON_PARAM = OpenApiParameter("on", OpenApiTypes.DATE, OpenApiParameter.QUERY, description=ON_HELP)
BUCKET_PARAM = OpenApiParameter(
    "bucket",
    str,
    OpenApiParameter.QUERY,
    enum=s.BUCKET_KEYS,
    description="Days past due: 0_30 (1–30), 31_60, 61_90, 90_plus (91 and more).",
)
CUSTOMER_PARAM = OpenApiParameter("customer", int, OpenApiParameter.QUERY, description="Id of the customer.")
ON_400 = OpenApiResponse(ErrorSerializer, description="A bad `on` (or another parameter): a message per parameter.")


class RangeForm(forms.Form):
    """A filter form whose ``(from, to)`` pairs must not be reversed (a 400 on ``to``, not an empty list)."""

    ranges: tuple[tuple[str, str], ...] = ()

    def clean(self):
        data = super().clean()
        for low, high in self.ranges:
            if data.get(low) and data.get(high) and data[low] > data[high]:
                self.add_error(
                    high, _("%(to)s is before %(from)s; give the earlier date first.") % {"to": high, "from": low}
                )
        return data


class SentRangeForm(RangeForm):
    ranges = (("sent_from", "sent_to"),)


def _int_filter(field_name: str, help_text: str):
    from drf_spectacular.utils import extend_schema_field

    return extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name=field_name, help_text=help_text)
    )


# ================================================================ overview, overdue, at risk, ledger


@extend_schema(tags=["collections"])
class CollectionsOverviewView(TenantAPIView):
    """``/collections/overview``: what is open, how late, in buckets."""

    serializer_class = s.OverviewSerializer

    @extend_schema(
        operation_id="collections_overview",
        summary="Collections overview: totals and age buckets",
        description=(
            "Open issued invoices on `on`: everything outstanding, not yet due, past due in the buckets 1–30, "
            "31–60, 61–90 and over 90 days past due (the day after the due date is 1), invoices on hold, "
            "the unmatched bank payments and the open payment-default cases. Sums in NOK; invoices in other "
            "currencies are counted in `other_currencies`."
        ),
        parameters=[ON_PARAM],
        responses={200: s.OverviewSerializer, 400: ON_400},
    )
    def get(self, request):
        on = _checked(OnQuerySerializer, request.query_params).get("on") or business_today()
        aging = selectors.aging(on)
        firsts = {key: (first, last) for key, first, last, _nb, _en in selectors.BUCKETS}
        body = {
            "on": aging.on,
            "currency": "NOK",
            "outstanding": aging.outstanding,
            "not_due": aging.not_due,
            "overdue": aging.overdue,
            "overdue_count": aging.overdue_count,
            "on_hold_count": aging.on_hold_count,
            "other_currencies": aging.other_currencies,
            "buckets": [
                {
                    "key": b.key,
                    "label": s.texts(b.label_nb, b.label_en),
                    "first_day": firsts[b.key][0],
                    "last_day": firsts[b.key][1],
                    "count": b.count,
                    "amount": b.amount,
                }
                for b in aging.buckets
            ],
            "unmatched_payments": selectors.unmatched_payments().count(),
            "open_default_cases": DefaultCase.objects.exclude(status=DefaultStatus.CLOSED).count(),
        }
        return Response(s.OverviewSerializer(body).data)


@extend_schema(tags=["collections"])
@extend_schema_view(
    list=extend_schema(
        operation_id="collections_overdue_list",
        summary="Overdue invoices",
        description=(
            "Open invoices past their due date on `on`, oldest due first, with days past due, what is open, "
            "whether they are on hold and the last reminder sent. Filters: `bucket`, `customer` (id), `on`."
        ),
        parameters=[BUCKET_PARAM, CUSTOMER_PARAM, ON_PARAM],
    )
)
class OverdueViewSet(mixins.ListModelMixin, viewsets.ViewSetMixin, TenantAPIView):
    serializer_class = s.OverdueInvoiceSerializer

    def get_queryset(self):
        return Invoice.objects.none()

    def list(self, request):
        query = _checked(OverdueQuerySerializer, request.query_params)
        on = query.get("on") or business_today()
        queryset = selectors.overdue_invoices(on, query.get("bucket") or "")
        if query.get("customer"):
            queryset = queryset.filter(customer_id=query["customer"])
        rows = list(self.paginate_queryset(queryset))
        last = {
            r.invoice_id: r
            for r in Reminder.objects.filter(invoice_id__in=[i.pk for i in rows])
            .order_by("invoice_id", "-sent_on", "-step", "-id")
            .distinct("invoice_id")
            .only("id", "invoice_id", "kind", "sent_on", "pay_by", "step")
        }
        data = []
        for invoice in rows:
            days = selectors.days_past_due(invoice, on)
            reminder = last.get(invoice.pk)
            data.append(
                {
                    "pk": invoice.pk,
                    "number": invoice.number,
                    "kid": invoice.kid,
                    "customer_id": invoice.customer_id,
                    "customer": invoice.customer,
                    "contract_id": invoice.contract_id,
                    "contract": invoice.contract,
                    "issue_date": invoice.issue_date,
                    "due_date": invoice.due_date,
                    "days_past_due": days,
                    "bucket": _bucket_of(days),
                    "currency": invoice.currency,
                    "total": invoice.total,
                    "open_amount": invoice.open_amount,
                    "on_hold": bool(invoice.on_hold),
                    "last_reminder": reminder
                    and {
                        "id": reminder.pk,
                        "step": reminder.step,
                        "kind": reminder.kind,
                        "sent_on": reminder.sent_on,
                        "pay_by": reminder.pay_by,
                    },
                }
            )
        return self.get_paginated_response(s.OverdueInvoiceSerializer(data, many=True).data)


def _risk_what(risk, day: dt.date | None) -> dict:
    """What happens to a contract at risk, in words (both languages), as the back-office says it."""
    case = risk.case
    nb_day = day.strftime("%d.%m.%Y") if day else "—"
    en_day = day.isoformat() if day else "—"
    if case is None:
        if risk.action == "pause":
            return s.texts(
                f"Kontoen settes på pause {nb_day} om fakturaen ikke betales.",
                f"The account is paused on {en_day} unless the invoice is paid.",
            )
        return s.texts(
            f"Varsel om stans sendes {nb_day} om fakturaen ikke betales.",
            f"A notice of suspension goes out on {en_day} unless the invoice is paid.",
        )
    if case.status == DefaultStatus.NOTICE:
        return s.texts(
            f"Varsel sendt: tjenesten stanses {nb_day} om ikke alt betales.",
            f"Notice sent: service stops on {en_day} unless paid in full.",
        )
    if case.status == DefaultStatus.AWAITING_CONFIRMATION:
        return s.texts(
            f"Varselet løp ut {nb_day}: venter på at noen stanser tjenesten.",
            f"The notice ran out on {en_day}: waiting for staff to suspend.",
        )
    if case.status == DefaultStatus.SUSPENDED:
        return s.texts(
            f"Stanset siden {nb_day}: tjenesten kommer tilbake når restansen er betalt.",
            f"Suspended since {en_day}: service comes back when the arrears are paid.",
        )
    return s.texts(f"På pause siden {nb_day}.", f"Paused since {en_day}.")


@extend_schema(tags=["collections"])
@extend_schema_view(
    list=extend_schema(
        operation_id="collections_at_risk_list",
        summary="Customers at risk of suspension or pause",
        description=(
            "Contracts whose collection policy suspends or pauses on payment default, with arrears or an open "
            "default case on `on`: the oldest unpaid invoice, days past due, the next step and its day "
            "(`action_on`), soonest first."
        ),
        parameters=[ON_PARAM],
    )
)
class AtRiskViewSet(mixins.ListModelMixin, viewsets.ViewSetMixin, TenantAPIView):
    serializer_class = s.AtRiskSerializer

    def get_queryset(self):
        return DefaultCase.objects.none()

    def list(self, request):
        from receivables.default import at_risk

        on = _checked(OnQuerySerializer, request.query_params).get("on") or business_today()
        rows = self.paginate_queryset(at_risk(on))
        data = [
            {
                "contract": r.contract.pk,
                "contract_reference": r.contract.reference,
                "customer": r.customer.pk,
                "customer_name": r.customer.name,
                "invoice": r.invoice.pk,
                "invoice_number": r.invoice.number,
                "due_date": r.invoice.due_date,
                "days_past_due": r.days_past_due,
                "action": r.action,
                "action_on": r.action_on,
                "case": r.case.pk if r.case else None,
                "case_status": r.case.status if r.case else None,
                "material_breach": bool(r.case and r.case.material_breach_on),
                "deletion_due_on": r.contract.deletion_due_on,
                "what": _risk_what(r, r.action_on),
            }
            for r in rows
        ]
        return self.get_paginated_response(s.AtRiskSerializer(data, many=True).data)


@extend_schema(tags=["collections"])
class CustomerLedgerView(TenantAPIView):
    """``/customers/{id}/ledger``: one customer's invoices, credit notes, payments, reminders, interest and holds."""

    serializer_class = s.LedgerSerializer

    @extend_schema(
        operation_id="customers_ledger",
        summary="A customer's ledger",
        description=(
            "Invoices and interest invoices (debit), credit notes and payments (credit), reminders and holds "
            "(no amount) in date order with the running balance, each with its text in nb and en; and what the "
            "customer owes on `on` (`outstanding`). A kommune's or fylkeskommune's ledger includes its schools'. "
            "`limit` (1–5000, default 1000) keeps the newest entries; `balance` is always the whole ledger's."
        ),
        parameters=[
            *_ids("id"),
            ON_PARAM,
            OpenApiParameter(
                "limit", int, OpenApiParameter.QUERY, description="Newest entries to show, 1–5000 (default 1000)."
            ),
        ],
        responses={200: s.LedgerSerializer, 400: ON_400},
    )
    def get(self, request, pk=None):
        customer = generics.get_object_or_404(Customer.objects.all(), pk=_not_found_if_bad_id(pk))
        query = _checked(LedgerQuerySerializer, request.query_params)
        on = query.get("on") or business_today()
        limit = query.get("limit") or LEDGER_LIMIT
        family = customer_family_q(customer)
        ledger = selectors.customer_ledger(family)
        owed = selectors.outstanding(family, on)
        entries = ledger.entries[-limit:]
        body = {
            "customer": customer.pk,
            "customer_name": customer.name,
            "includes_children": customer.kind in OWNER_KINDS,
            "on": on,
            "balance": ledger.balance,
            "outstanding": {
                "total": owed.total,
                "overdue": owed.overdue,
                "invoices": owed.invoices,
                "overdue_invoices": owed.overdue_invoices,
                "oldest_due": owed.oldest_due,
            },
            "entries": [
                {
                    "date": e.on,
                    "kind": e.kind,
                    "text": s.texts(e.text_nb, e.text_en),
                    "debit": e.debit,
                    "credit": e.credit,
                    "balance": e.balance,
                    "invoice": e.invoice_id,
                    "invoice_number": e.invoice_number,
                    "reminder": e.reminder_id,
                }
                for e in entries
            ],
            "truncated": len(ledger.entries) > len(entries),
        }
        return Response(s.LedgerSerializer(body).data)


# ================================================================ reminders


class ReminderFilter(django_filters.rest_framework.FilterSet):
    invoice = _int_filter("invoice_id", "Id of the invoice.")
    customer = _int_filter("customer_id", "Id of the customer.")
    kind = django_filters.ChoiceFilter(
        choices=[(k, k) for k in ("reminder", "warning", "final")], help_text="reminder, warning or final."
    )
    sent_from = django_filters.DateFilter(field_name="sent_on", lookup_expr="gte", help_text="Sent on or after.")
    sent_to = django_filters.DateFilter(field_name="sent_on", lookup_expr="lte", help_text="Sent on or before.")

    class Meta:
        model = Reminder
        fields = ("invoice", "customer", "kind", "sent_from", "sent_to")
        form = SentRangeForm


REMINDER_ID = _ids("id")


@extend_schema(tags=["reminders"])
@extend_schema_view(
    list=extend_schema(
        summary="Reminders sent",
        description=(
            "Newest first. Filters: `invoice`, `customer` (ids), `kind`, `sent_from` / `sent_to` (inclusive; "
            "reversed is a 400)."
        ),
    ),
    retrieve=extend_schema(summary="One reminder", parameters=REMINDER_ID),
)
class ReminderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = Reminder
    serializer_class = s.ReminderSerializer
    filter_backends = FILTER_BACKENDS
    filterset_class = ReminderFilter
    ordering_fields = ("sent_on", "pay_by", "id")
    ordering = ("-sent_on", "-id")

    def scope_queryset(self, queryset):
        queryset = queryset.select_related("invoice", "customer")
        if self.action == "pdf":
            return queryset
        has_pdf = ExpressionWrapper(Q(pdf__isnull=False), output_field=BooleanField())
        return queryset.defer("pdf", "invoice__document", "customer__registry").annotate(has_pdf=has_pdf)

    def perform_content_negotiation(self, request, force=False):
        # The PDF is answered whatever the Accept header says (errors stay JSON).
        return super().perform_content_negotiation(request, force=force or self.action == "pdf")

    @extend_schema(
        summary="A reminder's PDF",
        description="The PDF as sent to the customer (in the customer's language), with its SHA-256 in "
        "`X-Content-SHA256`. A reminder without a stored PDF is a 404.",
        parameters=REMINDER_ID,
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF.")},
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        reminder = self.get_object()
        if not reminder.pdf:
            raise exceptions.NotFound(_("This reminder has no PDF."))
        response = HttpResponse(bytes(reminder.pdf), content_type="application/pdf")
        name = f"purring-{reminder.invoice.number}-{reminder.step}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        if reminder.sha256:
            response["X-Content-SHA256"] = reminder.sha256
        return response


# ================================================================ invoice holds


class HoldFilter(django_filters.rest_framework.FilterSet):
    invoice = _int_filter("invoice_id", "Id of the invoice.")
    customer = _int_filter("invoice__customer_id", "Id of the invoice's customer.")
    active = django_filters.BooleanFilter(
        field_name="released_on", lookup_expr="isnull", help_text="true: not released; false: released."
    )

    class Meta:
        model = InvoiceHold
        fields = ("invoice", "customer", "active")


HOLD_ID = _ids("id")


@extend_schema(tags=["invoice-holds"])
@extend_schema_view(
    list=extend_schema(
        summary="Invoice holds",
        description="Invoices put on hold (disputed), newest first. Filters: `invoice`, `customer`, `active`.",
    ),
    retrieve=extend_schema(summary="One hold", parameters=HOLD_ID),
    create=extend_schema(
        summary="Put an invoice on hold (read-write key)",
        description=(
            "No reminders, fees, interest invoices, suspension or pause for the invoice until the hold is "
            "released. The invoice must be issued with something left to pay and not already on hold; `reason` "
            "is required. Held from today (Norway)."
        ),
        request=s.HoldInputSerializer,
        responses={201: s.InvoiceHoldSerializer, 400: BAD_REQUEST},
        examples=[
            OpenApiExample(
                "The school disputes the pupil count",
                value={"invoice": 41, "reason": "Skolen bestrider elevtallet"},
                request_only=True,
            )
        ],
    ),
)
class InvoiceHoldViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = InvoiceHold
    serializer_class = s.InvoiceHoldSerializer
    filter_backends = FILTER_BACKENDS
    filterset_class = HoldFilter
    ordering_fields = ("held_on", "released_on", "id")
    ordering = ("-held_on", "-id")

    def scope_queryset(self, queryset):
        return queryset.select_related("invoice", "invoice__customer").defer(
            "invoice__document", "invoice__customer__registry"
        )

    def create(self, request):
        from receivables.dunning import invoice_hold

        data = _checked(s.HoldInputSerializer, request.data)
        hold = invoice_hold(actor=self.actor, invoice=data["invoice"], reason=data["reason"], on=business_today())
        return self.respond(hold, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Release a hold (read-write key)",
        description="Reminders and the rest take up the invoice again from the next run. A hold released "
        "already is a 400 on `hold`.",
        parameters=HOLD_ID,
        request=s.ReleaseInputSerializer,
        responses={200: s.InvoiceHoldSerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("Agreed", value={"note": "Elevtallet er avklart"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        from receivables.dunning import invoice_hold_release

        hold = self.get_object()
        data = _checked(s.ReleaseInputSerializer, request.data)
        hold = invoice_hold_release(actor=self.actor, hold=hold, on=business_today(), note=data.get("note") or "")
        return self.respond(hold)


# ================================================================ interest charges


class InterestChargeFilter(django_filters.rest_framework.FilterSet):
    late_invoice = _int_filter("late_invoice_id", "Id of the invoice paid late.")
    interest_invoice = _int_filter("interest_invoice_id", "Id of the interest invoice.")
    customer = _int_filter("late_invoice__customer_id", "Id of the customer.")

    class Meta:
        model = InterestCharge
        fields = ("late_invoice", "interest_invoice", "customer")


@extend_schema(tags=["interest-charges"])
@extend_schema_view(
    list=extend_schema(
        summary="Late-payment interest charged",
        description="Interest on late invoices as charged on interest invoices, with the calculation in nb and "
        "en. Filters: `late_invoice`, `interest_invoice`, `customer` (ids).",
    ),
    retrieve=extend_schema(summary="One interest charge", parameters=_ids("id")),
)
class InterestChargeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = InterestCharge
    serializer_class = s.InterestChargeSerializer
    filter_backends = FILTER_BACKENDS
    filterset_class = InterestChargeFilter
    ordering_fields = ("through", "id")
    ordering = ("-through", "-id")

    def scope_queryset(self, queryset):
        return queryset.select_related("late_invoice", "interest_invoice").defer(
            "late_invoice__document", "interest_invoice__document"
        )


# ================================================================ bank files


class RawFileParser(BaseParser):
    """The body is the bank file (bytes)."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


class TextXmlParser(RawFileParser):
    media_type = "text/xml"


class PlainTextParser(RawFileParser):
    media_type = "text/plain"


class OctetStreamParser(RawFileParser):
    media_type = "application/octet-stream"


class FileTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "file_too_large"

    def __init__(self):
        super().__init__(
            _("The bank file is larger than %(mb)s MB; ask the bank for smaller files.")
            % {"mb": MAX_BANK_FILE // (1024 * 1024)}
        )


FILE_NAME_PARAM = OpenApiParameter(
    "file_name",
    str,
    OpenApiParameter.QUERY,
    description="The file's name, kept with the import (at most 255 characters). For a raw body; a multipart "
    "upload's own name is used when this is left out.",
)
BANK_FILE_400 = OpenApiExample(
    "A malformed file (nothing was booked)",
    response_only=True,
    status_codes=["400"],
    value={
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "The request has errors; see fields. file: ocr.txt is not a valid bank file: line 5: "
            "unknown record type 'NY091535'",
            "fields": {"file": ["ocr.txt is not a valid bank file: line 5: unknown record type 'NY091535'"]},
        }
    },
)
BANK_IMPORT_EXAMPLE = OpenApiExample(
    "Imported",
    response_only=True,
    status_codes=["201"],
    value={
        "id": 3,
        "file_name": "camt054-2026-04-20.xml",
        "format": "camt054",
        "file_id": "MSG-20260420-001",
        "sha256": "5d1c…",
        "imported_on": "2026-04-20",
        "imported_at": "2026-04-20T07:02:11Z",
        "imported_by": "API key Integration (ab12cd)",
        "payments": 2,
        "matched": 1,
        "unmatched": 1,
        "already_known": 0,
        "total_amount": "33642.00",
        "already_imported": False,
        "incoming_payments": ["… the two payments, as in GET /incoming-payments …"],
    },
)


def _clean_file_name(raw: str | None, content: bytes) -> str:
    name = (raw or "").strip()
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise serializers.ValidationError({"file_name": [_("The file name has control characters; remove them.")]})
    name = PurePath(name.replace("\\", "/")).name if name else ""
    if len(name) > 255:
        raise serializers.ValidationError({"file_name": [_("Give a file name of at most 255 characters.")]})
    if not name:
        name = "bankfil.xml" if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") else "bankfil.txt"
    return name


@extend_schema(tags=["bank-imports"])
@extend_schema_view(
    list=extend_schema(summary="Bank files imported", description="Newest first, with their counts."),
    retrieve=extend_schema(
        summary="One bank file import",
        description="Its counts; its payments are at `GET /incoming-payments?bank_import={id}&status=all`.",
        parameters=_ids("id"),
    ),
    create=extend_schema(
        operation_id="bank_imports_create",
        summary="Import a bank file (read-write key)",
        description=(
            "A camt.054 credit notification or a Nets OCR giro file, as the bank delivers it: as `file` in a "
            "multipart form, or as the body (`Content-Type: application/xml`, `text/xml`, `text/plain` or "
            "`application/octet-stream`) with `?file_name=`. Payments are matched by KID, then by amount and "
            "payer; the rest wait for staff (`GET /incoming-payments`). 201 with the summary and the payments "
            "recorded. The same file again (SHA-256) books nothing: 200 with `already_imported: true` and the "
            "first import. A malformed file is a 400 on `file` naming the line and the reason, and nothing is "
            "booked; an empty file is a 400; a file over 50 MB is a 413."
        ),
        parameters=[FILE_NAME_PARAM],
        request={
            "multipart/form-data": s.BankFileUploadSerializer,
            "application/xml": OpenApiTypes.BINARY,
            "text/xml": OpenApiTypes.BINARY,
            "text/plain": OpenApiTypes.BINARY,
            "application/octet-stream": OpenApiTypes.BINARY,
        },
        responses={
            201: s.BankImportResultSerializer,
            200: OpenApiResponse(
                s.BankImportResultSerializer, description="Imported before: nothing was booked now (the first import)."
            ),
            400: OpenApiResponse(ErrorSerializer, description="A malformed or empty file: the line and the reason."),
            413: OpenApiResponse(ErrorSerializer, description="The file is larger than 50 MB."),
        },
        examples=[BANK_IMPORT_EXAMPLE, BANK_FILE_400],
    ),
)
class BankImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = BankImport
    serializer_class = s.BankImportSerializer
    filter_backends = LIST_BACKENDS
    ordering_fields = ("imported_at", "imported_on", "id")
    ordering = ("-imported_at", "-id")
    search_fields = ("file_name",)

    def get_parsers(self):
        if getattr(self, "action", None) == "create" or self.request is None or self.request.method == "POST":
            return [
                MultiPartParser(),
                RawFileParser(),
                TextXmlParser(),
                PlainTextParser(),
                OctetStreamParser(),
                JSONParser(),
                FormParser(),
            ]
        return super().get_parsers()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # the key (tenant) and its scope first
        if self.action == "create":
            self._read_body(request)

    @staticmethod
    def _read_body(request) -> None:
        """Refuse a body over the limit before reading it; then read it once, so the Idempotency-Key's
        fingerprint and the parsers see the same bytes (Django's own in-memory limit is for forms)."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BANK_FILE + MAX_UPLOAD_OVERHEAD:
            raise FileTooLarge()
        django_request = request._request
        if not hasattr(django_request, "_body"):
            django_request._body = django_request.read()
            django_request._stream = io.BytesIO(django_request._body)

    def create(self, request):
        data = request.data
        upload_name = None
        if isinstance(data, bytes | str):
            content = data.encode() if isinstance(data, str) else data
        else:
            upload = data.get("file") if hasattr(data, "get") else None
            if not hasattr(upload, "read"):
                raise serializers.ValidationError(
                    {
                        "file": [
                            _(
                                "Send the bank file as 'file' in a multipart form, or as the body with "
                                "Content-Type application/xml or text/plain."
                            )
                        ]
                    }
                )
            if upload.size > MAX_BANK_FILE:
                raise FileTooLarge()
            content = upload.read()
            upload_name = upload.name
        if len(content) > MAX_BANK_FILE:
            raise FileTooLarge()
        if not content.strip():
            raise serializers.ValidationError({"file": [_("The file is empty.")]})
        name = _clean_file_name(request.query_params.get("file_name") or upload_name, content)
        result = bank.bank_file_import(actor=self.actor, data=content, file_name=name, on=business_today())
        body = s.BankImportSerializer(result.bank_import).data
        body["already_imported"] = result.already_imported
        body["incoming_payments"] = s.IncomingPaymentSerializer(
            [_with_import(p, result.bank_import) for p in result.incoming], many=True
        ).data
        return Response(body, status=status.HTTP_200_OK if result.already_imported else status.HTTP_201_CREATED)


def _with_import(incoming: IncomingPayment, bank_import: BankImport) -> IncomingPayment:
    incoming.bank_import = bank_import  # already loaded: no query per row
    return incoming


# ================================================================ incoming payments


QUEUE = "queue"
ALL = "all"
QUEUE_Q = Q(status=IncomingPaymentStatus.UNMATCHED) | Q(
    status__in=[IncomingPaymentStatus.MATCHED, IncomingPaymentStatus.MATCHED_BY_STAFF], unapplied__gt=0
)


class IncomingPaymentFilter(django_filters.rest_framework.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(QUEUE, QUEUE), (ALL, ALL), *IncomingPaymentStatus.choices],
        method="filter_status",
        help_text="queue (the default: unmatched, and matched with an unapplied surplus), all, or one status.",
    )
    bank_import = _int_filter("bank_import_id", "Id of the bank file import.")
    invoice = _int_filter("invoice_id", "Id of the invoice it was booked on.")
    booked_from = django_filters.DateFilter(field_name="booked_on", lookup_expr="gte")
    booked_to = django_filters.DateFilter(field_name="booked_on", lookup_expr="lte")

    class Meta:
        model = IncomingPayment
        fields = ("status", "bank_import", "invoice", "booked_from", "booked_to")
        form = type("BookedRangeForm", (RangeForm,), {"ranges": (("booked_from", "booked_to"),)})

    def filter_status(self, queryset, name, value):
        if value == QUEUE:
            return queryset.filter(QUEUE_Q)
        if value == ALL:
            return queryset
        return queryset.filter(status=value)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(QUEUE_Q)
        return queryset


INCOMING_ID = _ids("id")


@extend_schema(tags=["incoming-payments"])
@extend_schema_view(
    list=extend_schema(
        summary="Payments from bank files (by default the unmatched queue)",
        description=(
            "Without `status`: the queue staff resolve — unmatched payments and matched ones with an unapplied "
            "surplus — oldest first. `status=all` or one status (matched, unmatched, matched_by_staff, "
            "resolved_refund, resolved_credit); an unknown status is a 400. Filters: `bank_import`, `invoice`, "
            "`booked_from` / `booked_to`."
        ),
    ),
    retrieve=extend_schema(summary="One incoming payment", parameters=INCOMING_ID),
)
class IncomingPaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = IncomingPayment
    serializer_class = s.IncomingPaymentSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = IncomingPaymentFilter
    search_fields = ("payer_name", "kid", "reference", "message")
    ordering_fields = ("booked_on", "amount", "id")
    ordering = ("booked_on", "id")

    def scope_queryset(self, queryset):
        return queryset.select_related("bank_import", "invoice").defer("invoice__document")

    def filter_queryset(self, queryset):
        # The list's filters (and its default, the queue) are for the list: one payment is found by its id
        # whatever its status.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @extend_schema(
        summary="Book an unmatched payment on an invoice (read-write key)",
        description=(
            "Up to what is outstanding on the invoice; the rest stays `unapplied` for a refund or credit. Only an "
            "unmatched payment can be matched (400 on `incoming`); a paid, credited or draft invoice, a credit "
            "note or another currency is a 400 on `invoice`."
        ),
        parameters=INCOMING_ID,
        request=s.MatchInputSerializer,
        responses={200: s.IncomingPaymentSerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("Invoice 41", value={"invoice": 41, "note": "KID mistyped"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def match(self, request, pk=None):
        incoming = self.get_object()
        data = _checked(s.MatchInputSerializer, request.data)
        invoice = data["invoice"]
        if invoice.kind != InvoiceKind.INVOICE or invoice.status not in PAYABLE or invoice.outstanding <= ZERO:
            raise serializers.ValidationError(
                {
                    "invoice": [
                        _("Invoice %(n)s has nothing to pay: it is paid, credited, a draft or a credit note.")
                        % {"n": invoice.number or invoice.pk}
                    ]
                }
            )
        bank.incoming_payment_match(
            actor=self.actor, incoming=incoming, invoice=invoice, on=business_today(), note=data.get("note") or ""
        )
        return self.respond(incoming)

    @extend_schema(
        summary="Resolve a payment as refunded or kept as credit (read-write key)",
        description=(
            "For an unmatched payment or a matched one's unapplied surplus: `how` refund (paid back to the payer) "
            "or credit (kept as credit on the customer's account), and a `note` saying what was done. A booked "
            "payment stays booked."
        ),
        parameters=INCOMING_ID,
        request=s.ResolveInputSerializer,
        responses={200: s.IncomingPaymentSerializer, 400: BAD_REQUEST},
        examples=[
            OpenApiExample("Refunded", value={"how": "refund", "note": "Tilbakebetalt 2026-04-22"}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        incoming = self.get_object()
        data = _checked(s.ResolveInputSerializer, request.data)
        bank.incoming_payment_resolve(
            actor=self.actor, incoming=incoming, how=data["how"], note=data["note"], on=business_today()
        )
        return self.respond(incoming)


# ================================================================ payment default


class DefaultCaseFilter(django_filters.rest_framework.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("open", "open"), *DefaultStatus.choices],
        method="filter_status",
        help_text="open (every status but closed), notice, awaiting, suspended, paused or closed.",
    )
    customer = _int_filter("customer_id", "Id of the customer.")
    contract = _int_filter("contract_id", "Id of the contract.")

    class Meta:
        model = DefaultCase
        fields = ("status", "customer", "contract")

    def filter_status(self, queryset, name, value):
        if value == "open":
            return queryset.exclude(status=DefaultStatus.CLOSED)
        return queryset.filter(status=value)


CASE_ID = _ids("id")


@extend_schema(tags=["default-cases"])
@extend_schema_view(
    list=extend_schema(
        summary="Payment-default cases",
        description="Newest first. Filters: `status` (`open` for all but closed), `customer`, `contract`.",
    ),
    retrieve=extend_schema(summary="One payment-default case", parameters=CASE_ID),
)
class DefaultCaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = DefaultCase
    serializer_class = s.DefaultCaseSerializer
    filter_backends = FILTER_BACKENDS
    filterset_class = DefaultCaseFilter
    ordering_fields = ("opened_on", "stop_on", "id")
    ordering = ("-opened_on", "-id")

    def scope_queryset(self, queryset):
        return queryset.select_related("contract", "customer", "invoice").defer(
            "invoice__document", "customer__registry"
        )

    @extend_schema(
        summary="Suspend the contract (read-write key)",
        description=(
            "Confirms the suspension of a case whose notice period is over (policy: staff confirm). Before the "
            "day in the notice is a 400 on `on`; a case not waiting for suspension, or whose arrears are paid, "
            "a 400 on `status`."
        ),
        parameters=CASE_ID,
        request=None,
        responses={200: s.DefaultCaseSerializer, 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        from receivables.default import default_case_suspend

        case = self.get_object()
        if request.data:
            _checked(NoInputSerializer, request.data)
        default_case_suspend(actor=self.actor, case=case, on=business_today())
        return self.respond(case)

    @extend_schema(
        summary="Close the case (read-write key)",
        description=(
            "E.g. an agreed payment plan: service comes back if it was stopped, and the invoices past due today "
            "open no new case. `reason` is required; a closed case is a 400 on `status`."
        ),
        parameters=CASE_ID,
        request=s.CloseCaseInputSerializer,
        responses={200: s.DefaultCaseSerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("Payment plan", value={"reason": "Avtalt nedbetalingsplan"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        from receivables.default import default_case_close

        case = self.get_object()
        data = _checked(s.CloseCaseInputSerializer, request.data)
        default_case_close(actor=self.actor, case=case, on=business_today(), reason=data["reason"])
        return self.respond(case)


class NoInputSerializer(StrictInputMixin, serializers.Serializer):
    """No fields: anything sent is an unknown field."""


# ================================================================ collection policies

POLICY_ID = _ids("id")
POLICY_EXAMPLE = OpenApiExample(
    "Piscator (SSA-L)",
    request_only=True,
    value={
        "name": "SSA-L",
        "plan": "piscator-standard",
        "interest": "ssal",
        "interest_invoicing": "on_payment",
        "dunning_steps": [
            {"kind": "reminder", "after_days": 14, "days_to_pay": 14, "fee": "reminder"},
            {"kind": "warning", "after_days": 1, "days_to_pay": 14, "fee": "none"},
            {"kind": "final", "after_days": 1, "days_to_pay": 14, "fee": "none"},
        ],
        "default_action": "suspend",
        "default_after_days": 14,
        "suspend_notice_business_days": 14,
        "suspend_confirm": "automatic",
        "material_breach_days": 30,
    },
)
STEP_400 = OpenApiExample(
    "A warning with 10 days to pay",
    response_only=True,
    status_codes=["400"],
    value={
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "The request has errors; see fields. dunning_steps[1].days_to_pay: a debt collection "
            "warning must give at least 14 days to pay (inkassoloven § 9); set 14 or more.",
            "fields": {
                "dunning_steps[1].days_to_pay": [
                    "a debt collection warning must give at least 14 days to pay (inkassoloven § 9); set 14 or more."
                ]
            },
        }
    },
)
POLICY_FIELDS = (
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
POLICY_WRITE = (
    "On create and PUT the fields left out take the built-in values: simple interest invoiced on payment, "
    "minimum 0, the usual three steps (a reminder 14 days after due with the reminder fee, then a written "
    "reminder and a final notice with 14 days to pay), no default action. Bad values are a 400 per field; an "
    "invalid step names the step (from 0) and the field: `dunning_steps[1].days_to_pay`. One policy per plan "
    "and one default (no plan): a second is a 400 on `plan`."
)


def _built_in_values() -> dict:
    from receivables.policies import built_in

    policy = built_in()
    return {name: getattr(policy, name) for name in POLICY_FIELDS if name not in ("name", "plan")} | {"plan": None}


@extend_schema(tags=["collection-policies"])
@extend_schema_view(
    list=extend_schema(
        summary="Collection policies",
        description="The tenant's default (no plan) and one per plan: interest, reminder steps, payment default. "
        "A contract uses its own, else its plan's, else the default, else the built-in rules.",
    ),
    retrieve=extend_schema(summary="One collection policy", parameters=POLICY_ID),
    create=extend_schema(
        summary="Create a collection policy (read-write key)",
        description=POLICY_WRITE,
        request=s.CollectionPolicyInputSerializer,
        responses={201: s.CollectionPolicySerializer, 400: BAD_REQUEST},
        examples=[POLICY_EXAMPLE, STEP_400],
    ),
    update=extend_schema(
        summary="Replace a collection policy (read-write key)",
        description=POLICY_WRITE,
        parameters=POLICY_ID,
        request=s.CollectionPolicyInputSerializer,
        responses={200: s.CollectionPolicySerializer, 400: BAD_REQUEST},
        examples=[POLICY_EXAMPLE, STEP_400],
    ),
    partial_update=extend_schema(
        summary="Change some fields of a collection policy (read-write key)",
        description="The fields given, checked as on create; the others stay as they are.",
        parameters=POLICY_ID,
        request=s.CollectionPolicyInputSerializer,
        responses={200: s.CollectionPolicySerializer, 400: BAD_REQUEST},
        examples=[
            OpenApiExample("Interest monthly", value={"interest_invoicing": "monthly"}, request_only=True),
            STEP_400,
        ],
    ),
)
class CollectionPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = CollectionPolicy
    serializer_class = s.CollectionPolicySerializer
    filter_backends = LIST_BACKENDS
    search_fields = ("name",)
    ordering_fields = ("name", "id")
    ordering = ("name", "id")

    def scope_queryset(self, queryset):
        return queryset.select_related("plan")

    def _input(self, request, partial: bool) -> dict:
        serializer = s.CollectionPolicyInputSerializer(data=request.data, partial=partial)
        if not serializer.is_valid():
            raise serializers.ValidationError(error_paths(serializer.errors))
        return dict(serializer.validated_data)

    def create(self, request):
        from receivables import services

        data = _built_in_values() | self._input(request, partial=False)
        policy = services.collection_policy_create(actor=self.actor, **data)
        return self.respond(policy, status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        from receivables import services

        policy = self.get_object()
        data = _built_in_values() | self._input(request, partial=False)
        policy = services.collection_policy_update(actor=self.actor, policy=policy, **data)
        return self.respond(policy)

    def partial_update(self, request, pk=None):
        from receivables import services

        policy = self.get_object()
        data = self._input(request, partial=True)
        policy = services.collection_policy_update(actor=self.actor, policy=policy, **data)
        return self.respond(policy)

    @extend_schema(
        summary="Give contracts these rules (read-write key)",
        description=(
            "The per-contract switch: the contracts named get this policy instead of their plan's or the "
            "tenant's. `contracts` is a list of contract ids; an id that is not this tenant's is a 400."
        ),
        parameters=POLICY_ID,
        request=s.ContractsInputSerializer,
        responses={200: s.CollectionPolicySerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("Two contracts", value={"contracts": [12, 14]}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        from receivables import services

        policy = self.get_object()
        data = _checked(s.ContractsInputSerializer, request.data)
        for contract in data["contracts"]:
            services.contract_collection_policy_set(actor=self.actor, contract=contract, policy=policy)
        return self.respond(policy)

    @extend_schema(
        summary="Take contracts back to their plan's rules (read-write key)",
        description=(
            "The contracts named lose their own policy (whichever it is) and follow their plan's, else the "
            "tenant's default, again."
        ),
        request=s.ContractsInputSerializer,
        responses={204: None, 400: BAD_REQUEST},
    )
    @action(detail=False, methods=["post"])
    def unassign(self, request):
        from receivables import services

        data = _checked(s.ContractsInputSerializer, request.data)
        for contract in data["contracts"]:
            services.contract_collection_policy_set(actor=self.actor, contract=contract, policy=None)
        return Response(status=status.HTTP_204_NO_CONTENT)
