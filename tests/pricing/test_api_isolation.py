"""Tenant isolation of the catalogue and pricing API, tried the way an attacker would.

A's key must not see or use any of B's plans, versions, quotes, products, add-ons, hourly services,
categories or standards: 404 (the same answer as "does not exist"), lists hold only A's rows, and
B's plan code, customer id or standard code in A's quote is unknown (400). A read key may read and
price, and gets 403 on every write. Nothing of B's may change.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import translation

from catalog import services as catalog_services
from catalog.models import AddOn, HourlyService, Product, Standard, StandardCategory, StandardPrice
from pricing import services
from pricing.models import Plan, PlanVersion, Quote
from pricing.plans import seed_plan_document
from tenants import tenancy
from tenants.audit import Actor
from tenants.models import ApiKeyScope, AuditEvent
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("seed")


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """Requests with Accept-Language: en leave English active in this thread (LocaleMiddleware
    does not switch back); later tests expect the default, Norwegian."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def seed(tenant, suffix: str) -> dict:
    """A product with an add-on, a plan (Spekter's prices) with a version, a saved quote, an hourly
    service, a category and a standard with a price."""
    with tenant_context(tenant):
        product = catalog_services.product_save(
            actor=ACTOR, data={"code": f"product-{suffix}", "name_nb": "P", "name_en": "P"}
        )
        addon = catalog_services.addon_save(
            actor=ACTOR, product=product, data={"code": f"addon-{suffix}", "name_nb": "A", "name_en": "A"}
        )
        plan = services.plan_create(actor=ACTOR, product=product, code=f"plan-{suffix}", name_nb="Plan", name_en="Plan")
        doc = {**seed_plan_document("spekter"), "code": plan.code}
        version = services.plan_version_create(actor=ACTOR, plan=plan, valid_from=dt.date(2020, 1, 1), document=doc)
        customer = CustomerFactory(name=f"Kommune {suffix}", kind="kommune")
        quote = services.quote_save(
            actor=ACTOR,
            request={"plan": plan.code, "customer": customer.pk, "schools": [{"name": "S", "pupils": 87}]},
            on=dt.date(2026, 5, 1),
        )
        hourly = catalog_services.hourly_service_save(
            actor=ACTOR, data={"code": f"hour-{suffix}", "name_nb": "H", "name_en": "H", "hourly_rate": "1000"}
        )
        category = catalog_services.category_save(
            actor=ACTOR, data={"code": f"c{suffix}", "name_nb": "C", "name_en": "C"}
        )
        catalog_services.standards_import_csv(
            actor=ACTOR, text=f"code,title,category,price\nNS {suffix},Standard {suffix},c{suffix},1200\n", year=2026
        )
        standard = Standard.objects.get()
    _k, raw = make_key(tenant, ApiKeyScope.READ_WRITE, name=f"rw {suffix}")
    _r, ro_raw = make_key(tenant, ApiKeyScope.READ, name=f"ro {suffix}")
    return {
        "tenant": tenant,
        "product": product,
        "addon": addon,
        "plan": plan,
        "version": version,
        "customer": customer,
        "quote": quote,
        "hourly": hourly,
        "category": category,
        "standard": standard,
        "raw": raw,
        "ro_raw": ro_raw,
    }


@pytest.fixture
def world(tenant_a, tenant_b):
    return {"a": seed(tenant_a, "a"), "b": seed(tenant_b, "b")}


def state_of(tenant) -> dict:
    with tenant_context(tenant):
        return {
            model.__name__: list(model.objects.order_by("pk").values())
            for model in (
                Product,
                AddOn,
                Plan,
                PlanVersion,
                Quote,
                HourlyService,
                StandardCategory,
                Standard,
                StandardPrice,
            )
        } | {"audit": list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))}


def no_tenant_left():
    assert tenancy.current_tenant() is None
    assert tenancy.db_tenant_setting() == ""


def ids(side: dict) -> dict:
    return {
        name: side[name].pk
        for name in ("product", "addon", "plan", "version", "quote", "hourly", "category", "standard")
    }


PRODUCT = {"code": "stolen", "name_nb": "S", "name_en": "S"}
VERSION = {"valid_from": "2030-01-01", "document": seed_plan_document("spekter")}

B_OBJECT_REQUESTS = [
    ("get", "/plans/{plan}", None),
    ("get", "/plans/{plan}/versions", None),
    ("post", "/plans/{plan}/versions", VERSION),
    ("get", "/plan-versions/{version}", None),
    ("get", "/plan-versions/{version}/export", None),
    ("get", "/quotes/{quote}", None),
    ("get", "/products/{product}", None),
    ("patch", "/products/{product}", {"name_nb": "Stjålet"}),
    ("put", "/products/{product}", PRODUCT),
    ("delete", "/products/{product}", None),
    ("get", "/products/{product}/addons", None),
    ("post", "/products/{product}/addons", PRODUCT),
    ("get", "/products/{product}/addons/{addon}", None),
    ("patch", "/products/{product}/addons/{addon}", {"name_nb": "Stjålet"}),
    ("delete", "/products/{product}/addons/{addon}", None),
    ("get", "/hourly-services/{hourly}", None),
    ("patch", "/hourly-services/{hourly}", {"hourly_rate": "1"}),
    ("delete", "/hourly-services/{hourly}", None),
    ("get", "/standard-categories/{category}", None),
    ("patch", "/standard-categories/{category}", {"name_nb": "Stjålet"}),
    ("delete", "/standard-categories/{category}", None),
    ("get", "/standards/{standard}", None),
]


@pytest.mark.parametrize(("method", "template", "body"), B_OBJECT_REQUESTS)
def test_a_key_gets_404_for_every_b_object(world, method, template, body):
    a, b = world["a"], world["b"]
    before = state_of(b["tenant"])
    client = client_for(a["raw"])
    for_b = getattr(client, method)(API + template.format(**ids(b)), body, format="json")
    missing = getattr(client, method)(API + template.format(**dict.fromkeys(ids(b), 987654321)), body, format="json")
    assert for_b.status_code == 404, for_b.content
    assert error_of(for_b) == {"status": 404, "code": "not_found", "message": "Not found.", "fields": {}}
    assert (for_b.status_code, for_b.content) == (missing.status_code, missing.content)
    assert state_of(b["tenant"]) == before
    no_tenant_left()


def test_a_own_addon_under_b_product_is_404(world):
    a, b = world["a"], world["b"]
    response = client_for(a["raw"]).get(f"{API}/products/{b['product'].pk}/addons/{a['addon'].pk}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "field", "a_values"),
    [
        ("/plans", "code", ["plan-a"]),
        ("/plan-versions", "plan_code", ["plan-a"]),
        ("/quotes", "plan", ["plan-a"]),
        ("/products", "code", ["product-a"]),
        ("/hourly-services", "code", ["hour-a"]),
        ("/standard-categories", "code", ["ca"]),
        ("/standards", "code", ["NS a"]),
    ],
)
def test_lists_hold_only_a_rows(world, path, field, a_values):
    response = client_for(world["a"]["raw"]).get(API + path, {"page_size": 500})
    assert response.status_code == 200
    assert [row[field] for row in response.json()["results"]] == a_values


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/quotes", lambda b: {"customer": b["customer"].pk}),
        ("/quotes", lambda b: {"plan": b["plan"].code}),
        ("/plan-versions", lambda b: {"plan": b["plan"].pk}),
        ("/plans", lambda b: {"product": b["product"].pk}),
        ("/standards", lambda b: {"category": b["category"].code}),
        ("/standards", lambda b: {"search": "NS b"}),
    ],
)
def test_filters_by_b_values_return_empty(world, path, params):
    response = client_for(world["a"]["raw"]).get(API + path, params(world["b"]))
    assert (response.status_code, response.json()["count"]) == (200, 0)


def quote_body(plan_code: str, **extra) -> dict:
    return {"plan": plan_code, "schools": [{"name": "S", "pupils": 87}], "date": "2026-05-01", **extra}


def test_b_plan_code_in_a_quote_is_an_unknown_plan(world):
    a, b = world["a"], world["b"]
    response = client_for(a["raw"]).post(f"{API}/quotes", quote_body(b["plan"].code), format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"plan": ["Unknown plan plan-b."]}
    mine = client_for(a["raw"]).post(f"{API}/quotes", quote_body(a["plan"].code), format="json")
    assert (mine.status_code, mine.json()["net"]) == (200, "2892.00")


def test_b_customer_and_standard_in_a_quote_are_unknown(world):
    a, b = world["a"], world["b"]
    before_a, before_b = state_of(a["tenant"]), state_of(b["tenant"])
    client = client_for(a["raw"])
    customer = client.post(
        f"{API}/quotes", quote_body(a["plan"].code, customer=b["customer"].pk, save=True), format="json"
    )
    assert error_of(customer)["fields"] == {"customer": [f"Customer {b['customer'].pk} does not exist."]}
    with tenant_context(a["tenant"]):
        product = a["product"]
        plan = services.plan_create(actor=ACTOR, product=product, code="sn", name_nb="SN", name_en="SN")
        services.plan_version_create(
            actor=ACTOR,
            plan=plan,
            valid_from=dt.date(2020, 1, 1),
            document={**seed_plan_document("standard-norge"), "code": "sn"},
        )
    before_a = state_of(a["tenant"])
    standard = client.post(
        f"{API}/quotes",
        {"plan": "sn", "concurrent_users": 7, "start": "2026-01-01", "standards": [{"code": "NS b"}]},
        format="json",
    )
    assert error_of(standard)["fields"] == {"standards[0]": ["Unknown standard NS b in the catalogue."]}
    assert (state_of(a["tenant"]), state_of(b["tenant"])) == (before_a, before_b)


def test_importing_with_b_product_code_is_refused(world):
    a, b = world["a"], world["b"]
    with tenant_context(b["tenant"]):
        exported = services.plan_version_export(b["version"])
    before_a = state_of(a["tenant"])
    response = client_for(a["raw"]).post(f"{API}/plan-versions/import", exported, format="json")
    assert error_of(response)["fields"] == {"product": ["Unknown product product-b."]}
    assert state_of(a["tenant"]) == before_a


def test_b_product_id_for_a_new_plan_is_refused(world):
    a, b = world["a"], world["b"]
    response = client_for(a["raw"]).post(
        f"{API}/plans", {"product": b["product"].pk, "code": "x", "name_nb": "X", "name_en": "X"}, format="json"
    )
    assert error_of(response)["fields"] == {"product": [f"Product {b['product'].pk} does not exist."]}


# ---------------------------------------------------------------- read key: reads and prices, never writes

READ_ONLY_WRITES = [
    ("post", "/quotes", quote_body("plan-a", save=True)),
    ("post", "/quotes", quote_body("plan-a", save="true")),
    ("post", "/plans", {"product": "{product}", "code": "x", "name_nb": "X", "name_en": "X"}),
    ("post", "/plans/{plan}/versions", VERSION),
    ("post", "/plan-versions/import", {"plan": "x"}),
    ("post", "/products", PRODUCT),
    ("patch", "/products/{product}", {"name_nb": "X"}),
    ("put", "/products/{product}", PRODUCT),
    ("delete", "/products/{product}", None),
    ("post", "/products/{product}/addons", PRODUCT),
    ("patch", "/products/{product}/addons/{addon}", {"name_nb": "X"}),
    ("delete", "/products/{product}/addons/{addon}", None),
    ("post", "/hourly-services", {"code": "h", "name_nb": "H", "name_en": "H", "hourly_rate": "1"}),
    ("patch", "/hourly-services/{hourly}", {"hourly_rate": "1"}),
    ("delete", "/hourly-services/{hourly}", None),
    ("post", "/standard-categories", {"code": "9", "name_nb": "N", "name_en": "N"}),
    ("patch", "/standard-categories/{category}", {"name_nb": "X"}),
    ("delete", "/standard-categories/{category}", None),
    ("post", "/standards/import?year=2027", "code,title,category,price\nNS x,X,ca,1\n"),
]


@pytest.mark.parametrize(("method", "template", "body"), READ_ONLY_WRITES)
def test_read_key_gets_403_on_every_write(world, method, template, body):
    a = world["a"]
    before = state_of(a["tenant"])
    if isinstance(body, dict):
        body = {k: (a["product"].pk if v == "{product}" else v) for k, v in body.items()}
    kwargs = {"content_type": "text/csv"} if isinstance(body, str) else {"format": "json"}
    response = getattr(client_for(a["ro_raw"]), method)(API + template.format(**ids(a)), body, **kwargs)
    assert response.status_code == 403, response.content
    assert error_of(response) == {
        "status": 403,
        "code": "permission_denied",
        "message": "This API key is read-only; create a read-write key to make changes.",
        "fields": {},
    }
    assert state_of(a["tenant"]) == before
    no_tenant_left()


def test_read_key_reads_and_prices(world):
    a = world["a"]
    client = client_for(a["ro_raw"])
    assert client.get(f"{API}/plans/{a['plan'].pk}").json()["code"] == "plan-a"
    assert client.get(f"{API}/quotes/{a['quote'].pk}").json()["net"] == "2892.00"
    assert client.get(f"{API}/standards/{a['standard'].pk}").json()["prices"] == [{"year": 2026, "price": "1200.00"}]
    assert client.post(f"{API}/quotes", quote_body("plan-a"), format="json").json()["total"] == "3615.00"


def test_no_key_is_401_on_the_new_endpoints(world):
    client = client_for(None)
    for path in (
        "/quotes",
        "/plans",
        "/plan-versions",
        "/products",
        "/hourly-services",
        "/standard-categories",
        "/standards",
    ):
        response = client.get(API + path)
        assert response.status_code == 401, path
    priced = client.post(f"{API}/quotes", quote_body("plan-a"), format="json")
    assert (priced.status_code, error_of(priced)["code"]) == (401, "not_authenticated")


# ---------------------------------------------------------------- the first wall, in code


def test_every_new_viewset_is_tenant_scoped_and_filters_by_tenant_in_sql(world):
    from tenants.api import TenantScopedViewSet
    from tenants.api_urls import catalog_router

    a = world["a"]
    assert len(catalog_router.registry) == 9
    with tenant_context(a["tenant"]):
        for prefix, viewset, _basename in catalog_router.registry:
            assert issubclass(viewset, TenantScopedViewSet), prefix
            view = viewset(
                kwargs={"plan_id": a["plan"].pk, "product_id": a["product"].pk},
                request=None,
                format_kwarg=None,
                action="list",
            )
            sql = str(view.get_queryset().query)
            assert f'."tenant_id" = {a["tenant"].pk}' in sql, (prefix, sql)
