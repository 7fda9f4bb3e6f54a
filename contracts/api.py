"""The contracts API under ``/api/v1``: contracts and their lifecycle, DPAs, trials and notices sent.

Thin, like the rest of the API: serializers check the *shape* of the input (with the path of every
bad value, e.g. ``priced_on.schools[0].pupils``), then one function of :mod:`contracts.services`
does the work with the key as actor. Its ``ValidationError`` is a 400 per field; a move the
lifecycle does not allow is a 400 on ``state`` saying what is allowed. Every viewset derives from
:class:`TenantScopedViewSet`, so another tenant's contract, DPA or message is a 404, and its
customer, plan or quote in a body "does not exist" (400).

The business date ``on`` (what the contract's events are dated) defaults to today in Norway and
may be given in the body to record something back-dated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
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
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import NON_FIELD
from contracts import documents, lifecycle, selectors, services
from contracts.models import (
    Contract,
    ContractEvent,
    DataProcessingAgreement,
    Message,
    PricedOn,
    Signature,
    SignatureMethod,
    StartRule,
    TerminationNotice,
)
from pricing.api import (
    AmountField,
    CountField,
    ExtraPrintSerializer,
    QuantitiesField,
    StandardsField,
    TextsSerializer,
    error_paths,
    json_safe,
)
from pricing.engine.quote import PUPILS
from pricing.engine.standards import CONCURRENT_USERS
from pricing.models import Plan, Quote
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

INTERVALS = ("month", "quarter", "year")
ON_HELP = "The business date the change is recorded on (default: today in Norway); give it to back-date."


# The onboarding checklist's steps, in Norwegian and English (like the lifecycle's state names).
STEP_LABELS = {
    "contract_signed": ("Signert avtale mottatt", "Signed contract received"),
    "dpa_signed": ("Databehandleravtale signert av skoleeier", "Data processing agreement signed by the school owner"),
    "feide_activated": ("Aktivert i Feide", "Activated in Feide"),
}


def _rekey(error: DjangoValidationError, prefix: str, keep: Iterable[str]) -> DjangoValidationError:
    """A service error about the priced request (the engine names e.g. ``schools[0].pupils``) under
    ``prefix`` (``priced_on.schools[0].pupils``); the fields of the request itself stay as they are."""
    if not hasattr(error, "error_dict"):
        return error
    keep = set(keep) | {NON_FIELD, "__all__", "state"}
    return DjangoValidationError(
        {(key if key in keep else f"{prefix}.{key}"): value for key, value in error.error_dict.items()}
    )


def _checked(serializer_class, data, context=None) -> dict:
    """Validated input, with nested errors as paths (``priced_on.schools[0].pupils``)."""
    serializer = serializer_class(data=data, context=context or {})
    if not serializer.is_valid():
        raise serializers.ValidationError(error_paths(serializer.errors))
    return dict(serializer.validated_data)


# ================================================================ fields


@extend_schema_field(OpenApiTypes.INT)
class ContractCustomerField(TenantCustomerField):
    pass


@extend_schema_field({"type": "string", "example": "spekter-2020"})
class PlanCodeField(serializers.SlugRelatedField):
    """A plan of this tenant, by its code; another tenant's plan 'does not exist', like an unknown one."""

    default_error_messages = {
        "does_not_exist": gettext_lazy("Plan {value} does not exist."),
        "invalid": gettext_lazy("Give the plan's code, e.g. spekter-2020."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "The price plan's code, e.g. spekter-2020.")
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self):
        return Plan.objects.all()


@extend_schema_field(OpenApiTypes.INT)
class QuoteField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        "does_not_exist": gettext_lazy("Quote {pk_value} does not exist."),
        "incorrect_type": gettext_lazy("Give the quote's id as a number, not {data_type}."),
    }

    def get_queryset(self):
        return Quote.objects.all()


EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def _in_range(day: dt.date) -> None:
    """Terms run up to ten years past any date given, and late notices further; years past 9999 do not exist."""
    if not EARLIEST <= day <= LATEST:
        raise serializers.ValidationError(
            _("Give a date from %(first)s to %(last)s.") % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()}
        )


class InputDateField(serializers.DateField):
    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        _in_range(day)
        return day


class InputDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        _in_range(moment.date())
        return moment


def on_field(**kwargs) -> serializers.DateField:
    kwargs.setdefault("help_text", ON_HELP)
    return InputDateField(required=False, **kwargs)


SHA256_FIELD = dict(
    regex=r"^[0-9a-f]{64}$",
    max_length=64,
    error_messages={"invalid": gettext_lazy("Give the SHA-256 as 64 lower-case hexadecimal characters.")},
)

# ================================================================ input: what a contract is priced on


class ContractSchoolSerializer(StrictInputMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    pupils = CountField(unit=PUPILS, help_text="Pupils at the school: a whole number ≥ 1.")
    customer = ContractCustomerField(required=False, allow_null=True, help_text="The school's customer id, if any.")


class AmendableSerializer(StrictInputMixin, serializers.Serializer):
    """What a contract is priced on, in the quote-request format (what an amendment may change)."""

    schools = ContractSchoolSerializer(many=True, required=False, help_text="Spekter: schools and pupils.")
    quantities = QuantitiesField(required=False, help_text='Counts by name, e.g. {"active_users": 30}.')
    standards = StandardsField(required=False)
    concurrent_users = CountField(unit=CONCURRENT_USERS, required=False, allow_null=True)
    addons = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, help_text="Add-on codes, e.g. offline."
    )
    addon_amounts = serializers.DictField(
        child=AmountField(), required=False, help_text="An add-on's price agreed in the contract, by code."
    )


class PricedOnInputSerializer(AmendableSerializer):
    """What a contract is priced on: the quote request without plan, interval and date (the contract
    has those)."""

    extra_prints = ExtraPrintSerializer(many=True, required=False)


def priced_request(data: dict) -> dict:
    """Checked input as the JSON the services keep (and the engine reads)."""
    out: dict = {}
    if "schools" in data:
        out["schools"] = [
            {
                "name": school.get("name") or f"#{i + 1}",
                "pupils": school["pupils"],
                **({"customer": school["customer"].pk} if school.get("customer") is not None else {}),
            }
            for i, school in enumerate(data["schools"])
        ]
    if "standards" in data:
        out["standards"] = [
            {k: v for k, v in json_safe(row).items() if v not in (None, "")} for row in data["standards"]
        ]
    for name in ("quantities", "concurrent_users", "addons", "addon_amounts", "extra_prints"):
        if name in data:
            out[name] = json_safe(data[name])
    return out


# ================================================================ input: terms


class TermsInputSerializer(serializers.Serializer):
    """The contract's terms: a ``preset`` (the seed vendors' terms) and/or the fields themselves;
    fields given override the preset's."""

    preset = serializers.ChoiceField(
        choices=sorted(services.TERM_PRESETS), required=False, help_text="A vendor's standard terms."
    )
    initial_term_months = serializers.IntegerField(min_value=1, max_value=120, required=False)
    renewal_term_months = serializers.IntegerField(
        min_value=1, max_value=120, required=False, allow_null=True, help_text="null: does not renew by itself."
    )
    notice_months = serializers.IntegerField(min_value=0, max_value=60, required=False)
    notice_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    binding_months = serializers.IntegerField(min_value=1, max_value=120, required=False, allow_null=True)
    start_rule = serializers.ChoiceField(choices=StartRule.choices, required=False)
    start_offset_days = serializers.IntegerField(
        min_value=0, max_value=365, required=False, help_text="after_signing: days from signing to the start."
    )
    acceptance_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, allow_null=True, help_text="The acceptance period, if any."
    )
    ordinary_on_business_day = serializers.BooleanField(required=False)
    dpa_required = serializers.BooleanField(required=False)
    agreed_start = InputDateField(required=False, allow_null=True, help_text="on_date: the agreed start.")

    def validate(self, attrs):
        if "preset" not in attrs and "initial_term_months" not in attrs:
            raise serializers.ValidationError(
                {"preset": [_("Give the terms: a preset, or at least initial_term_months.")]}
            )
        return attrs


def terms_data(data: dict) -> dict:
    out = dict(services.TERM_PRESETS.get(data.get("preset"), {}))
    out.update({name: data[name] for name in services.TERM_FIELDS if name in data})
    return out


class ContractCreateSerializer(StrictInputMixin, TermsInputSerializer):
    customer = ContractCustomerField(help_text="The customer's id.")
    plan = PlanCodeField()
    interval = serializers.ChoiceField(choices=INTERVALS, help_text="Billing interval; the plan must offer it.")
    priced_on = PricedOnInputSerializer(required=False, help_text="What it is priced on (quote-request format).")
    reference = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text="Default: the next AVT-<year>-<nnnn>."
    )
    on = on_field()


class ContractFromQuoteSerializer(StrictInputMixin, TermsInputSerializer):
    quote = QuoteField(help_text="A saved quote with a customer.")
    on = on_field()


class OnInputSerializer(StrictInputMixin, serializers.Serializer):
    on = on_field()


class SignInputSerializer(StrictInputMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="Who signed for the customer.")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    received_on = InputDateField(
        required=False, help_text="When the signed contract was received (default today); may start the term."
    )
    signed_at = InputDateTimeField(required=False, help_text="When it was signed (default: received_on, noon).")
    document_sha256 = serializers.RegexField(
        required=False,
        help_text="The signed document's SHA-256. Must match the contract's latest rendered document when "
        "there is one; required when there is none.",
        **SHA256_FIELD,
    )


class NoticeQuerySerializer(serializers.Serializer):
    received_on = InputDateField(required=False, help_text="When the notice would be received (default today).")


class NoticeInputSerializer(StrictInputMixin, serializers.Serializer):
    given_by = serializers.ChoiceField(choices=TerminationNotice._meta.get_field("given_by").choices)
    received_on = InputDateField(required=False, help_text="When the notice was received (default today).")


class AmendmentInputSerializer(StrictInputMixin, serializers.Serializer):
    effective_from = InputDateField(help_text="From this date (not before the contract starts).")
    changes = AmendableSerializer(help_text="Only what changes; lists (schools, standards) are given whole.")
    reason = serializers.CharField(max_length=200)
    on = on_field()


class ConvertInputSerializer(StrictInputMixin, serializers.Serializer):
    interval = serializers.ChoiceField(choices=[("month", "month"), ("year", "year")])
    priced_on = PricedOnInputSerializer(required=False)
    on = on_field(help_text="The day the paid subscription starts (default today).")


class DpaInputSerializer(StrictInputMixin, serializers.Serializer):
    controller = ContractCustomerField(help_text="The school owner's customer id (a kommune or fylkeskommune).")
    signed_on = InputDateField(required=False, help_text="Default today.")
    signer_name = serializers.CharField(max_length=200)
    signer_title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    document_sha256 = serializers.RegexField(required=False, allow_blank=True, **SHA256_FIELD)


class TrialInputSerializer(StrictInputMixin, serializers.Serializer):
    customer = ContractCustomerField(help_text="An organisation verified in Brønnøysund.")
    plan = PlanCodeField()
    on = on_field(help_text="The sign-up date (default today); the trial runs 14 days from it.")


# ================================================================ output


class ContractTermsSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contract
        fields = services.TERM_FIELDS
        read_only_fields = fields


class ContractDatesSerializer(serializers.ModelSerializer):
    """Every date of the contract. Ends (term_end, ends_on, acceptance_ends_on) are exclusive: the
    contract runs *up to* them; notice_deadline is the last day (inclusive) a notice is on time."""

    class Meta:
        model = Contract
        fields = (
            "signed_on",
            "received_on",
            "start_date",
            "acceptance_ends_on",
            "ordinary_from",
            "term_index",
            "term_end",
            "notice_deadline",
            "ends_on",
            "ended_on",
            "trial_started_on",
            "trial_extensions",
            "trial_ends_on",
            "paused_on",
            "deletion_due_on",
            "deleted_on",
        )
        read_only_fields = fields


class AllowedEventSerializer(serializers.Serializer):
    event = serializers.CharField()
    label = TextsSerializer()


class OnboardingStepSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="contract_signed, dpa_signed, feide_activated")
    label = TextsSerializer()
    done_on = serializers.DateField(allow_null=True)


class PricedOnSerializer(serializers.ModelSerializer):
    request = serializers.JSONField(help_text="What it is priced on, in the quote-request format.")
    price_effect = serializers.JSONField(
        help_text="The engine's answer: the priced result for the initial row; before/after/delta_net (and "
        "addition for standards added mid-year) for an amendment."
    )

    class Meta:
        model = PricedOn
        fields = ("id", "effective_from", "request", "reason", "price_effect", "created_at", "created_by")
        read_only_fields = fields


class SignatureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signature
        fields = ("id", "method", "name", "title", "signed_at", "received_on", "document_sha256", "recorded_by")
        read_only_fields = fields


class NoticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = TerminationNotice
        fields = ("id", "given_by", "received_on", "ends_on", "deadline", "late", "withdrawn", "recorded_by")
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContractEvent
        fields = ("event", "from_state", "to_state", "on", "actor_label", "at")
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_reference = serializers.CharField(source="contract.reference", read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = (
            "id",
            "customer",
            "customer_name",
            "contract",
            "contract_reference",
            "kind",
            "language",
            "recipients",
            "subject",
            "body",
            "on",
            "sent_at",
        )
        read_only_fields = fields


class ContractMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ("id", "kind", "language", "recipients", "subject", "on", "sent_at")
        read_only_fields = fields


class DpaStatusSerializer(serializers.Serializer):
    required = serializers.BooleanField()
    controller = serializers.IntegerField(allow_null=True, help_text="The school owner who signs it.")
    on_file = serializers.BooleanField()


class ContractListSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="contracts_api:contract-detail")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    product = serializers.CharField(source="product.code", read_only=True)
    plan = serializers.CharField(source="plan.code", read_only=True)
    state_label = serializers.SerializerMethodField()
    has_access = serializers.BooleanField(read_only=True)

    class Meta:
        model = Contract
        fields = (
            "id",
            "url",
            "reference",
            "customer",
            "customer_name",
            "product",
            "plan",
            "interval",
            "state",
            "state_label",
            "has_access",
            "start_date",
            "term_end",
            "notice_deadline",
            "ends_on",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(TextsSerializer)
    def get_state_label(self, obj: Contract) -> dict:
        nb, en = lifecycle.STATES[obj.state]
        return {"nb": nb, "en": en}


class ContractSerializer(ContractListSerializer):
    terms = ContractTermsSerializer(source="*", read_only=True)
    dates = ContractDatesSerializer(source="*", read_only=True)
    allowed_events = serializers.SerializerMethodField()
    onboarding = serializers.SerializerMethodField()
    priced_on = serializers.SerializerMethodField(help_text="What it is priced on today (see /amendments).")
    dpa = serializers.SerializerMethodField()
    signatures = SignatureSerializer(many=True, read_only=True)
    notices = NoticeSerializer(many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)
    messages = ContractMessageSerializer(many=True, read_only=True)

    class Meta(ContractListSerializer.Meta):
        fields = (
            *ContractListSerializer.Meta.fields,
            "quote",
            "terms",
            "dates",
            "allowed_events",
            "onboarding",
            "priced_on",
            "dpa",
            "signatures",
            "notices",
            "events",
            "messages",
        )
        read_only_fields = fields

    @extend_schema_field(AllowedEventSerializer(many=True))
    def get_allowed_events(self, obj: Contract) -> list[dict]:
        return [
            {"event": event, "label": dict(zip(("nb", "en"), lifecycle.EVENTS[event], strict=True))}
            for event in lifecycle.allowed_events(obj.state)
        ]

    @extend_schema_field(OnboardingStepSerializer(many=True))
    def get_onboarding(self, obj: Contract) -> list[dict]:
        return [
            {
                "code": code,
                "label": dict(zip(("nb", "en"), STEP_LABELS.get(code, (code, code)), strict=True)),
                "done_on": done_on,
            }
            for code, done_on in services.onboarding_checklist(obj)
        ]

    @extend_schema_field(PricedOnSerializer(allow_null=True))
    def get_priced_on(self, obj: Contract) -> dict | None:
        row = selectors.current_priced_on(obj, self.context.get("on") or business_today())
        return PricedOnSerializer(row).data if row else None

    @extend_schema_field(DpaStatusSerializer)
    def get_dpa(self, obj: Contract) -> dict:
        controller = services.controller_of(obj.customer)
        return {
            "required": obj.dpa_required,
            "controller": controller.pk if controller else None,
            "on_file": services.has_dpa(obj.customer),
        }


class NoticePreviewSerializer(serializers.Serializer):
    received_on = serializers.DateField()
    ends_on = serializers.DateField(help_text="Exclusive: the contract runs up to this date.")
    last_day = serializers.DateField(help_text="The last day it runs (ends_on − 1 day).")
    deadline = serializers.DateField(help_text="The last day a notice ends the running term.")
    late = serializers.BooleanField(help_text="True: too late for this term; it runs one more period.")
    explanation = TextsSerializer()


class NoticeGivenSerializer(NoticeSerializer):
    contract = ContractListSerializer(read_only=True)
    explanation = serializers.SerializerMethodField()

    class Meta(NoticeSerializer.Meta):
        fields = (*NoticeSerializer.Meta.fields, "explanation", "contract")
        read_only_fields = fields

    @extend_schema_field(TextsSerializer)
    def get_explanation(self, obj: TerminationNotice) -> dict:
        return explain_notice(obj.received_on, obj.ends_on, obj.deadline, obj.late)


class DpaSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="contracts_api:dpa-detail")
    controller_name = serializers.CharField(source="controller.name", read_only=True)

    class Meta:
        model = DataProcessingAgreement
        fields = (
            "id",
            "url",
            "controller",
            "controller_name",
            "signed_on",
            "signer_name",
            "signer_title",
            "document_sha256",
            "recorded_by",
            "created_at",
        )
        read_only_fields = fields


class DpaCreatedSerializer(DpaSerializer):
    contracts_started = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="Ids of the contracts that waited for this DPA and have now started.",
    )

    class Meta(DpaSerializer.Meta):
        fields = (*DpaSerializer.Meta.fields, "contracts_started")
        read_only_fields = fields


def _nb_date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def explain_notice(received_on: dt.date, ends_on: dt.date, deadline: dt.date, late: bool) -> dict:
    """What a notice does, in words, in both languages: shown before the notice is confirmed."""
    last = ends_on - dt.timedelta(days=1)
    if late:
        return {
            "nb": (
                f"For sent: siste frist for oppsigelse var {_nb_date(deadline)}. Avtalen fornyes én periode til og "
                f"avsluttes {_nb_date(ends_on)} (siste dag {_nb_date(last)})."
            ),
            "en": (
                f"Too late: the last day for notice was {deadline.isoformat()}. The contract renews for one more "
                f"period and ends {ends_on.isoformat()} (last day {last.isoformat()})."
            ),
        }
    return {
        "nb": (
            f"I tide (frist {_nb_date(deadline)}): avtalen avsluttes {_nb_date(ends_on)} (siste dag {_nb_date(last)})."
        ),
        "en": (
            f"On time (last day for notice {deadline.isoformat()}): the contract ends {ends_on.isoformat()} "
            f"(last day {last.isoformat()})."
        ),
    }


# ================================================================ filters


class ContractFilter(django_filters.rest_framework.FilterSet):
    state = django_filters.ChoiceFilter(choices=[(code, names[1]) for code, names in lifecycle.STATES.items()])
    customer = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="customer_id", help_text="Id of the customer.")
    )
    plan = django_filters.CharFilter(field_name="plan__code", help_text="Plan code.")
    ends_before = django_filters.DateFilter(
        field_name="effective_end",
        lookup_expr="lt",
        help_text="Ends before this date: ends_on once notice is given, else the current term's end (exclusive).",
    )
    ends_after = django_filters.DateFilter(
        field_name="effective_end", lookup_expr="gt", help_text="Ends after this date (same end as ends_before)."
    )
    notice_deadline_before = django_filters.DateFilter(
        field_name="notice_deadline", lookup_expr="lt", help_text="The last day for notice is before this date."
    )

    class Meta:
        model = Contract
        fields = ("state", "customer", "plan", "ends_before", "ends_after", "notice_deadline_before")


class DpaFilter(django_filters.rest_framework.FilterSet):
    controller = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="controller_id", help_text="Id of the school owner.")
    )

    class Meta:
        model = DataProcessingAgreement
        fields = ("controller",)


class MessageFilter(django_filters.rest_framework.FilterSet):
    customer = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="customer_id", help_text="Id of the customer.")
    )
    contract = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(field_name="contract_id", help_text="Id of the contract.")
    )
    kind = django_filters.CharFilter(help_text="E.g. notice_reminder, renewed, trial_paused, data_deleted.")

    class Meta:
        model = Message
        fields = ("customer", "contract", "kind")


# ================================================================ examples

SPEKTER_CREATE = {
    "customer": 12,
    "plan": "spekter-2020",
    "interval": "year",
    "preset": "spekter",
    "priced_on": {
        "schools": [
            {"name": "Hundvåg skole", "pupils": 87, "customer": 13},
            {"name": "Tjensvoll skole", "pupils": 240, "customer": 14},
        ]
    },
}
EXPLICIT_CREATE = {
    "customer": 21,
    "plan": "identum-eadm",
    "interval": "month",
    "initial_term_months": 12,
    "renewal_term_months": 12,
    "notice_months": 3,
    "start_rule": "on_date",
    "agreed_start": "2026-04-01",
    "acceptance_days": 30,
    "ordinary_on_business_day": False,
    "priced_on": {"addons": ["module_feide"]},
}
LATE_PREVIEW = {
    "received_on": "2026-12-20",
    "ends_on": "2028-03-15",
    "last_day": "2028-03-14",
    "deadline": "2026-12-14",
    "late": True,
    "explanation": explain_notice(dt.date(2026, 12, 20), dt.date(2028, 3, 15), dt.date(2026, 12, 14), True),
}
STATE_ERROR = {
    "error": {
        "status": 400,
        "code": "invalid",
        "message": "The request has errors; see fields. state: A contract that is 'ended' cannot give notice; "
        "nothing more can happen to it.",
        "fields": {"state": ["A contract that is 'ended' cannot give notice; nothing more can happen to it."]},
    }
}
STATE_400 = OpenApiResponse(
    ErrorSerializer,
    description="Bad input, or a move the contract's state does not allow (on `state`, saying what is allowed). "
    "Nothing was changed.",
    examples=[OpenApiExample("Not allowed in this state", value=STATE_ERROR, response_only=True)],
)
ID_PARAM = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Contract id.")


# ================================================================ contracts


@extend_schema(tags=["contracts"])
@extend_schema_view(
    list=extend_schema(
        summary="Contracts",
        description=(
            "Newest first. Filters: `state`, `customer` (id), `plan` (code), `ends_before` / `ends_after` "
            "(the effective end: `ends_on` once notice is given, else the current term's exclusive end), "
            "`notice_deadline_before`; `search` in the reference and the customer's name."
        ),
    ),
    retrieve=extend_schema(
        summary="One contract",
        description=(
            "State (with its labels), terms, every date, the events the lifecycle allows now, the onboarding "
            "checklist, what it is priced on today, signatures, notices, events and the messages sent."
        ),
    ),
    create=extend_schema(
        summary="Create a contract (draft)",
        description=(
            "Terms: a `preset` (spekter, standard-norge, piscator, digireq-annual, digireq-monthly, identum) "
            "and/or the term fields, which override the preset's. `priced_on` is priced once by the engine; "
            "a count it refuses is a 400 under `priced_on.`."
        ),
        request=ContractCreateSerializer,
        responses={201: ContractSerializer, 400: BAD_REQUEST},
        examples=[
            OpenApiExample("Spekter: a kommune's schools", value=SPEKTER_CREATE, request_only=True),
            OpenApiExample("Explicit terms (Identum)", value=EXPLICIT_CREATE, request_only=True),
        ],
    ),
)
class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Contracts: created as drafts, sent, signed, then noticed, renewed and ended by the jobs."""

    model = Contract
    filter_backends = LIST_BACKENDS
    filterset_class = ContractFilter
    search_fields = ("reference", "customer__name")
    ordering_fields = ("reference", "created_at", "start_date", "term_end", "notice_deadline", "id")
    ordering = ("-created_at", "-id")

    def get_serializer_class(self):
        return ContractListSerializer if self.action == "list" else ContractSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contract.unscoped.none()
        queryset = selectors.contracts()
        return queryset if self.action == "list" else selectors.contract_details(queryset)

    def _done(self, contract: Contract, on: dt.date | None = None, http_status=status.HTTP_200_OK) -> Response:
        contract = self.get_queryset().get(pk=contract.pk)
        context = {**self.get_serializer_context(), "on": on}
        return Response(ContractSerializer(contract, context=context).data, status=http_status)

    def create(self, request):
        data = _checked(ContractCreateSerializer, request.data, self.get_serializer_context())
        on = data.get("on") or business_today()
        keep = {"customer", "plan", "interval", "reference", *services.TERM_FIELDS}
        try:
            contract = services.contract_create(
                actor=self.actor,
                customer=data["customer"],
                plan=data["plan"],
                interval=data["interval"],
                priced_on=priced_request(data.get("priced_on") or {}),
                terms_data=terms_data(data),
                on=on,
                reference=data.get("reference") or "",
            )
        except DjangoValidationError as exc:
            raise _rekey(exc, "priced_on", keep) from exc
        return self._done(contract, on, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Create a contract from a saved quote",
        description="The quote's customer, plan, interval and request; the terms as for creating a contract.",
        request=ContractFromQuoteSerializer,
        responses={201: ContractSerializer, 400: BAD_REQUEST},
        examples=[OpenApiExample("Spekter terms", value={"quote": 31, "preset": "spekter"}, request_only=True)],
    )
    @action(detail=False, methods=["post"], url_path="from-quote")
    def from_quote(self, request):
        data = _checked(ContractFromQuoteSerializer, request.data, self.get_serializer_context())
        on = data.get("on") or business_today()
        try:
            contract = services.contract_from_quote(
                actor=self.actor, quote=data["quote"], terms_data=terms_data(data), on=on
            )
        except DjangoValidationError as exc:
            raise _rekey(exc, "quote", {"quote", "customer", *services.TERM_FIELDS}) from exc
        return self._done(contract, on, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Send for signature",
        description="Renders the contract (PDF) and keeps it with its SHA-256: the document the customer signs.",
        request=OnInputSerializer,
        responses={200: ContractSerializer, 400: STATE_400},
        parameters=[ID_PARAM],
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        contract = self.get_object()
        on = _checked(OnInputSerializer, request.data).get("on") or business_today()
        with transaction.atomic():
            contract = services.contract_send(actor=self.actor, contract=contract, on=on)
            documents.store_contract_document(contract)
        return self._done(contract, on)

    @extend_schema(
        summary="Record the customer's signature",
        description=(
            "A signature made outside the portal (e.g. a signed paper copy). The term starts as the terms say "
            "(Spekter: on `received_on`); with a DPA needed and none on file, the contract waits for it. "
            "Signing twice is a 400 on `state`."
        ),
        request=SignInputSerializer,
        responses={200: ContractSerializer, 400: STATE_400},
        parameters=[ID_PARAM],
        examples=[
            OpenApiExample(
                "Received 2026-03-15",
                value={"name": "Kari Nordmann", "title": "Rådmann", "received_on": "2026-03-15"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        contract = self.get_object()
        data = _checked(SignInputSerializer, request.data)
        received_on = data.get("received_on") or business_today()
        signed_at = data.get("signed_at") or timezone.make_aware(dt.datetime.combine(received_on, dt.time(12, 0)))
        document = documents.latest_document(contract)
        given = data.get("document_sha256") or ""
        if document is not None and given and given != document.sha256 and not contract.signatures.exists():
            raise serializers.ValidationError(
                {
                    "document_sha256": [
                        _("This is not the contract's latest document (its SHA-256 is %(sha)s).")
                        % {"sha": document.sha256}
                    ]
                }
            )
        contract = services.contract_sign(
            actor=self.actor,
            contract=contract,
            name=data["name"],
            title=data.get("title") or "",
            signed_at=signed_at,
            received_on=received_on,
            document_sha256=document.sha256 if document is not None else given,
            method=SignatureMethod.PAPER,
        )
        return self._done(contract, received_on)

    @extend_schema(
        summary="What a notice would do (before confirming it)",
        description=(
            "The effective end (`ends_on`, exclusive, and `last_day`), the last day for notice, and whether a "
            "notice received on `received_on` is late, with the explanation to show the customer. Changes nothing."
        ),
        parameters=[
            ID_PARAM,
            OpenApiParameter(
                "received_on", OpenApiTypes.DATE, OpenApiParameter.QUERY, description="Default: today in Norway."
            ),
        ],
        responses={200: NoticePreviewSerializer, 400: STATE_400},
        examples=[OpenApiExample("Spekter, too late", value=LATE_PREVIEW, response_only=True)],
    )
    @action(detail=True, methods=["get"], url_path="notice-preview")
    def notice_preview(self, request, pk=None):
        contract = self.get_object()
        received_on = _checked(NoticeQuerySerializer, request.query_params).get("received_on") or business_today()
        effect = services.notice_preview(contract, received_on)
        return Response(
            NoticePreviewSerializer(
                {
                    "received_on": effect.received_on,
                    "ends_on": effect.ends_on,
                    "last_day": effect.ends_on - dt.timedelta(days=1),
                    "deadline": effect.deadline,
                    "late": effect.late,
                    "explanation": explain_notice(effect.received_on, effect.ends_on, effect.deadline, effect.late),
                }
            ).data
        )

    @extend_schema(
        summary="Give notice",
        description=(
            "By the customer or the vendor; the answer says when it takes effect and whether it was late. "
            "A confirmation is sent to the customer and staff (see /messages, kind `notice_confirmed`)."
        ),
        request=NoticeInputSerializer,
        responses={201: NoticeGivenSerializer, 400: STATE_400},
        parameters=[ID_PARAM],
        examples=[
            OpenApiExample(
                "The customer's notice", value={"given_by": "customer", "received_on": "2026-12-20"}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def notice(self, request, pk=None):
        contract = self.get_object()
        data = _checked(NoticeInputSerializer, request.data)
        received_on = data.get("received_on") or business_today()
        # notice_give also sends the confirmation to the customer and staff (kind notice_confirmed).
        notice = services.notice_give(
            actor=self.actor, contract=contract, given_by=data["given_by"], received_on=received_on
        )
        notice = TerminationNotice.objects.select_related(
            "contract__customer", "contract__plan", "contract__product"
        ).get(pk=notice.pk)
        return Response(
            NoticeGivenSerializer(notice, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        methods=["GET"],
        summary="What the contract has been priced on (history)",
        description="Oldest first; the first row is what it was created with.",
        parameters=[ID_PARAM],
        responses={200: PricedOnSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Amend what the contract is priced on",
        description=(
            "From `effective_from` (not before the start), the `changes` on top of what it is priced on then. "
            "The answer has the engine's price effect: before, after, `delta_net`, and for standards added "
            "mid-year the charge for the remaining quarters (`addition`)."
        ),
        parameters=[ID_PARAM],
        request=AmendmentInputSerializer,
        responses={201: PricedOnSerializer, 400: STATE_400},
        examples=[
            OpenApiExample(
                "More pupils",
                value={
                    "effective_from": "2026-08-01",
                    "changes": {"schools": [{"name": "Hundvåg skole", "pupils": 150}]},
                    "reason": "Elevtall høsten 2026",
                },
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def amendments(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            return Response(PricedOnSerializer(selectors.amendments(contract), many=True).data)
        data = _checked(AmendmentInputSerializer, request.data, self.get_serializer_context())
        try:
            row = services.amendment_create(
                actor=self.actor,
                contract=contract,
                effective_from=data["effective_from"],
                changes=priced_request(data["changes"]),
                reason=data["reason"],
                on=data.get("on") or business_today(),
            )
        except DjangoValidationError as exc:
            raise _rekey(exc, "changes", {"effective_from", "reason"}) from exc
        return Response(PricedOnSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Tick 'activated in Feide' on the onboarding checklist",
        request=OnInputSerializer,
        responses={200: ContractSerializer, 400: STATE_400},
        parameters=[ID_PARAM],
    )
    @action(detail=True, methods=["post"], url_path="onboarding/feide_activated")
    def feide_activated(self, request, pk=None):
        contract = self.get_object()
        on = _checked(OnInputSerializer, request.data).get("on") or business_today()
        services.onboarding_tick(actor=self.actor, contract=contract, code="feide_activated", on=on)
        return self._done(contract, on)

    @extend_schema(
        summary="Extend the trial by 7 days",
        description="At most three times; a fourth is a 400 on `trial_extensions`.",
        request=OnInputSerializer,
        responses={200: ContractSerializer, 400: STATE_400},
        parameters=[ID_PARAM],
    )
    @action(detail=True, methods=["post"], url_path="trial/extend")
    def trial_extend(self, request, pk=None):
        contract = self.get_object()
        on = _checked(OnInputSerializer, request.data).get("on") or business_today()
        contract = services.trial_extend(actor=self.actor, contract=contract, on=on)
        return self._done(contract, on)

    @extend_schema(
        summary="Convert the trial to a paid subscription",
        description="Monthly (no binding; cancel any time, to the end of the paid month) or annual (12 months' "
        "binding, 30 days' notice before the next period), from `on`.",
        request=ConvertInputSerializer,
        responses={200: ContractSerializer, 400: STATE_400},
        parameters=[ID_PARAM],
        examples=[
            OpenApiExample(
                "Annual, 30 users",
                value={"interval": "year", "priced_on": {"quantities": {"active_users": 30}}, "on": "2026-01-19"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="trial/convert")
    def trial_convert(self, request, pk=None):
        contract = self.get_object()
        data = _checked(ConvertInputSerializer, request.data, self.get_serializer_context())
        on = data.get("on") or business_today()
        try:
            contract = services.trial_convert(
                actor=self.actor,
                contract=contract,
                interval=data["interval"],
                priced_on=priced_request(data.get("priced_on") or {}),
                on=on,
            )
        except DjangoValidationError as exc:
            raise _rekey(exc, "priced_on", {"interval"}) from exc
        return self._done(contract, on)

    @extend_schema(
        summary="Reactivate a paused contract",
        description="Within 90 days of the pause; a paused trial becomes a monthly subscription from `on`.",
        request=OnInputSerializer,
        responses={200: ContractSerializer, 400: STATE_400},
        parameters=[ID_PARAM],
    )
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        contract = self.get_object()
        on = _checked(OnInputSerializer, request.data).get("on") or business_today()
        contract = services.contract_reactivate(actor=self.actor, contract=contract, on=on)
        return self._done(contract, on)


# ================================================================ DPAs


@extend_schema(tags=["dpas"])
@extend_schema_view(
    list=extend_schema(summary="Data processing agreements", description="Filter: `controller` (customer id)."),
    retrieve=extend_schema(summary="One data processing agreement"),
    create=extend_schema(
        summary="Record a DPA signed by a school owner",
        description=(
            "Signed once by the controller (a kommune or fylkeskommune) for all its schools; contracts of the "
            "owner and its schools that wait for it start now (`contracts_started`). A school as controller is "
            "a 400 on `controller` naming its owner."
        ),
        request=DpaInputSerializer,
        responses={201: DpaCreatedSerializer, 400: BAD_REQUEST},
        examples=[
            OpenApiExample(
                "Stavanger kommune",
                value={
                    "controller": 12,
                    "signed_on": "2026-03-20",
                    "signer_name": "Ola Nordmann",
                    "signer_title": "Rådmann",
                },
                request_only=True,
            )
        ],
    ),
)
class DpaViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = DataProcessingAgreement
    serializer_class = DpaSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = DpaFilter
    search_fields = ("controller__name", "signer_name")
    ordering_fields = ("signed_on", "id")
    ordering = ("-signed_on", "-id")

    def scope_queryset(self, queryset):
        return queryset.select_related("controller")

    def create(self, request):
        data = _checked(DpaInputSerializer, request.data, self.get_serializer_context())
        controller = data["controller"]
        waiting = selectors.awaiting_dpa_ids(controller)
        dpa = services.dpa_sign(
            actor=self.actor,
            controller=controller,
            signed_on=data.get("signed_on") or business_today(),
            signer_name=data["signer_name"],
            signer_title=data.get("signer_title") or "",
            document_sha256=data.get("document_sha256") or "",
        )
        dpa = self.get_queryset().get(pk=dpa.pk)
        dpa.contracts_started = sorted(waiting - selectors.awaiting_dpa_ids(controller))
        return Response(
            DpaCreatedSerializer(dpa, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


# ================================================================ trials


class TrialView(TenantAPIView):
    """Start a 14-day trial for a customer already verified in Brønnøysund."""

    serializer_class = ContractSerializer

    @extend_schema(
        operation_id="trials_create",
        tags=["trials"],
        summary="Start a trial",
        description=(
            "For a customer verified in Brønnøysund: 14 days of access, then paused unless converted. "
            "Refused (400 on `org_number`, saying why) for a bankrupt, dissolved or deleted organisation, "
            "an unverified one, and a second trial for the same organisation number."
        ),
        request=TrialInputSerializer,
        responses={201: ContractSerializer, 400: BAD_REQUEST},
        examples=[
            OpenApiExample(
                "DigiReq", value={"customer": 40, "plan": "digireq-2026", "on": "2026-01-05"}, request_only=True
            )
        ],
    )
    def post(self, request):
        data = _checked(TrialInputSerializer, request.data, self.get_serializer_context())
        on = data.get("on") or business_today()
        contract = services.trial_start(actor=self.actor, customer=data["customer"], plan=data["plan"], on=on)
        contract = selectors.contract_details(selectors.contracts()).get(pk=contract.pk)
        context = {**self.get_serializer_context(), "on": on}
        return Response(ContractSerializer(contract, context=context).data, status=status.HTTP_201_CREATED)


# ================================================================ messages


@extend_schema(tags=["messages"])
@extend_schema_view(
    list=extend_schema(
        summary="Notices sent (the notice history)",
        description="Newest first. Filters: `customer`, `contract` (ids), `kind`; `search` in the subject.",
    ),
    retrieve=extend_schema(summary="One notice sent, with its text"),
)
class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = Message
    serializer_class = MessageSerializer
    filter_backends = LIST_BACKENDS
    filterset_class = MessageFilter
    search_fields = ("subject",)
    ordering_fields = ("on", "sent_at", "id")
    ordering = ("-on", "-id")

    def scope_queryset(self, queryset):
        return queryset.select_related("customer", "contract")
