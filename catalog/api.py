"""The catalogue API under ``/api/v1``: products and their add-ons, hourly services, the standards
catalogue's categories, and the standards (with their catalogue price per 1 January of each year).

Thin views over :mod:`catalog.services` (every write audited with the key as actor). Every viewset
derives from :class:`TenantScopedViewSet`, so another tenant's product, category or standard is a
404 like a missing one.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import OuterRef, Q, Subquery
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
from rest_framework import generics, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from catalog import services
from catalog.models import AddOn, HourlyService, Product, Standard, StandardCategory, StandardPrice
from tenants.api import BAD_REQUEST, LIST_BACKENDS, ErrorSerializer, StrictInputMixin, TenantScopedViewSet
from tenants.jobs import business_today

# ================================================================ shared: CRUD over a save service


class ServiceCrudMixin:
    """create / update / partial_update / destroy through a catalogue service."""

    input_serializer_class: type
    save_service = None  # (actor, data, instance) -> obj
    delete_service = None  # (actor, instance) -> None

    def save_object(self, data, instance=None):
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        data = self.validated_input(self.input_serializer_class, request.data)
        return self.respond(self.save_object(data), status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        instance = self.get_object()
        data = self.validated_input(self.input_serializer_class, request.data, partial=partial, instance=instance)
        return self.respond(self.save_object(data, instance))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        self.delete_object(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def crud_schema(noun: str, input_serializer, output_serializer, example: dict, *, in_use: str = ""):
    return extend_schema_view(
        list=extend_schema(summary=f"List {noun}s"),
        retrieve=extend_schema(summary=f"One {noun}"),
        create=extend_schema(
            summary=f"Create a {noun}",
            request=input_serializer,
            responses={201: output_serializer, 400: BAD_REQUEST},
            examples=[OpenApiExample(f"A {noun}", value=example, request_only=True)],
        ),
        update=extend_schema(
            summary=f"Replace a {noun}'s fields", request=input_serializer, responses={200: output_serializer}
        ),
        partial_update=extend_schema(
            summary=f"Change some of a {noun}'s fields", request=input_serializer, responses={200: output_serializer}
        ),
        destroy=extend_schema(
            summary=f"Delete a {noun}",
            description=in_use or None,
            responses={204: None, 400: OpenApiResponse(ErrorSerializer, description="Still in use.")},
        ),
    )


CRUD_MIXINS = (
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
)

# ================================================================ products and add-ons


class ProductSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:product-detail")
    addons_url = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ("id", "url", *services.PRODUCT_FIELDS, "addons_url")
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_addons_url(self, obj: Product) -> str:
        return reverse("api:product-addon-list", kwargs={"product_id": obj.pk}, request=self.context["request"])


class ProductInputSerializer(StrictInputMixin, serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = services.PRODUCT_FIELDS


class AddOnSerializer(serializers.ModelSerializer):
    class Meta:
        model = AddOn
        fields = ("id", "product", *services.ADDON_FIELDS)
        read_only_fields = fields


class AddOnInputSerializer(StrictInputMixin, serializers.ModelSerializer):
    class Meta:
        model = AddOn
        fields = services.ADDON_FIELDS


class ProductFilter(django_filters.rest_framework.FilterSet):
    code = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Product
        fields = ("code", "is_active")


class HourlyServiceFilter(ProductFilter):
    class Meta:
        model = HourlyService
        fields = ("code", "is_active")


PRODUCT_EXAMPLE = {"code": "digireq", "name_nb": "DigiReq", "name_en": "DigiReq", "description": "Kravstyring"}


@crud_schema(
    "product",
    ProductInputSerializer,
    ProductSerializer,
    PRODUCT_EXAMPLE,
    in_use="Refused (400) while a plan prices it; deleting a product deletes its add-ons.",
)
class ProductViewSet(ServiceCrudMixin, *CRUD_MIXINS, TenantScopedViewSet):
    model = Product
    serializer_class = ProductSerializer
    input_serializer_class = ProductInputSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = ProductFilter
    search_fields = ("code", "name_nb", "name_en")
    ordering_fields = ("code", "id")
    ordering = ("code", "id")

    def save_object(self, data, instance=None):
        return services.product_save(actor=self.actor, data=data, product=instance)

    def delete_object(self, instance):
        services.product_delete(actor=self.actor, product=instance)


@extend_schema(parameters=[OpenApiParameter("product_id", int, OpenApiParameter.PATH, description="Product id.")])
@crud_schema(
    "product add-on",
    AddOnInputSerializer,
    AddOnSerializer,
    {"code": "offline", "name_nb": "Offlineløsning", "name_en": "Offline solution"},
)
class ProductAddOnViewSet(ServiceCrudMixin, *CRUD_MIXINS, TenantScopedViewSet):
    """A product's add-ons; an add-on's ``code`` is its component's code in the product's plans."""

    model = AddOn
    serializer_class = AddOnSerializer
    input_serializer_class = AddOnInputSerializer
    ordering = ("code", "id")

    def get_product(self) -> Product:
        if not hasattr(self, "_product"):
            self._product = generics.get_object_or_404(Product.objects.all(), pk=self.kwargs["product_id"])
        return self._product

    def scope_queryset(self, queryset):
        return queryset.filter(product=self.get_product()).order_by(*self.ordering)

    def save_object(self, data, instance=None):
        return services.addon_save(actor=self.actor, product=self.get_product(), data=data, addon=instance)

    def delete_object(self, instance):
        services.addon_delete(actor=self.actor, addon=instance)


# ================================================================ hourly services


class HourlyServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = HourlyService
        fields = ("id", *services.HOURLY_FIELDS)
        read_only_fields = fields


class HourlyServiceInputSerializer(StrictInputMixin, serializers.ModelSerializer):
    class Meta:
        model = HourlyService
        fields = services.HOURLY_FIELDS


@crud_schema(
    "hourly service",
    HourlyServiceInputSerializer,
    HourlyServiceSerializer,
    {
        "code": "konsulent",
        "name_nb": "Konsulenttime",
        "name_en": "Consulting hour",
        "hourly_rate": "1250.00",
        "travel_share": "0.500",
        "increment_minutes": 30,
    },
)
class HourlyServiceViewSet(ServiceCrudMixin, *CRUD_MIXINS, TenantScopedViewSet):
    """Billable time; travel time at ``travel_share`` of the rate (50 % by default)."""

    model = HourlyService
    serializer_class = HourlyServiceSerializer
    input_serializer_class = HourlyServiceInputSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = HourlyServiceFilter
    search_fields = ("code", "name_nb", "name_en")
    ordering_fields = ("code", "hourly_rate", "id")
    ordering = ("code", "id")

    def save_object(self, data, instance=None):
        return services.hourly_service_save(actor=self.actor, data=data, service=instance)

    def delete_object(self, instance):
        services.hourly_service_delete(actor=self.actor, service=instance)


# ================================================================ standard categories


class StandardCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = StandardCategory
        fields = ("id", *services.CATEGORY_FIELDS)
        read_only_fields = fields


class StandardCategoryInputSerializer(StrictInputMixin, serializers.ModelSerializer):
    class Meta:
        model = StandardCategory
        fields = services.CATEGORY_FIELDS


@crud_schema(
    "standard category",
    StandardCategoryInputSerializer,
    StandardCategorySerializer,
    {
        "code": "5",
        "name_nb": "Thomson Reuters m.fl.",
        "name_en": "Thomson Reuters et al.",
        "users_one_level_higher": True,
        "building_blocks": True,
        "yearly_prices_fetched": True,
    },
    in_use="Refused (400) while standards are in the category.",
)
class StandardCategoryViewSet(ServiceCrudMixin, *CRUD_MIXINS, TenantScopedViewSet):
    """The goods categories (varekategorier) of the standards catalogue, with their special rules."""

    model = StandardCategory
    serializer_class = StandardCategorySerializer
    input_serializer_class = StandardCategoryInputSerializer
    filter_backends = LIST_BACKENDS
    search_fields = ("code", "name_nb", "name_en")
    ordering_fields = ("code", "id")
    ordering = ("code", "id")

    def save_object(self, data, instance=None):
        return services.category_save(actor=self.actor, data=data, category=instance)

    def delete_object(self, instance):
        services.category_delete(actor=self.actor, category=instance)


# ================================================================ standards


class YearField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1900)
        kwargs.setdefault("max_value", 2999)
        super().__init__(*args, **kwargs)


class YearFilter(django_filters.Filter):
    field_class = YearField


WITHDRAWN_CHOICES = (("yes", "yes"), ("no", "no"), ("true", "true"), ("false", "false"))


class StandardFilter(django_filters.rest_framework.FilterSet):
    category = django_filters.CharFilter(field_name="category__code", help_text="Category code, e.g. 1.")
    withdrawn = django_filters.ChoiceFilter(
        choices=WITHDRAWN_CHOICES, method="filter_withdrawn", help_text="yes: withdrawn on or before today; no: not."
    )
    year = extend_schema_field(OpenApiTypes.INT)(
        YearFilter(method="with_year", help_text="Include each standard's catalogue price for 1 January of this year.")
    )

    class Meta:
        model = Standard
        fields = ("category", "withdrawn", "year")

    def filter_withdrawn(self, queryset, name, value):
        withdrawn = Q(withdrawn_on__isnull=False, withdrawn_on__lte=business_today())
        return queryset.filter(withdrawn) if value in ("yes", "true") else queryset.exclude(withdrawn)

    def with_year(self, queryset, name, value):
        if value is None:
            return queryset
        price = StandardPrice.objects.filter(standard=OuterRef("pk"), year=value).values("price")[:1]
        return queryset.annotate(year_price=Subquery(price))


class StandardSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:standard-detail")
    category = serializers.CharField(source="category.code", read_only=True, help_text="Category code.")
    year = serializers.SerializerMethodField(help_text="The year of `price` (from ?year=), else null.")
    price = serializers.SerializerMethodField(help_text="Catalogue price for 1 January of ?year=; null if none.")

    class Meta:
        model = Standard
        fields = ("id", "url", "code", "title", "category", "withdrawn_on", "year", "price")
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_year(self, obj) -> int | None:
        return self.context.get("year")

    @extend_schema_field({"type": "string", "format": "decimal", "nullable": True, "example": "1200.00"})
    def get_price(self, obj) -> str | None:
        price = getattr(obj, "year_price", None)
        return None if price is None else f"{price:.2f}"


class StandardPriceSerializer(serializers.ModelSerializer):
    class Meta:
        model = StandardPrice
        fields = ("year", "price")
        read_only_fields = fields


class StandardDetailSerializer(StandardSerializer):
    prices = StandardPriceSerializer(
        many=True, read_only=True, help_text="Catalogue price per 1 January, newest first."
    )

    class Meta(StandardSerializer.Meta):
        fields = (*StandardSerializer.Meta.fields, "prices")
        read_only_fields = fields


class StandardsUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV: code,title,category,price[,withdrawn_on] (UTF-8, header row).")


class ImportResultSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    created = serializers.IntegerField(help_text="New standards.")
    updated = serializers.IntegerField(help_text="Standards whose title, category or withdrawal changed.")
    prices = serializers.IntegerField(help_text="Catalogue prices set for the year.")


class CsvParser(BaseParser):
    """``text/csv``: the body is the file (bytes; decoded by the view)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


class PlainTextParser(CsvParser):
    media_type = "text/plain"


IMPORT_ERROR = OpenApiExample(
    "Bad rows (nothing was imported)",
    response_only=True,
    status_codes=["400"],
    value={
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "The request has errors; see fields. file: Line 3: category is empty: every standard needs "
            "a category. file: Line 5: price '12,x' is not an amount ≥ 0.",
            "fields": {
                "file": [
                    "Line 3: category is empty: every standard needs a category.",
                    "Line 5: price '12,x' is not an amount ≥ 0.",
                ]
            },
        }
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="The standards catalogue",
        description=(
            "Filters: `category` (code), `withdrawn` (yes/no), `search` (code and title), `year` (adds "
            "`price`, the catalogue price for 1 January of that year)."
        ),
    ),
    retrieve=extend_schema(summary="One standard, with its catalogue price for every year"),
)
class StandardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = Standard
    serializer_class = StandardSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = StandardFilter
    search_fields = ("code", "title")
    ordering_fields = ("code", "title", "withdrawn_on", "id")
    ordering = ("code", "id")

    def get_serializer_class(self):
        return StandardDetailSerializer if self.action == "retrieve" else StandardSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        raw = self.request.query_params.get("year") if getattr(self, "request", None) else None
        if raw and raw.isdigit():
            context["year"] = int(raw)
        return context

    def scope_queryset(self, queryset):
        queryset = queryset.select_related("category")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("prices")
        return queryset

    @extend_schema(
        operation_id="standards_import",
        summary="Import the standards catalogue and its prices for a year (CSV)",
        description=(
            "Send the CSV as the body (`Content-Type: text/csv`) or as `file` in a multipart form. "
            "Columns: `code,title,category,price[,withdrawn_on]`; the category must exist. New codes are "
            "added, known ones updated, and each row's price becomes its catalogue price for 1 January of "
            "`year`. Every bad row is reported in `error.fields.file` with its line number, and then nothing "
            "is imported."
        ),
        parameters=[
            OpenApiParameter("year", int, OpenApiParameter.QUERY, required=True, description="e.g. 2026"),
        ],
        request={"text/csv": OpenApiTypes.STR, "multipart/form-data": StandardsUploadSerializer},
        responses={200: ImportResultSerializer, 400: BAD_REQUEST},
        examples=[IMPORT_ERROR],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[CsvParser, PlainTextParser, MultiPartParser, FormParser, JSONParser],
    )
    def import_csv(self, request):
        raw_year = request.query_params.get("year", "")
        if not (raw_year.isdigit() and 1900 <= int(raw_year) <= 2999):
            raise serializers.ValidationError(
                {"year": [_("Give the year of the prices, e.g. ?year=2026 (the prices apply from 1 January).")]}
            )
        content = request.data
        if not isinstance(content, bytes | str):
            upload = content.get("file") if hasattr(content, "get") else None
            if hasattr(upload, "read"):
                content = upload.read()
            elif isinstance(upload, str):
                content = upload
            else:
                raise serializers.ValidationError(
                    {"file": [_("Send the CSV as the body (Content-Type: text/csv) or as 'file' in a form.")]}
                )
        if isinstance(content, bytes):
            try:
                content = content.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise serializers.ValidationError(
                    {"file": [_("The file is not UTF-8 text; save it as CSV UTF-8.")]}
                ) from exc
        result = services.standards_import_csv(actor=self.actor, text=content, year=int(raw_year))
        return Response(
            {"year": int(raw_year), "created": result.created, "updated": result.updated, "prices": result.prices}
        )
