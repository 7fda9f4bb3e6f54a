"""``GET /api/v1/entitlements``: may this customer log in now, and if not, why not (issue 11, item 5).

For a vendor's own application to gate its login on. Read-only keys suffice (it is a GET). The
answer (:func:`contracts.entitlements.entitlements_for`, a fixed number of queries) carries an
``ETag`` computed from its content and ``Cache-Control: private, max-age=60``; a request with a
matching ``If-None-Match`` gets ``304 Not Modified`` without a body. The customer is found among
the key's tenant's customers only: an unknown id or organisation number, or another tenant's, is
a 404 like any other.
"""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from contracts import entitlements
from tenants.api import ErrorSerializer, TenantAPIView
from tenants.jobs import business_today
from tenants.models import Customer
from tenants.validation import normalise_org_number, validate_org_number

CACHE_CONTROL = "private, max-age=60"

# ================================================================ output (for the schema; the body is built by as_dict)


CONTRACT_STATUSES = [code for code in entitlements.STATUSES if code != entitlements.NONE]


class ReasonSerializer(serializers.Serializer):
    nb = serializers.CharField(help_text="In Bokmål, e.g. «Pauset: faktura 10042 ubetalt siden 2026-03-01».")
    en = serializers.CharField(help_text="In English, e.g. 'Paused: invoice 10042 unpaid since 2026-03-01'.")


class ContractEntitlementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    product = serializers.CharField(help_text="The product's code.")
    state = serializers.CharField(help_text="The contract's lifecycle state (see /contracts).")
    status = serializers.ChoiceField(choices=CONTRACT_STATUSES)
    access = serializers.BooleanField()
    until = serializers.DateField(allow_null=True, help_text="Exclusive: the first day without access.")
    reason = ReasonSerializer()
    customer = serializers.IntegerField(help_text="The contract's party: this customer, or its owner.")
    inherited = serializers.BooleanField(help_text="The owner's (kommune's) contract, covering this school.")


class EntitlementSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    on = serializers.DateField(help_text="The day the answer is for (today in Norway).")
    access = serializers.BooleanField(help_text="True if any contract gives access today.")
    status = serializers.ChoiceField(choices=entitlements.STATUSES)
    reason = ReasonSerializer()
    until = serializers.DateField(
        allow_null=True,
        help_text=(
            "Exclusive: the trial's end, the contract's end, or (paused) the day the data is deleted; "
            "null when nothing ends."
        ),
    )
    contracts = ContractEntitlementSerializer(many=True)


EXAMPLE_PAUSED = OpenApiExample(
    "Paused by an unpaid invoice",
    response_only=True,
    value={
        "customer": 40,
        "on": "2026-04-20",
        "access": False,
        "status": "paused",
        "reason": {
            "nb": "Pauset: faktura 10042 ubetalt siden 2026-03-01; data slettes 2026-07-13",
            "en": "Paused: invoice 10042 unpaid since 2026-03-01; data deleted on 2026-07-13",
        },
        "until": "2026-07-13",
        "contracts": [
            {
                "id": 7,
                "reference": "A-2026-0007",
                "product": "digireq",
                "state": "paused",
                "status": "paused",
                "access": False,
                "until": "2026-07-13",
                "reason": {
                    "nb": "Pauset: faktura 10042 ubetalt siden 2026-03-01; data slettes 2026-07-13",
                    "en": "Paused: invoice 10042 unpaid since 2026-03-01; data deleted on 2026-07-13",
                },
                "customer": 40,
                "inherited": False,
            }
        ],
    },
)
EXAMPLE_TRIAL = OpenApiExample(
    "In a trial",
    response_only=True,
    value={
        "customer": 41,
        "on": "2026-12-10",
        "access": True,
        "status": "trial",
        "reason": {"nb": "Prøveperiode til 2026-12-18", "en": "Trial until 2026-12-18"},
        "until": "2026-12-18",
        "contracts": [],
    },
)

HEADERS_DOC = (
    "The answer carries `ETag` (from its content) and `Cache-Control: private, max-age=60`; send the ETag "
    "back in `If-None-Match` to get `304 Not Modified` without a body while nothing has changed. "
    "Read-only keys suffice."
)
RESPONSES = {
    200: OpenApiResponse(EntitlementSerializer, examples=[EXAMPLE_TRIAL, EXAMPLE_PAUSED]),
    304: OpenApiResponse(description="Not modified: `If-None-Match` matched the current ETag. No body."),
    404: OpenApiResponse(ErrorSerializer, description="No such customer in this tenant."),
}


def etag_of(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


class EntitlementBaseView(TenantAPIView):
    serializer_class = EntitlementSerializer

    def answer(self, request, customer: Customer) -> Response:
        body = entitlements.entitlements_for(customer, today=business_today()).as_dict()
        etag = etag_of(body)
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization"}
        if _matches(request.headers.get("If-None-Match", ""), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(body, headers=headers)

    @staticmethod
    def not_found() -> exceptions.NotFound:
        return exceptions.NotFound(_("No such customer."))


class EntitlementView(EntitlementBaseView):
    """One customer's entitlement, by its id."""

    @extend_schema(
        operation_id="entitlements_retrieve",
        tags=["entitlements"],
        summary="Does a customer have access now? (by customer id)",
        description=(
            "Access if any of the customer's contracts gives access today (a school also through its "
            "kommune's or fylkeskommune's contract that covers it), with the status, the reason in Bokmål "
            "and English, when it ends (`until`) and the contracts behind it. " + HEADERS_DOC
        ),
        parameters=[
            OpenApiParameter("customer_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The customer's id."),
        ],
        responses=RESPONSES,
    )
    def get(self, request, customer_id: str):
        customer = Customer.objects.filter(pk=int(customer_id)).first()
        if customer is None:
            raise self.not_found()
        return self.answer(request, customer)


class EntitlementLookupView(EntitlementBaseView):
    """One customer's entitlement, by organisation number (what vendors know) or id."""

    @extend_schema(
        operation_id="entitlements_lookup",
        tags=["entitlements"],
        summary="Does a customer have access now? (by organisation number)",
        description=(
            "Give exactly one of `org_number` (9 digits, spaces allowed) or `customer` (id). The same answer "
            "as `/entitlements/{customer_id}`. " + HEADERS_DOC
        ),
        parameters=[
            OpenApiParameter("org_number", str, description="The customer's organisation number, e.g. 937620187."),
            OpenApiParameter("customer", OpenApiTypes.INT, description="The customer's id."),
        ],
        responses={
            **RESPONSES,
            400: OpenApiResponse(
                ErrorSerializer, description="Neither or both parameters, or an invalid organisation number."
            ),
        },
    )
    def get(self, request):
        org_number = request.query_params.get("org_number", "").strip()
        customer_id = request.query_params.get("customer", "").strip()
        if bool(org_number) == bool(customer_id):
            message = _("Give either org_number or customer.")
            raise serializers.ValidationError({"org_number": [message], "customer": [message]})
        if org_number:
            number = normalise_org_number(org_number)
            try:
                validate_org_number(number)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"org_number": list(exc.messages)}) from exc
            customer = Customer.objects.filter(org_number=number).first()
        else:
            if not (customer_id.isdigit() and len(customer_id) <= 18):
                raise serializers.ValidationError({"customer": [_("Give the customer's id as a number.")]})
            customer = Customer.objects.filter(pk=int(customer_id)).first()
        if customer is None:
            raise self.not_found()
        return self.answer(request, customer)
