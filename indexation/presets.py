"""The five seed vendors' indexation policies as data (RULES §2–§7), to create a tenant's policy from.

Each preset is the policy its seed terms describe; ``minimum_notice_*`` is what those terms demand, so a
later edit that shortens the notice below it is refused.
"""

from __future__ import annotations

PRESETS: dict[str, dict] = {
    # List prices raised yearly by KPI in whole kroner; new contracts and renewals get the new list,
    # running contracts follow it on their next term year (the schedule prices each year on the list in
    # force when it starts). Read on 15 November: October's index against October the year before.
    "spekter": {
        "code": "kpi-prisliste",
        "name_nb": "Prislisten reguleres årlig etter KPI",
        "name_en": "Price list indexed yearly by CPI",
        "scope": "list",
        "index_code": "kpi",
        "timing": "january",
        "reference": "twelve_months",
        "measure_month": 11,
        "measure_day": 15,
        "cap": "none",
        "whole_kroner": True,
        "falling": "keep",
        "approval": "staff",
    },
    # Catalogue prices set yearly by the vendor: an indexation of the catalogue that staff preview and
    # approve (an imported price list for the year takes precedence); contracts take them on 1 January.
    "standard-norge": {
        "code": "kpi-katalog",
        "name_nb": "Katalogprisene reguleres årlig etter KPI",
        "name_en": "Catalogue prices indexed yearly by CPI",
        "scope": "catalogue",
        "index_code": "kpi",
        "timing": "january",
        "reference": "twelve_months",
        "measure_month": 11,
        "measure_day": 15,
        "cap": "none",
        "whole_kroner": True,
        "falling": "keep",
        "approval": "staff",
    },
    # SSA-L §7: once a year without notice; the first change from the index of the signing month, later
    # ones from the last month used; the price follows the index both ways.
    "piscator": {
        "code": "ssa-l-kpi",
        "name_nb": "SSA-L: årlig KPI-regulering fra signeringsmåneden",
        "name_en": "SSA-L: yearly CPI adjustment from the signing month",
        "scope": "contract",
        "index_code": "kpi",
        "timing": "anniversary",
        "reference": "since_signing",
        "measure_month": None,
        "measure_day": None,
        "cap": "none",
        "falling": "lower",
        "approval": "auto",
    },
    # 1 January, at most the CPI change over the previous 12 months (November against November, read on
    # 15 December). More needs 6 months' notice and gives the customer the right to terminate.
    "digireq": {
        "code": "kpi-1-januar",
        "name_nb": "1. januar, inntil KPI-endringen siste 12 måneder",
        "name_en": "1 January, up to the CPI change over the last 12 months",
        "scope": "contract",
        "index_code": "kpi",
        "timing": "january",
        "reference": "twelve_months",
        "measure_month": 12,
        "measure_day": 15,
        "cap": "index",
        "above_cap_notice_months": 6,
        "above_cap_may_terminate": True,
        "falling": "keep",
        "approval": "staff",
    },
    # 1 January by the 12-month change in the sub-index for services with wages as the dominant factor as
    # of 1 November (September against September); the first in the year after signing; at least 4 weeks'
    # notice.
    "identum": {
        "code": "kpi-arbeidskraft",
        "name_nb": "1. januar etter KPI for tjenester hvor arbeidskraft dominerer",
        "name_en": "1 January by the CPI for services with wages as the dominant factor",
        "scope": "contract",
        "index_code": "kpi-services-wages",
        "timing": "january",
        "reference": "twelve_months",
        "measure_month": 11,
        "measure_day": 1,
        "cap": "none",
        "notice_days": 28,
        "minimum_notice_days": 28,
        "falling": "keep",
        "approval": "auto",
    },
}
