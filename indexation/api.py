"""The indexation API under ``/api/v1`` (CPI indexation, RULES §7; see docs/indexation-api.md): index series and
their values (with this tenant's values entered by hand), indexation policies, proposals (list, approve, reject,
approve all of a policy's for a date, an increase above the index), a contract's price history, and the run.

Thin, like the rest of the API: serializers check the shape of the input, then one function of
:mod:`indexation.services` (or :mod:`pricing.index_services`, :mod:`indexation.history`) does the work with the
key as actor; its ``ValidationError`` is a 400 per field. Policies and proposals are tenant-owned and read through
:class:`TenantScopedViewSet`, so another tenant's is a 404; a hand-entered value is looked up through the
tenant's own manager, so another tenant's is a 404 too. Index series and SSB's published values are public
figures shared by every tenant. Amounts, index values and factors are strings; dates are ISO 8601; months are
``YYYY-MM``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _
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
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse

from billing.api import MoneyField, TenantContractField
from config.api import NON_FIELD
from contracts.api import InputDateField, PlanCodeField
from contracts.models import Contract
from indexation import history, services
from indexation.models import IndexationProposal, ProposalStatus
from indexation.presets import PRESETS
from pricing import index_services
from pricing import indexation as ix
from pricing.api import TextsSerializer, error_paths
from pricing.index_data import as_date
from pricing.models import (
    IndexationPolicy,
    IndexSeries,
    IndexValue,
    IndexValueOverride,
    PolicyApproval,
    PolicyScope,
)
from tenants.api import (
    BAD_REQUEST,
    LIST_BACKENDS,
    ErrorSerializer,
    StrictInputMixin,
    TenantAPIView,
    TenantScopedViewSet,
)
from tenants.jobs import business_today

ON_HELP = "The business date it is done on (default: today in Norway)."
INDEX = dict(max_digits=10, decimal_places=3)
FACTOR = dict(max_digits=12, decimal_places=8)


def _checked(serializer_class, data, context=None, **kwargs) -> dict:
    serializer = serializer_class(data=data, context=context or {}, **kwargs)
    if not serializer.is_valid():
        raise serializers.ValidationError(error_paths(serializer.errors))
    return dict(serializer.validated_data)


def _texts(nb: str, en: str) -> dict:
    return {"nb": nb, "en": en}


def _month_text(day: dt.date | None) -> str | None:
    return None if day is None else f"{day.year:04d}-{day.month:02d}"


# ================================================================ fields


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2025-10"})
class MonthField(serializers.Field):
    """A month as ``YYYY-MM`` out (stored as its first day)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return _month_text(value)


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2025-10", "nullable": True})
class NullableMonthField(MonthField):
    pass


@extend_schema_field(OpenApiTypes.INT)
class TenantPolicyField(serializers.PrimaryKeyRelatedField):
    """A policy id of *this* tenant; another tenant's 'does not exist', like an unknown one."""

    default_error_messages = {
        "does_not_exist": gettext_lazy("Indexation policy {pk_value} does not exist."),
        "incorrect_type": gettext_lazy("Give the policy's id as a number, not {data_type}."),
    }

    def get_queryset(self):
        return IndexationPolicy.objects.all()


# ================================================================ index series and values


class LatestValueSerializer(serializers.Serializer):
    month = MonthField()
    value = serializers.DecimalField(**INDEX)


class IndexSeriesSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="indexation_api:index-series-detail", lookup_field="code")
    name = serializers.SerializerMethodField()
    short_name = serializers.SerializerMethodField()
    closed_after = serializers.SerializerMethodField(
        help_text="The last month of a closed series (2015 = 100 ends with 2025-12); null while SSB publishes it."
    )
    latest = serializers.SerializerMethodField(help_text="SSB's latest month stored, and its value.")
    values_url = serializers.SerializerMethodField()

    class Meta:
        model = IndexSeries
        fields = (
            "code",
            "url",
            "index_code",
            "name",
            "short_name",
            "table",
            "base",
            "base_year",
            "closed_after",
            "published_from",
            "latest",
            "fetched_at",
            "fetch_error",
            "values_url",
        )
        read_only_fields = fields
        extra_kwargs = {
            "index_code": {"help_text": "The index a policy names (kpi, kpi-services-wages); one per base."},
            "table": {"help_text": "SSB's table number."},
            "published_from": {"help_text": "The day SSB first published this series (null: long before)."},
            "fetched_at": {"help_text": "The last successful fetch from SSB."},
            "fetch_error": {"help_text": "Why the last fetch failed, in words; empty when it worked."},
        }

    @extend_schema_field(TextsSerializer)
    def get_name(self, obj: IndexSeries) -> dict:
        return _texts(obj.name_nb, obj.name_en)

    @extend_schema_field(TextsSerializer)
    def get_short_name(self, obj: IndexSeries) -> dict:
        return _texts(obj.short_nb, obj.short_en)

    @extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2025-12", "nullable": True})
    def get_closed_after(self, obj: IndexSeries) -> str | None:
        return _month_text(as_date(ix.parse_month(obj.closed_after))) if obj.closed_after else None

    @extend_schema_field(LatestValueSerializer(allow_null=True))
    def get_latest(self, obj: IndexSeries) -> dict | None:
        month = getattr(obj, "latest_month", None)
        if month is None:
            return None
        return LatestValueSerializer({"month": month, "value": obj.latest_value}).data

    @extend_schema_field(OpenApiTypes.URI)
    def get_values_url(self, obj: IndexSeries) -> str:
        return reverse("indexation_api:index-series-values", kwargs={"code": obj.code}, request=self.context["request"])


class IndexValueRowSerializer(serializers.Serializer):
    month = MonthField()
    value = serializers.DecimalField(**INDEX)
    hand_entered = serializers.BooleanField(help_text="True: entered by this tenant's staff, not published by SSB.")
    in_use = serializers.BooleanField(
        help_text="False for a hand-entered value once SSB's own value for the month is stored (SSB's is used)."
    )
    id = serializers.IntegerField(allow_null=True, help_text="The hand-entered value's id; null for SSB's.")
    source = serializers.CharField(help_text="Where SSB's value was fetched from; for a hand-entered one, its note.")
    note = serializers.CharField(help_text="Where a hand-entered value comes from; empty for SSB's.")
    entered_by = serializers.CharField(help_text="Who entered a value by hand; empty for SSB's.")
    recorded_at = serializers.DateTimeField(help_text="When it was fetched or entered.")


class IndexValuesSerializer(serializers.Serializer):
    series = serializers.CharField()
    base = serializers.CharField()
    values = IndexValueRowSerializer(many=True, help_text="Oldest first; SSB's before a hand-entered one.")

    def get_fields(self):
        # ``from`` is a keyword in Python: the months asked for are added here, not in the class body.
        fields = super().get_fields()
        values = fields.pop("values")
        fields["from"] = NullableMonthField(help_text="The first month asked for (null: from the first).")
        fields["to"] = NullableMonthField(help_text="The last month asked for (null: to the latest).")
        fields["values"] = values
        return fields


def _published_row(v: IndexValue) -> dict:
    return {
        "month": v.month,
        "value": v.value,
        "hand_entered": False,
        "in_use": True,
        "id": None,
        "source": v.source,
        "note": "",
        "entered_by": "",
        "recorded_at": v.fetched_at,
    }


def _override_row(o: IndexValueOverride, published: set[dt.date]) -> dict:
    return {
        "month": o.month,
        "value": o.value,
        "hand_entered": True,
        "in_use": o.month not in published,
        "id": o.pk,
        "source": o.note,
        "note": o.note,
        "entered_by": o.entered_by,
        "recorded_at": o.created_at,
    }


class IndexValueInputSerializer(StrictInputMixin, serializers.Serializer):
    month = serializers.CharField(max_length=10, help_text="The month, 2025-10 (or SSB's 2025M10).")
    value = serializers.DecimalField(max_digits=10, decimal_places=3, help_text="The index, e.g. 138.4 (> 0).")
    note = serializers.CharField(max_length=300, help_text="Where the value comes from (required).")


def _month_param(request, name: str) -> ix.Month | None:
    raw = request.query_params.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return ix.parse_month(raw)
    except ix.IndexationError as error:
        raise serializers.ValidationError({name: [_("Give a month as 2025-10 (or 2025M10).")]}) from error


SERIES_CODE = OpenApiParameter(
    "code", str, OpenApiParameter.PATH, description="The series' code, e.g. kpi-2025 (see GET /index-series)."
)
MONTH_PARAM = OpenApiParameter("month", str, OpenApiParameter.PATH, description="The month, 2025-10.")
VALUE_EXAMPLE = {
    "month": "2026-05",
    "value": "103.100",
    "hand_entered": True,
    "in_use": True,
    "id": 7,
    "source": "SSB press release 10 June 2026",
    "note": "SSB press release 10 June 2026",
    "entered_by": "API key Integration (ab12cd)",
    "recorded_at": "2026-06-11T08:02:11Z",
}


@extend_schema(tags=["indexation"])
@extend_schema_view(
    list=extend_schema(
        summary="Index series",
        description="The series Avtale knows (RULES §7), with SSB's latest month and value, when it was last "
        "fetched and the last fetch's error in words. Shared by every tenant.",
    ),
    retrieve=extend_schema(summary="One index series", parameters=[SERIES_CODE]),
)
class IndexSeriesViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.ViewSetMixin, TenantAPIView):
    """SSB's index series (public figures) and, per month, SSB's values and this tenant's hand-entered ones."""

    serializer_class = IndexSeriesSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        latest = IndexValue.objects.filter(series=OuterRef("pk")).order_by("-month")
        return IndexSeries.objects.annotate(
            latest_month=Subquery(latest.values("month")[:1]), latest_value=Subquery(latest.values("value")[:1])
        ).order_by("index_code", "-base_year", "code")

    @extend_schema(
        methods=["GET"],
        summary="A series' values by month",
        description=(
            "SSB's published values and this tenant's values entered by hand (`hand_entered: true`), oldest "
            "first. A hand-entered value is used only while SSB's own value for the month is not stored "
            "(`in_use`). `from` and `to` (2024-01, 2025-12) limit the months, both included."
        ),
        parameters=[
            SERIES_CODE,
            OpenApiParameter("from", str, OpenApiParameter.QUERY, description="First month, e.g. 2024-01."),
            OpenApiParameter("to", str, OpenApiParameter.QUERY, description="Last month, e.g. 2025-12."),
        ],
        responses={
            200: IndexValuesSerializer,
            400: OpenApiResponse(ErrorSerializer, description="A bad `from` or `to`."),
        },
    )
    @extend_schema(
        methods=["POST"],
        summary="Enter a month's value by hand (read-write key)",
        description=(
            "While SSB cannot be reached: this tenant's own value for a month whose SSB value is not stored. "
            "Refused (400 per field, nothing written) for a value of 0 or less, a month not ended yet, a month "
            "SSB's value is stored for, a month after the series closed, or without a note. Entering a month "
            "again replaces this tenant's earlier value (200); a new one is 201. An unknown series is 404."
        ),
        parameters=[SERIES_CODE],
        request=IndexValueInputSerializer,
        responses={
            201: IndexValueRowSerializer,
            200: OpenApiResponse(IndexValueRowSerializer, description="An earlier hand-entered value replaced."),
            400: BAD_REQUEST,
        },
        examples=[
            OpenApiExample(
                "May 2026 while SSB is down",
                value={"month": "2026-05", "value": "103.1", "note": "SSB press release 10 June 2026"},
                request_only=True,
            ),
            OpenApiExample("Entered", value=VALUE_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def values(self, request, code=None):
        series = self.get_object()
        if request.method == "POST":
            return self._enter(request, series)
        first, last = _month_param(request, "from"), _month_param(request, "to")
        if first and last and first > last:
            raise serializers.ValidationError({"to": [_("The last month comes on or after the first.")]})
        published = IndexValue.objects.filter(series=series).order_by("month")
        overrides = IndexValueOverride.objects.filter(series=series).order_by("month")
        if first:
            published, overrides = (
                published.filter(month__gte=as_date(first)),
                overrides.filter(month__gte=as_date(first)),
            )
        if last:
            published, overrides = (
                published.filter(month__lte=as_date(last)),
                overrides.filter(month__lte=as_date(last)),
            )
        published = list(published)
        months = {v.month for v in published}
        rows = [_published_row(v) for v in published] + [_override_row(o, months) for o in overrides]
        rows.sort(key=lambda r: (r["month"], r["hand_entered"]))
        body = {
            "series": series.code,
            "base": series.base,
            "from": as_date(first) if first else None,
            "to": as_date(last) if last else None,
            "values": rows,
        }
        return Response(IndexValuesSerializer(body).data)

    def _enter(self, request, series: IndexSeries) -> Response:
        data = _checked(IndexValueInputSerializer, request.data)
        try:
            month = ix.parse_month(data["month"])
        except ix.IndexationError:
            month = None  # the service says what is wrong with it, with the other fields' messages
        existed = month is not None and IndexValueOverride.objects.filter(series=series, month=as_date(month)).exists()
        override = index_services.index_value_enter(
            actor=self.actor,
            series=series,
            month=data["month"],
            value=data["value"],
            note=data["note"],
            today=business_today(),
        )
        published = set(IndexValue.objects.filter(series=series, month=override.month).values_list("month", flat=True))
        return Response(
            IndexValueRowSerializer(_override_row(override, published)).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Remove a value entered by hand (read-write key)",
        description="This tenant's hand-entered value for the month. SSB's values cannot be removed; a month "
        "without a hand-entered value (or another tenant's) is 404.",
        parameters=[SERIES_CODE, MONTH_PARAM],
        request=None,
        responses={204: None, 400: OpenApiResponse(ErrorSerializer, description="Not a month.")},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"values/(?P<month>[^/]+)",
        url_name="value",
        pagination_class=None,
        filter_backends=[],
    )
    def value_delete(self, request, code=None, month=None):
        series = self.get_object()
        try:
            parsed = ix.parse_month(month)
        except ix.IndexationError as error:
            raise serializers.ValidationError({"month": [_("Give a month as 2025-10 (or 2025M10).")]}) from error
        override = generics.get_object_or_404(IndexValueOverride.objects.all(), series=series, month=as_date(parsed))
        index_services.index_value_override_delete(actor=self.actor, override=override)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ================================================================ policies


def _choices(field_name: str) -> list:
    return list(IndexationPolicy._meta.get_field(field_name).choices)


class IndexationPolicySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="indexation_api:indexation-policy-detail")
    scope = serializers.CharField(
        read_only=True, help_text="What is indexed: contract (each contract's price), list (the plan's price list), "
        "catalogue (the standards catalogue)."
    )  # fmt: skip
    plan = serializers.CharField(source="plan.code", read_only=True, allow_null=True, help_text="The plan's code.")
    proposals_url = serializers.SerializerMethodField()

    class Meta:
        model = IndexationPolicy
        fields = (
            "id",
            "url",
            "code",
            "name_nb",
            "name_en",
            "scope",
            "plan",
            "index_code",
            "timing",
            "reference",
            "measure_month",
            "measure_day",
            "cap",
            "notice_months",
            "notice_days",
            "above_cap_notice_months",
            "above_cap_may_terminate",
            "minimum_notice_months",
            "minimum_notice_days",
            "whole_kroner",
            "falling",
            "approval",
            "first_effective_on",
            "is_active",
            "proposals_url",
            "created_at",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_proposals_url(self, obj: IndexationPolicy) -> str:
        url = reverse("indexation_api:indexation-proposal-list", request=self.context["request"])
        return f"{url}?policy={obj.pk}"


POLICY_REQUIRED = ("code", "name_nb", "name_en", "scope", "index_code", "timing", "reference", "cap", "falling",
                   "approval")  # fmt: skip
POLICY_FIXED = ("preset", "code", "minimum_notice_months", "minimum_notice_days")
# The rules name a notice or a measure date as a whole; the API names the fields it came in.
POLICY_ERROR_FIELDS = {
    "notice": ("notice_months", "notice_days"),
    "measure": ("measure_month", "measure_day"),
    "above_cap_notice": ("above_cap_notice_months",),
    "rounding": ("whole_kroner",),
    "policy": (NON_FIELD,),
    "__all__": (NON_FIELD,),
}


class IndexationPolicyInputSerializer(StrictInputMixin, serializers.Serializer):
    """One shape for creating (POST) and changing (PATCH) a policy; PATCH refuses ``preset``, ``code`` and the
    contract's minimum notice (400): those are fixed when the policy is made."""

    # Not an enum in the schema: the contracts API's ``preset`` (terms) has other values under the same name.
    preset = serializers.CharField(
        required=False,
        help_text="Start from a seed vendor's policy (RULES §2–§7): " + ", ".join(sorted(PRESETS)) + ". The fields "
        "given override it. POST only.",
    )
    code = serializers.SlugField(max_length=60, required=False, help_text="Unique per vendor. POST only.")
    name_nb = serializers.CharField(max_length=200, required=False)
    name_en = serializers.CharField(max_length=200, required=False)
    scope = serializers.ChoiceField(choices=PolicyScope.choices, required=False, help_text="What is indexed.")
    plan = PlanCodeField(
        required=False, allow_null=True, help_text="The plan's code: its list (list, catalogue) or its contracts."
    )
    index_code = serializers.SlugField(max_length=60, required=False, help_text="kpi or kpi-services-wages.")
    timing = serializers.ChoiceField(choices=_choices("timing"), required=False)
    reference = serializers.ChoiceField(choices=_choices("reference"), required=False)
    measure_month = serializers.IntegerField(min_value=1, max_value=12, required=False, allow_null=True)
    measure_day = serializers.IntegerField(min_value=1, max_value=31, required=False, allow_null=True)
    cap = serializers.ChoiceField(choices=_choices("cap"), required=False)
    notice_months = serializers.IntegerField(min_value=0, max_value=24, required=False)
    notice_days = serializers.IntegerField(min_value=0, max_value=366, required=False)
    above_cap_notice_months = serializers.IntegerField(min_value=1, max_value=24, required=False, allow_null=True)
    above_cap_may_terminate = serializers.BooleanField(required=False)
    minimum_notice_months = serializers.IntegerField(
        min_value=0, max_value=24, required=False, help_text="What the contract demands (POST only)."
    )
    minimum_notice_days = serializers.IntegerField(
        min_value=0, max_value=366, required=False, help_text="What the contract demands (POST only)."
    )
    whole_kroner = serializers.BooleanField(required=False)
    falling = serializers.ChoiceField(choices=_choices("falling"), required=False)
    approval = serializers.ChoiceField(choices=PolicyApproval.choices, required=False)
    is_active = serializers.BooleanField(required=False)

    def validate_preset(self, value: str) -> str:
        if value not in PRESETS:
            raise serializers.ValidationError(
                _("Unknown preset; use one of %(names)s.") % {"names": ", ".join(sorted(PRESETS))}
            )
        return value


def _policy_errors(error: DjangoValidationError, given) -> DjangoValidationError:
    """The service's error with the rules' names (``notice``) as the request's fields (``notice_days``)."""
    if not hasattr(error, "error_dict"):
        return error
    out: dict[str, list[str]] = {}
    for key, errors in error.error_dict.items():
        messages = [m for e in errors for m in e.messages]
        messages = [m[len(key) + 2 :] if m.startswith(f"{key}: ") else m for m in messages]
        candidates = POLICY_ERROR_FIELDS.get(key, (key,))
        targets = [name for name in candidates if name in given] or list(candidates)
        for name in targets:
            out.setdefault(name, []).extend(messages)
    return DjangoValidationError(out)


class PolicyFilter(django_filters.rest_framework.FilterSet):
    scope = django_filters.ChoiceFilter(choices=PolicyScope.choices)
    plan = django_filters.CharFilter(field_name="plan__code", help_text="Plan code.")
    index_code = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = IndexationPolicy
        fields = ("scope", "plan", "index_code", "is_active")


POLICY_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Policy id.")


@extend_schema(tags=["indexation"])
@extend_schema_view(
    list=extend_schema(
        summary="Indexation policies",
        description="Filters: `scope`, `plan` (code), `index_code`, `is_active`.",
    ),
    retrieve=extend_schema(summary="One indexation policy", parameters=[POLICY_ID]),
    create=extend_schema(
        summary="Create an indexation policy (read-write key)",
        description=(
            "From a `preset` (spekter, standard-norge, piscator, digireq, identum) and/or the fields, which override "
            "the preset's. Checked by the rules: an unknown index, a list or catalogue policy without a plan, a "
            "measure date half given, a notice shorter than the contract's minimum (on `notice_days` / "
            "`notice_months`), an above-cap notice not longer than the ordinary one are 400 per field."
        ),
        request=IndexationPolicyInputSerializer,
        responses={201: IndexationPolicySerializer, 400: BAD_REQUEST},
        examples=[
            OpenApiExample(
                "Identum's policy on its plan",
                value={"preset": "identum", "plan": "identum-eadm"},
                request_only=True,
            ),
            OpenApiExample(
                "Explicit: 1 January, up to CPI, 6 months' notice above it",
                value={
                    "code": "kpi-1-januar",
                    "name_nb": "1. januar, inntil KPI",
                    "name_en": "1 January, up to CPI",
                    "scope": "contract",
                    "plan": "digireq-2026",
                    "index_code": "kpi",
                    "timing": "january",
                    "reference": "twelve_months",
                    "measure_month": 12,
                    "measure_day": 15,
                    "cap": "index",
                    "above_cap_notice_months": 6,
                    "above_cap_may_terminate": True,
                    "falling": "keep",
                    "approval": "staff",
                },
                request_only=True,
            ),
        ],
    ),
    partial_update=extend_schema(
        summary="Change an indexation policy (read-write key)",
        description=(
            "The fields given, checked as on create. `preset`, `code` and the contract's minimum notice cannot be "
            "changed (400); a notice shorter than that minimum is a 400 on the notice field given."
        ),
        parameters=[POLICY_ID],
        request=IndexationPolicyInputSerializer,
        responses={200: IndexationPolicySerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("Staff approve", value={"approval": "staff"}, request_only=True)],
    ),
)
class IndexationPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """How a price list's or a contract's prices follow an index, as data (RULES §7)."""

    model = IndexationPolicy
    serializer_class = IndexationPolicySerializer
    filter_backends = LIST_BACKENDS
    filterset_class = PolicyFilter
    search_fields = ("code", "name_nb", "name_en")
    ordering_fields = ("code", "created_at", "id")
    ordering = ("code", "id")

    def scope_queryset(self, queryset):
        return queryset.select_related("plan")

    def create(self, request):
        data = _checked(IndexationPolicyInputSerializer, request.data, self.get_serializer_context())
        preset = data.pop("preset", None)
        merged = {**(PRESETS[preset] if preset else {}), **data}
        missing = {name: [_("This field is required.")] for name in POLICY_REQUIRED if merged.get(name) in (None, "")}
        if missing:
            raise serializers.ValidationError(missing)
        try:
            policy = services.policy_create(actor=self.actor, data=merged)
        except DjangoValidationError as exc:
            raise _policy_errors(exc, data) from exc
        return self.respond(policy, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        policy = self.get_object()
        fixed = {
            name: [_("This cannot be changed once the policy is made.")]
            for name in POLICY_FIXED
            if hasattr(request.data, "keys") and name in request.data
        }
        data = _checked(IndexationPolicyInputSerializer, request.data, self.get_serializer_context(), partial=True)
        if fixed:
            raise serializers.ValidationError(fixed)
        try:
            policy = services.policy_update(actor=self.actor, policy=policy, data=data)
        except DjangoValidationError as exc:
            raise _policy_errors(exc, data) from exc
        return self.respond(policy)


# ================================================================ proposals


class IndexationProposalSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="indexation_api:indexation-proposal-detail")
    policy_code = serializers.CharField(source="policy.code", read_only=True)
    scope = serializers.CharField(read_only=True, help_text="contract, list or catalogue (the policy's, as it was).")
    contract = serializers.IntegerField(source="contract_id", read_only=True, allow_null=True)
    contract_reference = serializers.CharField(source="contract.reference", read_only=True, allow_null=True)
    customer = serializers.IntegerField(source="contract.customer_id", read_only=True, allow_null=True)
    customer_name = serializers.CharField(source="contract.customer.name", read_only=True, allow_null=True)
    plan = serializers.CharField(source="plan.code", read_only=True, allow_null=True, help_text="List and catalogue.")
    series = serializers.CharField(
        source="series.code", read_only=True, allow_null=True, help_text="The index series both months were read from."
    )
    reference_month = NullableMonthField()
    new_month = NullableMonthField()
    reference_value = serializers.DecimalField(**INDEX, read_only=True, allow_null=True)
    new_value = serializers.DecimalField(**INDEX, read_only=True, allow_null=True)
    index_factor = serializers.DecimalField(
        **FACTOR, read_only=True, allow_null=True, help_text="new index / reference index."
    )
    requested_factor = serializers.DecimalField(
        **FACTOR, read_only=True, allow_null=True, help_text="An increase asked for above the index (1.09 = +9 %)."
    )
    factor = serializers.DecimalField(
        **FACTOR, read_only=True, allow_null=True, help_text="The factor applied (after the cap, or as requested)."
    )
    change_percent = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True, allow_null=True)
    rounding = serializers.DecimalField(
        max_digits=3, decimal_places=2, read_only=True, help_text="0.01 (øre) or 1.00 (whole kroner)."
    )
    old_amount = MoneyField(read_only=True, allow_null=True, help_text="The yearly price before.")
    new_amount = MoneyField(read_only=True, allow_null=True, help_text="The yearly price after.")
    revenue_effect = MoneyField(read_only=True, allow_null=True, help_text="new_amount − old_amount, a year.")
    explanation = serializers.SerializerMethodField(help_text="How the new price was computed, in nb and en.")
    waiting_reason = serializers.SerializerMethodField(help_text="Why it waits (status waiting), in nb and en.")
    plan_version = serializers.IntegerField(
        source="plan_version_id", read_only=True, allow_null=True, help_text="The new price list (list, applied)."
    )

    class Meta:
        model = IndexationProposal
        fields = (
            "id",
            "url",
            "status",
            "policy",
            "policy_code",
            "scope",
            "contract",
            "contract_reference",
            "customer",
            "customer_name",
            "plan",
            "effective_on",
            "series",
            "base",
            "reference_month",
            "new_month",
            "reference_value",
            "new_value",
            "index_factor",
            "requested_factor",
            "factor",
            "change_percent",
            "capped",
            "above_cap",
            "kept",
            "rounding",
            "old_amount",
            "new_amount",
            "revenue_effect",
            "customers_affected",
            "notice_by",
            "notice_sent_on",
            "late_notice",
            "may_terminate",
            "explanation",
            "waiting_reason",
            "decided_by",
            "decided_on",
            "applied_on",
            "plan_version",
            "created_on",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields
        extra_kwargs = {
            "capped": {"help_text": "The index change was more than the cap allows."},
            "above_cap": {"help_text": "An increase above the cap (announced with the longer notice)."},
            "kept": {"help_text": "The index fell and the policy keeps the price."},
            "notice_by": {"help_text": "The customer must be told by this day (null: no notice needed)."},
            "may_terminate": {"help_text": "The customer may terminate before the change takes effect."},
            "created_on": {"help_text": "The run's (or the request's) business date."},
        }

    @extend_schema_field(TextsSerializer)
    def get_explanation(self, obj: IndexationProposal) -> dict:
        return _texts(obj.explanation_nb, obj.explanation_en)

    @extend_schema_field(TextsSerializer(allow_null=True))
    def get_waiting_reason(self, obj: IndexationProposal) -> dict | None:
        if not (obj.waiting_nb or obj.waiting_en):
            return None
        return _texts(obj.waiting_nb, obj.waiting_en)


class ApproveInputSerializer(StrictInputMixin, serializers.Serializer):
    on = InputDateField(required=False, help_text=ON_HELP)


class RejectInputSerializer(StrictInputMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Why it is rejected (kept in the audit log).")
    on = InputDateField(required=False, help_text=ON_HELP)


class ApproveAllInputSerializer(StrictInputMixin, serializers.Serializer):
    policy = TenantPolicyField(help_text="The policy's id.")
    effective_on = InputDateField(help_text="The date the proposals take effect.")
    on = InputDateField(required=False, help_text=ON_HELP)


class ApproveAllSerializer(serializers.Serializer):
    policy = serializers.IntegerField()
    effective_on = serializers.DateField()
    approved = serializers.IntegerField(help_text="How many were approved now.")
    still_proposed = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of those left awaiting approval (e.g. their notice date has passed); approve or reject "
        "them one by one to see why.",
    )


class IncreaseInputSerializer(StrictInputMixin, serializers.Serializer):
    contract = TenantContractField(help_text="The contract's id.")
    percent = serializers.DecimalField(
        max_digits=7, decimal_places=4, help_text="The increase in per cent, more than 0 and at most 100 (e.g. 9)."
    )
    effective_on = InputDateField(help_text="A date the policy changes prices on (DigiReq: 1 January).")
    on = InputDateField(required=False, help_text="The day it is asked for (default: today in Norway).")


class ProposalFilter(django_filters.rest_framework.FilterSet):
    status = django_filters.ChoiceFilter(choices=ProposalStatus.choices)
    scope = django_filters.ChoiceFilter(choices=PolicyScope.choices)
    policy = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="policy_id", help_text="Id of the policy.")
    )
    contract = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="contract_id", help_text="Id of the contract.")
    )
    customer = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="contract__customer_id", help_text="Id of the contract's customer.")
    )
    effective_on = django_filters.DateFilter(help_text="Takes effect on this date.")
    effective_from = django_filters.DateFilter(field_name="effective_on", lookup_expr="gte")
    effective_to = django_filters.DateFilter(field_name="effective_on", lookup_expr="lte")

    class Meta:
        model = IndexationProposal
        fields = (
            "status",
            "scope",
            "policy",
            "contract",
            "customer",
            "effective_on",
            "effective_from",
            "effective_to",
        )


PROPOSAL_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Proposal id.")
PROPOSAL_EXAMPLE = {
    "id": 31,
    "status": "proposed",
    "policy": 4,
    "policy_code": "kpi-1-januar",
    "scope": "contract",
    "contract": 17,
    "contract_reference": "AVT-2024-0003",
    "customer": 9,
    "customer_name": "Drammen kommune",
    "plan": None,
    "effective_on": "2025-01-01",
    "series": "kpi-2015",
    "base": "2015=100",
    "reference_month": "2023-11",
    "new_month": "2024-11",
    "reference_value": "131.700",
    "new_value": "135.000",
    "index_factor": "1.02505695",
    "requested_factor": None,
    "factor": "1.02505695",
    "change_percent": "2.51",
    "capped": False,
    "above_cap": False,
    "kept": False,
    "rounding": "0.01",
    "old_amount": "79560.00",
    "new_amount": "81553.56",
    "revenue_effect": "1993.56",
    "customers_affected": 1,
    "notice_by": None,
    "notice_sent_on": None,
    "may_terminate": False,
    "explanation": {"nb": "Prisjustert etter KPI: …", "en": "Price indexed by CPI: …"},
    "waiting_reason": None,
}
STATE_400 = OpenApiResponse(
    ErrorSerializer, description="Not allowed in the proposal's status (on `status`), or too late (`notice_by`)."
)


@extend_schema(tags=["indexation"])
@extend_schema_view(
    list=extend_schema(
        summary="Indexation proposals",
        description=(
            "Newest date first. Filters: `status` (waiting, proposed, approved, applied, rejected, withdrawn), "
            "`scope`, `policy`, `contract`, `customer` (ids), `effective_on`, `effective_from` / `effective_to`."
        ),
    ),
    retrieve=extend_schema(
        summary="One indexation proposal",
        description="Its inputs (series, base, months and values, factors), the preview (yearly price before and "
        "after, change, customers affected), the notice, the explanation in nb and en, and the decision.",
        parameters=[PROPOSAL_ID],
        examples=[OpenApiExample("DigiReq, up to CPI", value=PROPOSAL_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Propose an increase above the index on a contract (read-write key)",
        description=(
            "The vendor asks for `percent` on a contract from `effective_on` (a date its policy changes prices "
            "on). Proposed for approval with the policy's above-cap notice (DigiReq: 6 months, and the customer may "
            "then terminate); the customer is told when it is approved. An open proposal of the contract for that "
            "date becomes this one (200); otherwise a new one (201). Too late for the notice, a bad date, a "
            "contract without a policy or not running, or more than one change in 12 months is a 400 per field."
        ),
        request=IncreaseInputSerializer,
        responses={
            201: IndexationProposalSerializer,
            200: OpenApiResponse(IndexationProposalSerializer, description="The open proposal for the date, changed."),
            400: BAD_REQUEST,
        },
        examples=[
            OpenApiExample(
                "DigiReq: 9 % from 1 January 2026",
                value={"contract": 17, "percent": "9", "effective_on": "2026-01-01", "on": "2025-06-20"},
                request_only=True,
            )
        ],
    ),
)
class IndexationProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """What an indexation makes a price, previewed, approved (or rejected) and applied on its date."""

    model = IndexationProposal
    serializer_class = IndexationProposalSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = ProposalFilter
    search_fields = ("contract__reference", "contract__customer__name", "policy__code")
    ordering_fields = ("effective_on", "created_at", "id")
    ordering = ("-effective_on", "id")

    def scope_queryset(self, queryset):
        return queryset.select_related("policy", "contract", "contract__customer", "plan", "series")

    def create(self, request):
        data = _checked(IncreaseInputSerializer, request.data, self.get_serializer_context())
        existed = IndexationProposal.objects.filter(
            contract=data["contract"], effective_on=data["effective_on"]
        ).exists()
        proposal = services.increase_request(
            actor=self.actor,
            contract=data["contract"],
            percent=Decimal(data["percent"]),
            effective_on=data["effective_on"],
            on=data.get("on") or business_today(),
        )
        return self.respond(proposal, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        summary="Approve a proposal",
        description=(
            "It takes effect on its date (at once when that date has come: the price adjustment is made now); the "
            "customer is told now where the policy demands notice. Approving an approved or applied proposal "
            "changes nothing (200, one price however often). A waiting, rejected or withdrawn one is a 400 on "
            "`status`; after its notice date a 400 on `notice_by`."
        ),
        parameters=[PROPOSAL_ID],
        request=ApproveInputSerializer,
        responses={200: IndexationProposalSerializer, 400: STATE_400},
        examples=[OpenApiExample("Today", value={}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        proposal = self.get_object()
        on = _checked(ApproveInputSerializer, request.data).get("on") or business_today()
        proposal = services.proposal_approve(actor=self.actor, proposal=proposal, on=on)
        return self.respond(proposal)

    @extend_schema(
        summary="Reject a proposal",
        description="A waiting or proposed one; its date is not proposed again. Rejecting twice changes nothing; "
        "an approved or applied one is a 400 on `status`.",
        parameters=[PROPOSAL_ID],
        request=RejectInputSerializer,
        responses={200: IndexationProposalSerializer, 400: STATE_400},
        examples=[OpenApiExample("Not this year", value={"reason": "Kampanje: ingen økning i år"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        proposal = self.get_object()
        data = _checked(RejectInputSerializer, request.data)
        proposal = services.proposal_reject(
            actor=self.actor, proposal=proposal, on=data.get("on") or business_today(), reason=data["reason"]
        )
        return self.respond(proposal)

    @extend_schema(
        summary="Approve every proposal of a policy for a date",
        description="Each proposed one of `policy` taking effect on `effective_on`, one by one as if approved "
        "singly; those that cannot be approved stay proposed (`still_proposed`).",
        request=ApproveAllInputSerializer,
        responses={200: ApproveAllSerializer, 400: BAD_REQUEST},
        examples=[
            OpenApiExample("1 January 2025", value={"policy": 4, "effective_on": "2025-01-01"}, request_only=True)
        ],
    )
    @action(detail=False, methods=["post"], url_path="approve-all", pagination_class=None, filter_backends=[])
    def approve_all(self, request):
        data = _checked(ApproveAllInputSerializer, request.data, self.get_serializer_context())
        policy, effective_on = data["policy"], data["effective_on"]
        done = services.proposals_approve(
            actor=self.actor, policy=policy, effective_on=effective_on, on=data.get("on") or business_today()
        )
        left = IndexationProposal.objects.filter(
            policy=policy, effective_on=effective_on, status=ProposalStatus.PROPOSED
        ).order_by("pk")
        body = {
            "policy": policy.pk,
            "effective_on": effective_on,
            "approved": done,
            "still_proposed": list(left.values_list("pk", flat=True)),
        }
        return Response(ApproveAllSerializer(body).data)


# ================================================================ a contract's price history


class PriceHistoryEntrySerializer(serializers.Serializer):
    effective_from = serializers.DateField()
    reason = serializers.ChoiceField(
        choices=sorted(history.REASONS),
        help_text="start, amendment, indexation, list (a new price list), catalogue (new catalogue prices), renewal.",
    )
    reason_label = TextsSerializer()
    yearly_price = MoneyField(allow_null=True)
    previous_yearly_price = MoneyField(allow_null=True)
    change = MoneyField(allow_null=True, help_text="yearly_price − previous_yearly_price.")
    explanation = TextsSerializer()
    proposal = serializers.IntegerField(allow_null=True, help_text="The indexation proposal behind it, if any.")
    announced = serializers.BooleanField(help_text="An approved change that takes effect later.")


class PriceHistorySerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    contract_reference = serializers.CharField()
    on = serializers.DateField(help_text="The history as of this date (later approved changes are `announced`).")
    entries = PriceHistoryEntrySerializer(many=True, help_text="Oldest first.")


class PriceHistoryQuerySerializer(serializers.Serializer):
    on = InputDateField(required=False)


def _entry(e: history.PriceHistoryEntry) -> dict:
    nb, en = history.REASONS[e.reason]
    return {
        "effective_from": e.effective_from,
        "reason": e.reason,
        "reason_label": _texts(nb, en),
        "yearly_price": e.yearly_price,
        "previous_yearly_price": e.previous_yearly_price,
        "change": e.change,
        "explanation": _texts(e.explanation_nb, e.explanation_en),
        "proposal": e.proposal_id,
        "announced": e.announced,
    }


class ContractPriceHistoryView(TenantAPIView):
    """``/contracts/{id}/price-history``: the contract's yearly price over time, and why."""

    serializer_class = PriceHistorySerializer

    @extend_schema(
        operation_id="contracts_price_history",
        tags=["contracts"],
        summary="A contract's price history",
        description=(
            "Its yearly price from the start: amendments, CPI indexations (with their inputs in the explanation), "
            "a new price list at a renewal, the new year's catalogue prices; then approved changes that take "
            "effect later (`announced`). Another tenant's contract is 404."
        ),
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="Contract id."),
            OpenApiParameter(
                "on", OpenApiTypes.DATE, OpenApiParameter.QUERY, description="As of (default: today in Norway)."
            ),
        ],
        responses={200: PriceHistorySerializer, 400: OpenApiResponse(ErrorSerializer, description="A bad `on`.")},
    )
    def get(self, request, pk=None):
        contract = generics.get_object_or_404(Contract.objects.all(), pk=pk)
        on = _checked(PriceHistoryQuerySerializer, request.query_params).get("on") or business_today()
        body = {
            "contract": contract.pk,
            "contract_reference": contract.reference,
            "on": on,
            "entries": [_entry(e) for e in history.price_history(contract, today=on)],
        }
        return Response(PriceHistorySerializer(body).data)


# ================================================================ the run


class RunInputSerializer(StrictInputMixin, serializers.Serializer):
    as_of = InputDateField(required=False, help_text="The run's date (default: today in Norway).")
    dry_run = serializers.BooleanField(required=False, default=False, help_text="Report only; write nothing.")


class RunReportSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    dry_run = serializers.BooleanField()
    proposed = serializers.IntegerField(help_text="New proposals awaiting approval.")
    approved = serializers.IntegerField(help_text="Approved automatically (the policy says so).")
    notices = serializers.IntegerField(help_text="Price-change letters sent to customers.")
    applied = serializers.IntegerField(help_text="New prices that took effect.")
    waiting = serializers.IntegerField(help_text="Proposals waiting for an index month.")
    withdrawn = serializers.IntegerField(help_text="Approved changes dropped because the contract ends first.")
    waiting_reasons = serializers.DictField(child=serializers.IntegerField(), help_text="Reason → how many.")
    errors = serializers.ListField(child=serializers.CharField(), help_text="A policy that failed, in words.")


class IndexationRunView(TenantAPIView):
    """``/indexation-runs``: the indexation job for the key's tenant, now."""

    serializer_class = RunReportSerializer

    @extend_schema(
        operation_id="indexation_runs_create",
        tags=["indexation"],
        summary="Run the indexation for a date (read-write key)",
        description=(
            "What the nightly job does on `as_of` for this tenant: proposals for indexations due, waiting ones "
            "computed once their index is there, notices, and approved changes applied on their date. Rerunning a "
            "date makes nothing twice. `dry_run`: the same report, nothing written. Runs in the request."
        ),
        request=RunInputSerializer,
        responses={200: RunReportSerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("15 December 2024", value={"as_of": "2024-12-15"}, request_only=True)],
    )
    def post(self, request):
        data = _checked(RunInputSerializer, request.data)
        report = services.indexation_run(as_of=data.get("as_of") or business_today(), dry_run=data["dry_run"])
        return Response(RunReportSerializer(report.as_dict()).data)
