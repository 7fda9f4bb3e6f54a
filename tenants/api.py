"""The REST API under ``/api/v1``: serializers, one tenant-scoped base view, and the viewsets.

How tenancy holds here: :class:`tenants.api_auth.ApiKeyAuthentication` activates the key's tenant;
:class:`TenantScopedViewSet` owns ``get_queryset`` and always starts from ``Model.objects`` (the
tenant-filtered manager, backed by row-level security), so no endpoint can forget the tenant and
another tenant's id is simply "not found" (404). Every write calls a service in
``tenants/services.py`` with the key as actor; serializers only shape input and output.
"""

from __future__ import annotations

from collections.abc import Mapping

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from config import api as api_errors
from tenants import brreg, idempotency, services, tenancy
from tenants.audit import Actor
from tenants.models import (
    ActorKind,
    ApiKey,
    ApiKeyScope,
    AuditEvent,
    Contact,
    ContactRole,
    Customer,
    CustomerKind,
    Tenant,
    VatTreatment,
    Verification,
)
from tenants.validation import format_org_number, normalise_org_number, validate_org_number

# ================================================================ the error format in OpenAPI


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(help_text="Machine-readable: invalid, not_authenticated, permission_denied, ...")
    message = serializers.CharField(help_text="For people; in the request's language (nb or en).")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Bad field → its messages; non_field_errors for the request as a whole. {} otherwise.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class ApiSchema(AutoSchema):
    """AutoSchema that documents the error responses every operation can give, in the one format."""

    def error_codes(self, path: str, method: str) -> list[int]:
        codes = [401, 429]
        if method not in ("GET", "HEAD", "OPTIONS"):
            codes += [400, 403]
        elif self._is_list_view():
            codes.append(400)  # bad filter, page or page_size
        if "{" in path:
            codes.append(404)
        return sorted(codes)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        ref = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in self.error_codes(path, method):
            description = None
            if code == 400 and method == "GET":
                description = "A bad filter, `page` or `page_size`: a message per parameter in `error.fields`."
            operation["responses"].setdefault(str(code), error_openapi_response(ref, code, description))
        if method == "POST":
            operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
            for code, example in IDEMPOTENCY_ERRORS.items():
                operation["responses"].setdefault(
                    str(code), error_openapi_response(ref, code, example["error"]["message"], example)
                )
        return operation


IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
    "description": idempotency.HEADER_DESCRIPTION,
    "example": "3f1c9a2e-6b7d-4e0f-9a51-2c8d7e6f4b10",
}
IDEMPOTENCY_ERRORS = {
    409: api_errors.error_body(
        "A request with this Idempotency-Key is still in progress; wait for it and retry to get its response.",
        "idempotency_in_progress",
        409,
    ),
    422: api_errors.error_body(
        "This Idempotency-Key was used for a different request (method, path or body) in the last 24 hours; "
        "use a new key for a new request.",
        "idempotency_key_reused",
        422,
    ),
}


def error_openapi_response(ref: dict, code: int, description: str | None = None, example: dict | None = None) -> dict:
    return {
        "description": description or api_errors.ERROR_DESCRIPTIONS[code],
        "content": {
            "application/json": {
                "schema": ref,
                "examples": {"Error": {"value": example or api_errors.ERROR_EXAMPLES[code]}},
            }
        },
    }


# ================================================================ serializers: shape only


class StrictInputMixin:
    """Input serializers refuse fields they do not know (or that are read-only), field by field."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = {name: [_("Unknown field; it cannot be set here.")] for name in sorted(set(data) - writable)}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **unknown}) from exc
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class OrgNumberField(serializers.CharField):
    """Accepts '937 620 187' or '937620187'; the service normalises and validates it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("help_text", "Norwegian organisation number, 9 digits (spaces allowed).")
        super().__init__(**kwargs)


class TenantCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id of *this* tenant; another tenant's id 'does not exist', like an unknown one."""

    default_error_messages = {
        "does_not_exist": gettext_lazy("Customer {pk_value} does not exist."),
        "incorrect_type": gettext_lazy("Give the customer's id as a number, not {data_type}."),
    }

    def get_queryset(self):
        return Customer.objects.all()


class UpperCaseCharField(serializers.CharField):
    def to_internal_value(self, data):
        return super().to_internal_value(data).upper()


class RegistryFlagsSerializer(serializers.Serializer):
    """What Brønnøysund said at the last check."""

    name = serializers.CharField()
    organisation_form = serializers.CharField(help_text="E.g. AS, KOMM, FYLK, ORGL.")
    registered_in_mva = serializers.BooleanField()
    registered_in_foretaksregisteret = serializers.BooleanField()
    bankrupt = serializers.BooleanField()
    under_liquidation = serializers.BooleanField()
    under_forced_liquidation = serializers.BooleanField()
    deleted = serializers.BooleanField()
    is_active = serializers.BooleanField(help_text="False when bankrupt, in liquidation or deleted.")


REGISTRY_FLAG_DEFAULTS = {name: False for name in RegistryFlagsSerializer._declared_fields} | {
    "name": "",
    "organisation_form": "",
}


class CustomerSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:customer-detail")
    org_number_display = serializers.CharField(read_only=True, help_text="Formatted: 937 620 187.")
    children = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="Ids of the customers this one owns (a kommune's schools)."
    )
    registry = serializers.SerializerMethodField()
    contacts_url = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = (
            "id",
            "url",
            "org_number",
            "org_number_display",
            "name",
            "kind",
            "parent",
            "children",
            "address_line",
            "postal_code",
            "city",
            "country",
            "invoice_reference",
            "invoice_email",
            "peppol_endpoint",
            "vat_treatment",
            "verification",
            "verified_at",
            "registry",
            "is_active",
            "contacts_url",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(RegistryFlagsSerializer(allow_null=True))
    def get_registry(self, obj: Customer) -> dict | None:
        if not obj.registry.get("org_number"):
            return None  # never checked, not found, or the registry was down
        return {name: obj.registry.get(name, default) for name, default in REGISTRY_FLAG_DEFAULTS.items()}

    @extend_schema_field(OpenApiTypes.URI)
    def get_contacts_url(self, obj: Customer) -> str:
        return reverse("api:customer-contact-list", kwargs={"customer_id": obj.pk}, request=self.context["request"])


class CustomerInputSerializer(StrictInputMixin, serializers.ModelSerializer):
    org_number = OrgNumberField(required=False)
    parent = TenantCustomerField(
        required=False, allow_null=True, help_text="Id of the owning kommune or fylkeskommune (for a school)."
    )
    country = UpperCaseCharField(max_length=2, min_length=2, required=False, help_text="ISO 3166 code, e.g. NO.")

    class Meta:
        model = Customer
        fields = services.CUSTOMER_FIELDS


class ContactSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:contact-detail")

    class Meta:
        model = Contact
        fields = ("id", "url", "customer", "name", "title", "email", "phone", "role", "created_at")
        read_only_fields = fields


class ContactInputSerializer(StrictInputMixin, serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = services.CONTACT_FIELDS


class TenantSerializer(serializers.ModelSerializer):
    org_number_display = serializers.CharField(read_only=True)
    vat_number = serializers.CharField(read_only=True, help_text="NO + org number + MVA when VAT-registered.")

    class Meta:
        model = Tenant
        fields = ("id", "slug", "org_number_display", "vat_number", *services.TENANT_FIELDS)
        read_only_fields = fields


class TenantInputSerializer(StrictInputMixin, serializers.ModelSerializer):
    org_number = OrgNumberField(required=False, allow_blank=False)
    country = UpperCaseCharField(max_length=2, min_length=2, required=False)
    currency = UpperCaseCharField(max_length=3, min_length=3, required=False)

    class Meta:
        model = Tenant
        fields = services.TENANT_FIELDS


class AuditEventSerializer(serializers.ModelSerializer):
    changes = serializers.JSONField(read_only=True, help_text="{field: [old value, new value]}")

    class Meta:
        model = AuditEvent
        fields = (
            "id",
            "at",
            "actor_kind",
            "actor_label",
            "actor_user",
            "actor_api_key",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
        )
        read_only_fields = fields


class ApiKeySerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True, help_text="False once revoked.")

    class Meta:
        model = ApiKey
        # Never the hash: the key is shown once, when created.
        fields = ("id", "name", "prefix", "scope", "created_at", "last_used_at", "revoked_at", "is_active")
        read_only_fields = fields


class RegistryLookupSerializer(serializers.Serializer):
    org_number = serializers.CharField()
    org_number_display = serializers.CharField()
    name = serializers.CharField()
    organisation_form = serializers.CharField()
    organisation_form_text = serializers.CharField()
    address_line = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()
    municipality = serializers.CharField()
    registered_in_mva = serializers.BooleanField()
    registered_in_foretaksregisteret = serializers.BooleanField()
    bankrupt = serializers.BooleanField()
    under_liquidation = serializers.BooleanField()
    under_forced_liquidation = serializers.BooleanField()
    deleted = serializers.BooleanField()
    deleted_on = serializers.CharField()
    is_sub_unit = serializers.BooleanField(help_text="True for an underenhet, e.g. a school.")
    parent_org_number = serializers.CharField()
    is_active = serializers.BooleanField()
    suggested_kind = serializers.ChoiceField(choices=CustomerKind.choices)


# ================================================================ filters


class CustomerFilter(django_filters.rest_framework.FilterSet):
    kind = django_filters.ChoiceFilter(choices=CustomerKind.choices)
    parent = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="parent_id", help_text="Id of the owning customer.")
    )
    has_parent = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", exclude=True)
    org_number = django_filters.CharFilter(method="filter_org_number", help_text="Exact; spaces allowed.")
    verification = django_filters.ChoiceFilter(choices=Verification.choices)
    is_active = django_filters.BooleanFilter()
    vat_treatment = django_filters.ChoiceFilter(choices=VatTreatment.choices)

    class Meta:
        model = Customer
        fields = ("kind", "parent", "has_parent", "org_number", "verification", "is_active", "vat_treatment")

    def filter_org_number(self, queryset, name, value):
        return queryset.filter(org_number=normalise_org_number(value))


class ContactFilter(django_filters.rest_framework.FilterSet):
    customer = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="customer_id", help_text="Id of the customer.")
    )
    role = django_filters.ChoiceFilter(choices=ContactRole.choices)

    class Meta:
        model = Contact
        fields = ("customer", "role")


class AuditEventFilter(django_filters.rest_framework.FilterSet):
    object_type = django_filters.CharFilter(help_text="E.g. customer, contact, tenant, apikey.")
    object_id = django_filters.CharFilter()
    action = django_filters.CharFilter(help_text="E.g. customer.create.")
    actor_kind = django_filters.ChoiceFilter(choices=ActorKind.choices)
    since = django_filters.IsoDateTimeFilter(
        field_name="at", lookup_expr="gte", help_text="From this time (ISO 8601; a date means its midnight, Oslo)."
    )
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", help_text="Before this time.")

    class Meta:
        model = AuditEvent
        fields = ("object_type", "object_id", "action", "actor_kind", "since", "until")


class ApiKeyFilter(django_filters.rest_framework.FilterSet):
    scope = django_filters.ChoiceFilter(choices=ApiKeyScope.choices)
    is_active = django_filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull")

    class Meta:
        model = ApiKey
        fields = ("scope", "is_active")


# ================================================================ the base views


class TenantAPIView(generics.GenericAPIView):
    """Base of every ``/api/v1`` view: key authentication (which activates the tenant), scope
    permission, JSON only, the shared error schema. Subclasses get ``self.tenant`` and ``self.actor``."""

    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    schema = ApiSchema()
    filter_backends: list = []

    def dispatch(self, request, *args, **kwargs):
        """DRF's ``APIView.dispatch``, with a POST that sends an ``Idempotency-Key`` run through
        :func:`tenants.idempotency.run` (at most once per key; a repeat replays the first response)."""
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            if request.method.lower() in self.http_method_names:
                handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
            else:
                handler = self.http_method_not_allowed
            key = idempotency.requested_key(request)
            if key is None:
                response = handler(request, *args, **kwargs)
            else:

                def produce():
                    try:
                        response = handler(request, *args, **kwargs)
                    except Exception as exc:  # noqa: BLE001 (as DRF: API errors become responses, others re-raise)
                        response = self.handle_exception(exc)
                    response = self.finalize_response(request, response, *args, **kwargs)
                    return response.render() if hasattr(response, "render") else response

                body = idempotency.raw_body(request)
                response = idempotency.run(request=request, api_key=request.auth, key=key, body=body, produce=produce)
        except Exception as exc:  # noqa: BLE001
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticates (activating the tenant), then permissions
        self.tenant = tenancy.require_tenant()
        if request.auth is None or request.auth.tenant_id != self.tenant.pk:  # belt and braces
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))

    @property
    def actor(self) -> Actor:
        return Actor.for_api_key(self.request.auth)

    def validated_input(self, serializer_class, data, *, partial: bool = False, instance=None) -> dict:
        serializer = serializer_class(
            instance=instance, data=data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class TenantScopedViewSet(viewsets.ViewSetMixin, TenantAPIView):
    """Base of every API viewset over tenant-owned rows. It alone builds the queryset, always from
    ``model.objects`` (current tenant only), so another tenant's object is a 404 like a missing one."""

    model: type
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no tenant
            return self.model.unscoped.none()
        return self.scope_queryset(self.model.objects.all())

    def scope_queryset(self, queryset):
        """Narrow or decorate (select/prefetch) the tenant's rows; never widen them."""
        return queryset

    def respond(self, obj, http_status=status.HTTP_200_OK) -> Response:
        """The object as the output serializer shows it, re-read through :meth:`get_queryset`."""
        obj = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer(obj).data, status=http_status)


LIST_BACKENDS = [DjangoFilterBackend, SearchFilter, OrderingFilter]

BAD_REQUEST = OpenApiResponse(ErrorSerializer, description="Bad input: a message per field. Nothing was saved.")


# ================================================================ tenant profile


class TenantProfileView(TenantAPIView):
    """The profile of the tenant (vendor) that owns the API key."""

    serializer_class = TenantSerializer

    def get_object(self):
        return Tenant.objects.get(pk=self.tenant.pk)

    @extend_schema(operation_id="tenant_retrieve", tags=["tenant"], summary="The key's tenant")
    def get(self, request):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        operation_id="tenant_partial_update",
        tags=["tenant"],
        summary="Change the tenant's profile (read-write key)",
        request=TenantInputSerializer,
        responses={200: TenantSerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("New payment terms", value={"payment_terms_days": 14}, request_only=True)],
    )
    def patch(self, request):
        data = self.validated_input(TenantInputSerializer, request.data, partial=True)
        tenant = services.tenant_update(actor=self.actor, tenant=self.get_object(), data=data)
        return Response(self.get_serializer(tenant).data)


# ================================================================ customers

CUSTOMER_EXAMPLE = OpenApiExample(
    "A school owned by a kommune",
    request_only=True,
    value={
        "org_number": "974 589 095",
        "name": "Eksempel skole",
        "kind": "school",
        "parent": 12,
        "invoice_email": "faktura@kommune.no",
        "peppol_endpoint": "0192:974589095",
        "vat_treatment": "no_25",
    },
)


@extend_schema_view(
    list=extend_schema(summary="List customers", description="Search (`?search=`) looks in name and org number."),
    retrieve=extend_schema(summary="One customer"),
    create=extend_schema(
        summary="Register a customer",
        description=(
            "The org number is checked in Brønnøysund: an unknown number is refused (400 on `org_number`); "
            "when the registry does not answer, the customer is saved with verification `not_verified`."
        ),
        request=CustomerInputSerializer,
        responses={201: CustomerSerializer, 400: BAD_REQUEST},
        examples=[CUSTOMER_EXAMPLE],
    ),
    update=extend_schema(
        summary="Replace a customer's fields", request=CustomerInputSerializer, responses={200: CustomerSerializer}
    ),
    partial_update=extend_schema(
        summary="Change some of a customer's fields",
        request=CustomerInputSerializer,
        responses={200: CustomerSerializer},
        examples=[OpenApiExample("New invoice e-mail", value={"invoice_email": "ny@kunde.no"}, request_only=True)],
    ),
    destroy=extend_schema(
        summary="Delete a customer",
        description="Refused (400) while it owns other customers (a kommune's schools).",
        responses={204: None},
    ),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantScopedViewSet):
    """Customers: the organisations that buy from the tenant."""

    model = Customer
    serializer_class = CustomerSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = CustomerFilter
    search_fields = ("name", "org_number")
    ordering_fields = ("name", "org_number", "kind", "created_at", "updated_at", "id")
    ordering = ("name", "id")

    def scope_queryset(self, queryset):
        return queryset.prefetch_related(Prefetch("children", queryset=Customer.objects.only("id", "parent_id")))

    def create(self, request):
        data = self.validated_input(CustomerInputSerializer, request.data)
        customer = services.customer_create(actor=self.actor, data=data)
        return self.respond(customer, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        customer = self.get_object()
        data = self.validated_input(CustomerInputSerializer, request.data, partial=partial, instance=customer)
        customer = services.customer_update(actor=self.actor, customer=customer, data=data)
        return self.respond(customer)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def perform_destroy(self, instance):
        services.customer_delete(actor=self.actor, customer=instance)

    @extend_schema(
        summary="Check the customer in Brønnøysund again",
        description="Records what the registry says now (verified, not_found or not_verified when it is down).",
        request=None,
        responses={200: CustomerSerializer},
    )
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        customer = services.customer_verify(actor=self.actor, customer=self.get_object())
        return self.respond(customer)


# ================================================================ contacts

CONTACT_EXAMPLE = OpenApiExample(
    "An invoice contact",
    request_only=True,
    value={
        "name": "Kari Nordmann",
        "title": "Rektor",
        "email": "kari@skole.no",
        "phone": "+47 912 34 567",
        "role": "invoice_contact",
    },
)


@extend_schema(parameters=[OpenApiParameter("customer_id", int, OpenApiParameter.PATH, description="Customer id.")])
@extend_schema_view(
    list=extend_schema(summary="A customer's contacts", tags=["contacts"]),
    create=extend_schema(
        summary="Add a contact to a customer",
        tags=["contacts"],
        request=ContactInputSerializer,
        responses={201: ContactSerializer, 400: BAD_REQUEST},
        examples=[CONTACT_EXAMPLE],
    ),
)
class CustomerContactViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """The contacts of one customer (``/customers/{id}/contacts/``)."""

    model = Contact
    serializer_class = ContactSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = ContactFilter
    search_fields = ("name", "email", "title")
    ordering_fields = ("name", "created_at", "id")
    ordering = ("name", "id")

    def get_customer(self) -> Customer:
        if not hasattr(self, "_customer"):
            self._customer = generics.get_object_or_404(Customer.objects.all(), pk=self.kwargs["customer_id"])
        return self._customer

    def scope_queryset(self, queryset):
        return queryset.filter(customer=self.get_customer())

    def create(self, request, customer_id=None):
        customer = self.get_customer()
        data = self.validated_input(ContactInputSerializer, request.data)
        contact = services.contact_create(actor=self.actor, customer=customer, data=data)
        return self.respond(contact, status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="All contacts", description="Filter by customer with `?customer=<id>`."),
    retrieve=extend_schema(summary="One contact"),
    update=extend_schema(
        summary="Replace a contact's fields", request=ContactInputSerializer, responses={200: ContactSerializer}
    ),
    partial_update=extend_schema(
        summary="Change some of a contact's fields", request=ContactInputSerializer, responses={200: ContactSerializer}
    ),
    destroy=extend_schema(summary="Delete a contact", responses={204: None}),
)
class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantScopedViewSet):
    """Contacts across all the tenant's customers."""

    model = Contact
    serializer_class = ContactSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = ContactFilter
    search_fields = ("name", "email", "title")
    ordering_fields = ("name", "created_at", "id")
    ordering = ("name", "id")

    def update(self, request, pk=None, partial=False):
        contact = self.get_object()
        data = self.validated_input(ContactInputSerializer, request.data, partial=partial, instance=contact)
        contact = services.contact_update(actor=self.actor, contact=contact, data=data)
        return self.respond(contact)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def perform_destroy(self, instance):
        services.contact_delete(actor=self.actor, contact=instance)


# ================================================================ audit log and API keys (read only)


@extend_schema_view(
    list=extend_schema(summary="The audit log", description="Newest first. Who changed what, with old and new values."),
    retrieve=extend_schema(summary="One audit event"),
)
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = AuditEvent
    serializer_class = AuditEventSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = AuditEventFilter
    search_fields = ("object_repr", "actor_label")
    ordering_fields = ("at", "id")
    ordering = ("-at", "-id")


@extend_schema_view(
    list=extend_schema(
        summary="The tenant's API keys", description="Names, prefixes, scopes and last use; no secrets."
    ),
    retrieve=extend_schema(summary="One API key"),
)
class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = ApiKey
    serializer_class = ApiKeySerializer
    filter_backends = LIST_BACKENDS
    filterset_class = ApiKeyFilter
    search_fields = ("name", "prefix")
    ordering_fields = ("name", "created_at", "last_used_at", "id")
    ordering = ("-created_at", "-id")


# ================================================================ Brønnøysund lookup


class RegistryUnavailableError(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "registry_unavailable"
    default_detail = gettext_lazy("Brønnøysund (Enhetsregisteret) is not answering right now; try again shortly.")


class RegistryLookupView(TenantAPIView):
    """Look an organisation number up in Brønnøysund, to prefill a new customer."""

    serializer_class = RegistryLookupSerializer

    @extend_schema(
        operation_id="registry_lookup",
        tags=["registry"],
        summary="Look up an organisation in Brønnøysund",
        parameters=[
            OpenApiParameter(
                "org_number", str, OpenApiParameter.PATH, description="9 digits; spaces allowed (URL-encoded)."
            )
        ],
        responses={
            200: RegistryLookupSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Not a valid organisation number."),
            404: OpenApiResponse(ErrorSerializer, description="Not registered in Brønnøysund."),
            503: OpenApiResponse(ErrorSerializer, description="Brønnøysund is not answering."),
        },
    )
    def get(self, request, org_number: str):
        number = normalise_org_number(org_number)
        try:
            validate_org_number(number)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"org_number": list(exc.messages)}) from exc
        try:
            info = brreg.lookup(number)
        except brreg.OrgNotFound as exc:
            raise exceptions.NotFound(
                _("%(org)s is not registered in Brønnøysund (Enhetsregisteret). Check the number.")
                % {"org": format_org_number(number)}
            ) from exc
        except brreg.RegistryUnavailable as exc:
            raise RegistryUnavailableError() from exc
        data = info.as_dict() | {"org_number_display": format_org_number(info.org_number)}
        return Response(self.get_serializer(data).data)
