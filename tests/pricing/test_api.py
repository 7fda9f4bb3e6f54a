"""The pricing API: worked quotes for every seed vendor (exact to the øre), saved quotes, bad input
with its field path, and plans with their price versions (create, validate, export, import)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import translation

from catalog import services as catalog_services
from pricing import services
from pricing.models import Plan, PlanVersion, Quote
from pricing.plans import seed_plan_document
from tenants.audit import Actor
from tenants.models import ApiKeyScope, AuditEvent, CustomerKind
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """Requests with Accept-Language: en leave English active in this thread (LocaleMiddleware
    does not switch back); later tests expect the default, Norwegian."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


SEEDS = ("spekter", "digireq", "standard-norge", "piscator", "identum")


def load_vendor_plans(tenant) -> dict[str, Plan]:
    """All five seed vendors' plans (from their documents) and a small standards catalogue, in ``tenant``."""
    with tenant_context(tenant):
        product = catalog_services.product_save(
            actor=ACTOR, data={"code": "abonnement", "name_nb": "Abonnement", "name_en": "Subscription"}
        )
        plans = {}
        for name in SEEDS:
            doc = seed_plan_document(name)
            plan = services.plan_create(
                actor=ACTOR, product=product, code=doc["code"], name_nb=doc["name"]["nb"], name_en=doc["name"]["en"]
            )
            services.plan_version_create(actor=ACTOR, plan=plan, valid_from=dt.date(2020, 1, 1), document=doc)
            plans[name] = plan
        for code, name in (("1", "Norske standarder"), ("2", "ISO")):
            catalog_services.category_save(actor=ACTOR, data={"code": code, "name_nb": name, "name_en": name})
        rows = [f"NS {i:02d},Norsk standard {i},1,1200" for i in range(40)]
        rows += [f"ISO {i:02d},ISO standard {i},2,1500" for i in range(10)]
        catalog_services.standards_import_csv(
            actor=ACTOR, text="code,title,category,price\n" + "\n".join(rows), year=2026
        )
    return plans


@pytest.fixture
def vendor(tenant_a):
    plans = load_vendor_plans(tenant_a)
    _key, raw = make_key(tenant_a, ApiKeyScope.READ_WRITE, name="ERP")
    _ro, ro_raw = make_key(tenant_a, ApiKeyScope.READ, name="Reader")
    return {"tenant": tenant_a, "plans": plans, "api": client_for(raw), "ro": client_for(ro_raw), "key": _key}


def quote(client, body, expect=200):
    response = client.post(f"{API}/quotes", body, format="json")
    assert response.status_code == expect, response.content
    return response.json()


def amounts(body) -> list[str]:
    return [line["amount"] for line in body["lines"]]


def totals(body) -> tuple[str, str, str]:
    return body["net"], body["vat"], body["total"]


SN_COLLECTION = [{"code": f"NS {i:02d}"} for i in range(40)] + [{"code": f"ISO {i:02d}"} for i in range(10)]


def sn_request(**extra) -> dict:
    return {
        "plan": "standard-norge-abonnement",
        "concurrent_users": 7,
        "addons": ["offline"],
        "standards": SN_COLLECTION,
        "date": "2026-05-01",
        **extra,
    }


# ---------------------------------------------------------------- worked quotes, one per seed vendor


def test_spekter_kommune_with_three_schools(vendor):
    body = quote(
        vendor["api"],
        {
            "plan": "spekter-2020",
            "date": "2026-05-01",
            "schools": [
                {"name": "Hundvåg skole", "pupils": 87},
                {"name": "Tjensvoll skole", "pupils": 240},
                {"name": "Hinna skole", "pupils": 1100},
            ],
        },
    )
    assert amounts(body) == ["2892.00", "4875.00", "18525.00"]
    assert totals(body) == ("26292.00", "6573.00", "32865.00")
    assert (body["plan"], body["interval"], body["date"], body["on_request"]) == (
        "spekter-2020",
        "year",
        "2026-05-01",
        False,
    )
    assert body["plan_version"]["valid_from"] == "2020-01-01"
    first = body["lines"][0]
    assert first["label"] == {"nb": "Skolelisens: Hundvåg skole", "en": "School licence: Hundvåg skole"}
    assert first["quantity"] == 87
    assert first["explanation"]["nb"] == "87 elever: trinn 1–100 gir 2\xa0892,00"
    assert body["lines"][2]["explanation"]["en"] == "1,100 pupils: band 1001–1250 gives 18,525.00"
    assert body["first_period"] is None and body["procurement"] is None


def test_digireq_30_users_monthly_and_annual(vendor):
    monthly = quote(vendor["api"], {"plan": "digireq-2026", "interval": "month", "quantities": {"active_users": 30}})
    annual = quote(vendor["api"], {"plan": "digireq-2026", "interval": "year", "quantities": {"active_users": 30}})
    assert totals(monthly) == ("2250.00", "562.50", "2812.50")
    assert totals(annual) == ("22950.00", "5737.50", "28687.50")
    assert annual["lines"][0]["explanation"]["en"] == (
        "30 active users × 75.00 (tier 11–50: every unit at the tier's price) → Annual price: 12 × 2,250.00 × (1 − 15%)"
    )


@pytest.mark.parametrize(
    ("users", "monthly", "annual"),
    [(8, "495.00", "5049.00"), (100, "6500.00", "66300.00"), (500, "27500.00", "280500.00")],
)
def test_digireq_seed_user_counts(vendor, users, monthly, annual):
    month = quote(vendor["api"], {"plan": "digireq-2026", "interval": "month", "quantities": {"active_users": users}})
    year = quote(vendor["api"], {"plan": "digireq-2026", "interval": "year", "quantities": {"active_users": users}})
    assert (month["net"], year["net"]) == (monthly, annual)


def test_standard_norge_collection_from_catalogue_codes(vendor):
    body = quote(vendor["api"], sn_request(start="2026-01-01"))
    assert [(line["code"], line["amount"]) for line in body["lines"]] == [
        ("licence:1", "43200.00"),
        ("licence:2", "22950.00"),
        ("offline", "6615.00"),
    ]
    assert totals(body) == ("72765.00", "18191.25", "90956.25")
    assert body["lines"][0]["explanation"]["en"].startswith("Category 1: 48,000.00 × (1 − 0.50) × 4 × 0.45")


def test_standard_norge_first_period_from_2026_05_10(vendor):
    body = quote(vendor["api"], sn_request(start="2026-05-10"))
    first = body["first_period"]
    assert (first["start"], first["end"]) == ("2026-05-10", "2027-01-01")
    licence = sum(float(line["amount"]) for line in first["lines"] if line["code"].startswith("licence"))
    assert f"{licence:.2f}" == "49612.50"
    assert [line["amount"] for line in first["lines"] if line["code"] == "offline"] == ["4961.25"]
    assert totals(first) == ("54573.75", "13643.44", "68217.19")
    assert "3/4 of the annual price" in first["lines"][0]["explanation"]["en"]


def test_standard_norge_with_category_and_price_instead_of_codes(vendor):
    standards = [{"category": "1", "price": "1200"}] * 40 + [{"category": "2", "price": 1500}] * 10
    body = quote(vendor["api"], sn_request(start="2026-01-01", standards=standards))
    assert amounts(body) == ["43200.00", "22950.00", "6615.00"]


def test_standard_norge_51_users_is_on_request_with_the_reason(vendor):
    body = quote(vendor["api"], sn_request(start="2026-01-01", concurrent_users=51))
    assert body["on_request"] is True
    assert amounts(body) == [None, None, None]
    assert body["on_request_reasons"]["en"][0] == (
        "Licence category 1 (Norwegian standards (NS, NS-EN, NS-EN ISO, NS-ISO, NEK, NEK EN, NEK IEC)): "
        "51 concurrent users is beyond the table"
    )
    assert body["on_request_reasons"]["nb"][0].endswith(": 51 samtidige brukere er over tabellen")
    assert body["lines"][0]["reason"]["en"] == "51 concurrent users is beyond the table"


def test_piscator_fixed_price_billed_quarterly(vendor):
    body = quote(vendor["api"], {"plan": "piscator-standard"})
    assert body["interval"] == "quarter"
    assert amounts(body) == ["24000.00"]
    assert totals(body) == ("24000.00", "6000.00", "30000.00")


def test_identum_monthly_fee_and_a_module(vendor):
    body = quote(vendor["api"], {"plan": "identum-eadm", "interval": "month", "addons": ["module_feide"]})
    assert [(line["code"], line["amount"]) for line in body["lines"]] == [
        ("eadm", "10000.00"),
        ("module_feide", "1500.00"),
    ]
    assert totals(body) == ("11500.00", "2875.00", "14375.00")


def test_public_sector_customer_gets_the_procurement_estimate(vendor):
    with tenant_context(vendor["tenant"]):
        kommune = CustomerFactory(kind=CustomerKind.KOMMUNE)
    body = quote(
        vendor["api"],
        {
            "plan": "digireq-2026",
            "interval": "year",
            "quantities": {"active_users": 500},
            "customer": kommune.pk,
            "contract_months": 48,
            "date": "2026-07-01",
        },
    )
    assert body["procurement"]["estimated_value"] == "1122000.00"
    assert [(t["code"], t["amount"], t["reached"]) for t in body["procurement"]["thresholds"]] == [
        ("procurement_rules", "500000", True),
        ("doffin", "1300000", False),
    ]


def test_reverse_charge_has_no_vat(vendor):
    body = quote(vendor["api"], {"plan": "piscator-standard", "vat_treatment": "reverse_charge"})
    assert totals(body) == ("24000.00", "0.00", "24000.00")


def test_the_quote_date_defaults_to_today_in_norway(vendor, monkeypatch):
    monkeypatch.setattr("pricing.api.business_today", lambda: dt.date(2026, 3, 4))
    assert quote(vendor["api"], {"plan": "piscator-standard"})["date"] == "2026-03-04"


def test_a_read_key_may_price_without_saving(vendor):
    body = quote(vendor["ro"], {"plan": "piscator-standard"})
    assert body["net"] == "24000.00"
    with tenant_context(vendor["tenant"]):
        assert Quote.objects.count() == 0


# ---------------------------------------------------------------- saved quotes


def test_save_a_quote_then_read_it_back(vendor):
    with tenant_context(vendor["tenant"]):
        customer = CustomerFactory(kind=CustomerKind.COMPANY)
    saved = quote(
        vendor["api"],
        {
            "plan": "digireq-2026",
            "interval": "year",
            "quantities": {"active_users": 30},
            "customer": customer.pk,
            "date": "2026-05-01",
            "save": True,
        },
        expect=201,
    )
    assert (saved["status"], saved["plan"], saved["quoted_on"]) == ("saved", "digireq-2026", "2026-05-01")
    assert (saved["net"], saved["vat"], saved["total"]) == ("22950.00", "5737.50", "28687.50")
    assert saved["customer"] == customer.pk
    assert saved["request"] == {
        "plan": "digireq-2026",
        "interval": "year",
        "quantities": {"active_users": 30},
        "customer": customer.pk,
    }
    assert saved["result"]["lines"][0]["amount"] == "22950.00"
    api = vendor["api"]
    one = api.get(f"{API}/quotes/{saved['id']}").json()
    assert one == saved
    assert [q["id"] for q in api.get(f"{API}/quotes", {"customer": customer.pk}).json()["results"]] == [saved["id"]]
    assert api.get(f"{API}/quotes", {"customer": customer.pk + 1000}).json()["count"] == 0
    assert api.get(f"{API}/quotes", {"status": "withdrawn"}).json()["count"] == 0
    assert api.get(f"{API}/quotes", {"status": "saved"}).json()["count"] == 1
    with tenant_context(vendor["tenant"]):
        event = AuditEvent.objects.get(action="quote.create")
    assert (event.actor_kind, event.actor_api_key_id) == ("api_key", vendor["key"].pk)


def test_an_on_request_quote_is_saved_without_totals(vendor):
    saved = quote(vendor["api"], sn_request(start="2026-01-01", concurrent_users=51, save=True), expect=201)
    assert (saved["on_request"], saved["net"], saved["total"]) == (True, None, None)


def test_saving_needs_a_read_write_key(vendor):
    response = vendor["ro"].post(f"{API}/quotes", {"plan": "piscator-standard", "save": True}, format="json")
    assert response.status_code == 403
    assert error_of(response)["message"] == "This API key is read-only; create a read-write key to make changes."
    with tenant_context(vendor["tenant"]):
        assert Quote.objects.count() == 0


def test_bad_quote_filter_is_a_400(vendor):
    response = vendor["api"].get(f"{API}/quotes", {"status": "lost"})
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"status"}


# ---------------------------------------------------------------- bad input: 400 with the field path

SPEKTER = {"plan": "spekter-2020", "schools": [{"name": "A", "pupils": 87}, {"name": "B", "pupils": 240}]}
DIGIREQ = {"plan": "digireq-2026", "interval": "month", "quantities": {"active_users": 30}}


def with_school(index, pupils):
    schools = [dict(s) for s in SPEKTER["schools"]]
    schools[index]["pupils"] = pupils
    return {**SPEKTER, "schools": schools}


def with_users(users):
    return {**DIGIREQ, "quantities": {"active_users": users}}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (with_school(0, 0), "schools[0].pupils", "The number of pupils must be at least 1 (got 0)."),
        (with_school(1, -3), "schools[1].pupils", "The number of pupils must be at least 1 (got -3)."),
        (with_school(0, 2.5), "schools[0].pupils", "The number of pupils must be a whole number, not 2.5."),
        (with_school(0, "87.5"), "schools[0].pupils", "The number of pupils must be a whole number, not 87.5."),
        (with_school(0, "many"), "schools[0].pupils", "The number of pupils must be a whole number."),
        (with_school(0, None), "schools[0].pupils", "This field may not be null."),
        (with_school(0, True), "schools[0].pupils", "Give the number of pupils."),
        (with_school(0, 10**30), "schools[0].pupils", "That is more than this API prices (at most 10000000)."),
        ({**SPEKTER, "schools": [{"name": "A"}]}, "schools[0].pupils", "This field is required."),
        ({"plan": "spekter-2020"}, "schools", "Give at least one school with its number of pupils."),
        (with_users(0), "active_users", "The number of active users must be at least 1 (got 0)."),
        (with_users(-1), "active_users", "The number of active users must be at least 1 (got -1)."),
        (with_users(1.5), "active_users", "The number of active users must be a whole number, not 1.5."),
        (with_users("thirty"), "active_users", "The number of active users must be a whole number."),
        ({**DIGIREQ, "quantities": {}}, "active_users", "Give active users (active_users)."),
        ({"plan": "nope"}, "plan", "Unknown plan nope."),
        ({"schools": SPEKTER["schools"]}, "plan", "This field is required."),
        ({**SPEKTER, "interval": "month"}, "interval", "This plan is billed year, not month."),
        ({**SPEKTER, "interval": "week"}, "interval", "This plan is billed year, not week."),
        ({**DIGIREQ, "interval": "quarter"}, "interval", "This plan is billed month or year, not quarter."),
        (
            sn_request(start="2026-01-01", standards=[*SN_COLLECTION[:3], {"code": "NS 9999"}]),
            "standards[3]",
            "Unknown standard NS 9999 in the catalogue.",
        ),
        (
            sn_request(start="2026-01-01", standards=[{"code": "NS 00"}, {"price": "1200"}]),
            "standards[1]",
            "This standard has no category; give it one.",
        ),
        (
            sn_request(start="2026-01-01", standards=[{"category": "9", "price": "1200", "code": "X 1"}]),
            "standards[0]",
            "Unknown category '9' for standard X 1.",
        ),
        (
            sn_request(start="2027-01-01"),
            "standards[0]",
            "NS 00 has no catalogue price for 1 January 2027.",
        ),
        (sn_request(start="2026-01-01", concurrent_users=0), "concurrent_users", None),
        (
            sn_request(start="2026-01-01", concurrent_users=None),
            "concurrent_users",
            "Give the number of concurrent users.",
        ),
        ({**SPEKTER, "addons": ["offline"]}, "addons", "Unknown add-on(s) for this plan: offline."),
        ({**SPEKTER, "customer": 987654321}, "customer", "Customer 987654321 does not exist."),
        ({**SPEKTER, "vat_treatment": "zero"}, "vat_treatment", '"zero" is not a valid choice.'),
        ({**SPEKTER, "contract_months": 0}, "contract_months", "Ensure this value is greater than or equal to 1."),
        ({**SPEKTER, "start": "2026-13-01"}, "start", None),
        ({**SPEKTER, "start": "2019-12-31"}, "start", "Plan spekter-2020 has no prices valid on 2019-12-31."),
        ({**SPEKTER, "pupils": 87}, "pupils", "Unknown field; it cannot be set here."),
        ({**SPEKTER, "schools": [{"name": "A", "pupils": 87, "pupil": 3}]}, "schools[0].pupil", None),
    ],
)
def test_bad_quote_input_is_a_400_naming_the_field(vendor, body, field, message):
    response = vendor["api"].post(f"{API}/quotes", {"date": "2026-05-01", **body}, format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    if message is not None:
        assert error["fields"][field] == [message]


def test_bad_counts_are_explained_in_norwegian_by_default(vendor, tenant_a):
    _key, raw = make_key(tenant_a, ApiKeyScope.READ, name="nb")
    response = client_for(raw, language="").post(f"{API}/quotes", with_school(0, 0), format="json")
    assert error_of(response)["fields"] == {"schools[0].pupils": ["Antall elever må være minst 1 (fikk 0)."]}


# Wrong JSON types everywhere: always a 400 on the right field, never a 500.
WRONG_TYPES = [
    ([1, 2], "non_field_errors"),
    ("plan", "non_field_errors"),
    ({"plan": ["spekter-2020"]}, "plan"),
    ({"plan": {"code": "x"}}, "plan"),
    ({"plan": None}, "plan"),
    ({**SPEKTER, "schools": {"name": "A"}}, "schools"),
    ({**SPEKTER, "schools": "A"}, "schools"),
    ({**SPEKTER, "schools": ["A", "B"]}, "schools[0]"),
    ({**SPEKTER, "schools": [{"name": ["A"], "pupils": 3}]}, "schools[0].name"),
    ({**SPEKTER, "schools": [{"pupils": {"n": 3}}]}, "schools[0].pupils"),
    ({**SPEKTER, "schools": [{"pupils": [3]}]}, "schools[0].pupils"),
    ({**SPEKTER, "schools": [{"pupils": "NaN"}]}, "schools[0].pupils"),
    ({**SPEKTER, "schools": [{"pupils": "Infinity"}]}, "schools[0].pupils"),
    ({**SPEKTER, "schools": [{"pupils": "1e999999"}]}, "schools[0].pupils"),
    ({**DIGIREQ, "quantities": [30]}, "quantities"),
    ({**DIGIREQ, "quantities": "30"}, "quantities"),
    ({**DIGIREQ, "quantities": {"active_users": [30]}}, "active_users"),
    ({**DIGIREQ, "quantities": {"active_users": {"n": 30}}}, "active_users"),
    (sn_request(standards="NS 00"), "standards"),
    (sn_request(standards={"code": "NS 00"}), "standards"),
    (sn_request(standards=[5]), "standards[0]"),
    (sn_request(standards=[{"code": ["NS 00"]}]), "standards[0].code"),
    (sn_request(standards=[{"code": {"a": 1}}]), "standards[0].code"),
    (sn_request(standards=[{"category": ["1"], "price": "1"}]), "standards[0].category"),
    (sn_request(standards=[{"category": "1", "price": "NaN"}]), "standards[0].price"),
    (sn_request(standards=[{"category": "1", "price": "Infinity"}]), "standards[0].price"),
    (sn_request(standards=[{"category": "1", "price": "-5"}]), "standards[0].price"),
    (sn_request(standards=[{"category": "1", "price": "1e30"}]), "standards[0].price"),
    (sn_request(standards=[{"category": "1", "price": [1]}]), "standards[0].price"),
    (sn_request(standards=[{"category": "1", "price": "1", "withdrawn_on": "soon"}]), "standards[0].withdrawn_on"),
    (sn_request(standards=[{"category": "1", "price": "1", "added_in_year": "x"}]), "standards[0].added_in_year"),
    (sn_request(standards=[{"category": "1", "price": "1", "added_in_year": 10**20}]), "standards[0].added_in_year"),
    (sn_request(concurrent_users="seven"), "concurrent_users"),
    (sn_request(concurrent_users=[7]), "concurrent_users"),
    (sn_request(concurrent_users=7.5), "concurrent_users"),
    (sn_request(addons="offline"), "addons"),
    (sn_request(addons=[{"code": "offline"}]), "addons[0]"),
    (sn_request(addons=[["offline"]]), "addons[0]"),
    (sn_request(addon_amounts=["direct_links"]), "addon_amounts"),
    (sn_request(addon_amounts={"direct_links": "abc"}), "addon_amounts.direct_links"),
    (sn_request(addon_amounts={"direct_links": "-1"}), "addon_amounts.direct_links"),
    (sn_request(addon_amounts={"direct_links": [1]}), "addon_amounts.direct_links"),
    ({**SPEKTER, "customer": "abc"}, "customer"),
    ({**SPEKTER, "customer": [1]}, "customer"),
    ({**SPEKTER, "customer": {"id": 1}}, "customer"),
    ({**SPEKTER, "customer": 99999999999999999999999}, "customer"),
    ({**SPEKTER, "customer": -1}, "customer"),
    ({**SPEKTER, "start": 20260101}, "start"),
    ({**SPEKTER, "start": ["2026-01-01"]}, "start"),
    ({**SPEKTER, "date": "yesterday"}, "date"),
    ({**SPEKTER, "date": {"y": 2026}}, "date"),
    ({**SPEKTER, "interval": ["year"]}, "interval"),
    ({**SPEKTER, "interval": {"year": 1}}, "interval"),
    ({**SPEKTER, "vat_treatment": ["no_25"]}, "vat_treatment"),
    ({**SPEKTER, "public_sector": "maybe"}, "public_sector"),
    ({**SPEKTER, "public_sector": [True]}, "public_sector"),
    ({**SPEKTER, "contract_months": "twelve"}, "contract_months"),
    ({**SPEKTER, "contract_months": 12.5}, "contract_months"),
    ({**SPEKTER, "contract_months": 10**30}, "contract_months"),
    ({**SPEKTER, "save": "perhaps"}, "save"),
    ({**SPEKTER, "save": [True]}, "save"),
    ({**SPEKTER, "save": {"a": 1}}, "save"),
]


@pytest.mark.parametrize(("body", "field"), WRONG_TYPES)
def test_wrong_json_types_are_a_400_never_a_500(vendor, body, field):
    before = AuditEvent.unscoped.count()
    response = vendor["api"].post(f"{API}/quotes", body, format="json")
    assert response.status_code == 400, response.content
    assert field in error_of(response)["fields"], error_of(response)
    assert AuditEvent.unscoped.count() == before


def test_a_body_that_is_not_json(vendor):
    client = vendor["api"]
    broken = client.post(f"{API}/quotes", "{not json", content_type="application/json")
    assert (broken.status_code, error_of(broken)["code"]) == (400, "parse_error")
    form = client.post(f"{API}/quotes", {"plan": "spekter-2020"})  # multipart
    assert (form.status_code, error_of(form)["code"]) == (415, "unsupported_media_type")


# ---------------------------------------------------------------- plans and price versions


def gapped_digireq() -> dict:
    doc = seed_plan_document("digireq")
    doc["components"][0]["tiers"][1]["lower"] = 12
    return doc


def overlapping_digireq() -> dict:
    doc = seed_plan_document("digireq")
    doc["components"][0]["tiers"][2]["lower"] = 45
    return doc


def test_create_a_plan_and_its_first_version_then_quote_on_it(vendor):
    api = vendor["api"]
    with tenant_context(vendor["tenant"]):
        product_id = vendor["plans"]["digireq"].product_id
    created = api.post(
        f"{API}/plans",
        {"product": product_id, "code": "digireq-2027", "name_nb": "DigiReq", "name_en": "DigiReq"},
        format="json",
    )
    assert created.status_code == 201, created.content
    plan = created.json()
    assert (plan["code"], plan["product"], plan["current_version"]) == ("digireq-2027", product_id, None)
    doc = {**seed_plan_document("digireq"), "code": "digireq-2027"}
    doc["components"][0]["tiers"][1]["unit_price"] = "80"
    version = api.post(
        f"{API}/plans/{plan['id']}/versions",
        {"valid_from": "2027-01-01", "document": doc, "note": "2027"},
        format="json",
    )
    assert version.status_code == 201, version.content
    body = version.json()
    assert (body["plan"], body["plan_code"], body["valid_from"], body["note"]) == (
        plan["id"],
        "digireq-2027",
        "2027-01-01",
        "2027",
    )
    assert body["document"]["code"] == "digireq-2027"
    assert body["document"]["components"][0]["tiers"][1] == {"lower": 11, "upper": 50, "unit_price": "80"}
    priced = quote(
        api, {"plan": "digireq-2027", "interval": "month", "quantities": {"active_users": 30}, "start": "2027-02-01"}
    )
    assert priced["net"] == "2400.00"
    assert priced["plan_version"] == {"id": body["id"], "valid_from": "2027-01-01"}
    before = api.post(
        f"{API}/quotes",
        {"plan": "digireq-2027", "quantities": {"active_users": 30}, "date": "2026-12-31"},
        format="json",
    )
    assert error_of(before)["fields"] == {"start": ["Plan digireq-2027 has no prices valid on 2026-12-31."]}
    assert [v["valid_from"] for v in api.get(f"{API}/plans/{plan['id']}/versions").json()["results"]] == ["2027-01-01"]
    with tenant_context(vendor["tenant"]):
        assert [e.action for e in AuditEvent.objects.filter(actor_kind="api_key").order_by("id")] == [
            "plan.create",
            "plan_version.create",
        ]


def test_a_plan_lists_its_version_in_force(vendor, monkeypatch):
    monkeypatch.setattr("pricing.api.business_today", lambda: dt.date(2026, 5, 1))
    plan = vendor["plans"]["spekter"]
    body = vendor["api"].get(f"{API}/plans/{plan.pk}").json()
    assert body["code"] == "spekter-2020"
    assert body["current_version"]["valid_from"] == "2020-01-01"
    codes = [p["code"] for p in vendor["api"].get(f"{API}/plans").json()["results"]]
    assert codes == sorted(
        ["spekter-2020", "digireq-2026", "standard-norge-abonnement", "piscator-standard", "identum-eadm"]
    )


@pytest.mark.parametrize(
    ("document", "field", "message"),
    [
        (gapped_digireq(), "components[0].tiers[1]", "Gap before tier 2: 11–11 has no price; start it at 11."),
        (
            overlapping_digireq(),
            "components[0].tiers[2]",
            "Tier 3 starts at 45 and overlaps the tier before it; start it at 51.",
        ),
    ],
)
def test_tier_errors_come_back_per_field(vendor, document, field, message):
    plan = vendor["plans"]["digireq"]
    response = vendor["api"].post(
        f"{API}/plans/{plan.pk}/versions", {"valid_from": "2027-01-01", "document": document}, format="json"
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == {field: [message]}
    with tenant_context(vendor["tenant"]):
        assert PlanVersion.objects.filter(plan=plan).count() == 1


BAD_DOCUMENTS = [
    ([], "document"),
    ("digireq", "document"),
    ({"name": {"nb": "x", "en": "x"}}, "components"),
    ({"name": "DigiReq", "components": []}, "name"),
    ({"name": {"nb": "x", "en": "x"}, "intervals": 5, "components": [{}]}, "document"),
    ({"name": {"nb": "x", "en": "x"}, "intervals": [["year"]], "components": [{}]}, "document"),
    ({"name": {"nb": "x", "en": "x"}, "components": [5]}, "components[0]"),
    (
        {
            "name": {"nb": "x", "en": "x"},
            "components": [{"code": "a", "label": {"nb": "a", "en": "a"}, "model": "band", "tiers": [5]}],
        },
        "components[0].tiers[0]",
    ),
    (
        {
            "name": {"nb": "x", "en": "x"},
            "components": [{"code": "a", "label": {"nb": "a", "en": "a"}, "model": "flat", "amount": 1.5}],
        },
        "components[0].amount",
    ),
    (
        {
            "name": {"nb": "x", "en": "x"},
            "components": [{"code": "a", "label": {"nb": "a", "en": "a"}, "model": "flat", "amount": "x"}],
        },
        "components[0].amount",
    ),
    (
        {
            "name": {"nb": "x", "en": "x"},
            "components": [
                {"code": "a", "label": {"nb": "a", "en": "a"}, "model": "percentage", "rate": "0.1", "percentage_of": 5}
            ],
        },
        "document",
    ),
    (
        {
            "name": {"nb": "x", "en": "x"},
            "components": [{"code": "a", "label": {"nb": "a", "en": "a"}, "model": "licence"}],
            "licence": {"d_table": [5]},
        },
        "document",
    ),
    (
        {
            "name": {"nb": "x", "en": "x"},
            "components": [{"code": "a", "label": {"nb": "a", "en": "a"}, "model": "licence"}],
            "licence": {**seed_plan_document("standard-norge")["licence"], "categories": "abc"},
        },
        "document",
    ),
    (
        {"name": {"nb": "x", "en": "x"}, "components": [{"code": "a", "label": "a", "model": "flat", "amount": "1"}]},
        "components[0].label",
    ),
    (
        {
            "name": {"nb": "x", "en": "x"},
            "components": [{"code": ["a"], "label": {"nb": "a", "en": "a"}, "model": "flat", "amount": "1"}],
        },
        "components[0].code",
    ),
]


@pytest.mark.parametrize(("document", "field"), BAD_DOCUMENTS)
def test_bad_documents_are_a_400_never_a_500(vendor, document, field):
    plan = vendor["plans"]["digireq"]
    response = vendor["api"].post(
        f"{API}/plans/{plan.pk}/versions", {"valid_from": "2027-01-01", "document": document}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in error_of(response)["fields"], error_of(response)
    with tenant_context(vendor["tenant"]):
        assert PlanVersion.objects.filter(plan=plan).count() == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"valid_from": "2020-01-01", "document": seed_plan_document("digireq")}, {"valid_from"}),
        ({"valid_from": "first of may", "document": seed_plan_document("digireq")}, {"valid_from"}),
        ({"document": seed_plan_document("digireq")}, {"valid_from"}),
        ({"valid_from": "2027-01-01"}, {"document"}),
        ({"valid_from": "2027-01-01", "document": {**seed_plan_document("digireq"), "code": "spekter-2020"}}, {"code"}),
        ({"valid_from": "2027-01-01", "document": seed_plan_document("digireq"), "plan": 3}, {"plan"}),
    ],
)
def test_bad_version_requests(vendor, body, fields):
    plan = vendor["plans"]["digireq"]
    response = vendor["api"].post(f"{API}/plans/{plan.pk}/versions", body, format="json")
    assert response.status_code == 400, response.content
    assert set(error_of(response)["fields"]) == fields


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"code": "x", "name_nb": "X", "name_en": "X"}, {"product"}),
        ({"product": 987654321, "code": "x", "name_nb": "X", "name_en": "X"}, {"product"}),
        ({"product": "abc", "code": "x", "name_nb": "X", "name_en": "X"}, {"product"}),
        ({"product": "{product}", "code": "digireq-2026", "name_nb": "X", "name_en": "X"}, {"code"}),
        ({"product": "{product}", "code": "not a slug", "name_nb": "X", "name_en": "X"}, {"code"}),
        ({"product": "{product}", "code": ["x"], "name_nb": "X", "name_en": "X"}, {"code"}),
        ({"product": "{product}", "code": "x"}, {"name_nb", "name_en"}),
    ],
)
def test_bad_plan_requests(vendor, body, fields):
    with tenant_context(vendor["tenant"]):
        product_id = vendor["plans"]["digireq"].product_id
    body = {k: (product_id if v == "{product}" else v) for k, v in body.items()}
    response = vendor["api"].post(f"{API}/plans", body, format="json")
    assert response.status_code == 400, response.content
    assert set(error_of(response)["fields"]) == fields
    with tenant_context(vendor["tenant"]):
        assert Plan.objects.count() == 5


def test_export_then_import_into_another_vendor_gives_the_same_prices(vendor, tenant_b):
    plan = vendor["plans"]["standard-norge"]
    with tenant_context(vendor["tenant"]):
        version = plan.versions.get()
    api = vendor["api"]
    detail = api.get(f"{API}/plan-versions/{version.pk}").json()
    assert (detail["plan_code"], detail["valid_from"]) == ("standard-norge-abonnement", "2020-01-01")
    exported = api.get(detail["export_url"]).json()
    with tenant_context(vendor["tenant"]):
        assert exported == services.plan_version_export(version)
    assert (exported["plan"], exported["product"], exported["valid_from"]) == (
        "standard-norge-abonnement",
        "abonnement",
        "2020-01-01",
    )

    with tenant_context(tenant_b):
        catalog_services.product_save(actor=ACTOR, data={"code": "abonnement", "name_nb": "A", "name_en": "A"})
    _key, raw = make_key(tenant_b, ApiKeyScope.READ_WRITE)
    b_api = client_for(raw)
    imported = b_api.post(f"{API}/plan-versions/import", exported, format="json")
    assert imported.status_code == 201, imported.content
    assert imported.json()["document"] == exported["document"]
    standards = [{"category": "1", "price": "1200"}] * 40 + [{"category": "2", "price": "1500"}] * 10
    body = {**sn_request(start="2026-05-10"), "standards": standards}
    assert totals(quote(b_api, body)) == totals(quote(api, sn_request(start="2026-05-10")))
    with tenant_context(tenant_b):
        assert Plan.objects.get().name_nb == "Abonnement på standarder"
    again = b_api.post(f"{API}/plan-versions/import", exported, format="json")
    assert error_of(again)["fields"] == {
        "valid_from": ["This plan already has a version from 2020-01-01; choose another date."]
    }


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"product": "nope"}, {"product"}),
        ({"product": ["abonnement"]}, {"product"}),
        ({"plan": {"code": "x"}}, {"plan"}),
        ({"valid_from": "soon"}, {"valid_from"}),
        ({"name": "Navn"}, {"name"}),
        ({"name": {"nb": ["x"], "en": "y"}}, {"name.nb"}),
        ({"document": 5}, {"document"}),
        ({"document": {"components": 5}}, {"name"}),
        ({"document": {**seed_plan_document("digireq"), "code": "digireq-copy", "intervals": 5}}, {"document"}),
        ({"extra": 1}, {"extra"}),
    ],
)
def test_bad_imports_are_a_400_and_create_nothing(vendor, change, fields):
    with tenant_context(vendor["tenant"]):
        exported = services.plan_version_export(vendor["plans"]["digireq"].versions.get())
    body = {**exported, "plan": "digireq-copy", "valid_from": "2027-01-01", **change}
    response = vendor["api"].post(f"{API}/plan-versions/import", body, format="json")
    assert response.status_code == 400, response.content
    assert set(error_of(response)["fields"]) == fields
    with tenant_context(vendor["tenant"]):
        assert (Plan.objects.count(), PlanVersion.objects.count()) == (5, 5)


def test_plan_versions_list_filters_by_plan(vendor):
    plan = vendor["plans"]["piscator"]
    rows = vendor["api"].get(f"{API}/plan-versions", {"plan": plan.pk}).json()["results"]
    assert [(r["plan_code"], r["valid_from"]) for r in rows] == [("piscator-standard", "2020-01-01")]
    assert vendor["api"].get(f"{API}/plan-versions").json()["count"] == 5
