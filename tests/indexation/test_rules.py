"""pricing/indexation.py: the pure rules of CPI indexation (RULES §7), without a database.

Index figures are SSB's as recorded in fakes/ssb (the same as shared/data)."""

import csv
import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import indexation as ix
from pricing.engine.money import KRONE, ORE

d = dt.date
FAKES = Path(__file__).resolve().parents[2] / "fakes" / "ssb"


def recorded(table: str) -> dict:
    with open(FAKES / f"{table}.csv", encoding="utf-8") as f:
        return {ix.parse_month(r["month"]): D(r["value"]) for r in csv.DictReader(f)}


KPI_2015 = ix.Series("kpi-2015", "2015=100", "KPI", "CPI", recorded("03013"), 2015)
KPI_2025 = ix.Series("kpi-2025", "2025=100", "KPI", "CPI", recorded("14709"), 2025)
SERVICES = ix.Series("kpi-services-wages-2015", "2015=100", "KPI tjenester", "CPI services", recorded("11117"), 2015)
KPI = [KPI_2015, KPI_2025]

SPEKTER = ix.Policy(measure=(11, 15), rounding=KRONE)
PISCATOR = ix.Policy(timing=ix.ANNIVERSARY, reference=ix.SINCE_SIGNING, measure=None, falling=ix.FALL_LOWER)
DIGIREQ = ix.Policy(
    measure=(12, 15), cap=ix.CAP_INDEX, above_cap_notice=ix.Notice(months=6), above_cap_may_terminate=True
)
OCTOBER = ix.Policy(measure=(11, 15))  # øre; October against October
IDENTUM = ix.Policy(measure=(11, 1), notice=ix.Notice(days=28), minimum_notice=ix.Notice(days=28))


def series(values: dict, code="s", base="2015=100", year=2015) -> ix.Series:
    return ix.Series(code, base, "KPI", "CPI", {ix.parse_month(k): D(v) for k, v in values.items()}, year)


# ---------------------------------------------------------------- the worked example of the issue


def test_reference_120_to_126_on_2892_is_3036_60_at_ore_rounding():
    s = series({"2025M10": "120.0", "2026M10": "126.0"})
    result = ix.compute(OCTOBER, [s], price=D("2892.00"), effective_on=d(2027, 1, 1), signed_on=d(2020, 1, 1))
    assert result.factor == D("1.05")
    assert result.new_price == D("3036.60")


def test_whole_kroner_rounding_for_a_list_price():
    s = series({"2025M10": "120.0", "2026M10": "126.0"})
    result = ix.compute(SPEKTER, [s], price=D("2892"), effective_on=d(2027, 1, 1), signed_on=d(2020, 1, 1))
    assert result.new_price == D("3037")  # 3036.60 rounded half up to whole kroner


def test_explanation_in_both_languages():
    s = series({"2025M10": "134.7", "2026M10": "138.4"})
    result = ix.compute(OCTOBER, [s], price=D("1000"), effective_on=d(2027, 1, 1), signed_on=d(2020, 1, 1))
    assert result.explanation_nb.startswith("KPI oktober 2026 / oktober 2025 = 138,4 / 134,7 = +2,75\u00a0%")
    assert result.explanation_en.startswith("CPI October 2026 / October 2025 = 138.4 / 134.7 = +2.75 %")
    assert "1\u00a0000,00 → 1\u00a0027,47 fra 2027-01-01" in result.explanation_nb
    assert "1,000.00 → 1,027.47 from 2027-01-01" in result.explanation_en


@pytest.mark.parametrize(
    ("price", "factor", "rounding", "expected"),
    [
        ("2892.00", "1.05", ORE, "3036.60"),
        ("2892", "1.05", KRONE, "3037"),
        ("100.00", "1.00005", ORE, "100.01"),  # half up at the øre
        ("100.00", "1.000049", ORE, "100.00"),
        ("0", "1.5", ORE, "0.00"),
        ("96000", "0.99", ORE, "95040.00"),
    ],
)
def test_index_price_rounds_once(price, factor, rounding, expected):
    assert ix.index_price(D(price), D(factor), rounding) == D(expected)


# ---------------------------------------------------------------- months and publication


@pytest.mark.parametrize(
    ("day", "month"),
    [
        (d(2025, 11, 1), (2025, 9)),  # Identum: as of 1 November, September is the latest
        (d(2025, 11, 10), (2025, 10)),  # October is out on the 10th
        (d(2025, 11, 9), (2025, 9)),
        (d(2026, 1, 1), (2025, 11)),
        (d(2024, 12, 15), (2024, 11)),
        (d(2024, 3, 10), (2024, 2)),
    ],
)
def test_latest_published(day, month):
    assert ix.latest_published(day) == month


@pytest.mark.parametrize("text", ["2025M10", "2025-10", "2025m10", " 2025M10 "])
def test_parse_month(text):
    assert ix.parse_month(text) == (2025, 10)


@pytest.mark.parametrize("text", ["2025M13", "2025M0", "oktober", "", "2025", "1800M01"])
def test_parse_month_refuses_what_is_not_a_month(text):
    with pytest.raises(ix.IndexationError, match="is not a month"):
        ix.parse_month(text)


def test_month_labels():
    assert ix.month_label((2026, 10), "nb") == "oktober 2026"
    assert ix.month_label((2026, 10), "en") == "October 2026"
    assert ix.month_code((2026, 3)) == "2026M03"


# ---------------------------------------------------------------- when


@pytest.mark.parametrize(
    ("start", "on", "expected"),
    [
        (d(2024, 3, 18), d(2024, 3, 19), d(2025, 3, 18)),
        (d(2024, 3, 18), d(2025, 3, 18), d(2025, 3, 18)),
        (d(2024, 3, 18), d(2025, 3, 19), d(2026, 3, 18)),
        (d(2024, 1, 31), d(2024, 2, 1), d(2025, 1, 31)),
        (d(2024, 2, 29), d(2024, 3, 1), d(2025, 2, 28)),  # a leap day: clamped to 28 February
        (d(2024, 2, 29), d(2025, 3, 1), d(2026, 2, 28)),
        (d(2023, 2, 28), d(2024, 1, 1), d(2024, 2, 28)),  # not 29 in the leap year: the same day of month
    ],
)
def test_anniversaries(start, on, expected):
    assert ix.next_effective(PISCATOR, start, on) == expected


@pytest.mark.parametrize(
    ("start", "on", "expected"),
    [
        (d(2024, 3, 20), d(2024, 3, 21), d(2025, 1, 1)),  # Identum: 1 January of the year after signing
        (d(2024, 12, 31), d(2025, 1, 1), d(2025, 1, 1)),
        (d(2024, 1, 1), d(2024, 1, 2), d(2025, 1, 1)),
        (d(2024, 3, 20), d(2026, 1, 1), d(2026, 1, 1)),
        (d(2024, 3, 20), d(2025, 1, 2), d(2026, 1, 1)),
    ],
)
def test_january(start, on, expected):
    assert ix.next_effective(IDENTUM, start, on) == expected


def test_effective_dates_are_twelve_months_apart():
    assert ix.effective_dates(PISCATOR, d(2024, 1, 31), d(2027, 1, 31)) == [
        d(2025, 1, 31),
        d(2026, 1, 31),
        d(2027, 1, 31),
    ]
    assert ix.effective_dates(IDENTUM, d(2024, 3, 20), d(2026, 6, 1)) == [d(2025, 1, 1), d(2026, 1, 1)]


@pytest.mark.parametrize(
    ("policy", "effective", "measure"),
    [
        (IDENTUM, d(2026, 1, 1), d(2025, 11, 1)),
        (DIGIREQ, d(2026, 1, 1), d(2025, 12, 15)),
        (SPEKTER, d(2025, 1, 1), d(2024, 11, 15)),
        (PISCATOR, d(2025, 3, 18), d(2025, 3, 18)),
    ],
)
def test_measure_date(policy, effective, measure):
    assert ix.measure_date(policy, effective) == measure


# ---------------------------------------------------------------- each vendor, with SSB's figures


def test_spekter_list_2025_whole_kroner():
    result = ix.compute(SPEKTER, [KPI_2015], price=D("2892"), effective_on=d(2025, 1, 1), signed_on=d(2020, 1, 1))
    assert (result.reference_month, result.new_month) == ((2023, 10), (2024, 10))
    assert (result.reference_value, result.new_value) == (D("131.1"), D("134.5"))
    assert result.new_price == D("2967")  # 2892 × 134.5 / 131.1 = 2967.00…


def test_piscator_first_change_from_the_signing_month_then_from_the_last_month_used():
    first = ix.compute(PISCATOR, [KPI_2015], price=D("96000"), effective_on=d(2025, 3, 18), signed_on=d(2024, 3, 4))
    assert (first.reference_month, first.new_month) == ((2024, 3), (2025, 2))
    assert (first.reference_value, first.new_value) == (KPI_2015.values[(2024, 3)], KPI_2015.values[(2025, 2)])
    second = ix.compute(
        PISCATOR,
        KPI,
        price=first.new_price,
        effective_on=d(2026, 3, 18),
        signed_on=d(2024, 3, 4),
        last_effective=d(2025, 3, 18),
        last_month=first.new_month,
    )
    assert (second.reference_month, second.new_month) == ((2025, 2), (2026, 2))


def test_a_base_change_crossed_takes_both_months_from_the_new_series():
    # February 2026 exists only on 2025 = 100; February 2025 is looked up again there, not rebased by hand.
    result = ix.compute(
        PISCATOR, KPI, price=D("96000"), effective_on=d(2026, 3, 18), signed_on=d(2024, 3, 4),
        last_effective=d(2025, 3, 18), last_month=(2025, 2),
    )  # fmt: skip
    assert result.series_code == "kpi-2025"
    assert result.base == "2025=100"
    assert (result.reference_value, result.new_value) == (KPI_2025.values[(2025, 2)], KPI_2025.values[(2026, 2)])
    assert "(grunnlag 2025=100)" in result.explanation_nb


def test_both_series_have_both_months_the_newer_base_wins():
    result = ix.compute(SPEKTER, KPI, price=D("2892"), effective_on=d(2026, 1, 1), signed_on=d(2020, 1, 1))
    assert result.series_code == "kpi-2025"
    assert (result.reference_value, result.new_value) == (D("97.7"), D("100.7"))
    only_old = ix.compute(SPEKTER, [KPI_2015], price=D("2892"), effective_on=d(2026, 1, 1), signed_on=d(2020, 1, 1))
    assert (only_old.reference_value, only_old.new_value) == (D("134.5"), D("138.7"))


def test_identum_services_sub_index_first_january_after_signing():
    result = ix.compute(IDENTUM, [SERVICES], price=D("138000"), effective_on=d(2025, 1, 1), signed_on=d(2024, 3, 20))
    assert (result.reference_month, result.new_month) == ((2023, 9), (2024, 9))
    assert (result.reference_value, result.new_value) == (D("127.2"), D("128.1"))
    assert result.notice_by == d(2024, 12, 4)  # at least 4 weeks before 1 January


def test_identum_2026_waits_for_september_2025_and_does_not_guess():
    result = ix.compute(
        IDENTUM, [SERVICES], price=D("138000"), effective_on=d(2026, 1, 1), signed_on=d(2024, 3, 20),
        last_effective=d(2025, 1, 1),
    )  # fmt: skip
    assert isinstance(result, ix.Waiting)
    assert result.month == (2025, 9)
    assert "september 2025" in result.reason_nb
    assert "not published or fetched yet" in result.reason_en


def test_digireq_up_to_cpi_then_a_requested_increase_above_it():
    plain = ix.compute(DIGIREQ, [KPI_2015], price=D("1000"), effective_on=d(2025, 1, 1), signed_on=d(2024, 2, 1))
    assert (plain.reference_month, plain.new_month) == ((2023, 11), (2024, 11))
    assert plain.notice_by is None and not plain.may_terminate
    above = ix.compute(
        DIGIREQ, [KPI_2015], price=D("1000"), effective_on=d(2025, 1, 1), signed_on=d(2024, 2, 1),
        requested_factor=D("1.09"),
    )  # fmt: skip
    assert above.factor == D("1.09") and above.above_cap and above.may_terminate
    assert above.notice_by == d(2024, 7, 1)
    assert above.new_price == D("1090.00")
    assert "kunden kan si opp uten oppsigelsestid" in above.explanation_nb


def test_a_requested_increase_above_the_cap_without_an_above_cap_notice_is_capped():
    capped = ix.Policy(measure=(12, 15), cap=ix.CAP_INDEX)
    result = ix.compute(
        capped, [KPI_2015], price=D("1000"), effective_on=d(2025, 1, 1), signed_on=d(2024, 2, 1),
        requested_factor=D("1.09"),
    )  # fmt: skip
    assert result.capped and result.factor == result.index_factor
    assert "begrenset til indeksen" in result.explanation_nb


def test_a_falling_index_lowers_or_keeps_the_price_as_the_policy_says():
    falling = series({"2024M10": "110.0", "2025M10": "104.5"})
    lower = ix.compute(
        ix.Policy(measure=(11, 15), falling=ix.FALL_LOWER), [falling], price=D("1000"), effective_on=d(2026, 1, 1),
        signed_on=d(2020, 1, 1),
    )  # fmt: skip
    assert lower.new_price == D("950.00") and not lower.kept
    assert lower.notice_by is None  # a decrease needs no notice
    keep = ix.compute(OCTOBER, [falling], price=D("1000"), effective_on=d(2026, 1, 1), signed_on=d(2020, 1, 1))
    assert keep.new_price == D("1000.00") and keep.kept
    assert "fallende indeks" in keep.explanation_nb


def test_a_second_indexation_within_12_months_is_refused():
    with pytest.raises(ix.IndexationError, match="at most once per 12 months"):
        ix.compute(
            PISCATOR, KPI, price=D("96000"), effective_on=d(2026, 3, 17), signed_on=d(2024, 3, 4),
            last_effective=d(2025, 3, 18), last_month=(2025, 2),
        )  # fmt: skip


def test_a_contract_signed_on_the_31st():
    start = d(2024, 1, 31)
    assert ix.next_effective(PISCATOR, start, d(2024, 2, 1)) == d(2025, 1, 31)
    result = ix.compute(PISCATOR, KPI, price=D("1000"), effective_on=d(2025, 1, 31), signed_on=d(2024, 1, 17))
    assert (result.reference_month, result.new_month) == ((2024, 1), (2024, 12))
    assert not ix.too_soon(d(2024, 1, 31), d(2025, 1, 31))
    assert ix.too_soon(d(2024, 1, 31), d(2025, 1, 30))


def test_around_the_year_end():
    # Measured 15 December: November's index (published 10 December) against November the year before.
    result = ix.compute(DIGIREQ, [KPI_2015], price=D("1000"), effective_on=d(2026, 1, 1), signed_on=d(2024, 2, 1))
    assert (result.reference_month, result.new_month) == ((2024, 11), (2025, 11))
    assert (result.reference_value, result.new_value) == (D("134.9"), D("138.9"))


def test_no_new_month_since_the_reference_waits():
    result = ix.compute(
        PISCATOR, KPI, price=D("1"), effective_on=d(2025, 3, 18), signed_on=d(2024, 3, 4), last_month=(2025, 2)
    )
    assert isinstance(result, ix.Waiting)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("value", [D("0"), D("-1"), D("NaN"), D("Infinity")])
def test_an_index_of_zero_or_less_is_refused(value):
    with pytest.raises(ix.IndexationError, match="positive"):
        ix.check_value(value, (2025, 1), today=d(2026, 1, 1))


@pytest.mark.parametrize("month", [(2026, 1), (2026, 2), (2030, 1)])
def test_a_month_not_yet_over_is_refused(month):
    with pytest.raises(ix.IndexationError, match="has not ended yet"):
        ix.check_value(D("100"), month, today=d(2026, 1, 20))


def test_a_zero_reference_in_a_series_is_refused_by_the_ratio():
    with pytest.raises(ix.IndexationError):
        ix.ratio(D("100"), D("0"))


def test_a_notice_shorter_than_the_contract_demands_is_refused():
    with pytest.raises(ix.IndexationError, match="at least 4 weeks") as caught:
        ix.Policy(notice=ix.Notice(days=14), minimum_notice=ix.Notice(days=28))
    assert caught.value.field == "notice"
    assert "minst 4 uker" in caught.value.message_nb


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timing": "weekly"}, "timing"),
        ({"reference": "whenever"}, "reference"),
        ({"cap": "double"}, "cap"),
        ({"falling": "up"}, "falling"),
        ({"rounding": D("0.1")}, "rounding"),
        ({"measure": (13, 1)}, "measure"),
        ({"measure": (2, 30)}, "measure"),
        ({"notice": ix.Notice(months=-1)}, "notice"),
        ({"above_cap_notice": ix.Notice(months=6)}, "above_cap_notice"),  # without a cap at the index
        ({"cap": ix.CAP_INDEX, "notice": ix.Notice(months=1), "above_cap_notice": ix.Notice(days=7)},
         "above_cap_notice"),
    ],
)  # fmt: skip
def test_a_policy_that_cannot_be_used_names_its_field(changes, field):
    with pytest.raises(ix.IndexationError) as caught:
        ix.Policy(**changes)
    assert caught.value.field == field


def test_a_negative_price_is_refused():
    s = series({"2025M10": "120.0", "2026M10": "126.0"})
    with pytest.raises(ix.IndexationError, match="price"):
        ix.compute(OCTOBER, [s], price=D("-1"), effective_on=d(2027, 1, 1), signed_on=d(2020, 1, 1))


# ---------------------------------------------------------------- price documents


def test_index_document_indexes_money_and_nothing_else():
    doc = {
        "code": "p",
        "annual_discount": "0.15",
        "minimum": None,
        "components": [
            {"code": "a", "model": "flat", "amount": "10000", "label": {"nb": "x", "en": "x"}},
            {"code": "b", "model": "volume", "tiers": [{"lower": 1, "upper": 10, "flat_amount": "495"},
                                                       {"lower": 11, "upper": None, "unit_price": "75"}]},
            {"code": "c", "model": "percentage", "rate": "0.10", "percentage_of": ["a"]},
            {"code": "m", "model": "matrix", "table": {"row_uppers": [3], "column_uppers": [25],
                                                       "amounts": [["1200"]]}},
        ],
        "licence": {"factor": "0.45", "d_table": [{"lower": 1, "upper": 25, "discount": "0.15"}],
                    "m_table": [{"lower": 1, "upper": 3, "multiplier": "2"}]},
    }  # fmt: skip
    out = ix.index_document(doc, D("1.1"), ORE)
    assert out["components"][0]["amount"] == "11000.00"
    assert out["components"][1]["tiers"][0]["flat_amount"] == "544.50"
    assert out["components"][1]["tiers"][1]["unit_price"] == "82.50"
    assert out["components"][1]["tiers"][0]["lower"] == 1
    assert out["components"][2]["rate"] == "0.10"
    assert out["components"][3]["table"]["amounts"] == [["1320.00"]]
    assert out["licence"] == doc["licence"]
    assert out["annual_discount"] == "0.15" and out["minimum"] is None


def test_steps_round_one_after_the_other():
    doc = {"amount": "99.99"}
    once = ix.apply_steps(doc, [(D("1.03"), ORE)])
    twice = ix.apply_steps(doc, [(D("1.03"), ORE), (D("1.03"), ORE)])
    assert once["amount"] == "102.99"  # 102.9897
    assert twice["amount"] == "106.08"  # 102.99 × 1.03 = 106.0797, not 99.99 × 1.0609 rounded


# ---------------------------------------------------------------- properties


factors = st.decimals(min_value=D("0.5"), max_value=D("2"), places=6)
prices = st.decimals(min_value=D("0"), max_value=D("10000000"), places=2)


@given(prices, factors)
def test_the_new_price_is_the_exact_product_within_half_an_ore(price, factor):
    new = ix.index_price(price, factor, ORE)
    assert abs(new - price * factor) <= D("0.005")
    assert new == new.quantize(ORE)


@given(prices, factors)
def test_whole_kroner_within_half_a_krone(price, factor):
    new = ix.index_price(price, factor, KRONE)
    assert abs(new - price * factor) <= D("0.5")
    assert new == new.to_integral_value()


@given(
    st.decimals(min_value=D("50"), max_value=D("200"), places=1),
    st.decimals(min_value=D("50"), max_value=D("200"), places=1),
    prices,
)
def test_the_cap_never_lets_a_price_rise_more_than_the_index(ref, new, price):
    s = series({"2024M11": str(ref), "2025M11": str(new)})
    result = ix.compute(
        ix.Policy(measure=(12, 15), cap=ix.CAP_INDEX), [s], price=price, effective_on=d(2026, 1, 1),
        signed_on=d(2020, 1, 1), requested_factor=D("1.5"),
    )  # fmt: skip
    assert result.factor <= max(result.index_factor, D(1))
    assert result.new_price <= ix.index_price(price, max(result.index_factor, D(1)))


@given(st.dates(min_value=d(2000, 1, 1), max_value=d(2090, 12, 31)))
def test_a_published_month_is_always_before_the_day_it_is_read(day):
    month = ix.latest_published(day)
    assert ix.published_on(month) <= day
    assert ix.published_on(ix.add_months_to(month, 1)) > day


@given(st.dates(min_value=d(2000, 1, 1), max_value=d(2090, 12, 31)), st.sampled_from([PISCATOR, IDENTUM]))
def test_effective_dates_are_never_within_12_months(start, policy):
    dates = ix.effective_dates(policy, start, ix.add_months(start, 60))
    for earlier, later in zip(dates, dates[1:], strict=False):
        assert not ix.too_soon(earlier, later)
    assert all(day > start for day in dates)


def test_a_month_not_yet_published_on_the_day_is_not_used_even_if_stored():
    # An increase announced in June 2025 for 1 January 2026 cannot know November 2025's index yet.
    early = ix.compute(
        DIGIREQ, [KPI_2015], price=D("1000"), effective_on=d(2026, 1, 1), signed_on=d(2024, 2, 1),
        today=d(2025, 6, 20),
    )  # fmt: skip
    assert isinstance(early, ix.Waiting) and early.month == (2025, 11)
    assert "published about 2025-12-10" in early.reason_en
    on_time = ix.compute(
        DIGIREQ, [KPI_2015], price=D("1000"), effective_on=d(2026, 1, 1), signed_on=d(2024, 2, 1),
        today=d(2025, 12, 15),
    )  # fmt: skip
    assert on_time.new_month == (2025, 11)


def test_next_due_skips_long_past_dates_and_dates_before_the_policy():
    start = d(2020, 1, 1)
    assert ix.next_due(SPEKTER, start, start, not_before=d(2024, 12, 1)) == d(2025, 1, 1)
    assert ix.next_due(SPEKTER, start, start, not_before=d(2023, 12, 1), first=d(2025, 1, 1)) == d(2025, 1, 1)
    assert ix.next_due(PISCATOR, d(2024, 3, 18), d(2025, 3, 18), not_before=d(2025, 1, 1)) == d(2026, 3, 18)
