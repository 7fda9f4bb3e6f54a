"""The reminder-fee caps shipped with the code (``receivables/data/reminder_fees.csv``, sources per row).

The one impure step in front of :mod:`receivables.rules`: read the packaged file, parse it there. A new cap is a
new line in that file (the fees are data, with the date they apply from and their source).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from importlib.resources import files

from receivables import rules

FEES_FILE = "data/reminder_fees.csv"


@cache
def load_fee_caps() -> rules.FeeTable:
    return rules.parse_fee_caps(files("receivables").joinpath(FEES_FILE).read_text(encoding="utf-8"))


def fee_cap(kind: str, on: dt.date) -> Decimal | None:
    """The highest ``kind`` fee ("reminder": purregebyr, "demand": betalingsoppfordring) allowed on ``on``."""
    return rules.fee_cap(kind, on, load_fee_caps())
