"""Property tests for the pure engine (hypothesis)."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.engine.document import export_plan, parse_plan
from pricing.engine.errors import PricingError
from pricing.engine.lines import totals
from pricing.engine.models import Band, Graduated, Tier, Volume, validate_tiers
from pricing.engine.money import round_money
from pricing.engine.quote import QuoteInput, School, price
from pricing.engine.standards import HeldStandard
from pricing.plans import seed_plan_document

D = Decimal
SPEKTER = parse_plan(seed_plan_document("spekter"))
DIGIREQ = parse_plan(seed_plan_document("digireq"))
VOLUME = Volume(DIGIREQ.components[0].model.tiers)
GRADUATED = Graduated(VOLUME.tiers)


def hand_volume(n: int) -> Decimal:
    if n <= 10:
        return D("495")
    return n * (D("75") if n <= 50 else D("65") if n <= 200 else D("55"))


def hand_graduated(n: int) -> Decimal:
    total = D("495")  # 1–10 flat
    for lower, upper, rate in ((11, 50, D("75")), (51, 200, D("65")), (201, None, D("55"))):
        if n >= lower:
            top = n if upper is None else min(n, upper)
            total += (top - lower + 1) * rate
    return total


BOUNDS = sorted({b + d for b in (1, 10, 11, 50, 51, 200, 201) for d in (-1, 0, 1) if b + d >= 1})


@pytest.mark.parametrize("n", BOUNDS)
def test_volume_and_graduated_at_and_around_every_bound(n):
    assert VOLUME.evaluate(n)[0] == hand_volume(n)
    assert GRADUATED.evaluate(n)[0] == hand_graduated(n)


@given(st.integers(min_value=1, max_value=5000))
def test_volume_and_graduated_agree_with_hand_computation(n):
    assert VOLUME.evaluate(n)[0] == hand_volume(n)
    assert GRADUATED.evaluate(n)[0] == hand_graduated(n)


@given(st.integers(min_value=1, max_value=3000), st.integers(min_value=1, max_value=3000))
def test_a_band_price_is_constant_inside_a_band(a, b):
    band: Band = SPEKTER.components[0].model
    tier_a = next(t for t in band.tiers if t.contains(a))
    if tier_a.contains(b):
        assert band.evaluate(a)[0] == band.evaluate(b)[0]
    else:
        assert band.evaluate(a)[0] != band.evaluate(b)[0]


@given(
    st.lists(st.integers(min_value=1, max_value=2500), min_size=1, max_size=12),
    st.sampled_from(["no_25", "reverse_charge", "exempt"]),
)
def test_vat_is_the_rounded_net_times_rate_and_parts_add_up(pupils, treatment):
    result = price(
        SPEKTER, QuoteInput(schools=tuple(School(f"S{i}", p) for i, p in enumerate(pupils)), vat_treatment=treatment)
    )
    rate = D("0.25") if treatment == "no_25" else D("0")
    assert result.totals.net == sum(line.amount for line in result.lines)
    assert result.totals.vat == round_money(result.totals.net * rate)
    assert result.totals.total == result.totals.net + result.totals.vat


@given(
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=1, max_value=50),
    st.lists(st.decimals(min_value=D("1"), max_value=D("9999.99"), places=2), min_size=1, max_size=60),
)
@settings(max_examples=60)
def test_explained_factors_reproduce_each_licence_line(_n, users, prices):
    plan = parse_plan(seed_plan_document("standard-norge"))
    items = tuple(HeldStandard(f"X{i}", "1" if i % 3 else "2", p) for i, p in enumerate(prices))
    result = price(plan, QuoteInput(standards=items, concurrent_users=users, start=dt.date(2026, 3, 1)))
    for line in result.lines:
        e = line.explanation
        recomputed = e.get("phc_sum") * (1 - e.get("d")) * e.get("m") * e.get("factor")
        assert line.amount == round_money(recomputed)


@given(st.integers(min_value=1, max_value=400), st.sampled_from(["month", "year"]))
def test_json_export_then_import_gives_the_same_prices(users, interval):
    for name in ("spekter", "digireq", "standard-norge", "piscator", "identum"):
        plan = parse_plan(seed_plan_document(name))
        again = parse_plan(export_plan(plan))
        assert again == plan
    plan = parse_plan(export_plan(DIGIREQ))
    data = QuoteInput(interval=interval, quantities={"active_users": users})
    assert price(plan, data).totals == price(DIGIREQ, data).totals


def test_annual_is_twelve_months_less_fifteen_percent_rounded_to_the_ore():
    for users in range(1, 260):
        monthly = price(DIGIREQ, QuoteInput(interval="month", quantities={"active_users": users})).totals.net
        annual = price(DIGIREQ, QuoteInput(interval="year", quantities={"active_users": users})).totals.net
        assert annual == round_money(12 * monthly * D("0.85"))


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ((Tier(1, 10, D("1")), Tier(10, None, D("1"))), "overlaps"),
        ((Tier(1, 10, D("1")), Tier(12, None, D("1"))), "Gap before tier 2: 11–11"),
        ((Tier(1, None, D("1")), Tier(11, 20, D("1"))), "must be the last tier"),
        ((Tier(5, 1, D("1")),), "below the lower bound"),
        ((Tier(2, 10, D("1")),), "Gap before tier 1"),
        ((Tier(1, 10),), "needs a price"),
    ],
)
def test_bad_tier_tables_are_refused_with_what_to_fix(tiers, message):
    with pytest.raises(PricingError, match=message):
        validate_tiers(tiers)


@pytest.mark.parametrize("bad", [0, -3, "2.5", 2.5, None, "ti", True])
def test_bad_counts_are_refused(bad):
    with pytest.raises(PricingError) as err:
        price(DIGIREQ, QuoteInput(interval="month", quantities={"active_users": bad}))
    assert err.value.field == "active_users"


def test_a_standard_without_category_is_refused():
    plan = parse_plan(seed_plan_document("standard-norge"))
    with pytest.raises(PricingError, match="has no category") as err:
        price(
            plan,
            QuoteInput(standards=(HeldStandard("NS 1", "", D("100")),), concurrent_users=2, start=dt.date(2026, 1, 1)),
        )
    assert err.value.field == "standards[0]"


def test_totals_refuse_an_unknown_vat_treatment():
    with pytest.raises(PricingError):
        totals([], "moms")


def test_a_graduated_quote_is_json_all_the_way_down():
    import json

    plan = parse_plan(
        {
            **seed_plan_document("digireq"),
            "components": [{**seed_plan_document("digireq")["components"][0], "model": "graduated"}],
        }
    )
    result = price(plan, QuoteInput(interval="month", quantities={"active_users": 60}))
    assert json.loads(json.dumps(result.as_dict()))["lines"][0]["explanation"]["steps"][0]["kind"] == "graduated"


@pytest.mark.parametrize("bad", [{"intervals": 5}, {"components": [5]}, {"licence": {"d_table": [5]}}])
def test_wrong_json_types_in_a_document_are_a_pricing_error(bad):
    doc = {**seed_plan_document("standard-norge"), **bad}
    with pytest.raises(PricingError):
        parse_plan(doc)


def test_all_on_request_gives_a_net_of_zero_kroner_and_zero_ore():
    plan = parse_plan(seed_plan_document("standard-norge"))
    result = price(
        plan, QuoteInput(standards=(HeldStandard("X", "1", D("100")),), concurrent_users=60, start=dt.date(2026, 1, 1))
    )
    assert str(result.totals.net) == "0.00"
