"""billing/hours.py, pure: time entries → invoice lines (RULES §4: hours at the rate, travel at its share,
expenses at cost; Identum's support per started half hour, RULES §6). Table-driven, no database."""

from decimal import Decimal

import pytest

from billing.hours import billed_hours, hour_lines, total

D = Decimal


@pytest.mark.parametrize(
    ("hours", "increment", "billed"),
    [
        ("3", 1, "3"),
        ("1.2", 1, "1.2"),
        ("1.2", 30, "1.5"),
        ("1.5", 30, "1.5"),
        ("1.51", 30, "2.0"),
        ("0.01", 30, "0.5"),
        ("0.25", 15, "0.25"),
        ("0.26", 15, "0.50"),
        ("2", 60, "2"),
        ("2.1", 60, "3"),
    ],
)
def test_billed_hours_round_up_to_whole_increments(hours, increment, billed):
    assert billed_hours(D(hours), increment) == D(billed)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        # Piscator (acceptance case): 3 h consulting + 2 h travel at 1 800/h, travel 50 % → 7 200.00
        (
            {"hours": "3", "travel_hours": "2", "expenses": "0", "rate": "1800", "travel_share": "0.5"},
            [("hours", "3", "HUR", "1800", "5400.00"), ("travel", "2", "HUR", "900.00", "1800.00")],
        ),
        # DigiReq extra services at 1 200/h, an expense at cost
        (
            {"hours": "1.5", "travel_hours": "0", "expenses": "412.30", "rate": "1200", "travel_share": "0.5"},
            [("hours", "1.5", "HUR", "1200", "1800.00"), ("expenses", "1", "EA", "412.30", "412.30")],
        ),
        # Identum support per started half hour: 1.2 h → 1.5 h
        (
            {"hours": "1.2", "travel_hours": "0", "expenses": "0", "rate": "1100", "travel_share": "0.5", "inc": 30},
            [("hours", "1.5", "HUR", "1100", "1650.00")],
        ),
        # A travel share that does not divide the rate evenly: 1 333 × 0.333 = 443.889 → 443.89 per hour
        (
            {"hours": "0", "travel_hours": "3", "expenses": "0", "rate": "1333", "travel_share": "0.333"},
            [("travel", "3", "HUR", "443.89", "1331.67")],
        ),
        # Nothing to bill: no lines
        ({"hours": "0", "travel_hours": "0", "expenses": "0", "rate": "1800", "travel_share": "0.5"}, []),
    ],
)
def test_hour_lines(entry, expected):
    lines = hour_lines(
        hours=D(entry["hours"]),
        travel_hours=D(entry["travel_hours"]),
        expenses=D(entry["expenses"]),
        rate=D(entry["rate"]),
        travel_share=D(entry["travel_share"]),
        increment_minutes=entry.get("inc", 1),
        expenses_description="Fly",
    )
    assert [(x.kind, x.quantity, x.unit_code, x.unit_price, x.net) for x in lines] == [
        (kind, D(q), unit, D(price), D(net)) for kind, q, unit, price, net in expected
    ]
    assert total(lines) == sum((D(row[4]) for row in expected), D(0))
    assert all(x.explanation_nb and x.explanation_en for x in lines)


def test_the_explanations_say_how_each_line_was_computed_in_nb_and_en():
    hours, travel, expenses = hour_lines(
        hours=D("1.2"),
        travel_hours=D("2"),
        expenses=D("812.40"),
        rate=D("1800"),
        travel_share=D("0.5"),
        increment_minutes=30,
        expenses_description="Fly Bergen",
    )
    assert hours.explanation_nb == "1,5 t × 1\u00a0800,00 (1,2 t, per påbegynte 30 min) = 2\u00a0700,00"
    assert hours.explanation_en == "1.5 h × 1,800.00 (1.2 h, per started 30 min) = 2,700.00"
    assert travel.explanation_nb == "Reisetid 2 t × 900,00 (50 % av timeprisen 1\u00a0800,00) = 1\u00a0800,00"
    assert travel.explanation_en == "Travel time 2 h × 900.00 (50 % of the hourly rate 1,800.00) = 1,800.00"
    assert expenses.explanation_nb == "Utlegg etter regning: Fly Bergen = 812,40"
    assert expenses.explanation_en == "Expenses at cost: Fly Bergen = 812.40"


def test_every_line_is_rounded_once_half_up_to_the_ore():
    (line,) = hour_lines(hours=D("0.5"), travel_hours=D(0), expenses=D(0), rate=D("1000.01"), travel_share=D("0.5"))
    assert line.net == D("500.01")  # 500.005: half up (banker's rounding would give 500.00)
    (line,) = hour_lines(hours=D("0.5"), travel_hours=D(0), expenses=D(0), rate=D("1000.03"), travel_share=D("0.5"))
    assert line.net == D("500.02")  # 500.015 → 500.02
