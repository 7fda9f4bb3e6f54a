"""The pricing API under ``/api/v1``: quotes (priced, and saved), plans and their price versions.

Views are thin: a serializer checks the *shape* of the input (types, with the path of every bad
value, e.g. ``schools[0].pupils``), then :mod:`pricing.services` loads, prices and saves. The engine
says what is wrong with the *content* (zero pupils, overlapping tiers, an interval the plan does not
offer) with the same field paths. Every viewset derives from :class:`TenantScopedViewSet`, so the
key's tenant is the only one there is: another tenant's plan, version or quote is a 404, and its
plan code in a quote is an unknown plan (400).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import django_filters
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, generics, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.models import Product
from config.api import NON_FIELD
from pricing import services
from pricing.engine.errors import PricingError
from pricing.engine.models import check_count
from pricing.engine.quote import PUPILS, UNIT_BY_NAME, UNITS
from pricing.engine.standards import CONCURRENT_USERS
from pricing.models import Plan, PlanVersion, Quote, QuoteStatus
from tenants.api import (
    BAD_REQUEST,
    LIST_BACKENDS,
    ErrorSerializer,
    StrictInputMixin,
    TenantCustomerField,
    TenantScopedViewSet,
)
from tenants.api_auth import HasApiKeyScope
from tenants.jobs import business_today
from tenants.models import VatTreatment

MAX_COUNT = 10_000_000  # more pupils, users or standards than any customer has: a typo, not a quote
MAX_AMOUNT_DIGITS = 14

# ================================================================ input checking with field paths


def _path(prefix: str, key) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    if key == NON_FIELD:
        return prefix or NON_FIELD
    if prefix == "quantities":  # the engine names a count by its key: "active_users"
        return str(key)
    return f"{prefix}.{key}" if prefix else str(key)


def error_paths(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"schools[0].pupils": [...], "standards[3].price": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, str) and key.isdigit() and prefix:
                key = int(key)
            for path, messages in error_paths(value, _path(prefix, key)).items():
                out.setdefault(path, []).extend(messages)
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            if detail:
                out[prefix or NON_FIELD] = [str(item) for item in detail]
        else:
            for i, item in enumerate(detail):
                for path, messages in error_paths(item, f"{prefix}[{i}]").items():
                    out.setdefault(path, []).extend(messages)
    else:
        out[prefix or NON_FIELD] = [str(detail)]
    return out


def validated_with_paths(serializer_class, data, context=None) -> dict:
    serializer = serializer_class(data=data, context=context or {})
    if not serializer.is_valid():
        raise serializers.ValidationError(error_paths(serializer.errors))
    return serializer.validated_data


def _lang() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"


def checked_count(data, field: str, unit) -> int:
    """The engine's count rule (and message) plus an upper bound checked before any conversion, so
    "1e999999999" is refused at once instead of becoming a billion-digit integer."""
    if isinstance(data, str | int) and not isinstance(data, bool):
        try:
            magnitude = Decimal(str(data).strip()).adjusted() if isinstance(data, str) else len(str(abs(data))) - 1
        except (InvalidOperation, ValueError):
            magnitude = 0  # not a number: check_count says so
        if magnitude >= len(str(MAX_COUNT)):
            raise serializers.ValidationError(
                _("That is more than this API prices (at most %(max)s).") % {"max": MAX_COUNT}
            )
    try:
        count = check_count(data, field=field, unit=unit)
    except PricingError as error:
        raise serializers.ValidationError(error.message(_lang())) from error
    if count > MAX_COUNT:
        raise serializers.ValidationError(
            _("That is more than this API prices (at most %(max)s).") % {"max": MAX_COUNT}
        )
    return count


@extend_schema_field({"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}})
class QuantitiesField(serializers.DictField):
    """Counts by name (``{"active_users": 30}``), each checked as a count of its own unit; an error
    is reported under the count's name (``active_users``), as the engine names it."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(_('Give quantities as an object, e.g. {"active_users": 30}.'))
        out, errors = {}, {}
        for name, value in data.items():
            if not name or len(name) > 60:
                raise serializers.ValidationError(_("Name each count, e.g. active_users."))
            try:
                out[name] = checked_count(value, name, UNIT_BY_NAME.get(name, UNITS))
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return out

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "integer", "minimum": 1, "example": 240})
class CountField(serializers.Field):
    """A count of things: a whole number ≥ 1 (the engine's rule and message; 30.0 and "30" pass)."""

    def __init__(self, *, unit=UNITS, **kwargs):
        self.unit = unit
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return checked_count(data, self.field_name or "count", self.unit)

    def to_representation(self, value):
        return value


class AmountField(serializers.DecimalField):
    """A non-negative amount in kroner, as a string ("1200.00") or number; never NaN or Infinity."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MAX_AMOUNT_DIGITS)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(**kwargs)


# ================================================================ quotes: input


class SchoolInputSerializer(StrictInputMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    pupils = CountField(unit=PUPILS, help_text="Pupils at the school: a whole number ≥ 1.")


class StandardInputSerializer(StrictInputMixin, serializers.Serializer):
    """A catalogue code (priced at the catalogue price for 1 January of the start year), or a category
    and a catalogue price (e.g. a standard not in the catalogue)."""

    code = serializers.CharField(max_length=100, required=False, allow_blank=True)
    category = serializers.CharField(max_length=20, required=False, allow_blank=True)
    price = AmountField(required=False, allow_null=True, help_text="Catalogue price (with category).")
    withdrawn_on = serializers.DateField(required=False, allow_null=True)
    added_in_year = serializers.IntegerField(
        required=False, allow_null=True, min_value=1900, max_value=2999, help_text="The contract year it was added."
    )


@extend_schema_field(StandardInputSerializer(many=True))
class StandardsField(serializers.Field):
    """``standards``: the same rules as :class:`StandardInputSerializer`, checked row by row without
    a serializer per row (a collection has hundreds). Errors come back as ``standards[3].price``."""

    KEYS = frozenset(StandardInputSerializer().fields)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.checks = {name: field for name, field in StandardInputSerializer().fields.items()}

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError(_("Give a list of standards."))
        rows, errors = [], {}
        for i, row in enumerate(data):
            if not isinstance(row, dict):
                errors[i] = [_("Give a catalogue code, or a category and a price.")]
                continue
            row_errors, item = {}, {}
            for name, value in row.items():
                if name not in self.KEYS:
                    row_errors[name] = [_("Unknown field; it cannot be set here.")]
                elif (
                    name in ("code", "category")
                    and isinstance(value, str)
                    and len(value) <= self.checks[name].max_length
                ):
                    item[name] = value  # the common case, without a field's machinery
                else:
                    try:
                        item[name] = self.checks[name].run_validation(value)
                    except serializers.ValidationError as exc:
                        row_errors[name] = exc.detail
            if row_errors:
                errors[i] = row_errors
            rows.append(item)
        if errors:
            raise serializers.ValidationError(errors)
        return rows

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.INT)
class QuoteCustomerField(TenantCustomerField):
    pass


class ExtraPrintSerializer(StrictInputMixin, serializers.Serializer):
    code = serializers.CharField(max_length=100, help_text="The standard's catalogue code.")
    count = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, help_text="Prints beyond the allowance.")


class QuoteRequestSerializer(StrictInputMixin, serializers.Serializer):
    """What a quote is priced on. Which fields a plan needs depends on the plan: schools for
    Spekter, ``quantities.active_users`` for DigiReq, standards and concurrent users for Standard
    Norge, nothing but the plan for a fixed price."""

    plan = serializers.CharField(max_length=60, help_text="The plan's code, e.g. spekter-2020.")
    interval = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        help_text="month, quarter or year; the plan's first if left out.",
    )
    date = serializers.DateField(required=False, help_text="The quote's date (default: today in Norway).")
    start = serializers.DateField(
        required=False, allow_null=True, help_text="Contract start: picks the plan version and the first period."
    )
    customer = QuoteCustomerField(
        required=False, allow_null=True, help_text="Customer id: its VAT treatment and sector are used."
    )
    vat_treatment = serializers.ChoiceField(choices=VatTreatment.choices, required=False)
    public_sector = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Default: from the customer's kind."
    )
    contract_months = serializers.IntegerField(
        required=False, min_value=1, max_value=120, help_text="What the procurement estimate covers (default 12)."
    )
    schools = SchoolInputSerializer(many=True, required=False)
    quantities = QuantitiesField(required=False, help_text='Counts by name, e.g. {"active_users": 30}.')
    standards = StandardsField(required=False)
    concurrent_users = CountField(unit=CONCURRENT_USERS, required=False, allow_null=True)
    addons = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, help_text="Add-on codes, e.g. offline."
    )
    addon_amounts = serializers.DictField(
        child=AmountField(), required=False, help_text="An add-on's price agreed in the contract, by code."
    )
    extra_prints = ExtraPrintSerializer(
        many=True, required=False, help_text="Extra prints beyond the allowance, at 30 % of catalogue price."
    )
    save = serializers.BooleanField(
        required=False, default=False, help_text="Save the quote (read-write key): 201 with the saved quote."
    )


def service_request(data: dict) -> dict:
    """The checked input as the JSON the services read (and a saved quote keeps)."""
    out: dict = {"plan": data["plan"]}
    for name in ("interval", "vat_treatment", "concurrent_users", "public_sector", "contract_months"):
        if data.get(name) not in (None, ""):
            out[name] = data[name]
    if data.get("start"):
        out["start"] = data["start"].isoformat()
    if data.get("customer") is not None:
        out["customer"] = data["customer"].pk
    if data.get("schools"):
        out["schools"] = [
            {"name": s.get("name") or f"#{i + 1}", "pupils": s["pupils"]} for i, s in enumerate(data["schools"])
        ]
    if data.get("quantities"):
        out["quantities"] = dict(data["quantities"])
    if data.get("addons"):
        out["addons"] = list(data["addons"])
    if data.get("addon_amounts"):
        out["addon_amounts"] = {k: str(v) for k, v in data["addon_amounts"].items()}
    if data.get("extra_prints"):
        out["extra_prints"] = [{"code": p["code"], "count": p["count"]} for p in data["extra_prints"]]
    if data.get("standards"):
        rows = []
        for row in data["standards"]:
            item = {}
            for name, value in row.items():
                if value in (None, ""):
                    continue
                item[name] = (
                    value.isoformat()
                    if isinstance(value, dt.date)
                    else str(value)
                    if isinstance(value, Decimal)
                    else value
                )
            rows.append(item)
        out["standards"] = rows
    return out


def json_safe(value):
    """The engine's result as plain JSON (an explanation may nest explanations)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "as_dict"):
        return json_safe(value.as_dict())
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# ================================================================ quotes: output (for the schema)


class TextsSerializer(serializers.Serializer):
    nb = serializers.CharField()
    en = serializers.CharField()


class ExplanationStepSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="band, volume_unit, licence_formula, annual_discount, quarters, ...")
    factors = serializers.DictField(help_text="The numbers the amount came from (amounts as strings).")
    nb = serializers.CharField()
    en = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    nb = serializers.CharField(help_text="The whole calculation in Norwegian.")
    en = serializers.CharField(help_text="The whole calculation in English.")
    steps = ExplanationStepSerializer(many=True)


class QuoteLineSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = TextsSerializer()
    quantity = serializers.IntegerField(allow_null=True)
    amount = serializers.CharField(allow_null=True, help_text="Rounded to the øre; null when on request.")
    on_request = serializers.BooleanField()
    reason = TextsSerializer(allow_null=True)
    explanation = ExplanationSerializer()


class VatLineSerializer(serializers.Serializer):
    rate = serializers.CharField()
    base = serializers.CharField()
    amount = serializers.CharField()
    explanation = ExplanationStepSerializer()


class ReasonsSerializer(serializers.Serializer):
    nb = serializers.ListField(child=serializers.CharField())
    en = serializers.ListField(child=serializers.CharField())


class FirstPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Exclusive.")
    lines = QuoteLineSerializer(many=True)
    currency = serializers.CharField()
    net = serializers.CharField()
    vat = serializers.CharField()
    total = serializers.CharField()
    on_request = serializers.BooleanField()
    vat_lines = VatLineSerializer(many=True)


class ThresholdSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="procurement_rules or doffin")
    amount = serializers.CharField()
    label = TextsSerializer()
    reached = serializers.BooleanField()


class ProcurementSerializer(serializers.Serializer):
    estimated_value = serializers.CharField()
    months = serializers.IntegerField()
    date = serializers.DateField()
    thresholds = ThresholdSerializer(many=True)


class PlanVersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    valid_from = serializers.DateField()


class QuoteResultSerializer(serializers.Serializer):
    plan = serializers.CharField()
    interval = serializers.CharField()
    date = serializers.DateField(help_text="The quote's date.")
    plan_version = PlanVersionRefSerializer()
    lines = QuoteLineSerializer(many=True)
    currency = serializers.CharField()
    net = serializers.CharField()
    vat = serializers.CharField()
    total = serializers.CharField()
    vat_lines = VatLineSerializer(many=True)
    on_request = serializers.BooleanField()
    on_request_reasons = ReasonsSerializer()
    first_period = FirstPeriodSerializer(allow_null=True)
    procurement = ProcurementSerializer(allow_null=True)


class QuoteSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:quote-detail")
    plan = serializers.CharField(source="plan_version.plan.code", read_only=True)
    plan_version = serializers.PrimaryKeyRelatedField(read_only=True)
    request = serializers.JSONField(read_only=True, help_text="The quote request as priced.")
    result = serializers.JSONField(read_only=True, help_text="The priced result, as POST /quotes returns it.")

    class Meta:
        model = Quote
        fields = (
            "id",
            "url",
            "status",
            "customer",
            "plan",
            "plan_version",
            "quoted_on",
            "interval",
            "currency",
            "net",
            "vat",
            "total",
            "on_request",
            "request",
            "result",
            "created_at",
            "created_by",
        )
        read_only_fields = fields


class QuoteFilter(django_filters.rest_framework.FilterSet):
    customer = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="customer_id", help_text="Id of the customer.")
    )
    status = django_filters.ChoiceFilter(choices=QuoteStatus.choices)
    plan = django_filters.CharFilter(field_name="plan_version__plan__code", help_text="Plan code.")
    on_request = django_filters.BooleanFilter()

    class Meta:
        model = Quote
        fields = ("customer", "status", "plan", "on_request")


# ================================================================ quotes: examples (the seed vendors)

SPEKTER_REQUEST = {
    "plan": "spekter-2020",
    "date": "2026-05-01",
    "vat_treatment": "no_25",
    "schools": [
        {"name": "Hundvåg skole", "pupils": 87},
        {"name": "Tjensvoll skole", "pupils": 240},
        {"name": "Hinna skole", "pupils": 1100},
    ],
}
DIGIREQ_REQUEST = {"plan": "digireq-2026", "interval": "year", "quantities": {"active_users": 30}}
STANDARD_NORGE_REQUEST = {
    "plan": "standard-norge-abonnement",
    "date": "2026-05-01",
    "start": "2026-05-10",
    "concurrent_users": 7,
    "addons": ["offline"],
    "standards": [{"code": "NS 8405:2008"}, {"category": "2", "price": "1500.00", "code": "ISO 9001:2015"}],
}
PISCATOR_REQUEST = {"plan": "piscator-standard", "interval": "quarter"}
IDENTUM_REQUEST = {"plan": "identum-eadm", "interval": "month", "addons": ["module_feide"]}

SPEKTER_RESPONSE = {
    "plan": "spekter-2020",
    "interval": "year",
    "date": "2026-05-01",
    "plan_version": {"id": 3, "valid_from": "2020-01-01"},
    "lines": [
        {
            "code": "school_licence",
            "label": {"nb": "Skolelisens: Hundvåg skole", "en": "School licence: Hundvåg skole"},
            "quantity": 87,
            "amount": "2892.00",
            "on_request": False,
            "reason": None,
            "explanation": {
                "nb": "87 elever: trinn 1–100 gir 2\u00a0892,00",
                "en": "87 pupils: band 1–100 gives 2,892.00",
                "steps": [],
            },
        },
        "… 4875.00 (240 pupils), 18525.00 (1,100 pupils)",
    ],
    "currency": "NOK",
    "net": "26292.00",
    "vat": "6573.00",
    "total": "32865.00",
    "on_request": False,
    "on_request_reasons": {"nb": [], "en": []},
    "first_period": None,
    "procurement": None,
}

QUOTE_EXAMPLES = [
    OpenApiExample("Spekter: a kommune with three schools", value=SPEKTER_REQUEST, request_only=True),
    OpenApiExample("DigiReq: 30 active users, billed annually", value=DIGIREQ_REQUEST, request_only=True),
    OpenApiExample("Standard Norge: a collection, 7 users, offline", value=STANDARD_NORGE_REQUEST, request_only=True),
    OpenApiExample("Piscator: fixed price, billed quarterly", value=PISCATOR_REQUEST, request_only=True),
    OpenApiExample("Identum: monthly fee and a module", value=IDENTUM_REQUEST, request_only=True),
    OpenApiExample("Save the quote", value={**DIGIREQ_REQUEST, "customer": 12, "save": True}, request_only=True),
    OpenApiExample("Spekter: priced (abridged)", value=SPEKTER_RESPONSE, response_only=True, status_codes=["200"]),
]


class ReadKeysMayPrice(HasApiKeyScope):
    """Pricing a quote changes nothing, so a read key may; saving one (``"save": true``) needs a
    read-write key, which :meth:`QuoteViewSet.create` checks before it reads anything else."""

    def has_permission(self, request, view):
        if getattr(view, "action", None) == "create":
            if getattr(request, "auth", None) is None:
                raise exceptions.NotAuthenticated(_("Send an API key: 'Authorization: Bearer <key>'."))
            return True
        return super().has_permission(request, view)


def _wants_save(data) -> bool:
    if not isinstance(data, dict):
        return False
    try:
        return data.get("save") in serializers.BooleanField.TRUE_VALUES
    except TypeError:  # an unhashable value: the serializer will say what is wrong with it
        return False


@extend_schema_view(
    list=extend_schema(
        summary="Saved quotes",
        description="Newest first. Filters: `customer` (id), `status`, `plan` (code), `on_request`.",
    ),
    retrieve=extend_schema(summary="One saved quote"),
    create=extend_schema(
        summary="Price a quote (and save it with save: true)",
        description=(
            "Prices the request on the plan version in force on `start` (or the quote date) and returns "
            "the lines with their explanations in Norwegian and English, net, VAT, total, the first "
            "(part) period when `start` is given, and for public-sector buyers the estimated contract "
            "value against the procurement thresholds in force on the quote date. No list price "
            "(e.g. 51 concurrent users at Standard Norge) is still a 200, with `on_request: true` and "
            "the reasons. A read key may price; `save: true` needs a read-write key and answers 201 "
            "with the saved quote. Bad input is a 400 naming the field, e.g. `schools[0].pupils`, "
            "`active_users`, `standards[3]`, `plan`, `interval`."
        ),
        request=QuoteRequestSerializer,
        responses={
            200: QuoteResultSerializer,
            201: OpenApiResponse(QuoteSerializer, description="Saved (`save: true`)."),
            400: BAD_REQUEST,
            403: OpenApiResponse(ErrorSerializer, description="`save: true` with a read-only key."),
        },
        examples=QUOTE_EXAMPLES,
    ),
)
class QuoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Quotes: ``POST`` prices one (any key) or saves one (read-write key); ``GET`` the saved ones."""

    model = Quote
    serializer_class = QuoteSerializer
    permission_classes = [ReadKeysMayPrice]
    filter_backends = LIST_BACKENDS
    filterset_class = QuoteFilter
    ordering_fields = ("quoted_on", "created_at", "total", "id")
    ordering = ("-quoted_on", "-id")

    def scope_queryset(self, queryset):
        return queryset.select_related("plan_version__plan")

    def create(self, request):
        if _wants_save(request.data) and not request.auth.can_write:
            raise exceptions.PermissionDenied(HasApiKeyScope.message)
        data = validated_with_paths(QuoteRequestSerializer, request.data, self.get_serializer_context())
        on = data.get("date") or business_today()
        body = service_request(data)
        try:
            if data["save"]:
                quote = services.quote_save(actor=self.actor, request=body, on=on)
                return self.respond(quote, status.HTTP_201_CREATED)
            result, version, _customer = services.quote_compute(request=body, on=on)
        except ArithmeticError as exc:  # e.g. a price document with absurd amounts
            raise serializers.ValidationError(
                {NON_FIELD: [_("The amounts are too large to price; check the plan's prices.")]}
            ) from exc
        priced = result.as_dict()
        head = {
            "plan": priced.pop("plan"),
            "interval": priced.pop("interval"),
            "date": on.isoformat(),
            "plan_version": {"id": version.pk, "valid_from": version.valid_from.isoformat()},
        }
        return Response(json_safe({**head, **priced}))


# ================================================================ plans and price versions


@extend_schema_field(OpenApiTypes.INT)
class TenantProductField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        "does_not_exist": gettext_lazy("Product {pk_value} does not exist."),
        "incorrect_type": gettext_lazy("Give the product's id as a number, not {data_type}."),
    }

    def get_queryset(self):
        return Product.objects.all()


class PlanSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:plan-detail")
    product_code = serializers.CharField(source="product.code", read_only=True)
    current_version = serializers.SerializerMethodField()
    versions_url = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = (
            "id",
            "url",
            "code",
            "name_nb",
            "name_en",
            "product",
            "product_code",
            "is_active",
            "current_version",
            "versions_url",
            "created_at",
        )
        read_only_fields = fields

    @extend_schema_field(PlanVersionRefSerializer(allow_null=True))
    def get_current_version(self, obj: Plan) -> dict | None:
        today = self.context.get("today") or business_today()
        versions = [v for v in obj.versions.all() if v.valid_from <= today]
        if not versions:
            return None
        version = max(versions, key=lambda v: v.valid_from)
        return {"id": version.pk, "valid_from": version.valid_from.isoformat()}

    @extend_schema_field(OpenApiTypes.URI)
    def get_versions_url(self, obj: Plan) -> str:
        from rest_framework.reverse import reverse

        return reverse("api:plan-version-nested-list", kwargs={"plan_id": obj.pk}, request=self.context["request"])


class PlanInputSerializer(StrictInputMixin, serializers.Serializer):
    product = TenantProductField(help_text="Id of the product the plan prices.")
    code = serializers.SlugField(max_length=60, help_text="Unique per vendor, e.g. digireq-2026.")
    name_nb = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200)


class PlanVersionSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:plan-version-detail")
    plan_code = serializers.CharField(source="plan.code", read_only=True)
    document = serializers.JSONField(read_only=True, help_text="The price document (see docs/api.md).")
    export_url = serializers.SerializerMethodField()

    class Meta:
        model = PlanVersion
        fields = (
            "id",
            "url",
            "plan",
            "plan_code",
            "valid_from",
            "note",
            "document",
            "export_url",
            "created_at",
            "created_by",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_export_url(self, obj: PlanVersion) -> str:
        from rest_framework.reverse import reverse

        return reverse("api:plan-version-export", kwargs={"pk": obj.pk}, request=self.context["request"])


class PlanVersionInputSerializer(StrictInputMixin, serializers.Serializer):
    valid_from = serializers.DateField(help_text="The prices apply from this date.")
    document = serializers.JSONField(help_text="The price document: components, tiers, intervals, ...")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class NamesInputSerializer(StrictInputMixin, serializers.Serializer):
    nb = serializers.CharField(max_length=200)
    en = serializers.CharField(max_length=200)


class PlanVersionExportSerializer(StrictInputMixin, serializers.Serializer):
    """What ``/plan-versions/{id}/export`` gives and ``/plan-versions/import`` takes."""

    plan = serializers.SlugField(max_length=60, help_text="The plan's code (created if new).")
    name = NamesInputSerializer(required=False, help_text="The plan's name, used when the plan is created.")
    product = serializers.SlugField(max_length=60, help_text="The product's code; it must exist.")
    valid_from = serializers.DateField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    document = serializers.JSONField()


def document_shape_guard(call):
    """Run a service that parses a price document; a document of the wrong JSON types (a number
    where a list belongs, ...) is a 400 on ``document``, never a 500."""
    try:
        return call()
    except (TypeError, AttributeError, KeyError, IndexError) as exc:
        raise serializers.ValidationError(
            {
                "document": [
                    _("The price document has the wrong shape (%(what)s); compare it with an exported one.")
                    % {"what": exc.__class__.__name__}
                ]
            }
        ) from exc


PLAN_EXAMPLE = OpenApiExample(
    "A plan",
    request_only=True,
    value={"product": 4, "code": "digireq-2027", "name_nb": "DigiReq", "name_en": "DigiReq"},
)
VERSION_EXAMPLE = OpenApiExample(
    "A price version (DigiReq's volume tiers)",
    request_only=True,
    value={
        "valid_from": "2027-01-01",
        "note": "New prices from 2027",
        "document": {
            "code": "digireq-2026",
            "name": {"nb": "DigiReq, per aktiv bruker", "en": "DigiReq, per active user"},
            "base_period": "month",
            "intervals": ["month", "year"],
            "annual_discount": "0.15",
            "components": [
                {
                    "code": "active_users",
                    "label": {"nb": "DigiReq aktive brukere", "en": "DigiReq active users"},
                    "model": "volume",
                    "quantity": "active_users",
                    "unit": "active_users",
                    "tiers": [
                        {"lower": 1, "upper": 10, "flat_amount": "495"},
                        {"lower": 11, "upper": 50, "unit_price": "75"},
                        {"lower": 51, "upper": 200, "unit_price": "65"},
                        {"lower": 201, "upper": None, "unit_price": "55"},
                    ],
                }
            ],
        },
    },
)
TIER_GAP_ERROR = OpenApiExample(
    "A gap between tiers",
    response_only=True,
    status_codes=["400"],
    value={
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "The request has errors; see fields. components[0].tiers[1]: Gap before tier 2: "
            "11–11 has no price; start it at 11.",
            "fields": {"components[0].tiers[1]": ["Gap before tier 2: 11–11 has no price; start it at 11."]},
        }
    },
)


class PlanFilter(django_filters.rest_framework.FilterSet):
    product = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="product_id", help_text="Id of the product.")
    )
    code = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Plan
        fields = ("product", "code", "is_active")


class PlanVersionFilter(django_filters.rest_framework.FilterSet):
    plan = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="plan_id", help_text="Id of the plan.")
    )

    class Meta:
        model = PlanVersion
        fields = ("plan",)


@extend_schema_view(
    list=extend_schema(summary="Plans", description="Filters: `product` (id), `is_active`; search in code and names."),
    retrieve=extend_schema(summary="One plan, with its version in force today"),
    create=extend_schema(
        summary="Create a plan",
        description="Then add its prices with `POST /plans/{id}/versions`.",
        request=PlanInputSerializer,
        responses={201: PlanSerializer, 400: BAD_REQUEST},
        examples=[PLAN_EXAMPLE],
    ),
)
class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = Plan
    serializer_class = PlanSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = PlanFilter
    search_fields = ("code", "name_nb", "name_en")
    ordering_fields = ("code", "created_at", "id")
    ordering = ("code", "id")

    def scope_queryset(self, queryset):
        return queryset.select_related("product").prefetch_related("versions")

    def create(self, request):
        data = self.validated_input(PlanInputSerializer, request.data)
        plan = services.plan_create(actor=self.actor, **data)
        return self.respond(plan, status.HTTP_201_CREATED)


@extend_schema(parameters=[OpenApiParameter("plan_id", int, OpenApiParameter.PATH, description="Plan id.")])
@extend_schema_view(
    list=extend_schema(summary="A plan's price versions", tags=["plans"], description="Newest `valid_from` first."),
    create=extend_schema(
        summary="Add a price version to a plan",
        tags=["plans"],
        description=(
            "The document is checked by the pricing engine; each problem comes back on its own path, e.g. "
            "`components[0].tiers[1]` for overlapping or gapped tiers. A version in force is never edited: "
            "send a new one with a later `valid_from`."
        ),
        request=PlanVersionInputSerializer,
        responses={201: PlanVersionSerializer, 400: BAD_REQUEST},
        examples=[VERSION_EXAMPLE, TIER_GAP_ERROR],
    ),
)
class PlanVersionNestedViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    model = PlanVersion
    serializer_class = PlanVersionSerializer
    ordering = ("-valid_from", "-id")

    def get_plan(self) -> Plan:
        if not hasattr(self, "_plan"):
            self._plan = generics.get_object_or_404(Plan.objects.all(), pk=self.kwargs["plan_id"])
        return self._plan

    def scope_queryset(self, queryset):
        return queryset.filter(plan=self.get_plan()).select_related("plan").order_by(*self.ordering)

    def create(self, request, plan_id=None):
        plan = self.get_plan()
        data = self.validated_input(PlanVersionInputSerializer, request.data)
        version = document_shape_guard(lambda: services.plan_version_create(actor=self.actor, plan=plan, **data))
        return self.respond(version, status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="All price versions", description="Filter by plan id with `?plan=`."),
    retrieve=extend_schema(summary="One price version, with its document"),
)
class PlanVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = PlanVersion
    serializer_class = PlanVersionSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = PlanVersionFilter
    ordering_fields = ("valid_from", "created_at", "id")
    ordering = ("plan__code", "-valid_from")

    def scope_queryset(self, queryset):
        return queryset.select_related("plan", "plan__product")

    @extend_schema(
        summary="Export a price version as JSON",
        description="The same JSON `POST /plan-versions/import` takes (in this or another vendor's account).",
        responses={200: PlanVersionExportSerializer},
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        return Response(services.plan_version_export(self.get_object()))

    @extend_schema(
        operation_id="plan_versions_import",
        summary="Import an exported price version",
        description=(
            "Creates the plan if this vendor has none with that code (the product must exist), then the "
            "version. The document is checked like `POST /plans/{id}/versions`."
        ),
        request=PlanVersionExportSerializer,
        responses={201: PlanVersionSerializer, 400: BAD_REQUEST},
    )
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_version(self, request):
        data = validated_with_paths(PlanVersionExportSerializer, request.data)
        payload = {
            "plan": data["plan"],
            "product": data["product"],
            "valid_from": data["valid_from"].isoformat(),
            "note": data.get("note", ""),
            "document": data["document"],
        }
        if data.get("name"):
            payload["name"] = dict(data["name"])
        version = document_shape_guard(lambda: services.plan_version_import(actor=self.actor, payload=payload))
        return self.respond(version, status.HTTP_201_CREATED)
