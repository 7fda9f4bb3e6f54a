"""Reminder rules (receivables.rules), pure: steps, the dated fee caps, the fee charged and the step due."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables import fees, rules
from receivables.policies import DEFAULT_STEPS
from receivables.rules import Sent, Step

D = Decimal
TABLE = rules.parse_fee_caps(
    "from_date,fee_kind,cap,source\n"
    "2020-01-01,reminder,70.00,a\n"
    "2020-10-01,reminder,35.00,b\n"
    "2020-10-01,demand,105.00,c\n"
)
REMINDER = Step(1, "reminder", 14, 14, "reminder")
WARNING = Step(2, "warning", 1, 14, "reminder")
FINAL = Step(3, "final", 1, 14, "demand")
STEPS = (REMINDER, WARNING, FINAL)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# ---------------------------------------------------------------- steps


def test_the_built_in_steps_parse():
    steps = rules.parse_steps(DEFAULT_STEPS)
    assert [s.kind for s in steps] == ["reminder", "warning", "final"]
    assert [s.number for s in steps] == [1, 2, 3]
    assert steps[0] == Step(1, "reminder", 14, 14, "reminder", None)
    assert [s.as_dict() for s in steps] == DEFAULT_STEPS


def test_a_fee_amount_is_read_as_money():
    (step,) = rules.parse_steps(
        [{"kind": "reminder", "after_days": 7, "days_to_pay": 10, "fee": "reminder", "fee_amount": "25"}]
    )
    assert step.fee_amount == D("25.00")
    assert step.as_dict()["fee_amount"] == "25.00"


def test_nothing_and_an_empty_list_are_no_steps():
    assert rules.parse_steps([]) == ()
    assert rules.parse_steps(None) == ()


@pytest.mark.parametrize("kind", ["warning", "final"])
def test_a_statutory_step_needs_14_days_to_pay(kind):
    with pytest.raises(rules.StepsError) as error:
        rules.parse_steps([{"kind": kind, "after_days": 1, "days_to_pay": 13, "fee": "none"}])
    (problem,) = error.value.problems
    assert (problem.step, problem.field) == (1, "days_to_pay")
    assert "at least 14 days" in problem.message("en")
    assert "minst 14 dagers" in problem.message("nb")
    assert problem.message("en").startswith("Step 1, days_to_pay:")
    assert problem.message("nb").startswith("Trinn 1, days_to_pay:")
    assert rules.parse_steps([{"kind": kind, "after_days": 1, "days_to_pay": 14, "fee": "none"}])


def test_every_bad_step_and_field_is_named():
    raw = [
        {"kind": "reminder", "after_days": 14, "days_to_pay": 14, "fee": "reminder"},
        {"kind": "purring", "after_days": -1, "days_to_pay": 0, "fee": "lots", "colour": "red"},
        "not a step",
        {"kind": "reminder", "after_days": 3.5, "days_to_pay": 14, "fee": "none", "fee_amount": "10"},
        {"kind": "reminder", "after_days": True, "days_to_pay": 14, "fee": "reminder", "fee_amount": 35.0},
        {"kind": "reminder", "after_days": 1, "days_to_pay": 14, "fee": "reminder", "fee_amount": "-5"},
        {"kind": "reminder", "after_days": 1, "days_to_pay": 14, "fee": "reminder", "fee_amount": "1.234"},
    ]
    with pytest.raises(rules.StepsError) as error:
        rules.parse_steps(raw)
    where = {(p.step, p.field) for p in error.value.problems}
    assert where == {
        (2, "colour"),
        (2, "kind"),
        (2, "after_days"),
        (2, "days_to_pay"),
        (2, "fee"),
        (3, ""),
        (4, "after_days"),
        (4, "fee_amount"),
        (5, "after_days"),
        (5, "fee_amount"),
        (6, "fee_amount"),
        (7, "fee_amount"),
    }
    assert "Step 2, kind: 'purring' is not a kind" in str(error.value)
    assert all(m for m in error.value.messages("nb"))


def test_steps_must_be_a_short_list():
    with pytest.raises(rules.StepsError, match="must be a list"):
        rules.parse_steps({"kind": "reminder"})
    with pytest.raises(rules.StepsError, match="At most 10"):
        rules.parse_steps([{"kind": "reminder", "after_days": 1, "days_to_pay": 14}] * 11)


# ---------------------------------------------------------------- fee caps


def test_the_shipped_fee_table_has_the_dated_caps_with_sources():
    table = fees.load_fee_caps()
    assert fees.fee_cap("reminder", day("2019-12-31")) is None  # before the table: nothing guessed
    assert fees.fee_cap("reminder", day("2020-01-01")) == D("70.00")
    assert fees.fee_cap("reminder", day("2020-09-30")) == D("70.00")
    assert fees.fee_cap("reminder", day("2020-10-01")) == D("35.00")
    assert fees.fee_cap("reminder", day("2026-06-01")) == D("35.00")  # in force until the next row
    assert fees.fee_cap("demand", day("2020-09-30")) is None
    assert fees.fee_cap("demand", day("2025-01-01")) == D("105.00")
    assert all(cap.source for cap in table.caps)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("from,kind\n", "expected the header"),
        ("from_date,fee_kind,cap,source\n2020-13-01,reminder,70,x\n", "line 2: '2020-13-01' is not a date"),
        ("from_date,fee_kind,cap,source\n2020-01-01,purring,70,x\n", "line 2: 'purring' is not a fee kind"),
        ("from_date,fee_kind,cap,source\n2020-01-01,reminder,sytti,x\n", "line 2: 'sytti' is not an amount"),
        ("from_date,fee_kind,cap,source\n2020-01-01,reminder,-1,x\n", "zero or more"),
        ("from_date,fee_kind,cap,source\n2020-01-01,reminder\n", "expected 4 fields"),
        (
            "from_date,fee_kind,cap,source\n2020-01-01,reminder,70,x\n2020-01-01,reminder,60,y\n",
            "line 3: a second reminder cap",
        ),
    ],
)
def test_a_bad_fee_table_is_refused_naming_the_line(text, message):
    with pytest.raises(rules.FeeTableError, match=message):
        rules.parse_fee_caps(text)


def test_comment_and_blank_lines_are_ignored_and_rows_sorted():
    table = rules.parse_fee_caps(
        "from_date,fee_kind,cap,source\n\n# later first\n2020-10-01,reminder,35,b\n2020-01-01,reminder,70,a\n"
    )
    assert [c.cap for c in table.caps] == [D("70.00"), D("35.00")]
    assert rules.fee_cap("reminder", day("2020-10-01"), table) == D("35.00")


# ---------------------------------------------------------------- pay-by


def test_pay_by_moves_to_the_next_business_day():
    assert rules.pay_by(day("2025-03-03"), 14) == day("2025-03-17")  # Monday → Monday
    assert rules.pay_by(day("2025-03-01"), 14) == day("2025-03-17")  # Saturday + 14 = Saturday → Monday
    assert rules.pay_by(day("2025-04-03"), 14) == day("2025-04-22")  # 17 April (Skjærtorsdag) → after Easter Monday
    assert rules.pay_by(day("2025-12-11"), 14) == day("2025-12-29")  # 25 Dec → 26 Dec holiday → weekend → 29th


# ---------------------------------------------------------------- the step due

DUE = day("2025-03-03")  # a Monday


def test_step_one_is_due_after_days_after_the_due_date():
    assert rules.next_step(STEPS, DUE, [], day("2025-03-16")) is None
    due = rules.next_step(STEPS, DUE, [], day("2025-03-17"))
    assert due.step == REMINDER and due.due_on == day("2025-03-17") and due.pay_by == day("2025-03-31")
    assert due.skipped == ()


def test_a_later_step_counts_from_the_previous_pay_by_date():
    sent = [(1, day("2025-03-17"), day("2025-03-31"))]
    assert rules.next_step(STEPS, DUE, sent, day("2025-03-31")) is None  # the pay-by day itself
    due = rules.next_step(STEPS, DUE, sent, day("2025-04-01"))
    assert due.step == WARNING and due.due_on == day("2025-04-01") and due.pay_by == day("2025-04-15")


def test_no_step_after_the_last():
    sent = [(1, DUE, DUE), (2, DUE, DUE), (3, DUE, DUE)]
    assert rules.next_step(STEPS, DUE, sent, day("2026-01-01")) is None
    assert rules.next_step((), DUE, [], day("2026-01-01")) is None


def test_a_run_after_a_gap_sends_the_latest_due_step_not_a_stack():
    reminders = (Step(1, "reminder", 7, 7), Step(2, "reminder", 1, 7), Step(3, "warning", 1, 14), FINAL)
    # Step 1 due 10.03, pay-by 17.03; step 2 due 18.03, pay-by 25.03; warning due 26.03.
    due = rules.next_step(reminders, DUE, [], day("2025-03-20"))
    assert due.step.number == 2 and due.skipped == (1,) and due.due_on == day("2025-03-18")
    # Long after: the warning, never the final notice over it (it must be sent and its deadline run first).
    due = rules.next_step(reminders, DUE, [], day("2025-09-01"))
    assert due.step.kind == "warning" and due.skipped == (1, 2)
    assert due.pay_by == day("2025-09-15")


def test_sent_may_come_in_any_order_and_as_sent_tuples():
    sent = [Sent(2, day("2025-04-01"), day("2025-04-15")), (1, day("2025-03-17"), day("2025-03-31"))]
    assert rules.next_step(STEPS, DUE, sent, day("2025-04-16")).step == FINAL


@given(
    due=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)),
    gap=st.integers(min_value=0, max_value=400),
    after=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=5),
)
def test_one_step_at_a_time_each_due_and_in_order(due, gap, after):
    """Whatever the days: at most one step per day, never before it is due, never one already sent, and a
    daily run walks through every step in order."""
    steps = tuple(Step(i + 1, "reminder", a, 14) for i, a in enumerate(after))
    sent: list[Sent] = []
    on = due
    while on <= due + dt.timedelta(days=gap):
        found = rules.next_step(steps, due, sent, on)
        if found:
            assert found.due_on <= on
            assert found.step.number == len(sent) + 1  # daily: never skips
            assert found.pay_by >= on + dt.timedelta(days=14)
            sent.append(Sent(found.step.number, on, found.pay_by))
        on += dt.timedelta(days=1)
    assert [s.step for s in sent] == list(range(1, len(sent) + 1))


# ---------------------------------------------------------------- the fee


def fee(step=REMINDER, due="2025-03-03", on="2025-03-17", sent=()):
    return rules.fee_for(step, due_date=day(due), on=day(on), table=TABLE, sent=sent)


def test_the_fee_is_the_cap_in_force_on_the_reminders_date():
    assert fee(due="2020-09-01", on="2020-09-30").amount == D("70.00")
    charged = fee(due="2020-09-01", on="2020-10-01")
    assert charged.amount == D("35.00")
    assert charged.explanation_nb == (
        "Purregebyr 35,00 kr (høyeste lovlige gebyr fra 01.10.2020: 35,00 kr, inkassoforskriften § 1-2)"
    )
    assert charged.explanation_en == (
        "Reminder fee NOK 35.00 (the highest fee allowed by law from 2020-10-01: NOK 35.00, inkassoforskriften § 1-2)"
    )
    assert charged.explain("en") == charged.explanation_en
    assert charged.cap.from_date == day("2020-10-01")


def test_a_configured_fee_is_charged_up_to_the_cap():
    low = Step(1, "reminder", 14, 14, "reminder", D("25.00"))
    high = Step(1, "reminder", 14, 14, "reminder", D("50.00"))
    assert fee(low).amount == D("25.00")
    assert "Purregebyr 25,00 kr (høyeste lovlige gebyr fra 01.10.2020: 35,00 kr" in fee(low).explanation_nb
    assert fee(high).amount == D("35.00")
    assert fee(Step(1, "reminder", 14, 14, "reminder", D("0.00"))).amount == D("0.00")


def test_no_fee_earlier_than_14_days_after_the_due_date():
    early = fee(on="2025-03-16")
    assert early.amount == D("0.00")
    assert "tidligst 17.03.2025" in early.explanation_nb and "earliest 2025-03-17" in early.explanation_en
    assert fee(on="2025-03-17").amount == D("35.00")


def test_no_fee_for_a_step_without_one_and_none_before_the_table():
    assert fee(Step(1, "reminder", 14, 14, "none")) == rules.NO_FEE_CHARGED
    before = fee(due="2019-06-01", on="2019-12-31")
    assert before.amount == D("0.00") and "ingen lovlig sats" in before.explanation_nb


def test_at_most_two_fees_per_invoice():
    third = Step(3, "warning", 1, 14, "reminder")
    sent = [
        Sent(1, day("2025-03-17"), day("2025-03-31"), D("35.00")),
        Sent(2, day("2025-04-01"), day("2025-04-15"), D("35.00")),
    ]
    result = fee(third, on="2025-04-16", sent=sent)
    assert result.amount == D("0.00")
    assert "høyst 2 gebyrer" in result.explanation_nb and "at most 2 fees" in result.explanation_en


def test_a_second_fee_only_after_a_14_day_deadline_has_passed():
    second = Step(2, "reminder", 1, 14, "reminder")
    short = [Sent(1, day("2025-03-17"), day("2025-03-24"), D("35.00"))]  # 7 days to pay
    assert fee(second, on="2025-03-25", sent=short).amount == D("0.00")
    full = [Sent(1, day("2025-03-17"), day("2025-03-31"), D("35.00"))]
    assert fee(second, on="2025-03-31", sent=full).amount == D("0.00")  # the deadline has not passed yet
    assert fee(second, on="2025-04-01", sent=full).amount == D("35.00")


def test_a_demand_fee_needs_a_missed_deadline_and_is_capped_at_105():
    assert fee(FINAL, on="2025-04-16").amount == D("0.00")  # no earlier reminder
    sent = [Sent(1, day("2025-03-17"), day("2025-03-31")), Sent(2, day("2025-04-01"), day("2025-04-15"))]
    result = fee(FINAL, on="2025-04-16", sent=sent)
    assert result.amount == D("105.00")
    assert result.explanation_nb.startswith("Gebyr for betalingsoppfordring 105,00 kr")


@given(
    due=st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2030, 1, 1)),
    late=st.integers(min_value=0, max_value=200),
    configured=st.one_of(st.none(), st.decimals(min_value=0, max_value=1000, places=2)),
    earlier=st.lists(st.sampled_from([D("0.00"), D("35.00"), D("70.00")]), max_size=4),
)
def test_the_fee_is_never_above_the_dated_cap(due, late, configured, earlier):
    on = due + dt.timedelta(days=late)
    step = Step(len(earlier) + 1, "reminder", 0, 14, "reminder", configured)
    sent = [Sent(i + 1, due, due + dt.timedelta(days=14), f) for i, f in enumerate(earlier)]
    result = rules.fee_for(step, due_date=due, on=on, table=TABLE, sent=sent)
    cap = rules.fee_cap("reminder", on, TABLE)
    assert result.amount >= 0
    if result.amount:
        assert cap is not None and result.amount <= cap
        assert late >= 14
        assert sum(1 for f in earlier if f) < 2
        assert configured is None or result.amount <= configured
        assert result.explanation_nb and result.explanation_en
