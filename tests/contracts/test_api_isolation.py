"""Tenant isolation in the contracts API, tried the way an attacker would.

Given two tenants that each have contracts (an active Spekter contract, a trial), a DPA, messages
and a saved quote, A's key finds none of B's on any endpoint or method (404, the same answer as
"does not exist"), lists only A's rows, and B's customer, plan or quote ids in a body "do not
exist" (400). Nothing of B's changes.
"""

from __future__ import annotations

import datetime as dt

import pytest

from contracts import notify, services
from contracts.models import (
    Contract,
    ContractDocument,
    ContractEvent,
    DataProcessingAgreement,
    Message,
    OnboardingStep,
    PricedOn,
    Signature,
    TerminationNotice,
)
from pricing import services as pricing_services
from pricing.models import Quote
from tenants import tenancy
from tenants.models import AuditEvent, CustomerKind
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.contracts.conftest import ACTOR, SHA, plan_for, signed_at, spekter_priced_on, verified_company
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
d = dt.date


@pytest.fixture
def world(tenant_a, tenant_b):
    """Both tenants sell Spekter; only B sells Piscator. Each has a kommune with schools, an active
    contract with a DPA, a trial, a notice message and a saved quote."""
    data = {}
    for tenant in (tenant_a, tenant_b):
        slug = tenant.slug
        with tenant_context(tenant):
            plan = plan_for("spekter")
            trial_plan = plan  # any plan can be tried; B also has plans A does not
            if slug == "beta":
                plan_for("piscator")
                trial_plan = plan_for("digireq")
            kommune = CustomerFactory(name=f"Kommune {slug}", kind=CustomerKind.KOMMUNE)
            schools = [
                CustomerFactory(name=f"Skole {slug} {n}", kind=CustomerKind.SCHOOL, parent=kommune) for n in (1, 2, 3)
            ]
            dpa = services.dpa_sign(actor=ACTOR, controller=kommune, signed_on=d(2026, 1, 1), signer_name="X")
            contract = services.contract_create(
                actor=ACTOR,
                customer=kommune,
                plan=plan,
                interval="year",
                priced_on=spekter_priced_on(schools),
                terms_data=services.TERM_PRESETS["spekter"],
                on=d(2026, 3, 1),
            )
            contract = services.contract_sign(
                actor=ACTOR,
                contract=contract,
                name="Kari",
                title="",
                signed_at=signed_at(d(2026, 3, 14)),
                received_on=d(2026, 3, 15),
                document_sha256=SHA,
            )
            draft = services.contract_create(
                actor=ACTOR,
                customer=kommune,
                plan=plan,
                interval="year",
                priced_on=spekter_priced_on(schools),
                terms_data=services.TERM_PRESETS["spekter"],
                on=d(2026, 3, 1),
            )
            company = verified_company(f"Trial {slug} AS")
            trial = services.trial_start(actor=ACTOR, customer=company, plan=trial_plan, on=d(2026, 1, 5))
            services.notice_give(actor=ACTOR, contract=contract, given_by="customer", received_on=d(2026, 6, 1))
            message = notify.send(
                contract, "notice_reminder", key="deadline-test", on=d(2026, 11, 14), deadline=d(2026, 12, 14)
            )
            quote = pricing_services.quote_save(
                actor=ACTOR,
                request={"plan": "spekter-2020", "customer": kommune.pk, "schools": [{"name": "A", "pupils": 10}]},
                on=d(2026, 5, 1),
            )
        _key, raw = make_key(tenant)
        data[slug] = {
            "tenant": tenant,
            "kommune": kommune,
            "school": schools[0],
            "company": company,
            "contract": contract,
            "draft": draft,
            "trial": trial,
            "dpa": dpa,
            "message": message,
            "quote": quote,
            "api": client_for(raw),
        }
    return data


def state_of(tenant) -> dict:
    """Everything an attack could change, as plain values."""
    with tenant_context(tenant):
        return {
            model.__name__: list(model.objects.order_by("pk").values())
            for model in (
                Contract,
                ContractEvent,
                PricedOn,
                Signature,
                TerminationNotice,
                DataProcessingAgreement,
                Message,
                OnboardingStep,
                ContractDocument,
                Quote,
            )
        } | {"audit": list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))}


def no_tenant_left():
    assert tenancy.current_tenant() is None
    assert tenancy.db_tenant_setting() == ""


B_OBJECT_REQUESTS = [
    ("get", "/contracts/{contract}", None),
    ("get", "/contracts/{contract}/", None),
    ("post", "/contracts/{draft}/send", {"on": "2026-03-02"}),
    ("post", "/contracts/{draft}/sign", {"name": "Mallory", "document_sha256": SHA}),
    ("get", "/contracts/{contract}/notice-preview", None),
    ("get", "/contracts/{contract}/notice-preview?received_on=2026-06-01", None),
    ("post", "/contracts/{contract}/notice", {"given_by": "vendor"}),
    ("get", "/contracts/{contract}/amendments", None),
    ("post", "/contracts/{contract}/amendments", {"effective_from": "2026-08-01", "changes": {}, "reason": "x"}),
    ("post", "/contracts/{contract}/onboarding/feide_activated", {}),
    ("post", "/contracts/{trial}/trial/extend", {}),
    ("post", "/contracts/{trial}/trial/convert", {"interval": "year", "priced_on": {}}),
    ("post", "/contracts/{trial}/reactivate", {}),
    ("get", "/dpas/{dpa}", None),
    ("get", "/dpas/{dpa}/", None),
    ("get", "/messages/{message}", None),
]


def ids_of(side: dict) -> dict:
    return {name: side[name].pk for name in ("contract", "draft", "trial", "dpa", "message")}


@pytest.mark.parametrize(("method", "template", "body"), B_OBJECT_REQUESTS)
def test_a_key_gets_404_for_every_b_object(world, method, template, body):
    a, b = world["alpha"], world["beta"]
    before = state_of(b["tenant"])
    path = API + template.format(**ids_of(b))
    response = (
        getattr(a["api"], method)(path, body, format="json") if body is not None else getattr(a["api"], method)(path)
    )
    assert response.status_code == 404, response.content
    assert error_of(response) == {"status": 404, "code": "not_found", "message": "Not found.", "fields": {}}
    assert state_of(b["tenant"]) == before
    no_tenant_left()


@pytest.mark.parametrize("template", ["/contracts/{contract}", "/dpas/{dpa}", "/messages/{message}"])
def test_b_reads_its_own_objects_so_the_404s_are_about_the_tenant(world, template):
    b = world["beta"]
    assert b["api"].get(API + template.format(**ids_of(b))).status_code == 200


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_methods_not_offered_answer_the_same_for_a_and_b_objects(world, method):
    a, b = world["alpha"], world["beta"]
    own = getattr(a["api"], method)(f"{API}/contracts/{a['contract'].pk}", {}, format="json")
    theirs = getattr(a["api"], method)(f"{API}/contracts/{b['contract'].pk}", {}, format="json")
    assert own.status_code == theirs.status_code == 405
    assert error_of(own)["code"] == error_of(theirs)["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("path", "side_key", "name_of"),
    [
        ("/contracts", "contract", "reference"),
        ("/dpas", "dpa", "controller_name"),
        ("/messages", "message", "subject"),
    ],
)
def test_lists_show_only_the_keys_tenant(world, path, side_key, name_of):
    a, b = world["alpha"], world["beta"]
    rows = a["api"].get(f"{API}{path}").json()["results"]
    ids = {row["id"] for row in rows}
    assert a[side_key].pk in ids
    assert b[side_key].pk not in ids
    with tenant_context(a["tenant"]):
        own = set(type(a[side_key]).objects.values_list("pk", flat=True))
    assert ids == own


@pytest.mark.parametrize(
    ("path", "param"),
    [("/contracts", "customer"), ("/messages", "customer"), ("/messages", "contract"), ("/dpas", "controller")],
)
def test_filtering_by_b_ids_finds_nothing(world, path, param):
    a, b = world["alpha"], world["beta"]
    value = {"customer": b["kommune"].pk, "contract": b["contract"].pk, "controller": b["kommune"].pk}[param]
    response = a["api"].get(f"{API}{path}", {param: value})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_b_ids_in_bodies_do_not_exist(world):
    a, b = world["alpha"], world["beta"]
    before_a, before_b = state_of(a["tenant"]), state_of(b["tenant"])
    base = {"customer": a["kommune"].pk, "plan": "spekter-2020", "interval": "year", "preset": "spekter"}
    cases = [
        (
            "/contracts",
            {**base, "customer": b["kommune"].pk},
            {"customer": [f"Customer {b['kommune'].pk} does not exist."]},
        ),
        ("/contracts", {**base, "plan": "piscator-standard"}, {"plan": ["Plan piscator-standard does not exist."]}),
        (
            "/contracts",
            {**base, "priced_on": {"schools": [{"name": "X", "pupils": 10, "customer": b["school"].pk}]}},
            {"priced_on.schools[0].customer": [f"Customer {b['school'].pk} does not exist."]},
        ),
        (
            "/contracts/from-quote",
            {"quote": b["quote"].pk, "preset": "spekter"},
            {"quote": [f"Quote {b['quote'].pk} does not exist."]},
        ),
        (
            "/dpas",
            {"controller": b["kommune"].pk, "signer_name": "Mallory"},
            {"controller": [f"Customer {b['kommune'].pk} does not exist."]},
        ),
        (
            "/trials",
            {"customer": b["company"].pk, "plan": "spekter-2020"},
            {"customer": [f"Customer {b['company'].pk} does not exist."]},
        ),
        (
            "/trials",
            {"customer": a["company"].pk, "plan": "digireq-2026"},
            {"plan": ["Plan digireq-2026 does not exist."]},
        ),
    ]
    for path, body, fields in cases:
        response = a["api"].post(f"{API}{path}", body, format="json")
        assert response.status_code == 400, (path, response.content)
        assert error_of(response)["fields"] == fields, path
    assert state_of(a["tenant"]) == before_a
    assert state_of(b["tenant"]) == before_b
    no_tenant_left()


def test_b_school_in_an_amendment_of_as_contract_does_not_exist(world):
    a, b = world["alpha"], world["beta"]
    before = state_of(a["tenant"])
    response = a["api"].post(
        f"{API}/contracts/{a['contract'].pk}/amendments",
        {
            "effective_from": "2026-08-01",
            "changes": {"schools": [{"name": "X", "pupils": 10, "customer": b["school"].pk}]},
            "reason": "x",
        },
        format="json",
    )
    assert error_of(response)["fields"] == {
        "changes.schools[0].customer": [f"Customer {b['school'].pk} does not exist."]
    }
    assert state_of(a["tenant"]) == before
