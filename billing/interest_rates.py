"""The statutory late-payment interest rates shipped with the code (``billing/data/forsinkelsesrente.csv``).

The one impure step in front of :mod:`billing.interest`: read the packaged file, parse it there. A new half-year's
rate is a new line in that file (RULES §8: the rates are data).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from billing.interest import RateTable, parse_rates

RATES_FILE = "data/forsinkelsesrente.csv"


@cache
def load_rates() -> RateTable:
    return parse_rates(files("billing").joinpath(RATES_FILE).read_text(encoding="utf-8"))
