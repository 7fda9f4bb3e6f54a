"""Standard Norge's licence formula (RULES §3): L = PHC × (1 − D) × M × 0.45 per goods category.

PHC is the sum of the catalogue prices (per 1 January of the contract year) of the standards in
the category; D comes from the number of standards in the category (withdrawn ones count);
M from the number of concurrent users (one level higher for marked categories). Beyond the
tables the answer is "price on request", never a crash.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from pricing.engine.errors import PricingError
from pricing.engine.explain import Explanation
from pricing.engine.lines import Line, on_request_line, priced_line
from pricing.engine.models import UNITS, Tier, check_count, find_tier, validate_tiers
from pricing.engine.money import ZERO, D
from pricing.engine.periods import prorate_quarters

CONCURRENT_USERS = type(UNITS)("samtidige brukere", "concurrent users")
STANDARDS = type(UNITS)("standarder", "standards")


@dataclass(frozen=True)
class LicenceTables:
    """D and M as data: ``d_tiers`` hold the discount in ``unit_price``; ``m_tiers`` the multiplier."""

    d_tiers: tuple[Tier, ...]
    m_tiers: tuple[Tier, ...]
    factor: Decimal = Decimal("0.45")
    withdrawn_share: Decimal = Decimal("0.5")
    block_size: int = 25

    def __post_init__(self):
        validate_tiers(self.d_tiers, field="d_table")
        validate_tiers(self.m_tiers, field="m_table")

    def discount(self, count: int) -> Decimal | None:
        tier = find_tier(self.d_tiers, count)
        return None if tier.on_request else D(tier.unit_price)

    def multiplier(self, users: int, one_level_higher: bool) -> Decimal | None:
        index = next(i for i, tier in enumerate(self.m_tiers) if tier.contains(users))
        if one_level_higher:
            index += 1
        if index >= len(self.m_tiers) or self.m_tiers[index].on_request:
            return None
        return D(self.m_tiers[index].unit_price)


def _t(lower, upper, value=None, on_request=False):
    return Tier(lower, upper, unit_price=D(value) if value is not None else None, on_request=on_request)


STANDARD_NORGE_TABLES = LicenceTables(
    d_tiers=(
        _t(1, 25, "0.15"),
        _t(26, 30, "0.40"),
        _t(31, 62, "0.50"),
        _t(63, 125, "0.60"),
        _t(126, 250, "0.70"),
        _t(251, 500, "0.75"),
        _t(501, 1000, "0.80"),
        _t(1001, None, on_request=True),
    ),
    m_tiers=(
        _t(1, 3, "2"),
        _t(4, 5, "3"),
        _t(6, 10, "4"),
        _t(11, 15, "5"),
        _t(16, 20, "6"),
        _t(21, 30, "6.5"),
        _t(31, 50, "7"),
        _t(51, None, on_request=True),
    ),
)


@dataclass(frozen=True)
class Category:
    code: str
    name_nb: str
    name_en: str
    users_one_level_higher: bool = False
    building_blocks: bool = False
    average_list_price: Decimal | None = None  # needed for building blocks


@dataclass(frozen=True)
class HeldStandard:
    code: str
    category: str
    catalogue_price: Decimal  # per 1 January of the contract year
    withdrawn_on: dt.date | None = None
    added_in_year: int | None = None  # the contract year it joined the collection


@dataclass(frozen=True)
class LicenceResult:
    lines: tuple[Line, ...]
    licence_total: Decimal  # sum of the priced category lines (rounded)
    on_request: bool
    by_category: dict[str, Decimal] = field(default_factory=dict)


def is_half_price(item: HeldStandard, year: int) -> bool:
    """Withdrawn before this contract year and held since an earlier year → 50 %."""
    if item.withdrawn_on is None or item.withdrawn_on.year >= year:
        return False  # not withdrawn, or withdrawn this year: available at no extra cost until 31 Dec
    return item.added_in_year is None or item.added_in_year < year


def _formula(
    code: str, phc: Decimal, d: Decimal, m: Decimal, tables: LicenceTables, count: int, users: int
) -> Explanation:
    return Explanation.of(
        "licence_formula", category=code, phc_sum=phc, d=d, m=m, factor=tables.factor, count=count, users=users
    )


def _label(cat: Category) -> tuple[str, str]:
    return f"Lisens kategori {cat.code} ({cat.name_nb})", f"Licence category {cat.code} ({cat.name_en})"


def licence(
    tables: LicenceTables,
    categories: dict[str, Category],
    items: list[HeldStandard],
    users: int,
    year: int,
) -> LicenceResult:
    """The annual licence for a collection, one line per category (withdrawn-at-50 % on a line of its own)."""
    users = check_count(users, field="concurrent_users", unit=CONCURRENT_USERS)
    if not items:
        raise PricingError(
            "The collection has no standards; add at least one.",
            field="standards",
            message_nb="Samlingen har ingen standarder; legg til minst én.",
        )
    grouped: dict[str, list[HeldStandard]] = {}
    for i, item in enumerate(items):
        if not item.category:
            raise PricingError(
                f"Standard {item.code or i + 1} has no category; give it one.",
                field=f"standards[{i}]",
                message_nb=f"Standarden {item.code or i + 1} mangler kategori; gi den en.",
            )
        if item.category not in categories:
            raise PricingError(
                f"Unknown category {item.category!r} for standard {item.code}.",
                field=f"standards[{i}]",
                message_nb=f"Ukjent kategori {item.category!r} for standarden {item.code}.",
            )
        if D(item.catalogue_price) < 0:
            raise PricingError(
                f"Standard {item.code}: the catalogue price cannot be negative.",
                field=f"standards[{i}]",
                message_nb=f"Standarden {item.code}: prisen kan ikke være negativ.",
            )
        grouped.setdefault(item.category, []).append(item)

    lines: list[Line] = []
    by_category: dict[str, Decimal] = {}
    for code in sorted(grouped):
        cat, members = categories[code], grouped[code]
        label_nb, label_en = _label(cat)
        count = len(members)
        m = tables.multiplier(users, cat.users_one_level_higher)
        if m is None:
            lines.append(
                on_request_line(
                    f"licence:{code}",
                    label_nb,
                    label_en,
                    f"{users} samtidige brukere er over tabellen"
                    + (" (ett nivå høyere)" if cat.users_one_level_higher else ""),
                    f"{users} concurrent users is beyond the table"
                    + (" (one level higher)" if cat.users_one_level_higher else ""),
                    quantity=count,
                )
            )
            continue
        if cat.building_blocks:
            blocks = math.ceil(count / tables.block_size)
            bought = blocks * tables.block_size
            d = tables.discount(bought)
            if cat.average_list_price is None:
                raise PricingError(
                    f"Category {code} is bought in blocks but has no average list price.",
                    field="categories",
                    message_nb=f"Kategori {code} kjøpes i blokker men mangler snittpris.",
                )
            if d is None:
                lines.append(
                    on_request_line(
                        f"licence:{code}",
                        label_nb,
                        label_en,
                        f"{bought} standarder er over rabattabellen",
                        f"{bought} standards is beyond the discount table",
                        quantity=count,
                    )
                )
                continue
            phc = blocks * tables.block_size * D(cat.average_list_price)
            precise = phc * (1 - d) * m * tables.factor
            lines.append(
                priced_line(
                    f"licence:{code}",
                    label_nb,
                    label_en,
                    precise,
                    Explanation.of(
                        "building_blocks",
                        category=code,
                        blocks=blocks,
                        average_price=D(cat.average_list_price),
                        phc_sum=phc,
                        d=d,
                        m=m,
                        factor=tables.factor,
                    ),
                    quantity=count,
                )
            )
            by_category[code] = lines[-1].amount
            continue
        d = tables.discount(count)
        if d is None:
            lines.append(
                on_request_line(
                    f"licence:{code}",
                    label_nb,
                    label_en,
                    f"{count} standarder i kategorien er over rabattabellen (over 1000)",
                    f"{count} standards in the category is beyond the discount table (over 1000)",
                    quantity=count,
                )
            )
            continue
        full = [i for i in members if not is_half_price(i, year)]
        half = [i for i in members if is_half_price(i, year)]
        subtotal = ZERO
        if full:
            phc = sum((D(i.catalogue_price) for i in full), ZERO)
            line = priced_line(
                f"licence:{code}",
                label_nb,
                label_en,
                phc * (1 - d) * m * tables.factor,
                _formula(code, phc, d, m, tables, count, users),
                quantity=len(full),
            )
            lines.append(line)
            subtotal += line.amount
        if half:
            phc = sum((D(i.catalogue_price) for i in half), ZERO)
            line = priced_line(
                f"licence:{code}:withdrawn",
                label_nb + ", tilbaketrukne",
                label_en + ", withdrawn",
                phc * tables.withdrawn_share * (1 - d) * m * tables.factor,
                Explanation.of("licence_withdrawn", category=code, phc_sum=phc, d=d, m=m, factor=tables.factor),
                quantity=len(half),
            )
            lines.append(line)
            subtotal += line.amount
        by_category[code] = subtotal
    total = sum((line.amount for line in lines if line.amount is not None), ZERO)
    return LicenceResult(tuple(lines), total, any(line.on_request for line in lines), by_category)


def addition(
    tables: LicenceTables,
    categories: dict[str, Category],
    held: list[HeldStandard],
    new: list[HeldStandard],
    users: int,
    on: dt.date,
) -> LicenceResult:
    """Standards added mid-year: D from the category's count *after* the addition, for the remaining
    whole quarters (the started one included); what was held already is not re-discounted."""
    users = check_count(users, field="concurrent_users", unit=CONCURRENT_USERS)
    lines: list[Line] = []
    for code in sorted({n.category for n in new}):
        cat = categories.get(code)
        if cat is None:
            raise PricingError(f"Unknown category {code!r}.", field="standards")
        added = [n for n in new if n.category == code]
        count_after = len(added) + sum(1 for h in held if h.category == code)
        label_nb, label_en = _label(cat)
        label_nb, label_en = label_nb + ", tillegg", label_en + ", addition"
        d = tables.discount(count_after)
        m = tables.multiplier(users, cat.users_one_level_higher)
        if d is None or m is None:
            lines.append(
                on_request_line(
                    f"addition:{code}",
                    label_nb,
                    label_en,
                    "utenfor tabellene",
                    "beyond the tables",
                    quantity=len(added),
                )
            )
            continue
        phc = sum((D(n.catalogue_price) for n in added), ZERO)
        annual = phc * (1 - d) * m * tables.factor
        part, quarters = prorate_quarters(annual, on)
        lines.append(
            priced_line(
                f"addition:{code}",
                label_nb,
                label_en,
                part,
                _formula(code, phc, d, m, tables, count_after, users),
                quantity=len(added),
                steps=(quarters,),
            )
        )
    total = sum((line.amount for line in lines if line.amount is not None), ZERO)
    return LicenceResult(tuple(lines), total, any(line.on_request for line in lines))
