"""The contract acceptance cases (shared/acceptance/contracts.md) and properties of the date rules."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import terms as t
from tenants.validation import validate_org_number

d = dt.date


def test_spekter_term_notice_and_renewal():
    start = t.start_date(t.SPEKTER, received_on=d(2026, 3, 15))
    assert start == d(2026, 3, 15)
    assert t.nth_term_end(t.SPEKTER, start, 0) == d(2027, 3, 15)
    assert t.notice_deadline(d(2027, 3, 15), t.SPEKTER.notice) == d(2026, 12, 14)
    assert t.nth_term_end(t.SPEKTER, start, 1) == d(2028, 3, 15)
    on_time = t.notice_effect(t.SPEKTER, start, d(2026, 12, 14))
    assert (on_time.ends_on, on_time.late) == (d(2027, 3, 15), False)


def test_spekter_late_notice_ends_the_next_term_and_says_so():
    effect = t.notice_effect(t.SPEKTER, d(2026, 3, 15), d(2026, 12, 20))
    assert effect.late is True
    assert effect.ends_on == d(2028, 3, 15)
    assert effect.deadline == d(2026, 12, 14)


def test_generic_notice_deadline():
    assert t.notice_deadline(d(2027, 1, 1), t.months(3)) == d(2026, 9, 30)


def test_piscator_start_acceptance_term_and_notice():
    start = t.start_date(t.PISCATOR, signed_on=d(2026, 2, 2))
    assert start == d(2026, 2, 16)
    acceptance = t.acceptance_period(t.PISCATOR, start)
    assert (acceptance.ends, acceptance.ordinary_from) == (d(2026, 3, 2), d(2026, 3, 2))
    end = t.nth_term_end(t.PISCATOR, start, 0)
    assert end == d(2027, 2, 16)
    assert t.notice_deadline(end, t.PISCATOR.notice) == d(2026, 8, 15)


def test_digireq_trial_never_confirmed():
    end = t.trial_end(d(2026, 1, 5), extensions=0)
    assert end == d(2026, 1, 19)
    timeline = t.pause_timeline(end)
    assert timeline.notices == (
        (d(2026, 1, 19), "paused"),
        (d(2026, 2, 18), "60_days_left"),
        (d(2026, 3, 20), "30_days_left"),
        (d(2026, 4, 12), "7_days_left"),
    )
    assert timeline.deletion_on == d(2026, 4, 19)


def test_digireq_three_extensions_and_a_fourth_refused():
    assert t.trial_end(d(2026, 1, 5), extensions=3) == d(2026, 2, 9)
    with pytest.raises(t.TrialExtensionRefused):
        t.trial_end(d(2026, 1, 5), extensions=4)


def test_digireq_annual_binding_and_notice():
    start = d(2026, 1, 19)
    end = t.nth_term_end(t.DIGIREQ_ANNUAL, start, 0)
    assert end == d(2027, 1, 19)
    assert t.notice_deadline(end, t.DIGIREQ_ANNUAL.notice) == d(2026, 12, 19)


def test_digireq_monthly_cancel_keeps_access_to_the_end_of_the_paid_month():
    assert t.paid_through(d(2026, 1, 19), d(2026, 2, 3), t.months(1)) == d(2026, 2, 18)


def test_identum_acceptance_without_notice():
    acceptance = t.acceptance_period(t.IDENTUM, d(2026, 4, 1))
    assert acceptance.ordinary_from == d(2026, 5, 1)


def test_month_end_clamps():
    assert t.add_months(d(2026, 1, 31), 1) == d(2026, 2, 28)
    assert t.nth_term_end(t.Terms(initial_term=t.months(1), notice=t.days(0)), d(2026, 1, 31), 0) == d(2026, 2, 28)


def test_org_number_case():
    validate_org_number("937620187")
    with pytest.raises(Exception):  # noqa: B017
        validate_org_number("937620188")


def test_business_days_skip_norwegian_holidays():
    # April 2026: 10 business days after the month, with 1 and 14 May holidays, ends 18 May.
    assert t.add_business_days(d(2026, 4, 30), 10) == d(2026, 5, 18)
    assert t.is_business_day(d(2026, 5, 17)) is False


dates = st.dates(min_value=d(2020, 1, 1), max_value=d(2035, 12, 31))
month_counts = st.integers(min_value=1, max_value=36)


@given(dates, month_counts, st.integers(min_value=0, max_value=11), st.integers(min_value=0, max_value=120))
def test_last_day_for_notice_is_always_before_the_end(start, term, notice_months, notice_days):
    end = t.term_end(start, t.months(term))
    assert t.notice_deadline(end, t.Period(months=notice_months, days=notice_days)) < end


@given(dates, month_counts, st.integers(min_value=0, max_value=8))
def test_renewals_keep_the_day_of_month_with_clamping(start, term, n):
    terms = t.Terms(initial_term=t.months(term), renewal_term=t.months(term), notice=t.months(1))
    end = t.nth_term_end(terms, start, n)
    import calendar

    assert end.day == min(start.day, calendar.monthrange(end.year, end.month)[1])


@given(dates, st.integers(min_value=0, max_value=800))
def test_notice_on_or_before_the_deadline_ends_the_term_and_after_it_the_next(start, offset):
    received = start + dt.timedelta(days=offset)
    n, _s, end = t.current_term(t.SPEKTER, start, received)
    effect = t.notice_effect(t.SPEKTER, start, received)
    if received <= t.notice_deadline(end, t.SPEKTER.notice):
        assert (effect.ends_on, effect.late) == (end, False)
    else:
        assert (effect.ends_on, effect.late) == (t.nth_term_end(t.SPEKTER, start, n + 1), True)
    assert effect.ends_on > received
