"""billing/interest.py, pure: late-payment interest (RULES §8) on the real statutory rates shipped in
billing/data/forsinkelsesrente.csv. Table-driven, exact values (checked against a day-by-day sum); no database."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.interest import (
    Rate,
    RateMissing,
    RateTable,
    RateTableError,
    interest,
    parse_rates,
)
from billing.interest_rates import load_rates

D = Decimal
d = dt.date
NBSP = "\u00a0"
RATES = load_rates()
SHARED_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "forsinkelsesrente.csv"


def periods(result):
    return [(p.start, p.end, p.days, p.rate, p.principal, p.amount) for p in result.periods]


# -- the rate table ---------------------------------------------------------------------------------------------


def test_the_packaged_table_holds_every_half_year_from_2015_as_fractions():
    assert RATES.starts == d(2015, 1, 1)
    assert RATES.ends == d(2026, 7, 1)  # the last row (2026-01-01) runs to the end of its half-year
    assert len(RATES.rows) == 23
    assert RATES.rate_on(d(2025, 3, 1)).rate == D("0.125")
    assert RATES.rate_on(d(2025, 3, 1)).rate_percent == D("12.5")
    assert RATES.rate_on(d(2025, 7, 1)).rate == D("0.1225")
    assert RATES.rate_on(d(2023, 6, 30)).rate == D("0.1075")
    assert all(row.source for row in RATES.rows)


@pytest.mark.skipif(not SHARED_CSV.exists(), reason="../shared not checked out")
def test_the_packaged_rates_are_the_collected_ones():
    shared = parse_rates(SHARED_CSV.read_text(encoding="utf-8"))
    assert [(r.from_date, r.rate) for r in shared.rows] == [(r.from_date, r.rate) for r in RATES.rows]


def test_rows_are_sorted_and_sources_may_be_quoted():
    table = parse_rates(
        'from_date,rate_percent,source\n2025-07-01,12.25,"a, b"\n\n2025-01-01,12.50,c\n2026-01-01,12,\n'
    )
    assert [(r.from_date, r.rate, r.source, r.line) for r in table.rows] == [
        (d(2025, 1, 1), D("0.125"), "c", 4),
        (d(2025, 7, 1), D("0.1225"), "a, b", 2),
        (d(2026, 1, 1), D("0.12"), "", 5),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("date,rate\n2025-01-01,12.5\n", "line 1: expected the header"),
        ("from_date,rate_percent,source\n", "empty"),
        ("from_date,rate_percent,source\n2025-01-01,12.5,x\n2025-07-01,-0.25,x\n", "line 3: negative rate"),
        ("from_date,rate_percent,source\n2025-01-01,12.5,x\n2025-01-01,12.5,y\n", "line 3: 2025-01-01 is given twice"),
        ("from_date,rate_percent,source\n2025-01-01,12.5,x\n2026-01-01,12,x\n", "line 3: gap: 2026-01-01 follows"),
        ("from_date,rate_percent,source\n2025-02-01,12.5,x\n", "line 2: 2025-02-01 is not 1 January or 1 July"),
        ("from_date,rate_percent,source\n2025-13-01,12.5,x\n", "line 2: '2025-13-01' is not a date"),
        ('from_date,rate_percent,source\n2025-01-01,"12,5",x\n', "line 2: '12,5' is not a rate"),
        ("from_date,rate_percent,source\n2025-01-01,NaN,x\n", "line 2: 'NaN' is not a rate"),
        ("from_date,rate_percent,source\n2025-01-01\n", "line 2: expected 3 fields"),
    ],
)
def test_a_bad_table_is_refused_naming_the_line(text, message):
    with pytest.raises(RateTableError, match=message.replace("(", r"\(")):
        parse_rates(text)


def test_the_gap_message_says_which_half_year_is_missing():
    with pytest.raises(RateTableError) as err:
        parse_rates("from_date,rate_percent,source\n2025-01-01,12.5,x\n2026-01-01,12,x\n")
    assert err.value.line == 3
    assert "the rate from 2025-07-01 is missing" in str(err.value)


def test_a_table_built_in_code_is_checked_too():
    with pytest.raises(RateTableError, match="gap"):
        RateTable((Rate(d(2025, 1, 1), D("0.125")), Rate(d(2026, 1, 1), D("0.12"))))
    with pytest.raises(RateTableError, match="negative"):
        RateTable((Rate(d(2025, 1, 1), D("-0.01")),))


# -- interest ---------------------------------------------------------------------------------------------------


def test_acceptance_case_45_days_at_12_5_percent():
    result = interest(D("10000.00"), d(2025, 1, 15), d(2025, 3, 1), RATES)
    assert result.interest == D("154.11")
    assert result.days == 45
    assert periods(result) == [(d(2025, 1, 16), d(2025, 3, 1), 45, D("0.125"), D("10000.00"), D("154.11"))]
    assert result.interest_outstanding == D("154.11")
    assert result.principal_outstanding == D("10000.00")
    assert result.explanation_nb == (f"10{NBSP}000,00 × 12,5{NBSP}% × 45/365 = 154,11 (16.01.2025–01.03.2025)")
    assert result.explanation_en == "10,000.00 × 12.5% × 45/365 = 154.11 (2025-01-16 to 2025-03-01)"


@pytest.mark.parametrize(
    ("principal", "due", "paid", "expected", "split"),
    [
        # across 1 July 2025: 12.50 % → 12.25 %
        (
            "10000.00",
            d(2025, 5, 31),
            d(2025, 8, 31),
            "310.82",
            [
                (d(2025, 6, 1), d(2025, 6, 30), 30, "0.125", "102.74"),
                (d(2025, 7, 1), d(2025, 8, 31), 62, "0.1225", "208.08"),
            ],
        ),
        # across 1 July 2023: 10.75 % → 11.75 %
        (
            "25000.00",
            d(2023, 5, 15),
            d(2023, 9, 30),
            "1079.11",
            [
                (d(2023, 5, 16), d(2023, 6, 30), 46, "0.1075", "338.70"),
                (d(2023, 7, 1), d(2023, 9, 30), 92, "0.1175", "740.41"),
            ],
        ),
        # an unchanged rate still starts a new period on 1 July (12.5 % → 12.5 % in 2024)
        (
            "1000.00",
            d(2024, 6, 20),
            d(2024, 7, 10),
            "6.85",
            [
                (d(2024, 6, 21), d(2024, 6, 30), 10, "0.125", "3.42"),
                (d(2024, 7, 1), d(2024, 7, 10), 10, "0.125", "3.42"),
            ],
        ),
    ],
)
def test_a_period_spanning_1_july_is_split_at_the_rate_change(principal, due, paid, expected, split):
    result = interest(D(principal), due, paid, RATES)
    assert result.interest == D(expected)
    assert [(p.start, p.end, p.days, p.rate, p.amount) for p in result.periods] == [
        (a, b, n, D(r), D(x)) for a, b, n, r, x in split
    ]


def test_rounding_is_once_on_the_total_not_per_period():
    # 3.4246… + 3.4246… = 6.8493… → 6.85, although each period shows 3.42
    result = interest(D("1000.00"), d(2024, 6, 20), d(2024, 7, 10), RATES)
    assert sum(p.amount for p in result.periods) == D("6.84")
    assert result.interest == D("6.85")
    assert result.explanation_nb.endswith("Forsinkelsesrente i alt: 6,85")


@pytest.mark.parametrize(
    ("principal", "due", "paid", "simple", "compound", "capitalised"),
    [
        # over 31 December 2022 (9.25 % → 10.75 %): 2 331.51 accrued in 2022 bears interest from 1 January 2023
        ("50000.00", d(2022, 6, 30), d(2023, 6, 30), "4996.92", "5121.21", "2331.51"),
        # 100 000 over New Year 2024/2025: 184 days in 2024, 90 in 2025, 12.5 % all the way
        ("100000.00", d(2024, 6, 30), d(2025, 3, 31), "9383.56", "9577.78", "6301.37"),
        # three year-ends (2021, 2022, 2023)
        ("80000.00", d(2021, 11, 30), d(2024, 2, 29), "18293.15", "19568.23", "17563.50"),
        # due 31 December: nothing has accrued by the year-end, so SSA-L changes nothing
        ("10000.00", d(2023, 12, 31), d(2024, 12, 31), "1253.42", "1253.42", "0.00"),
    ],
)
def test_ssa_l_adds_the_interest_accrued_by_31_december_to_the_principal(
    principal, due, paid, simple, compound, capitalised
):
    plain = interest(D(principal), due, paid, RATES)
    ssa_l = interest(D(principal), due, paid, RATES, compound_yearly=True)
    assert plain.interest == D(simple)
    assert plain.interest_capitalised == D("0.00")
    assert ssa_l.interest == D(compound)
    assert ssa_l.interest_capitalised == D(capitalised)
    assert ssa_l.principal_outstanding == D(principal) + D(capitalised)
    assert ssa_l.interest_outstanding == D(compound) - D(capitalised)


def test_ssa_l_explains_the_capitalisation():
    result = interest(D("50000.00"), d(2022, 6, 30), d(2023, 6, 30), RATES, compound_yearly=True)
    assert periods(result) == [
        (d(2022, 7, 1), d(2022, 12, 31), 184, D("0.0925"), D("50000.00"), D("2331.51")),
        (d(2023, 1, 1), d(2023, 6, 30), 181, D("0.1075"), D("52331.51"), D("2789.70")),
    ]
    assert result.explanation_nb.splitlines() == [
        f"50{NBSP}000,00 × 9,25{NBSP}% × 184/365 = 2{NBSP}331,51 (01.07.2022–31.12.2022)",
        f"Renter per 31.12.2022 lagt til hovedstolen fra 01.01.2023: 2{NBSP}331,51",
        f"52{NBSP}331,51 × 10,75{NBSP}% × 181/365 = 2{NBSP}789,70 (01.01.2023–30.06.2023)",
        f"Forsinkelsesrente i alt: 5{NBSP}121,21",
    ]
    assert result.explanation_en.splitlines()[1] == (
        "Interest accrued by 2022-12-31 added to the principal from 2023-01-01: 2,331.51"
    )


def test_leap_year_days_are_still_divided_by_365():
    # 366 days of 2024 at 12.5 %: 10 000 × 0.125 × 366/365 = 1 253.42, a little more than a year's 1 250.00
    result = interest(D("10000.00"), d(2023, 12, 31), d(2024, 12, 31), RATES)
    assert result.days == 366
    assert result.interest == D("1253.42")
    # 29 February counts as a day: 28 Feb → 1 Mar 2024 is 2 days
    assert interest(D("36500.00"), d(2024, 2, 28), d(2024, 3, 1), RATES).interest == D("25.00")


@pytest.mark.parametrize("paid", [d(2025, 1, 15), d(2025, 1, 10), d(2014, 1, 1)])
def test_paid_on_or_before_the_due_date_is_no_interest(paid):
    result = interest(D("10000.00"), d(2025, 1, 15), paid, RATES)
    assert result.interest == D("0.00")
    assert result.periods == ()
    assert result.principal_outstanding == D("10000.00")
    assert result.explanation_nb == "Ingen forsinkelsesrente"
    assert result.explanation_en == "No late-payment interest"


def test_one_day_late_is_one_day_of_interest():
    assert interest(D("36500.00"), d(2025, 1, 15), d(2025, 1, 16), RATES).interest == D("12.50")


def test_a_due_date_before_the_table_is_a_clear_error():
    with pytest.raises(RateMissing, match="no late-payment interest rate before 2015-01-01"):
        interest(D("10000.00"), d(2014, 12, 30), d(2015, 3, 1), RATES)
    # due 31 December 2014: interest runs from 1 January 2015, which the table covers
    assert interest(D("36500.00"), d(2014, 12, 31), d(2015, 1, 1), RATES).interest == D("9.25")


def test_a_payment_date_after_the_table_is_a_clear_error():
    with pytest.raises(RateMissing, match="from 2026-07-01"):
        interest(D("10000.00"), d(2026, 5, 1), d(2026, 7, 1), RATES)
    assert interest(D("36500.00"), d(2026, 6, 29), d(2026, 6, 30), RATES).interest == D("12.00")


# -- partial payments --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payments", "order", "expected"),
    [
        # 5 000 paid 14 Feb: it covers the 102.74 accrued by then, 4 897.26 goes to the principal from 15 Feb
        (
            [(d(2025, 2, 14), "5000.00")],
            "interest_first",
            {
                "interest": "128.95",
                "paid": "102.74",
                "outstanding": "26.21",
                "principal": "5102.74",
                "split": [("10000.00", 30, "102.74"), ("5102.74", 15, "26.21")],
            },
        ),
        # the debtor said the 5 000 is for the principal
        (
            [(d(2025, 2, 14), "5000.00")],
            "principal_first",
            {
                "interest": "128.42",
                "paid": "0.00",
                "outstanding": "128.42",
                "principal": "5000.00",
                "split": [("10000.00", 30, "102.74"), ("5000.00", 15, "25.68")],
            },
        ),
        # a payment smaller than the interest accrued only pays interest
        (
            [(d(2025, 2, 14), "100.00")],
            "interest_first",
            {
                "interest": "154.11",
                "paid": "100.00",
                "outstanding": "54.11",
                "principal": "10000.00",
                "split": [("10000.00", 30, "102.74"), ("10000.00", 15, "51.37")],
            },
        ),
        # two payments, given out of order; one before the due date reduces the principal from the start
        (
            [(d(2025, 2, 14), "1000.00"), (d(2025, 1, 10), "2000.00")],
            "interest_first",
            {
                "interest": "118.57",
                "paid": "82.19",
                "outstanding": "36.38",
                "principal": "7082.19",
                "split": [("8000.00", 30, "82.19"), ("7082.19", 15, "36.38")],
            },
        ),
        # a payment on paid_on itself: the day still bears interest; it settles interest first
        (
            [(d(2025, 3, 1), "10154.11")],
            "interest_first",
            {
                "interest": "154.11",
                "paid": "154.11",
                "outstanding": "0.00",
                "principal": "0.00",
                "split": [("10000.00", 45, "154.11")],
            },
        ),
    ],
)
def test_partial_payments_reduce_the_claim_from_the_day_after(payments, order, expected):
    result = interest(
        D("10000.00"),
        d(2025, 1, 15),
        d(2025, 3, 1),
        RATES,
        payments=[(day, D(amount)) for day, amount in payments],
        apply_payments=order,
    )
    assert result.interest == D(expected["interest"])
    assert result.interest_paid == D(expected["paid"])
    assert result.interest_outstanding == D(expected["outstanding"])
    assert result.principal_outstanding == D(expected["principal"])
    assert [(p.principal, p.days, p.amount) for p in result.periods] == [
        (D(a), n, D(x)) for a, n, x in expected["split"]
    ]
    assert result.unapplied == D("0.00")


def test_a_payment_is_explained_between_the_periods():
    result = interest(D("10000.00"), d(2025, 1, 15), d(2025, 3, 1), RATES, payments=[(d(2025, 2, 14), D("5000"))])
    assert result.explanation_nb.splitlines() == [
        f"10{NBSP}000,00 × 12,5{NBSP}% × 30/365 = 102,74 (16.01.2025–14.02.2025)",
        f"Innbetalt 14.02.2025: 5{NBSP}000,00 (renter 102,74, hovedstol 4{NBSP}897,26)",
        f"5{NBSP}102,74 × 12,5{NBSP}% × 15/365 = 26,21 (15.02.2025–01.03.2025)",
        "Forsinkelsesrente i alt: 128,95",
    ]
    assert result.explanation_en.splitlines()[1] == "Paid 2025-02-14: 5,000.00 (interest 102.74, principal 4,897.26)"


def test_an_overpayment_stops_the_interest_and_is_left_unapplied():
    result = interest(D("1000.00"), d(2025, 1, 15), d(2025, 3, 1), RATES, payments=[(d(2025, 1, 31), D("1500.00"))])
    # 16 days on 1 000 = 5.48 interest, then the 1 000.00 principal; 494.52 over; nothing accrues afterwards
    assert result.interest == D("5.48")
    assert result.interest_paid == D("5.48")
    assert result.principal_outstanding == D("0.00")
    assert result.unapplied == D("494.52")
    assert [p.days for p in result.periods] == [16]
    assert "ikke brukt 494,52" in result.explanation_nb


def test_ssa_l_a_payment_on_31_december_covers_the_interest_before_it_is_capitalised():
    result = interest(
        D("50000.00"),
        d(2022, 6, 30),
        d(2023, 6, 30),
        RATES,
        compound_yearly=True,
        payments=[(d(2022, 12, 31), D("1000.00"))],
    )
    assert result.interest_paid == D("1000.00")
    assert result.interest_capitalised == D("1331.51")
    assert result.principal_outstanding == D("51331.51")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal": D("-1.00")}, "principal"),
        ({"principal": D("10.005")}, "principal"),
        ({"payments": [(d(2025, 3, 2), D("1.00"))]}, "after paid_on"),
        ({"payments": [(d(2025, 2, 1), D("-1.00"))]}, "payment"),
        ({"apply_payments": "costs_first"}, "apply_payments"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    args = {"principal": D("10000.00"), "due_date": d(2025, 1, 15), "paid_on": d(2025, 3, 1), "rates": RATES}
    with pytest.raises(ValueError, match=message):
        interest(**{**args, **kwargs})


def test_floats_are_refused():
    with pytest.raises(TypeError):
        interest(10000.0, d(2025, 1, 15), d(2025, 3, 1), RATES)


# -- properties ---------------------------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=10_000_000_00).map(lambda ore: D(ore) / 100)
due_dates = st.dates(min_value=d(2014, 12, 31), max_value=d(2026, 6, 29))


@st.composite
def claims(draw):
    due = draw(due_dates)
    paid = draw(st.dates(min_value=due - dt.timedelta(days=30), max_value=d(2026, 6, 30)))
    return draw(amounts), due, paid


@settings(max_examples=200, deadline=None)
@given(claims(), st.booleans())
def test_interest_is_never_negative(claim, compound):
    result = interest(*claim, RATES, compound_yearly=compound)
    assert result.precise_interest >= 0
    assert result.interest >= 0
    assert result.interest_outstanding >= 0


@settings(max_examples=200, deadline=None)
@given(claims(), st.integers(min_value=1, max_value=400), st.booleans())
def test_interest_grows_with_the_days(claim, more, compound):
    principal, due, paid = claim
    later = min(paid + dt.timedelta(days=more), d(2026, 6, 30))
    shorter = interest(principal, due, paid, RATES, compound_yearly=compound)
    longer = interest(principal, due, later, RATES, compound_yearly=compound)
    assert longer.precise_interest >= shorter.precise_interest
    assert longer.interest >= shorter.interest


@settings(max_examples=200, deadline=None)
@given(claims(), st.data())
def test_splitting_a_period_at_any_date_gives_the_same_unrounded_total(claim, data):
    principal, due, paid = claim
    if paid <= due:
        return
    cut = data.draw(st.dates(min_value=due, max_value=paid))
    whole = interest(principal, due, paid, RATES).precise_interest
    # interest up to the cut, then from the cut (as if it were the due date) on the same principal
    first = interest(principal, due, cut, RATES).precise_interest
    second = interest(principal, cut, paid, RATES).precise_interest
    assert abs(first + second - whole) < D("1e-20")
    # and the periods of one result add up to its total
    assert sum(p.precise_amount for p in interest(principal, due, paid, RATES).periods) == whole


@settings(max_examples=200, deadline=None)
@given(claims())
def test_compounding_is_never_less_than_simple_interest(claim):
    simple = interest(*claim, RATES)
    compound = interest(*claim, RATES, compound_yearly=True)
    assert compound.precise_interest >= simple.precise_interest
    assert compound.interest >= simple.interest
    if compound.interest_capitalised == 0:
        assert compound.interest == simple.interest
