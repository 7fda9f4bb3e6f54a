"""The pricing acceptance cases (shared/acceptance/pricing.md), transcribed as data."""

import datetime as dt
from decimal import Decimal

import pytest

from pricing.engine.document import parse_plan
from pricing.engine.errors import PricingError
from pricing.engine.quote import QuoteInput, School, price, procurement
from pricing.engine.standards import HeldStandard
from pricing.plans import seed_plan_document

D = Decimal
SPEKTER = parse_plan(seed_plan_document("spekter"))
DIGIREQ = parse_plan(seed_plan_document("digireq"))
STANDARD_NORGE = parse_plan(seed_plan_document("standard-norge"))


@pytest.mark.parametrize(
    ("pupils", "net", "vat", "total"),
    [
        (1, "2892.00", "723.00", "3615.00"),
        (100, "2892.00", "723.00", "3615.00"),
        (101, "3315.00", "828.75", "4143.75"),
        (240, "4875.00", "1218.75", "6093.75"),
        (1000, "15600.00", "3900.00", "19500.00"),
        (1001, "18525.00", "4631.25", "23156.25"),
    ],
)
def test_spekter_per_school(pupils, net, vat, total):
    result = price(SPEKTER, QuoteInput(schools=(School("Skole", pupils),)))
    assert (result.totals.net, result.totals.vat, result.totals.total) == (D(net), D(vat), D(total))


def test_spekter_zero_pupils_is_invalid():
    with pytest.raises(PricingError) as err:
        price(SPEKTER, QuoteInput(schools=(School("Tom skole", 0),)))
    assert err.value.field == "schools[0].pupils"
    assert "at least 1" in err.value.message_en


def test_spekter_kommune_with_three_schools():
    result = price(SPEKTER, QuoteInput(schools=(School("A", 87), School("B", 240), School("C", 1100))))
    assert [line.amount for line in result.lines] == [D("2892.00"), D("4875.00"), D("18525.00")]
    assert (result.totals.net, result.totals.vat, result.totals.total) == (D("26292.00"), D("6573.00"), D("32865.00"))
    assert result.lines[0].explain("nb") == "87 elever: trinn 1–100 gir 2\xa0892,00"
    assert result.lines[2].explain("en") == "1,100 pupils: band 1001–1250 gives 18,525.00"


@pytest.mark.parametrize(
    ("users", "monthly", "monthly_per_year", "annual"),
    [
        (8, "495.00", "5940.00", "5049.00"),
        (30, "2250.00", "27000.00", "22950.00"),
        (100, "6500.00", "78000.00", "66300.00"),
        (500, "27500.00", "330000.00", "280500.00"),
    ],
)
def test_digireq_seed_examples(users, monthly, monthly_per_year, annual):
    month = price(DIGIREQ, QuoteInput(interval="month", quantities={"active_users": users}))
    year = price(DIGIREQ, QuoteInput(interval="year", quantities={"active_users": users}))
    assert month.totals.net == D(monthly)
    assert month.totals.net * 12 == D(monthly_per_year)
    assert year.totals.net == D(annual)


def test_digireq_zero_users_invalid_on_a_paid_plan():
    with pytest.raises(PricingError) as err:
        price(DIGIREQ, QuoteInput(interval="month", quantities={"active_users": 0}))
    assert err.value.field == "active_users"


def test_digireq_explanations():
    year = price(DIGIREQ, QuoteInput(interval="year", quantities={"active_users": 30}))
    assert year.lines[0].explain("en") == (
        "30 active users × 75.00 (tier 11–50: every unit at the tier's price) → Annual price: 12 × 2,250.00 × (1 − 15%)"
    )
    assert year.lines[0].explain("nb").startswith("30 aktive brukere × 75,00 (trinn 11–50")


def collection(count_1=40, sum_1="48000", count_2=10, sum_2="15000"):
    items = []
    for cat, count, total in (("1", count_1, D(sum_1)), ("2", count_2, D(sum_2))):
        each = total / count
        items += [HeldStandard(f"NS {cat}-{i}", cat, each) for i in range(count)]
    return tuple(items)


def test_standard_norge_licence_and_offline():
    result = price(
        STANDARD_NORGE,
        QuoteInput(standards=collection(), concurrent_users=7, addons=("offline",), start=dt.date(2026, 1, 1)),
    )
    amounts = {line.code: line.amount for line in result.lines}
    assert amounts == {"licence:1": D("43200.00"), "licence:2": D("22950.00"), "offline": D("6615.00")}
    assert result.lines[0].explain("en").startswith("Category 1: 48,000.00 × (1 − 0.50) × 4 × 0.45")
    assert result.lines[1].explain("nb").startswith("Kategori 2: 15\xa0000,00 × (1 − 0,15) × 4 × 0,45")
    assert sum(line.amount for line in result.lines if line.code.startswith("licence")) == D("66150.00")


def test_standard_norge_51_users_is_on_request_with_a_reason():
    result = price(
        STANDARD_NORGE,
        QuoteInput(standards=collection(), concurrent_users=51, addons=("offline",), start=dt.date(2026, 1, 1)),
    )
    assert result.on_request is True
    assert all(line.amount is None for line in result.lines)
    assert "51 concurrent users is beyond the table" in result.reasons_en[0]


def test_standard_norge_one_level_higher_category_uses_m_5_for_7_users():
    items = tuple(HeldStandard(f"TR {i}", "5", D("1000")) for i in range(25))
    plan = STANDARD_NORGE
    result = price(plan, QuoteInput(standards=items, concurrent_users=7, start=dt.date(2026, 1, 1)))
    line = result.lines[0]
    assert line.explanation.get("m") == D("5")


def test_standard_norge_first_year_signed_2026_05_10():
    result = price(
        STANDARD_NORGE,
        QuoteInput(standards=collection(), concurrent_users=7, addons=("offline",), start=dt.date(2026, 5, 10)),
    )
    first = result.first_period
    licence = sum(line.amount for line in first.lines if line.code.startswith("licence"))
    offline = next(line.amount for line in first.lines if line.code == "offline")
    assert (licence, offline) == (D("49612.50"), D("4961.25"))
    assert (first.totals.net, first.totals.vat, first.totals.total) == (D("54573.75"), D("13643.44"), D("68217.19"))
    assert (first.start, first.end) == (dt.date(2026, 5, 10), dt.date(2027, 1, 1))
    assert "3/4 of the annual price" in first.lines[0].explain("en")


@pytest.mark.parametrize(
    ("value", "on", "rules", "doffin"),
    [
        ("100000", dt.date(2026, 6, 30), False, False),
        ("100000.01", dt.date(2026, 6, 30), True, False),
        ("400000", dt.date(2026, 7, 1), False, False),
        ("500000.01", dt.date(2026, 7, 1), True, False),
        ("1300000.01", dt.date(2026, 7, 1), True, True),
    ],
)
def test_procurement_thresholds_by_date(value, on, rules, doffin):
    result = procurement(D(value), 12, on)
    assert [t.reached for t in result.thresholds] == [rules, doffin]


def test_public_sector_quote_shows_its_estimated_value():
    result = price(
        DIGIREQ,
        QuoteInput(interval="year", quantities={"active_users": 500}, public_sector=True),
        on=dt.date(2026, 11, 24),
    )
    assert result.procurement.estimated_value == D("280500.00")
    assert [t.reached for t in result.procurement.thresholds] == [False, False]


def test_standard_norge_support_fee_from_the_table_and_extra_prints():
    items = collection()
    result = price(
        STANDARD_NORGE,
        QuoteInput(
            standards=items,
            concurrent_users=7,
            addons=("support_fee", "extra_prints"),
            start=dt.date(2026, 1, 1),
            extra_prints=(("NS 1-0", D("1200"), 2), ("NS 2-0", D("1500"), 1)),
        ),
    )
    amounts = {line.code: line.amount for line in result.lines}
    # 7 users → the row up to 10; 50 standards → the column up to 50.
    assert amounts["support_fee"] == D("4000.00")
    # (2 × 1 200 + 1 500) × 30 % = 1 170
    assert amounts["extra_prints"] == D("1170.00")
    assert "3 extra print(s): 3,900.00 × 30%" in next(
        line for line in result.lines if line.code == "extra_prints"
    ).explain("en")


def test_standard_norge_support_fee_beyond_the_table_is_on_request():
    result = price(
        STANDARD_NORGE,
        QuoteInput(standards=collection(), concurrent_users=51, addons=("support_fee",), start=dt.date(2026, 1, 1)),
    )
    assert result.on_request is True
