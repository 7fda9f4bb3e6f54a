"""The catalogue API: products and add-ons, hourly services, categories, the standards catalogue
with its yearly prices, and the CSV import (every bad row reported, nothing imported)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from catalog import services
from catalog.models import AddOn, HourlyService, Product, Standard, StandardCategory, StandardPrice
from pricing import services as pricing_services
from tenants.audit import Actor
from tenants.models import ApiKeyScope, AuditEvent
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """Requests with Accept-Language: en leave English active in this thread (LocaleMiddleware
    does not switch back); later tests expect the default, Norwegian."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def key(tenant_a):
    return make_key(tenant_a, ApiKeyScope.READ_WRITE, name="ERP")


@pytest.fixture
def api(key):
    return client_for(key[1])


@pytest.fixture
def catalogue(tenant_a):
    """Two categories, five standards (one withdrawn in 2024) with prices for 2025 and 2026."""
    with tenant_context(tenant_a):
        for code, nb, en in (("1", "Norske standarder", "Norwegian standards"), ("2", "ISO", "ISO")):
            services.category_save(actor=ACTOR, data={"code": code, "name_nb": nb, "name_en": en})
        rows = (
            "code,title,category,price,withdrawn_on\n"
            "NS 8405:2008,Norsk bygge- og anleggskontrakt,1,1200,\n"
            "NS 3420-1:2024,Beskrivelsestekster for bygg,1,1450.50,\n"
            "NS 3451:2009,Bygningsdelstabell,1,980,2024-06-30\n"
            "ISO 9001:2015,Quality management systems,2,1500,\n"
            "ISO 14001:2015,Environmental management systems,2,1650,\n"
        )
        services.standards_import_csv(actor=ACTOR, text=rows, year=2026)
        services.standards_import_csv(actor=ACTOR, text=rows.replace(",1200,", ",1100,"), year=2025)
    return tenant_a


def in_a(tenant, fn):
    with tenant_context(tenant):
        return fn()


# ---------------------------------------------------------------- products and add-ons


def test_product_crud_is_audited_with_the_key(api, key, tenant_a):
    created = api.post(
        f"{API}/products",
        {"code": "digireq", "name_nb": "DigiReq", "name_en": "DigiReq", "description": "Krav"},
        format="json",
    )
    assert created.status_code == 201, created.content
    product = created.json()
    assert {k: product[k] for k in ("code", "name_nb", "name_en", "description", "is_active")} == {
        "code": "digireq",
        "name_nb": "DigiReq",
        "name_en": "DigiReq",
        "description": "Krav",
        "is_active": True,
    }
    changed = api.patch(f"{API}/products/{product['id']}", {"is_active": False}, format="json")
    assert (changed.status_code, changed.json()["is_active"]) == (200, False)
    replaced = api.put(
        f"{API}/products/{product['id']}", {"code": "digireq", "name_nb": "D", "name_en": "D"}, format="json"
    )
    assert (replaced.status_code, replaced.json()["name_nb"]) == (200, "D")
    assert api.get(f"{API}/products", {"is_active": "false"}).json()["count"] == 1
    assert api.delete(f"{API}/products/{product['id']}").status_code == 204
    assert in_a(tenant_a, lambda: Product.objects.count()) == 0
    events = in_a(tenant_a, lambda: list(AuditEvent.objects.filter(object_type="product").order_by("id")))
    assert [e.action for e in events] == ["product.create", "product.update", "product.update", "product.delete"]
    assert {e.actor_api_key_id for e in events} == {key[0].pk}
    assert events[1].changes == {"is_active": [True, False]}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name_nb": "X", "name_en": "X"}, {"code"}),
        ({"code": "not a slug", "name_nb": "X", "name_en": "X"}, {"code"}),
        ({"code": ["x"], "name_nb": "X", "name_en": "X"}, {"code"}),
        ({"code": "x", "name_nb": {"nb": "X"}, "name_en": "X"}, {"name_nb"}),
        ({"code": "x", "name_nb": "X", "name_en": "X", "is_active": "perhaps"}, {"is_active"}),
        ({"code": "x", "name_nb": "X", "name_en": "X", "tenant": 2}, {"tenant"}),
        ({"code": "abonnement", "name_nb": "X", "name_en": "X"}, {"code"}),
    ],
)
def test_bad_products_are_refused(api, tenant_a, body, fields):
    with tenant_context(tenant_a):
        services.product_save(actor=ACTOR, data={"code": "abonnement", "name_nb": "A", "name_en": "A"})
    response = api.post(f"{API}/products", body, format="json")
    assert response.status_code == 400, response.content
    assert set(error_of(response)["fields"]) == fields
    assert in_a(tenant_a, lambda: Product.objects.count()) == 1


def test_a_product_with_a_plan_cannot_be_deleted(api, tenant_a):
    with tenant_context(tenant_a):
        product = services.product_save(actor=ACTOR, data={"code": "p", "name_nb": "P", "name_en": "P"})
        pricing_services.plan_create(actor=ACTOR, product=product, code="plan", name_nb="P", name_en="P")
    response = api.delete(f"{API}/products/{product.pk}")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"non_field_errors": ["This is still in use (plan) and cannot be deleted."]}
    assert in_a(
        tenant_a, lambda: (Product.objects.count(), AuditEvent.objects.filter(action="product.delete").count())
    ) == (1, 0)


def test_a_products_addons(api, tenant_a):
    with tenant_context(tenant_a):
        product = services.product_save(actor=ACTOR, data={"code": "sn", "name_nb": "SN", "name_en": "SN"})
    base = f"{API}/products/{product.pk}/addons"
    created = api.post(base, {"code": "offline", "name_nb": "Offline", "name_en": "Offline"}, format="json")
    assert created.status_code == 201, created.content
    addon = created.json()
    assert (addon["product"], addon["code"]) == (product.pk, "offline")
    assert [a["code"] for a in api.get(base).json()["results"]] == ["offline"]
    assert api.patch(f"{base}/{addon['id']}", {"name_en": "Offline solution"}, format="json").json()["name_en"] == (
        "Offline solution"
    )
    duplicate = api.post(base, {"code": "offline", "name_nb": "O", "name_en": "O"}, format="json")
    assert set(error_of(duplicate)["fields"]) == {"code"}
    assert (
        api.get(f"{API}/products/{product.pk}").json()["addons_url"].endswith(f"/api/v1/products/{product.pk}/addons")
    )
    assert api.delete(f"{base}/{addon['id']}").status_code == 204
    assert in_a(tenant_a, lambda: AddOn.objects.count()) == 0
    assert api.get(f"{API}/products/987654321/addons").status_code == 404


# ---------------------------------------------------------------- hourly services


def test_hourly_service_crud(api, tenant_a):
    body = {"code": "konsulent", "name_nb": "Konsulenttime", "name_en": "Consulting hour", "hourly_rate": "1250.00"}
    created = api.post(f"{API}/hourly-services", body, format="json")
    assert created.status_code == 201, created.content
    service = created.json()
    assert (service["hourly_rate"], service["travel_share"], service["increment_minutes"]) == ("1250.00", "0.500", 1)
    changed = api.patch(f"{API}/hourly-services/{service['id']}", {"increment_minutes": 30}, format="json")
    assert changed.json()["increment_minutes"] == 30
    assert [s["code"] for s in api.get(f"{API}/hourly-services").json()["results"]] == ["konsulent"]
    assert api.delete(f"{API}/hourly-services/{service['id']}").status_code == 204
    assert in_a(tenant_a, lambda: HourlyService.objects.count()) == 0


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"hourly_rate": "-1"}, {"hourly_rate"}),
        ({"hourly_rate": "abc"}, {"hourly_rate"}),
        ({"hourly_rate": "NaN"}, {"hourly_rate"}),
        ({"hourly_rate": [1]}, {"hourly_rate"}),
        ({"hourly_rate": "1e20"}, {"hourly_rate"}),
        ({"travel_share": "12.5"}, {"travel_share"}),
        ({"increment_minutes": -5}, {"increment_minutes"}),
        ({"increment_minutes": 1.5}, {"increment_minutes"}),
    ],
)
def test_bad_hourly_services(api, tenant_a, change, fields):
    body = {"code": "k", "name_nb": "K", "name_en": "K", "hourly_rate": "1000", **change}
    response = api.post(f"{API}/hourly-services", body, format="json")
    assert response.status_code == 400, response.content
    assert set(error_of(response)["fields"]) == fields
    assert in_a(tenant_a, lambda: HourlyService.objects.count()) == 0


# ---------------------------------------------------------------- categories


def test_category_crud_and_in_use(api, catalogue):
    body = {
        "code": "5",
        "name_nb": "Thomson Reuters m.fl.",
        "name_en": "Thomson Reuters et al.",
        "users_one_level_higher": True,
        "building_blocks": True,
    }
    created = api.post(f"{API}/standard-categories", body, format="json")
    assert created.status_code == 201, created.content
    category = created.json()
    assert (category["users_one_level_higher"], category["building_blocks"], category["yearly_prices_fetched"]) == (
        True,
        True,
        False,
    )
    assert [c["code"] for c in api.get(f"{API}/standard-categories").json()["results"]] == ["1", "2", "5"]
    assert api.delete(f"{API}/standard-categories/{category['id']}").status_code == 204
    one = in_a(catalogue, lambda: StandardCategory.objects.get(code="1"))
    in_use = api.delete(f"{API}/standard-categories/{one.pk}")
    assert in_use.status_code == 400
    assert error_of(in_use)["fields"] == {
        "non_field_errors": ["This is still in use (standard) and cannot be deleted."]
    }
    assert set(error_of(api.post(f"{API}/standard-categories", {**body, "code": "1"}, format="json"))["fields"]) == {
        "code"
    }


# ---------------------------------------------------------------- standards


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


def test_standards_list_and_filters(api, catalogue, monkeypatch):
    monkeypatch.setattr("catalog.api.business_today", lambda: dt.date(2026, 5, 1))
    everything = api.get(f"{API}/standards").json()["results"]
    assert [s["code"] for s in everything] == [
        "ISO 14001:2015",
        "ISO 9001:2015",
        "NS 3420-1:2024",
        "NS 3451:2009",
        "NS 8405:2008",
    ]
    assert everything[0]["category"] == "2" and everything[0]["price"] is None and everything[0]["year"] is None
    assert codes(api.get(f"{API}/standards", {"category": "1"})) == ["NS 3420-1:2024", "NS 3451:2009", "NS 8405:2008"]
    assert codes(api.get(f"{API}/standards", {"withdrawn": "yes"})) == ["NS 3451:2009"]
    assert codes(api.get(f"{API}/standards", {"withdrawn": "no", "category": "1"})) == [
        "NS 3420-1:2024",
        "NS 8405:2008",
    ]
    assert codes(api.get(f"{API}/standards", {"search": "management quality"})) == ["ISO 9001:2015"]
    priced = api.get(f"{API}/standards", {"year": 2025, "category": "1"}).json()["results"]
    assert [(s["code"], s["year"], s["price"]) for s in priced] == [
        ("NS 3420-1:2024", 2025, "1450.50"),
        ("NS 3451:2009", 2025, "980.00"),
        ("NS 8405:2008", 2025, "1100.00"),
    ]
    assert api.get(f"{API}/standards", {"year": 2030, "search": "8405"}).json()["results"][0]["price"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "last"}, "year"),
        ({"year": "2026.5"}, "year"),
        ({"year": "99999"}, "year"),
        ({"withdrawn": "maybe"}, "withdrawn"),
    ],
)
def test_bad_standard_filters(api, catalogue, params, field):
    response = api.get(f"{API}/standards", params)
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {field}


def test_one_standard_with_every_years_price(api, catalogue):
    standard = in_a(catalogue, lambda: Standard.objects.get(code="NS 8405:2008"))
    body = api.get(f"{API}/standards/{standard.pk}").json()
    assert (body["code"], body["title"], body["category"], body["withdrawn_on"]) == (
        "NS 8405:2008",
        "Norsk bygge- og anleggskontrakt",
        "1",
        None,
    )
    assert body["prices"] == [{"year": 2026, "price": "1200.00"}, {"year": 2025, "price": "1100.00"}]


# ---------------------------------------------------------------- CSV import

GOOD_CSV = "code,title,category,price\nNS 1,Ny standard,1,1000\nISO 9001:2015,Quality management systems,2,1575\n"


def test_import_csv_as_the_body(api, catalogue):
    response = api.post(f"{API}/standards/import?year=2027", GOOD_CSV, content_type="text/csv")
    assert response.status_code == 200, response.content
    assert response.json() == {"year": 2027, "created": 1, "updated": 0, "prices": 2}
    prices = in_a(
        catalogue, lambda: dict(StandardPrice.objects.filter(year=2027).values_list("standard__code", "price"))
    )
    assert {k: str(v) for k, v in prices.items()} == {"NS 1": "1000.00", "ISO 9001:2015": "1575.00"}


def test_import_csv_as_a_multipart_file_with_a_bom(api, catalogue):
    upload = SimpleUploadedFile("katalog.csv", ("\ufeff" + GOOD_CSV).encode(), content_type="text/csv")
    response = api.post(f"{API}/standards/import?year=2027", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1


def test_every_bad_row_is_reported_and_nothing_is_imported(api, catalogue):
    text = (
        "code,title,category,price\n"
        "NS 1,Ny standard,1,1000\n"
        "NS 2,Uten kategori,,1000\n"
        "NS 3,Ukjent kategori,9,1000\n"
        "NS 4,Feil pris,1,12x\n"
        "NS 1,Dobbel,1,1000\n"
    )
    before = in_a(catalogue, lambda: (Standard.objects.count(), StandardPrice.objects.count()))
    response = api.post(f"{API}/standards/import?year=2027", text, content_type="text/csv")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "file": [
            "Line 3: category is empty: every standard needs a category.",
            "Line 4: unknown category 9 (known: 1, 2).",
            "Line 5: price '12x' is not an amount ≥ 0.",
            "Line 6: code NS 1 is also on line 2.",
        ]
    }
    assert in_a(catalogue, lambda: (Standard.objects.count(), StandardPrice.objects.count())) == before


@pytest.mark.parametrize(
    ("path", "kwargs", "field"),
    [
        ("/standards/import", {"data": GOOD_CSV, "content_type": "text/csv"}, "year"),
        ("/standards/import?year=next", {"data": GOOD_CSV, "content_type": "text/csv"}, "year"),
        ("/standards/import?year=2027", {"data": "", "content_type": "text/csv"}, "file"),
        ("/standards/import?year=2027", {"data": "a;b;c\n1;2;3\n", "content_type": "text/csv"}, "file"),
        ("/standards/import?year=2027", {"data": GOOD_CSV.encode("utf-16"), "content_type": "text/csv"}, "file"),
        ("/standards/import?year=2027", {"data": {"rows": []}, "format": "json"}, "file"),
        ("/standards/import?year=2027", {"data": {"other": "x"}, "format": "multipart"}, "file"),
    ],
)
def test_bad_imports(api, catalogue, path, kwargs, field):
    response = api.post(API + path, **kwargs)
    assert response.status_code == 400, response.content
    assert set(error_of(response)["fields"]) == {field}
