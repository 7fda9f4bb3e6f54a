"""Tenant isolation in the API, tried the way an attacker would.

Given two tenants with data (alpha = A, beta = B), A's key must find none of B's objects on any
endpoint or method (404, the same answer as "does not exist"), list only A's rows, be refused B's
ids as references, and every bad key is a 401. Nothing of B's may change.
"""

from __future__ import annotations

import pytest

from tenants import services, tenancy
from tenants.audit import Actor
from tenants.models import ApiKey, ApiKeyScope, AuditEvent, Contact, Customer, CustomerKind, Tenant
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(two_tenants):
    """Two tenants, each with a customer + contact (from two_tenants), a kommune, an audit row and keys."""
    for slug, data in two_tenants.items():
        tenant = data["tenant"]
        with tenant_context(tenant):
            data["kommune"] = CustomerFactory(name=f"Kommune of {slug}", kind=CustomerKind.KOMMUNE)
            services.contact_update(actor=Actor.system("seed"), contact=data["contact"], data={"title": "Rektor"})
            data["event"] = AuditEvent.objects.get(action="contact.update")
        data["key"], data["raw_key"] = make_key(tenant, ApiKeyScope.READ_WRITE, name=f"rw {slug}")
        data["ro_key"], data["ro_raw_key"] = make_key(tenant, ApiKeyScope.READ, name=f"ro {slug}")
    return two_tenants


def state_of(tenant) -> dict:
    """Everything an attack could change, as plain values."""
    with tenant_context(tenant):
        return {
            "tenant": Tenant.objects.filter(pk=tenant.pk).values().get(),
            "customers": list(Customer.objects.order_by("pk").values()),
            "contacts": list(Contact.objects.order_by("pk").values()),
            "keys": list(ApiKey.objects.order_by("pk").values("pk", "name", "scope", "revoked_at")),
            "audit": list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True)),
        }


def no_tenant_left():
    assert tenancy.current_tenant() is None
    assert tenancy.db_tenant_setting() == ""


CUSTOMER_BODY = {"name": "Stolen AS", "org_number": "937620187", "kind": "company"}
CONTACT_BODY = {"name": "Mallory", "email": "mallory@example.com"}

B_OBJECT_REQUESTS = [
    ("get", "/customers/{customer}", None),
    ("get", "/customers/{customer}/", None),
    ("patch", "/customers/{customer}", {"name": "Stolen AS"}),
    ("put", "/customers/{customer}", CUSTOMER_BODY),
    ("delete", "/customers/{customer}", None),
    ("post", "/customers/{customer}/verify", None),
    ("get", "/customers/{customer}/contacts/", None),
    ("post", "/customers/{customer}/contacts/", CONTACT_BODY),
    ("delete", "/customers/{kommune}", None),
    ("get", "/contacts/{contact}", None),
    ("patch", "/contacts/{contact}", {"name": "Mallory"}),
    ("put", "/contacts/{contact}", CONTACT_BODY),
    ("delete", "/contacts/{contact}", None),
    ("get", "/audit-events/{event}", None),
    ("get", "/api-keys/{key}", None),
]


@pytest.mark.parametrize(("method", "template", "body"), B_OBJECT_REQUESTS)
def test_a_key_gets_404_for_every_b_object(world, brreg_fake, method, template, body):
    a, b = world["alpha"], world["beta"]
    ids = {name: b[name].pk for name in ("customer", "kommune", "contact", "event", "key")}
    before = state_of(b["tenant"])

    response = getattr(client_for(a["raw_key"]), method)(API + template.format(**ids), body, format="json")

    assert response.status_code == 404, response.content
    assert error_of(response) == {"status": 404, "code": "not_found", "message": "Not found.", "fields": {}}
    assert state_of(b["tenant"]) == before
    no_tenant_left()


@pytest.mark.parametrize(("method", "template", "body"), B_OBJECT_REQUESTS)
def test_b_object_is_answered_like_a_missing_one(world, brreg_fake, method, template, body):
    """The 404 for B's object is byte-for-byte the 404 for an id that exists nowhere."""
    a, b = world["alpha"], world["beta"]
    b_ids = {name: b[name].pk for name in ("customer", "kommune", "contact", "event", "key")}
    missing = dict.fromkeys(b_ids, 987654321)
    client = client_for(a["raw_key"])
    for_b = getattr(client, method)(API + template.format(**b_ids), body, format="json")
    for_missing = getattr(client, method)(API + template.format(**missing), body, format="json")
    assert (for_b.status_code, for_b.content) == (for_missing.status_code, for_missing.content)


@pytest.mark.parametrize(
    ("path", "a_names"),
    [
        ("/customers/", lambda a: sorted([a["customer"].name, a["kommune"].name])),
        ("/contacts/", lambda a: [a["contact"].name]),
        ("/api-keys/", lambda a: ["ro alpha", "rw alpha"]),
    ],
)
def test_lists_hold_only_a_rows(world, path, a_names):
    a = world["alpha"]
    response = client_for(a["raw_key"]).get(API + path, {"ordering": "name", "tenant": "beta"})
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == a_names(a)
    no_tenant_left()


def test_audit_log_holds_only_a_events(world):
    a, b = world["alpha"], world["beta"]
    rows = client_for(a["raw_key"]).get(f"{API}/audit-events/", {"page_size": 500}).json()["results"]
    with tenant_context(a["tenant"]):
        a_ids = set(AuditEvent.objects.values_list("pk", flat=True))
    assert {row["id"] for row in rows} == a_ids
    assert b["event"].pk not in a_ids
    assert all("beta" not in row["actor_label"] for row in rows)


def test_the_tenant_profile_is_the_keys_own(world):
    a, b = world["alpha"], world["beta"]
    assert client_for(a["raw_key"]).get(f"{API}/tenant").json()["slug"] == "alpha"
    assert client_for(b["raw_key"]).get(f"{API}/tenant").json()["slug"] == "beta"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/customers/", lambda b: {"parent": b["kommune"].pk}),
        ("/customers/", lambda b: {"org_number": b["customer"].org_number}),
        ("/customers/", lambda b: {"search": b["customer"].name}),
        ("/contacts/", lambda b: {"customer": b["customer"].pk}),
        ("/contacts/", lambda b: {"search": b["contact"].name}),
        ("/audit-events/", lambda b: {"object_type": "contact", "object_id": b["contact"].pk}),
        ("/api-keys/", lambda b: {"search": b["key"].prefix}),
    ],
)
def test_filters_by_b_ids_return_empty(world, path, params):
    a, b = world["alpha"], world["beta"]
    response = client_for(a["raw_key"]).get(API + path, params(b))
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_b_parent_id_is_refused_like_a_missing_one(world, brreg_fake):
    a, b = world["alpha"], world["beta"]
    client = client_for(a["raw_key"])
    before_a, before_b = state_of(a["tenant"]), state_of(b["tenant"])
    body = {"name": "Hundvåg skole", "org_number": "924195932", "kind": "school"}

    with_b_parent = client.post(f"{API}/customers/", {**body, "parent": b["kommune"].pk}, format="json")
    moved = client.patch(f"{API}/customers/{a['customer'].pk}", {"parent": b["kommune"].pk}, format="json")
    with_missing_parent = client.post(f"{API}/customers/", {**body, "parent": 987654321}, format="json")

    for response in (with_b_parent, moved):
        assert response.status_code == 400
        assert error_of(response)["fields"] == {"parent": [f"Customer {b['kommune'].pk} does not exist."]}
    assert error_of(with_missing_parent)["fields"] == {"parent": ["Customer 987654321 does not exist."]}
    assert (state_of(a["tenant"]), state_of(b["tenant"])) == (before_a, before_b)


def test_b_key_cannot_reach_a_either(world):
    a, b = world["alpha"], world["beta"]
    response = client_for(b["raw_key"]).get(f"{API}/customers/{a['customer'].pk}")
    assert response.status_code == 404


# ---------------------------------------------------------------- bad keys → 401


def _swap_slug(raw_key: str, slug: str) -> str:
    prefix, _old, rest = raw_key.split("_", 2)
    return f"{prefix}_{slug}_{rest}"


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda w: f"Bearer {_swap_slug(w['alpha']['raw_key'], 'beta')}", id="a-key-with-b-slug"),
        pytest.param(lambda w: f"Bearer {_swap_slug(w['beta']['raw_key'], 'alpha')}", id="b-key-with-a-slug"),
        pytest.param(lambda w: f"Bearer {w['alpha']['raw_key'][:-1]}x", id="wrong-secret"),
        pytest.param(lambda w: f"Bearer avt_alpha_{'0' * 12}_{'s' * 43}", id="unknown-prefix"),
        pytest.param(lambda w: f"Bearer {_swap_slug(w['alpha']['raw_key'], 'nosuchvendor')}", id="unknown-tenant"),
        pytest.param(lambda w: "Bearer avt_alpha", id="truncated"),
        pytest.param(lambda w: "Bearer not-a-key", id="garbage"),
        pytest.param(lambda w: "Bearer ", id="empty"),
        pytest.param(lambda w: "Bearer", id="scheme-only"),
        pytest.param(lambda w: f"Basic {w['alpha']['raw_key']}", id="wrong-scheme"),
        pytest.param(lambda w: w["alpha"]["raw_key"], id="no-scheme"),
        pytest.param(lambda w: "Bearer avt_alpha_x_y' OR '1'='1", id="sql-ish"),
    ],
)
def test_bad_keys_are_401(world, header):
    client = client_for(None)
    response = client.get(f"{API}/customers/", HTTP_AUTHORIZATION=header(world))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "authentication_failed"
    no_tenant_left()


def test_revoked_key_is_401(world):
    a = world["alpha"]
    with tenant_context(a["tenant"]):
        services.api_key_revoke(actor=Actor.system("test"), key=a["key"])
    response = client_for(a["raw_key"]).get(f"{API}/customers/")
    assert response.status_code == 401
    assert error_of(response)["message"] == "Unknown or revoked API key."
    # The other active key still works (rotation).
    assert client_for(a["ro_raw_key"]).get(f"{API}/customers/").status_code == 200


def test_key_of_a_deactivated_tenant_is_401(world):
    a = world["alpha"]
    Tenant.objects.filter(pk=a["tenant"].pk).update(is_active=False)
    assert client_for(a["raw_key"]).get(f"{API}/tenant").status_code == 401


def test_no_key_is_401_on_every_endpoint(world):
    client = client_for(None)
    for path in ("/tenant", "/customers/", "/contacts/", "/audit-events/", "/api-keys/", "/registry/937620187"):
        response = client.get(API + path)
        assert response.status_code == 401, path
        assert error_of(response)["code"] == "not_authenticated"


# ---------------------------------------------------------------- read-only key → 403


READ_ONLY_WRITES = [
    ("post", "/customers/", CUSTOMER_BODY),
    ("patch", "/customers/{customer}", {"name": "Changed"}),
    ("put", "/customers/{customer}", CUSTOMER_BODY),
    ("delete", "/customers/{customer}", None),
    ("post", "/customers/{customer}/verify", None),
    ("post", "/customers/{customer}/contacts/", CONTACT_BODY),
    ("patch", "/contacts/{contact}", {"name": "Changed"}),
    ("put", "/contacts/{contact}", CONTACT_BODY),
    ("delete", "/contacts/{contact}", None),
    ("patch", "/tenant", {"name": "Changed AS"}),
]


@pytest.mark.parametrize(("method", "template", "body"), READ_ONLY_WRITES)
def test_read_only_key_cannot_write(world, brreg_fake, method, template, body):
    a = world["alpha"]
    before = state_of(a["tenant"])
    path = API + template.format(customer=a["customer"].pk, contact=a["contact"].pk)

    response = getattr(client_for(a["ro_raw_key"]), method)(path, body, format="json")

    assert response.status_code == 403
    assert error_of(response) == {
        "status": 403,
        "code": "permission_denied",
        "message": "This API key is read-only; create a read-write key to make changes.",
        "fields": {},
    }
    assert state_of(a["tenant"]) == before
    no_tenant_left()


def test_read_only_key_can_read(world):
    a = world["alpha"]
    client = client_for(a["ro_raw_key"])
    assert client.get(f"{API}/customers/{a['customer'].pk}").json()["name"] == "Customer of alpha"
    assert client.get(f"{API}/contacts/{a['contact'].pk}").json()["title"] == "Rektor"


# ---------------------------------------------------------------- the connection after a request


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/customers/", None, 200),
        ("patch", "/customers/{customer}", {"city": "Bergen"}, 200),
        ("patch", "/customers/{customer}", {"kind": "bank"}, 400),
        ("get", "/customers/{b_customer}", None, 404),
        ("delete", "/contacts/{contact}", None, 204),
    ],
)
def test_connection_carries_no_tenant_after_a_request(world, method, path, body, status):
    a, b = world["alpha"], world["beta"]
    path = API + path.format(customer=a["customer"].pk, contact=a["contact"].pk, b_customer=b["customer"].pk)
    response = getattr(client_for(a["raw_key"]), method)(path, body, format="json")
    assert response.status_code == status
    no_tenant_left()
    # And what the connection sees without a tenant: nothing.
    assert Customer.unscoped.count() == 0


# ---------------------------------------------------------------- the first wall, in code


def test_every_viewset_is_tenant_scoped_and_filters_by_tenant_in_sql(world):
    """Row-level security is the second wall; the base viewset's own filter is the first."""
    from tenants.api import TenantScopedViewSet
    from tenants.api_urls import router

    a = world["alpha"]
    assert len(router.registry) == 5
    with tenant_context(a["tenant"]):
        for prefix, viewset, _basename in router.registry:
            assert issubclass(viewset, TenantScopedViewSet), prefix
            view = viewset(kwargs={"customer_id": a["customer"].pk}, request=None, format_kwarg=None)
            sql = str(view.get_queryset().query)
            assert f'."tenant_id" = {a["tenant"].pk}' in sql, (prefix, sql)
