"""Back-office and portal pages for plans, plan versions, the price calculators and quotes.

Amounts are checked as shown on the page (Norwegian: 2 892,00 kr, with no-break spaces).
"""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.utils import translation

from catalog import services as catalog_services
from pricing import services
from pricing.models import PlanVersion, Quote
from pricing.plans import seed_plan_document
from tenants.audit import Actor
from tenants.models import CustomerKind, PortalUser
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
BASE = "/backoffice/alpha"
ACTOR = Actor.system("test")
NBSP = "\u00a0"


def kr(text: str) -> str:
    """'2 892,00' → how the page writes it: no-break spaces and ' kr'."""
    return text.replace(" ", NBSP) + NBSP + "kr"


def load_plans(tenant, *, with_standards=True):
    """Spekter's band plan, Standard Norge's licence plan (with a small catalogue) and DigiReq."""
    with tenant_context(tenant):
        out = {}
        for slug, valid_from in (
            ("spekter", dt.date(2020, 1, 1)),
            ("standard-norge", dt.date(2026, 1, 1)),
            ("digireq", dt.date(2024, 1, 1)),
        ):
            doc = seed_plan_document(slug)
            product = catalog_services.product_save(
                actor=ACTOR, data={"code": f"p-{slug}", "name_nb": slug.title(), "name_en": slug.title()}
            )
            plan = services.plan_create(
                actor=ACTOR, product=product, code=doc["code"], name_nb=doc["name"]["nb"], name_en=doc["name"]["en"]
            )
            services.plan_version_create(actor=ACTOR, plan=plan, valid_from=valid_from, document=doc, note="Seed")
            out[slug] = plan
        if with_standards:
            for code, nb in (("1", "Norske"), ("2", "ISO")):
                catalog_services.category_save(actor=ACTOR, data={"code": code, "name_nb": nb, "name_en": nb})
            rows = "\n".join(f"NS {i},Standard {i},1,1200" for i in range(40))
            rows += "\n" + "\n".join(f"ISO {i},ISO {i},2,1500" for i in range(10))
            catalog_services.standards_import_csv(actor=ACTOR, text="code,title,category,price\n" + rows, year=2026)
        return out


@pytest.fixture
def plans(tenant_a):
    return load_plans(tenant_a)


def staff(tenant, role, email):
    with tenant_context(tenant):
        return MembershipFactory(role=role, user__email=email).user


@pytest.fixture
def as_role(client, tenant_a):
    def login(role):
        client.force_login(staff(tenant_a, role, f"{role}@alpha.no"), backend=MODEL_BACKEND)
        return client

    return login


def html(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- roles


def test_a_viewer_sees_plans_versions_and_quotes_but_cannot_change_or_price(as_role, plans, tenant_a):
    bo = as_role(Role.VIEWER)
    spekter = plans["spekter"]
    with tenant_context(tenant_a):
        version = spekter.versions.get()
    for path in ("plans/", f"plans/{spekter.pk}/", f"plans/versions/{version.pk}/", "quotes/"):
        assert bo.get(f"{BASE}/{path}").status_code == 200, path
    listing = html(bo.get(f"{BASE}/plans/"))
    assert "Spekter digital, pris per skole" in listing
    assert "fra 01.01.2020" in listing  # the version in force today
    assert "Ny prisversjon" not in html(bo.get(f"{BASE}/plans/{spekter.pk}/"))
    for path in (f"plans/{spekter.pk}/versions/new/", "plans/import/", "calculator/"):
        assert bo.get(f"{BASE}/{path}").status_code == 403, path
    assert bo.post(f"{BASE}/calculator/", {"plan": "spekter-2020"}).status_code == 403


def test_finance_creates_a_version_from_the_current_tables(as_role, plans, tenant_a):
    bo = as_role(Role.FINANCE)
    plan = plans["digireq"]
    page = bo.get(f"{BASE}/plans/{plan.pk}/versions/new/")
    assert page.status_code == 200
    editor = page.context["editor"]
    assert [
        (r.values["lower"], r.values["upper"], r.values["unit_price"], r.values["flat_amount"])
        for r in editor.tables[0].rows
    ] == [
        ("1", "10", "", "495"),
        ("11", "50", "75", ""),
        ("51", "200", "65", ""),
        ("201", "", "55", ""),
    ]
    data = digireq_post(
        plan, rows=[("1", "10", "", "520"), ("11", "50", "79", ""), ("51", "200", "69", ""), ("201", "", "59", "")]
    )
    response = bo.post(f"{BASE}/plans/{plan.pk}/versions/new/", data)
    with tenant_context(tenant_a):
        version = PlanVersion.objects.get(plan=plan, valid_from=dt.date(2027, 1, 1))
        assert response.status_code == 302
        assert response["Location"] == f"{BASE}/plans/versions/{version.pk}/"
        assert version.document["components"][0]["tiers"] == [
            {"lower": 1, "upper": 10, "flat_amount": "520"},
            {"lower": 11, "upper": 50, "unit_price": "79"},
            {"lower": 51, "upper": 200, "unit_price": "69"},
            {"lower": 201, "upper": None, "unit_price": "59"},
        ]
        assert version.note == "Prisøkning 2027"
    shown = html(bo.get(f"{BASE}/plans/versions/{version.pk}/"))
    assert kr("520,00") in shown and kr("79,00") in shown


def digireq_post(plan, *, rows, valid_from="2027-01-01"):
    data = {"valid_from": valid_from, "note": "Prisøkning 2027", "action": "save", "c0-count": str(len(rows))}
    for j, (lower, upper, unit_price, flat) in enumerate(rows):
        data.update(
            {
                f"c0-{j}-lower": lower,
                f"c0-{j}-upper": upper,
                f"c0-{j}-unit_price": unit_price,
                f"c0-{j}-flat_amount": flat,
            }
        )
    return data


@pytest.mark.parametrize(
    ("rows", "bad_row", "message"),
    [
        (
            [("1", "10", "", "495"), ("12", "50", "75", ""), ("51", "", "65", "")],
            1,
            "Hull før trinn 2: 11–11 har ingen pris; start det på 11.",
        ),
        (
            [("1", "10", "", "495"), ("11", "50", "75", ""), ("45", "", "65", "")],
            2,
            "Trinn 3 starter på 45 og overlapper trinnet før; start det på 51.",
        ),
        (
            [("1", "10", "", "495"), ("11", "fem", "75", ""), ("51", "", "6,5,0", "")],
            1,
            "Rad 2: øvre grense må være et heltall ≥ 0.",
        ),
    ],
)
def test_bad_tiers_are_a_400_naming_the_row_and_nothing_is_saved(as_role, plans, tenant_a, rows, bad_row, message):
    bo = as_role(Role.FINANCE)
    plan = plans["digireq"]
    response = bo.post(f"{BASE}/plans/{plan.pk}/versions/new/", digireq_post(plan, rows=rows))
    assert response.status_code == 400
    table = response.context["editor"].tables[0]
    assert message in table.rows[bad_row].errors
    page = html(response)
    assert 'id="error-summary"' in page and message in page
    assert f'id="id_c0-{bad_row}-lower"' in page
    with tenant_context(tenant_a):
        assert PlanVersion.objects.filter(plan=plan).count() == 1


def test_a_bad_date_and_bad_tiers_both_come_back_in_one_round(as_role, plans, tenant_a):
    bo = as_role(Role.OWNER)
    plan = plans["digireq"]
    data = digireq_post(plan, rows=[("1", "10", "", "495"), ("12", "", "75", "")], valid_from="2027-13-01")
    response = bo.post(f"{BASE}/plans/{plan.pk}/versions/new/", data)
    assert response.status_code == 400
    assert list(response.context["meta"].errors) == ["valid_from"]
    assert response.context["editor"].tables[0].rows[1].errors == [
        "Hull før trinn 2: 11–11 har ingen pris; start det på 11."
    ]
    # The same date as the version in force: refused by the service, on the date field.
    response = bo.post(
        f"{BASE}/plans/{plan.pk}/versions/new/",
        digireq_post(plan, rows=[("1", "", "", "495")], valid_from="2024-01-01"),
    )
    assert response.status_code == 400
    assert "2024-01-01" in response.context["meta"].errors["valid_from"][0]
    with tenant_context(tenant_a):
        assert PlanVersion.objects.filter(plan=plan).count() == 1


def test_rows_are_added_and_removed_without_saving(as_role, plans, tenant_a):
    bo = as_role(Role.FINANCE)
    plan = plans["digireq"]
    data = digireq_post(plan, rows=[("1", "10", "", "495"), ("11", "50", "75", "")])
    response = bo.post(f"{BASE}/plans/{plan.pk}/versions/new/", {**data, "action": "add:c0"})
    assert response.status_code == 200
    rows = response.context["editor"].tables[0].rows
    assert [(r.values["lower"], r.values["upper"]) for r in rows] == [("1", "10"), ("11", "50"), ("51", "")]
    response = bo.post(f"{BASE}/plans/{plan.pk}/versions/new/", {**data, "action": "remove:c0-0"})
    assert [(r.index, r.values["lower"]) for r in response.context["editor"].tables[0].rows] == [(0, "11")]
    with tenant_context(tenant_a):
        assert PlanVersion.objects.filter(plan=plan).count() == 1


def test_licence_tables_are_edited_as_rows_too(as_role, plans, tenant_a):
    bo = as_role(Role.FINANCE)
    plan = plans["standard-norge"]
    page = bo.get(f"{BASE}/plans/{plan.pk}/versions/new/")
    editor = page.context["editor"]
    keys = [t.key for t in editor.tables]
    assert keys == ["d", "m"]
    d = editor.tables[0]
    data = {"valid_from": "2027-01-01", "note": "", "action": "save", "base": str(editor and page.context["base"].pk)}
    for table in editor.tables:
        data[f"{table.key}-count"] = str(len(table.rows))
        for row in table.rows:
            for name, value in row.values.items():
                data[f"{table.key}-{row.index}-{name}"] = value
            if row.on_request:
                data[f"{table.key}-{row.index}-on_request"] = "on"
    for value in editor.values:
        data[value.key] = value.value
    data["d-1-lower"] = "27"  # gap after 1–25
    response = bo.post(f"{BASE}/plans/{plan.pk}/versions/new/", data)
    assert response.status_code == 400
    assert response.context["editor"].tables[0].rows[1].errors == [
        "Hull før trinn 2: 26–26 har ingen pris; start det på 26."
    ]
    data["d-1-lower"] = "26"
    data["d-0-discount"] = "0,20"
    response = bo.post(f"{BASE}/plans/{plan.pk}/versions/new/", data)
    assert response.status_code == 302
    with tenant_context(tenant_a):
        saved = PlanVersion.objects.get(plan=plan, valid_from=dt.date(2027, 1, 1))
        assert saved.document["licence"]["d_table"][0] == {"lower": 1, "upper": 25, "discount": "0.20"}
        assert len(saved.document["licence"]["d_table"]) == len(d.rows)


def test_version_page_shows_bands_and_licence_tables(as_role, plans, tenant_a):
    bo = as_role(Role.VIEWER)
    with tenant_context(tenant_a):
        spekter = plans["spekter"].versions.get()
        sn = plans["standard-norge"].versions.get()
    page = html(bo.get(f"{BASE}/plans/versions/{spekter.pk}/"))
    assert "Bånd: ett helt beløp for båndet antallet faller i" in page
    assert f'<td class="num">1{NBSP}001</td>' in page and kr("18 525,00") in page
    page = html(bo.get(f"{BASE}/plans/versions/{sn.pk}/"))
    assert "Volumrabatt D etter antall standarder" in page
    assert f"15{NBSP}%" in page  # D for 1–25
    assert "på forespørsel" in page  # beyond 1000 standards


def test_export_and_import_a_version(as_role, plans, tenant_a):
    bo = as_role(Role.OWNER)
    with tenant_context(tenant_a):
        version = plans["digireq"].versions.get()
    response = bo.get(f"{BASE}/plans/versions/{version.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="digireq-2026-2024-01-01.json"'
    payload = json.loads(response.content)
    assert payload["document"] == version.document
    # The same date again: refused, nothing saved.
    upload = io.BytesIO(json.dumps(payload).encode())
    upload.name = "digireq.json"
    response = bo.post(f"{BASE}/plans/import/", {"file": upload})
    assert response.status_code == 400
    assert "2024-01-01" in " ".join(response.context["form"].errors["file"])
    upload = io.BytesIO(json.dumps({**payload, "valid_from": "2028-01-01"}).encode())
    upload.name = "digireq.json"
    response = bo.post(f"{BASE}/plans/import/", {"file": upload})
    with tenant_context(tenant_a):
        imported = PlanVersion.objects.get(plan=plans["digireq"], valid_from=dt.date(2028, 1, 1))
        assert response["Location"] == f"{BASE}/plans/versions/{imported.pk}/"
        assert imported.document == version.document
    not_json = io.BytesIO(b"code,title\n")
    not_json.name = "x.csv"
    assert bo.post(f"{BASE}/plans/import/", {"file": not_json}).status_code == 400


# ---------------------------------------------------------------- calculator


def spekter_post(**extra):
    data = {
        "plan": "spekter-2020",
        "interval": "year",
        "quoted_on": "2026-03-01",
        "school-count": "3",
        "school-0-name": "Nordby skole",
        "school-0-pupils": "87",
        "school-1-name": "Sørby skole",
        "school-1-pupils": "240",
        "school-2-name": "Vestby ungdomsskole",
        "school-2-pupils": "1100",
        "action": "price",
    }
    data.update(extra)
    return data


def test_the_calculator_prices_spekters_three_schools(as_role, plans):
    bo = as_role(Role.SALES)
    assert bo.get(f"{BASE}/calculator/?plan=spekter-2020").status_code == 200
    response = bo.post(f"{BASE}/calculator/", spekter_post())
    assert response.status_code == 200
    result = response.context["result"]
    assert [line["amount"] for line in result["lines"]] == ["2892.00", "4875.00", "18525.00"]
    assert (result["net"], result["vat"], result["total"]) == ("26292.00", "6573.00", "32865.00")
    page = html(response)
    for amount in ("2 892,00", "4 875,00", "18 525,00", "26 292,00", "6 573,00", "32 865,00"):
        assert kr(amount) in page, amount
    assert f"87 elever: trinn 1–100 gir 2{NBSP}892,00" in page  # the explanation, in Norwegian
    with translation.override("en"):
        page = html(bo.post(f"{BASE}/calculator/", spekter_post(), HTTP_ACCEPT_LANGUAGE="en"))
    assert "87 pupils: band 1–100 gives 2,892.00" in page
    assert f"NOK{NBSP}32,865.00" in page


def test_the_calculator_shows_standard_norges_first_year(as_role, plans):
    bo = as_role(Role.FINANCE)
    data = {
        "plan": "standard-norge-abonnement",
        "interval": "year",
        "quoted_on": "2026-05-01",
        "start": "2026-05-10",
        "concurrent_users": "7",
        "addons": ["offline"],
        "standard_codes": "\n".join([f"NS {i}" for i in range(40)] + [f"ISO {i}" for i in range(10)]),
        "standard-count": "1",
        "action": "price",
    }
    response = bo.post(f"{BASE}/calculator/", data)
    assert response.status_code == 200, response.context["error_items"]
    first = response.context["result"]["first_period"]
    assert (first["start"], first["end"], first["total"]) == ("2026-05-10", "2027-01-01", "68217.19")
    page = html(response)
    assert kr("68 217,19") in page
    assert "Første periode: 10.05.2026 til 31.12.2026" in page
    assert "kvartal 2–4 2026, påbegynt kvartal medregnet" in page


def test_the_calculator_shows_on_request_and_procurement_thresholds(as_role, plans):
    bo = as_role(Role.SALES)
    data = {
        "plan": "standard-norge-abonnement",
        "interval": "year",
        "quoted_on": "2026-05-01",
        "start": "2026-05-10",
        "concurrent_users": "7",
        "standard-count": "1",
        "standard-0-category": "1",
        "standard-0-price": "1200",
        "action": "price",
    }
    # One standard of a category with a price: priced; public sector: the estimate against thresholds.
    response = bo.post(f"{BASE}/calculator/", {**data, "public_sector": "yes"})
    assert response.status_code == 200, response.context["error_items"]
    procurement = response.context["result"]["procurement"]
    assert (procurement["date"], [t["reached"] for t in procurement["thresholds"]]) == ("2026-05-01", [False, False])
    assert "Anskaffelsesregelverket gjelder over 100" in html(response)
    # A DigiReq buyer with 60 000 users: fine; the licence beyond its tables: on request with the reason.
    standards = {f"standard-{i}-code": f"NS {i}" for i in range(40)}
    big = {**data, **standards, "standard-count": "40", "concurrent_users": "1200"}
    big.pop("standard-0-category")
    big.pop("standard-0-price")
    response = bo.post(f"{BASE}/calculator/", big)
    assert response.status_code == 200, response.context["error_items"]
    assert response.context["result"]["on_request"] is True
    assert "Pris på forespørsel" in html(response)


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        (spekter_post(**{"school-1-pupils": "0"}), ("school", 1), "Antall elever må være minst 1 (fikk 0)."),
        (spekter_post(**{"school-0-pupils": "2,5"}), ("school", 0), "Antall elever må være et heltall, ikke 2.5."),
        (
            {"plan": "digireq-2026", "interval": "month", "quoted_on": "2026-03-01", "qty_active_users": "12.5"},
            ("field", "qty_active_users"),
            "Antall aktive brukere må være et heltall, ikke 12.5.",
        ),
        (
            {
                "plan": "standard-norge-abonnement",
                "interval": "year",
                "quoted_on": "2026-05-01",
                "start": "2026-05-10",
                "concurrent_users": "7",
                "standard_codes": "NS 1\nNS 999",
            },
            ("field", "standard_codes"),
            "Linje 2: Ukjent standard NS 999 i katalogen.",
        ),
        (
            {
                "plan": "standard-norge-abonnement",
                "interval": "year",
                "quoted_on": "2026-05-01",
                "start": "2026-05-10",
                "concurrent_users": "7",
                "standard-count": "2",
                "standard-0-code": "NS 1",
                "standard-1-code": "Egen",
                "standard-1-price": "900",
            },
            ("standard", 1),
            "Denne standarden har ingen kategori; gi den en.",
        ),
    ],
)
def test_bad_calculator_input_is_a_400_with_the_message_where_it_belongs(
    as_role, plans, tenant_a, data, where, message
):
    bo = as_role(Role.SALES)
    response = bo.post(f"{BASE}/calculator/", {**data, "action": "save"})
    assert response.status_code == 400
    kind, key = where
    if kind == "field":
        assert message in response.context["form"].errors[key]
    else:
        rows = response.context["rows"].schools if kind == "school" else response.context["rows"].standards
        assert message in rows[key].errors
    assert message in html(response)
    with tenant_context(tenant_a):
        assert Quote.objects.count() == 0


def test_school_rows_are_added_and_removed(as_role, plans):
    bo = as_role(Role.SALES)
    response = bo.post(f"{BASE}/calculator/", spekter_post(action="add:school"))
    assert response.status_code == 200
    assert [r.values["pupils"] for r in response.context["rows"].schools] == ["87", "240", "1100", ""]
    assert response.context["result"] is None
    response = bo.post(f"{BASE}/calculator/", spekter_post(action="remove:school-1"))
    assert [r.values["name"] for r in response.context["rows"].schools] == ["Nordby skole", "Vestby ungdomsskole"]


def test_saving_a_quote_for_a_customer(as_role, plans, tenant_a):
    bo = as_role(Role.SALES)
    with tenant_context(tenant_a):
        kommune = CustomerFactory(name="Nordby kommune", kind=CustomerKind.KOMMUNE)
    response = bo.post(f"{BASE}/calculator/", spekter_post(customer=str(kommune.pk), action="save"))
    with tenant_context(tenant_a):
        quote = Quote.objects.get()
        assert response["Location"] == f"{BASE}/quotes/{quote.pk}/"
        assert (quote.customer, quote.total, quote.quoted_on) == (kommune, Decimal("32865.00"), dt.date(2026, 3, 1))
        assert quote.request["schools"][2] == {"name": "Vestby ungdomsskole", "pupils": 1100}
    detail = html(bo.get(f"{BASE}/quotes/{quote.pk}/"))
    assert kr("32 865,00") in detail and "Nordby kommune" in detail
    assert kr("32 865,00") in html(bo.get(f"{BASE}/quotes/"))
    customer_page = html(bo.get(f"{BASE}/customers/{kommune.pk}/"))
    assert f"{BASE}/quotes/{quote.pk}/" in customer_page
    # Public sector from the customer's kind: the estimate against the thresholds.
    assert quote.result["procurement"]["estimated_value"] == "26292.00"


# ---------------------------------------------------------------- isolation


def test_another_tenants_plans_versions_and_quotes_are_not_found(as_role, plans, tenant_b):
    bo = as_role(Role.OWNER)
    other = load_plans(tenant_b, with_standards=False)
    with tenant_context(tenant_b):
        version = other["spekter"].versions.get()
        quote = services.quote_save(
            actor=ACTOR,
            request={"plan": "spekter-2020", "schools": [{"name": "X", "pupils": 10}]},
            on=dt.date(2026, 3, 1),
        )
    for path in (
        f"plans/{other['spekter'].pk}/",
        f"plans/{other['spekter'].pk}/versions/new/",
        f"plans/versions/{version.pk}/",
        f"plans/versions/{version.pk}/export/",
        f"quotes/{quote.pk}/",
    ):
        assert bo.get(f"{BASE}/{path}").status_code == 404, path
    # A version id of another tenant as the base of a new version: not found either.
    response = bo.post(f"{BASE}/plans/{plans['spekter'].pk}/versions/new/", {"base": str(version.pk)})
    assert response.status_code == 404
    assert bo.get(f"{BASE}/quotes/").context["page"].paginator.count == 0


def test_staff_of_another_tenant_get_404(client, plans, tenant_b):
    client.force_login(staff(tenant_b, Role.OWNER, "owner@beta.no"), backend=MODEL_BACKEND)
    assert client.get(f"{BASE}/plans/").status_code == 404
    assert client.get(f"{BASE}/calculator/").status_code == 404


# ---------------------------------------------------------------- portal


@pytest.fixture
def portal(client, tenant_a, plans):
    with tenant_context(tenant_a):
        kommune = CustomerFactory(name="Nordby kommune", kind=CustomerKind.KOMMUNE)
        other = CustomerFactory(name="Fjord Data AS")
        user = UserFactory(email="kari@nordby.kommune.no")
        PortalUser.objects.create(customer=kommune, user=user)
        own = services.quote_save(
            actor=ACTOR,
            request={"plan": "spekter-2020", "customer": kommune.pk, "schools": [{"name": "A", "pupils": 87}]},
            on=dt.date(2026, 3, 1),
        )
        foreign = services.quote_save(
            actor=ACTOR,
            request={"plan": "spekter-2020", "customer": other.pk, "schools": [{"name": "B", "pupils": 240}]},
            on=dt.date(2026, 3, 1),
        )
    client.force_login(user, backend=MODEL_BACKEND)
    return {"client": client, "customer": kommune, "own": own, "foreign": foreign}


def test_a_customer_prices_plans_in_the_portal_without_saving(portal, tenant_a):
    pc = portal["client"]
    assert pc.get("/portal/alpha/prices/").status_code == 200
    data = spekter_post()
    data.pop("quoted_on")
    response = pc.post("/portal/alpha/prices/", {**data, "action": "save", "vat_treatment": "exempt"})
    assert response.status_code == 200
    result = response.context["result"]
    # The customer's own VAT treatment (25 %) and sector (a kommune: public), whatever is posted.
    assert (result["total"], result["procurement"]["estimated_value"]) == ("32865.00", "26292.00")
    assert kr("32 865,00") in html(response)
    assert "Lagre tilbud" not in html(response)
    with tenant_context(tenant_a):
        assert Quote.objects.count() == 2


def test_a_portal_user_sees_only_their_own_quotes(portal):
    pc = portal["client"]
    listing = pc.get("/portal/alpha/quotes/")
    assert [q.pk for q in listing.context["quotes"]] == [portal["own"].pk]
    assert pc.get(f"/portal/alpha/quotes/{portal['own'].pk}/").status_code == 200
    assert kr("2 892,00") in html(pc.get(f"/portal/alpha/quotes/{portal['own'].pk}/"))
    assert pc.get(f"/portal/alpha/quotes/{portal['foreign'].pk}/").status_code == 404


def test_staff_pages_are_not_for_portal_users(portal):
    assert portal["client"].get(f"{BASE}/calculator/").status_code == 404
