"""Back-office catalogue pages: products and add-ons, hourly services, standard categories, the
standards catalogue and its CSV upload. Every change goes through ``catalog.services``."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from catalog import services
from catalog.models import AddOn, HourlyService, Product, Standard, StandardCategory, StandardPrice
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
BASE = "/backoffice/alpha"
ACTOR = Actor.system("test")
NBSP = "\u00a0"


@pytest.fixture
def as_role(client, tenant_a):
    def login(role):
        with tenant_context(tenant_a):
            user = MembershipFactory(role=role, user__email=f"{role}@alpha.no").user
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return login


def catalogue(tenant, *, standards=0, prefix="NS"):
    with tenant_context(tenant):
        product = services.product_save(
            actor=ACTOR, data={"code": "abonnement", "name_nb": "Abonnement", "name_en": "Subscription"}
        )
        addon = services.addon_save(
            actor=ACTOR, product=product, data={"code": "offline", "name_nb": "Offline", "name_en": "Offline"}
        )
        hourly = services.hourly_service_save(
            actor=ACTOR,
            data={
                "code": "support",
                "name_nb": "Support",
                "name_en": "Support",
                "hourly_rate": Decimal("1400.00"),
                "increment_minutes": 30,
            },
        )
        cats = [
            services.category_save(
                actor=ACTOR,
                data={"code": "1", "name_nb": "Norske standarder", "name_en": "Norwegian standards"},
            ),
            services.category_save(
                actor=ACTOR,
                data={
                    "code": "5",
                    "name_nb": "Thomson Reuters",
                    "name_en": "Thomson Reuters",
                    "users_one_level_higher": True,
                    "building_blocks": True,
                    "yearly_prices_fetched": True,
                },
            ),
        ]
        if standards:
            for year, price in ((2025, "1000"), (2026, "1100")):
                rows = [f"{prefix} {i:03d},Tittel {i},{'5' if i % 10 == 0 else '1'},{price}" for i in range(standards)]
                rows.append(f"{prefix} GAMMEL,Utgått standard,1,{price},2025-06-30")
                services.standards_import_csv(
                    actor=ACTOR, text="code,title,category,price,withdrawn_on\n" + "\n".join(rows), year=year
                )
        return {"product": product, "addon": addon, "hourly": hourly, "categories": cats}


def test_a_viewer_sees_the_catalogue_but_cannot_change_it(as_role, tenant_a):
    catalogue(tenant_a)
    bo = as_role(Role.VIEWER)
    page = bo.get(f"{BASE}/catalog/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("Abonnement", "Offline", "Support", f"1{NBSP}400,00{NBSP}kr", "påbegynt halvtime", "Blokker på 25"):
        assert text in html, text
    assert "Nytt produkt" not in html
    for path in (
        "catalog/products/new/",
        "catalog/hourly/new/",
        "catalog/categories/new/",
        "catalog/standards/import/",
    ):
        assert bo.get(f"{BASE}/{path}").status_code == 403, path


def test_finance_may_not_edit_the_catalogue(as_role, tenant_a):
    objs = catalogue(tenant_a)
    bo = as_role(Role.FINANCE)
    assert bo.get(f"{BASE}/catalog/").status_code == 200
    response = bo.post(f"{BASE}/catalog/products/{objs['product'].pk}/edit/", {"code": "x", "name_nb": "x"})
    assert response.status_code == 403
    with tenant_context(tenant_a):
        assert Product.objects.get().code == "abonnement"


def test_an_admin_creates_and_edits_products_add_ons_services_and_categories(as_role, tenant_a):
    objs = catalogue(tenant_a)
    bo = as_role(Role.ADMIN)
    response = bo.post(
        f"{BASE}/catalog/products/new/",
        {"code": "eadm", "name_nb": "eAdm", "name_en": "eAdm", "description": "IAM", "is_active": "on"},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        product = Product.objects.get(code="eadm")
    response = bo.post(
        f"{BASE}/catalog/products/{product.pk}/addons/new/",
        {"code": "module_feide", "name_nb": "Feide", "name_en": "Feide"},
    )
    assert response.status_code == 302
    response = bo.post(
        f"{BASE}/catalog/hourly/{objs['hourly'].pk}/edit/",
        {
            "code": "support",
            "name_nb": "Support",
            "name_en": "Support",
            "hourly_rate": "1 450,50",
            "travel_share": "0,5",
            "increment_minutes": "30",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    response = bo.post(
        f"{BASE}/catalog/categories/{objs['categories'][0].pk}/edit/",
        {"code": "1", "name_nb": "Norske", "name_en": "Norwegian", "users_one_level_higher": "on"},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert AddOn.objects.get(code="module_feide").product == product
        hourly = HourlyService.objects.get()
        assert (hourly.hourly_rate, hourly.travel_share) == (Decimal("1450.50"), Decimal("0.500"))
        category = StandardCategory.objects.get(code="1")
        assert (category.name_nb, category.users_one_level_higher, category.building_blocks) == ("Norske", True, False)
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {"product.create", "addon.create", "hourly_service.update", "standard_category.update"} <= actions


def test_bad_catalogue_input_is_a_400_per_field_and_nothing_saved(as_role, tenant_a):
    catalogue(tenant_a)
    bo = as_role(Role.OWNER)
    response = bo.post(
        f"{BASE}/catalog/hourly/new/",
        {"code": "", "name_nb": "Reise", "name_en": "", "hourly_rate": "-5", "travel_share": "halv"},
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {
        "code",
        "name_en",
        "hourly_rate",
        "travel_share",
        "increment_minutes",
    }
    assert 'id="error-summary"' in response.content.decode()
    # A code already in use: the service refuses it, on the code field.
    response = bo.post(
        f"{BASE}/catalog/products/new/", {"code": "abonnement", "name_nb": "Dublett", "name_en": "Duplicate"}
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["code"]
    with tenant_context(tenant_a):
        assert HourlyService.objects.count() == 1
        assert Product.objects.count() == 1


def test_the_standards_list_searches_filters_pages_and_shows_the_years_price(as_role, tenant_a):
    catalogue(tenant_a, standards=60)
    bo = as_role(Role.VIEWER)

    def codes(**params):
        response = bo.get(f"{BASE}/catalog/standards/", params)
        assert response.status_code == 200
        return [s.code for s in response.context["page"].object_list]

    assert len(codes()) == 50  # first page of 61
    assert codes(page=2) == [f"NS {i:03d}" for i in range(50, 60)] + ["NS GAMMEL"]
    assert codes(q="ns 01") == [f"NS {i:03d}" for i in range(10, 20)]
    assert codes(category="5") == [f"NS {i:03d}" for i in range(0, 60, 10)]
    assert codes(withdrawn="withdrawn") == ["NS GAMMEL"]
    assert len(codes(withdrawn="current", page=2)) == 10
    page = bo.get(f"{BASE}/catalog/standards/", {"q": "NS 001", "year": 2025}).content.decode()
    assert f"1{NBSP}000,00{NBSP}kr" in page and "Pris 2025" in page
    page = bo.get(f"{BASE}/catalog/standards/", {"q": "NS 001", "year": 2026}).content.decode()
    assert f"1{NBSP}100,00{NBSP}kr" in page
    assert "ingen pris" in bo.get(f"{BASE}/catalog/standards/", {"q": "NS 001", "year": 2030}).content.decode()
    htmx = bo.get(f"{BASE}/catalog/standards/", {"q": "gammel"}, headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in htmx.content.decode() and "NS GAMMEL" in htmx.content.decode()


def upload(text: str, name="standarder.csv"):
    f = io.BytesIO(text.encode("utf-8"))
    f.name = name
    return f


def test_a_csv_with_bad_rows_lists_each_by_line_number_and_imports_nothing(as_role, tenant_a):
    catalogue(tenant_a)
    bo = as_role(Role.OWNER)
    text = (
        "code,title,category,price,withdrawn_on\n"
        "NS 1,God standard,1,1200,\n"
        "NS 2,Uten kategori,,1200,\n"
        "NS 3,Ukjent kategori,9,1200,\n"
        "NS 4,Feil pris,1,tusen,\n"
        "NS 1,Dublett,1,1200,\n"
        "NS 6,Feil dato,1,900,30.06.2025\n"
    )
    response = bo.post(f"{BASE}/catalog/standards/import/", {"year": "2026", "file": upload(text)})
    assert response.status_code == 400
    lines = response.context["line_errors"]
    assert [line.split(":")[0] for line in lines] == ["Linje 3", "Linje 4", "Linje 5", "Linje 6", "Linje 7"]
    assert "kategori" in lines[0] and "9" in lines[1] and "tusen" in lines[2] and "linje 2" in lines[3]
    html = response.content.decode()
    for line in lines:
        assert line.replace("'", "&#x27;") in html
    with tenant_context(tenant_a):
        assert Standard.objects.count() == 0
        assert StandardPrice.objects.count() == 0


def test_a_good_csv_is_imported_with_prices_for_the_year(as_role, tenant_a):
    catalogue(tenant_a)
    bo = as_role(Role.ADMIN)
    text = "\ufeffcode,title,category,price,withdrawn_on\nNS 1,Første,1,1 200,\nTR 1,Blokk,5,900.50,2025-06-30\n"
    response = bo.post(f"{BASE}/catalog/standards/import/", {"year": "2026", "file": upload(text)})
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}/catalog/standards/?year=2026"
    with tenant_context(tenant_a):
        got = {(s.code, s.category.code, s.withdrawn_on) for s in Standard.objects.select_related("category")}
        assert got == {("NS 1", "1", None), ("TR 1", "5", dt.date(2025, 6, 30))}
        assert sorted(StandardPrice.objects.values_list("price", flat=True)) == [Decimal("900.50"), Decimal("1200.00")]
    # Missing year or file: a message per field.
    response = bo.post(f"{BASE}/catalog/standards/import/", {"year": ""})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"year", "file"}


def test_another_tenants_catalogue_is_not_found(as_role, tenant_a, tenant_b):
    catalogue(tenant_a)
    other = catalogue(tenant_b, standards=3, prefix="BETA")
    bo = as_role(Role.OWNER)
    for path in (
        f"catalog/products/{other['product'].pk}/edit/",
        f"catalog/products/{other['product'].pk}/addons/new/",
        f"catalog/addons/{other['addon'].pk}/edit/",
        f"catalog/hourly/{other['hourly'].pk}/edit/",
        f"catalog/categories/{other['categories'][0].pk}/edit/",
    ):
        assert bo.get(f"{BASE}/{path}").status_code == 404, path
        assert bo.post(f"{BASE}/{path}", {"code": "hijack"}).status_code == 404, path
    assert bo.get(f"{BASE}/catalog/standards/").context["page"].paginator.count == 0
    with tenant_context(tenant_b):
        assert Product.objects.get().code == "abonnement"
