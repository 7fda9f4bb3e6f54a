"""The billing acceptance schedules (shared/acceptance/billing.md) as pure date cases."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.schedule import BillingPeriod, due_periods, hours_cutoff, rest_of_period_days, rest_of_year_quarters

d = dt.date


def test_spekter_first_invoice_waits_for_the_dpa_and_covers_the_term_year():
    assert (
        due_periods(
            "from_start", start=d(2026, 3, 15), interval="year", on=d(2026, 3, 19), billable_from=d(2026, 3, 20)
        )
        == []
    )
    assert due_periods(
        "from_start", start=d(2026, 3, 15), interval="year", on=d(2026, 3, 20), billable_from=d(2026, 3, 20)
    ) == [BillingPeriod(d(2026, 3, 15), d(2027, 3, 14), d(2026, 3, 20))]
    # the next term year, once, on its first day
    assert due_periods(
        "from_start",
        start=d(2026, 3, 15),
        interval="year",
        on=d(2027, 3, 15),
        billable_from=d(2026, 3, 20),
        invoiced_through=d(2027, 3, 14),
    ) == [BillingPeriod(d(2027, 3, 15), d(2028, 3, 14), d(2027, 3, 15))]


def test_standard_norge_first_year_in_quarters_then_1_january():
    first = due_periods("calendar_year", start=d(2026, 5, 10), interval="year", on=d(2026, 5, 10))
    assert first == [BillingPeriod(d(2026, 4, 1), d(2026, 12, 31), d(2026, 5, 10), quarters=3)]
    assert (
        due_periods(
            "calendar_year", start=d(2026, 5, 10), interval="year", on=d(2026, 12, 31), invoiced_through=d(2026, 12, 31)
        )
        == []
    )
    assert due_periods(
        "calendar_year", start=d(2026, 5, 10), interval="year", on=d(2027, 1, 1), invoiced_through=d(2026, 12, 31)
    ) == [BillingPeriod(d(2027, 1, 1), d(2027, 12, 31), d(2027, 1, 1), quarters=4)]


def test_digireq_monthly_from_conversion():
    assert due_periods("from_start", start=d(2026, 1, 19), interval="month", on=d(2026, 1, 19)) == [
        BillingPeriod(d(2026, 1, 19), d(2026, 2, 18), d(2026, 1, 19))
    ]
    assert (
        due_periods(
            "from_start", start=d(2026, 1, 19), interval="month", on=d(2026, 2, 18), invoiced_through=d(2026, 2, 18)
        )
        == []
    )
    assert [
        p.start
        for p in due_periods(
            "from_start", start=d(2026, 1, 19), interval="month", on=d(2026, 2, 19), invoiced_through=d(2026, 2, 18)
        )
    ] == [d(2026, 2, 19)]


def test_a_cancelled_monthly_plan_gets_no_further_invoice():
    assert (
        due_periods(
            "from_start",
            start=d(2026, 1, 19),
            interval="month",
            on=d(2026, 3, 1),
            invoiced_through=d(2026, 2, 18),
            ends_on=d(2026, 2, 19),
        )
        == []
    )


def test_piscator_quarterly_in_advance_from_the_start():
    periods = due_periods("from_start", start=d(2026, 2, 16), interval="quarter", on=d(2026, 11, 16))
    assert [(p.start, p.end) for p in periods] == [
        (d(2026, 2, 16), d(2026, 5, 15)),
        (d(2026, 5, 16), d(2026, 8, 15)),
        (d(2026, 8, 16), d(2026, 11, 15)),
        (d(2026, 11, 16), d(2027, 2, 15)),
    ]


@given(
    st.dates(min_value=d(2020, 1, 1), max_value=d(2030, 12, 31)),
    st.sampled_from(["month", "quarter", "year"]),
    st.integers(min_value=0, max_value=900),
)
def test_periods_tile_without_gaps_or_overlaps_and_replays_add_nothing(start, interval, days):
    on = start + dt.timedelta(days=days)
    periods = due_periods("from_start", start=start, interval=interval, on=on)
    for a, b in zip(periods, periods[1:], strict=False):
        assert b.start == a.end + dt.timedelta(days=1)
    assert all(p.issue_on <= on for p in periods)
    if periods:
        assert due_periods("from_start", start=start, interval=interval, on=on, invoiced_through=periods[-1].end) == []


@pytest.mark.parametrize(
    ("on", "cutoff"),
    [
        (d(2026, 3, 1), d(2026, 2, 28)),
        (d(2026, 3, 31), d(2026, 2, 28)),
        (d(2024, 3, 15), d(2024, 2, 29)),
        (d(2026, 1, 1), d(2025, 12, 31)),
    ],
)
def test_hours_wait_at_most_until_the_next_month(on, cutoff):
    assert hours_cutoff(on) == cutoff


def test_the_rest_of_a_period_from_an_amendment_in_days_and_quarters():
    # DigiReq 19 Jan – 18 Feb (31 days), changed from 1 February: 18 days left.
    assert rest_of_period_days(d(2026, 1, 19), d(2026, 2, 18), d(2026, 2, 1)) == (18, 31)
    assert rest_of_period_days(d(2026, 1, 19), d(2026, 2, 18), d(2026, 1, 19)) == (31, 31)
    with pytest.raises(ValueError):
        rest_of_period_days(d(2026, 1, 19), d(2026, 2, 18), d(2026, 2, 19))
    # Standard Norge: from 15 August, Q3 and Q4 for a charge; only Q4 for a credit (Q3 is paid).
    assert rest_of_year_quarters(d(2026, 8, 15)) == 2
    assert rest_of_year_quarters(d(2026, 8, 15), started_included=False) == 1
    assert rest_of_year_quarters(d(2026, 1, 1)) == 4
