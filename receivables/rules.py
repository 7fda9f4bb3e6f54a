"""Reminders (dunning) as rules: pure — steps, dates and a fee table in, the step due and its fee out.

* **Steps** (``CollectionPolicy.dunning_steps``) are read by :func:`parse_steps`: a list of
  ``{"kind", "after_days", "days_to_pay", "fee", "fee_amount"?}``. ``kind`` is ``reminder``
  (betalingspåminnelse / purring), ``warning`` (inkassovarsel, inkassoloven § 9) or ``final``
  (betalingsoppfordring / siste varsel, § 10); ``warning`` and ``final`` give at least 14 days to pay.
  ``after_days`` counts from the due date for step 1 and from the previous step's pay-by date for the next.
  ``fee`` names the fee kind charged (``reminder``: purregebyr, also for an inkassovarsel; ``demand``:
  betalingsoppfordring; ``none``). ``fee_amount`` is the vendor's own fee; without it the fee is the legal cap.
* **Fee caps** are dated data (``receivables/data/reminder_fees.csv``, ``from_date,fee_kind,cap,source``),
  read by :func:`parse_fee_caps`; a cap is in force from its date until the next row of its kind. Before the
  first row no cap is known and no fee is charged (nothing is guessed).
* **The fee charged** (:func:`fee_for`, inkassoforskriften §§ 1-2 and 1-3): the configured fee, never above the
  cap in force on the reminder's date; none when the reminder is sent less than 14 days after the due date;
  at most two fees per invoice (stricter than § 1-3, which allows a third for a betalingsoppfordring); a second
  fee, and any fee for a betalingsoppfordring, only after the customer let a deadline of at least 14 days in an
  earlier reminder pass.
* **The step due** (:func:`next_step`): step 1 on ``due_date + after_days``, each later step on
  ``previous pay_by + after_days``. One step per run: a run after a gap sends the latest step that has come
  due (counting each skipped step as if it had been sent on its day), not a stack of them — but never jumps
  over a ``warning``: the statutory notice must be sent (and its deadline run) before what follows it.
* **Pay-by** = sent date + ``days_to_pay``, moved to the next business day (weekends and Norwegian holidays).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from contracts.terms import first_business_day_on_or_after
from pricing.engine.money import ZERO, D, format_amount, round_money

STEP_KINDS = ("reminder", "warning", "final")
STATUTORY_KINDS = ("warning", "final")  # inkassoloven § 9 and § 10: at least 14 days to pay
FEE_KINDS = ("reminder", "demand")
NO_FEE = "none"
STATUTORY_DAYS = 14
FEE_EARLIEST_DAYS = 14  # inkassoforskriften § 1-2: a fee only for a reminder sent 14 days or more after due
MAX_FEES = 2
MAX_STEPS = 10
STEP_FIELDS = ("kind", "after_days", "days_to_pay", "fee", "fee_amount")
FEE_HEADER = ("from_date", "fee_kind", "cap", "source")

KIND_NAMES = {
    "reminder": ("Betalingspåminnelse", "Payment reminder"),
    "warning": ("Inkassovarsel", "Debt collection warning"),
    "final": ("Betalingsoppfordring", "Demand for payment"),
}
FEE_NAMES = {
    "reminder": ("Purregebyr", "Reminder fee"),
    "demand": ("Gebyr for betalingsoppfordring", "Fee for the demand for payment"),
}
LEGAL_BASIS = "inkassoforskriften § 1-2"
LEGAL_LIMIT = "inkassoforskriften § 1-3"


def show_date(day: dt.date, lang: str) -> str:
    return day.strftime("%d.%m.%Y") if lang == "nb" else day.isoformat()


def show_money(amount: Decimal, lang: str) -> str:
    return f"{format_amount(amount, 'nb')} kr" if lang == "nb" else f"NOK {format_amount(amount, 'en')}"


# ---------------------------------------------------------------- steps


@dataclass(frozen=True)
class StepProblem:
    step: int  # 1-based; 0 for the list as a whole
    field: str  # "" for the step as a whole
    nb: str
    en: str

    def message(self, lang: str = "en") -> str:
        text = self.nb if lang == "nb" else self.en
        if not self.step:
            return text
        where = f"Trinn {self.step}" if lang == "nb" else f"Step {self.step}"
        return f"{where}, {self.field}: {text}" if self.field else f"{where}: {text}"


class StepsError(ValueError):
    """Reminder steps that cannot be used; ``problems`` names each step and field and says what to fix."""

    def __init__(self, problems: Sequence[StepProblem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message("en") for p in self.problems))

    def messages(self, lang: str = "en") -> list[str]:
        return [p.message(lang) for p in self.problems]


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as stored on Reminder.step
    kind: str
    after_days: int
    days_to_pay: int
    fee: str = NO_FEE  # "reminder", "demand" or "none"
    fee_amount: Decimal | None = None  # the vendor's fee; None: the legal cap

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "after_days": self.after_days,
            "days_to_pay": self.days_to_pay,
            "fee": self.fee,
        }
        if self.fee_amount is not None:
            data["fee_amount"] = str(self.fee_amount)
        return data

    def name(self, lang: str = "nb") -> str:
        nb, en = KIND_NAMES[self.kind]
        return nb if lang == "nb" else en


def _whole_days(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _step(number: int, raw: Any, problems: list[StepProblem]) -> Step | None:
    def problem(field: str, nb: str, en: str) -> None:
        problems.append(StepProblem(number, field, nb, en))

    if not isinstance(raw, dict):
        problem(
            "",
            "skal være et objekt med kind, after_days, days_to_pay og fee.",
            "must be an object with kind, after_days, days_to_pay and fee.",
        )
        return None
    before = len(problems)
    for key in sorted(set(raw) - set(STEP_FIELDS)):
        problem(
            str(key),
            f"ukjent felt; tillatt er {', '.join(STEP_FIELDS)}.",
            f"unknown field; allowed are {', '.join(STEP_FIELDS)}.",
        )
    kind = raw.get("kind")
    if kind not in STEP_KINDS:
        problem(
            "kind",
            f"{kind!r} er ikke en gyldig type; bruk {', '.join(STEP_KINDS)}.",
            f"{kind!r} is not a kind; use {', '.join(STEP_KINDS)}.",
        )
    after_days = _whole_days(raw.get("after_days"))
    if after_days is None or not 0 <= after_days <= 365:
        problem(
            "after_days",
            "skal være et helt antall dager fra 0 til 365.",
            "must be a whole number of days from 0 to 365.",
        )
    days_to_pay = _whole_days(raw.get("days_to_pay"))
    if days_to_pay is None or not 1 <= days_to_pay <= 90:
        problem(
            "days_to_pay",
            "skal være et helt antall dager fra 1 til 90.",
            "must be a whole number of days from 1 to 90.",
        )
    elif kind in STATUTORY_KINDS and days_to_pay < STATUTORY_DAYS:
        law = "inkassoloven § 9" if kind == "warning" else "inkassoloven § 10"
        problem(
            "days_to_pay",
            f"et {KIND_NAMES[kind][0].lower()} skal gi minst {STATUTORY_DAYS} dagers betalingsfrist ({law}); "
            f"sett {STATUTORY_DAYS} eller mer.",
            f"a {KIND_NAMES[kind][1].lower()} must give at least {STATUTORY_DAYS} days to pay ({law}); "
            f"set {STATUTORY_DAYS} or more.",
        )
    fee = raw.get("fee", NO_FEE)
    if fee not in (*FEE_KINDS, NO_FEE):
        problem(
            "fee",
            f"{fee!r} er ikke et gebyr; bruk reminder (purregebyr), demand (betalingsoppfordring) eller none.",
            f"{fee!r} is not a fee; use reminder (purregebyr), demand (betalingsoppfordring) or none.",
        )
    fee_amount = None
    if raw.get("fee_amount") not in (None, ""):
        value = raw["fee_amount"]
        try:
            if isinstance(value, float | bool):
                raise TypeError
            fee_amount = D(value)
            if not fee_amount.is_finite() or fee_amount < 0 or fee_amount != round_money(fee_amount):
                raise ValueError
        except (TypeError, ValueError, InvalidOperation):
            problem(
                "fee_amount",
                f'{value!r} er ikke et beløp; skriv det som tekst med punktum, som "35.00".',
                f'{value!r} is not an amount; write it as text with a dot, like "35.00".',
            )
            fee_amount = None
        else:
            fee_amount = round_money(fee_amount)
            if fee == NO_FEE:
                problem(
                    "fee_amount",
                    "et gebyrbeløp krever fee reminder eller demand; fjern beløpet eller velg gebyr.",
                    "a fee amount needs fee reminder or demand; remove the amount or choose a fee.",
                )
    if len(problems) > before:
        return None
    return Step(number, kind, after_days, days_to_pay, fee, fee_amount)


def parse_steps(raw: Any) -> tuple[Step, ...]:
    """The policy's ``dunning_steps`` JSON → steps; :class:`StepsError` naming every bad step and field."""
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise StepsError([StepProblem(0, "", "Trinnene skal være en liste.", "The steps must be a list.")])
    if len(raw) > MAX_STEPS:
        raise StepsError([StepProblem(0, "", f"Høyst {MAX_STEPS} trinn.", f"At most {MAX_STEPS} steps.")])
    problems: list[StepProblem] = []
    steps = [_step(number, item, problems) for number, item in enumerate(raw, start=1)]
    if problems:
        raise StepsError(problems)
    return tuple(s for s in steps if s is not None)


# ---------------------------------------------------------------- fee caps


class FeeTableError(ValueError):
    """A fee table that cannot be used; ``line`` is the 1-based line of the CSV text."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True)
class FeeCap:
    from_date: dt.date
    kind: str
    cap: Decimal
    source: str = ""
    line: int = 0


@dataclass(frozen=True)
class FeeTable:
    caps: tuple[FeeCap, ...]

    def cap_on(self, kind: str, on: dt.date) -> FeeCap | None:
        """The cap of ``kind`` in force on ``on`` (the last row of that kind from on or before it)."""
        found = None
        for cap in self.caps:  # sorted by date
            if cap.kind == kind and cap.from_date <= on:
                found = cap
        return found


def parse_fee_caps(text: str) -> FeeTable:
    """The CSV ``from_date,fee_kind,cap,source`` (header first) → a table; refuses a bad date, kind or amount,
    a negative cap and a duplicate (kind, date), naming the line."""
    reader = csv.reader(text.splitlines())
    rows: list[FeeCap] = []
    header_seen = False
    seen: set[tuple[str, dt.date]] = set()
    for index, record in enumerate(reader, start=1):
        line = reader.line_num or index
        if not record or all(not cell.strip() for cell in record) or record[0].lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in record]
        if not header_seen:
            if tuple(cells[:4]) != FEE_HEADER:
                raise FeeTableError(f"expected the header {','.join(FEE_HEADER)}, got {','.join(cells)}", line)
            header_seen = True
            continue
        if len(cells) not in (3, 4):
            raise FeeTableError(f"expected 4 fields, got {len(cells)}", line)
        try:
            from_date = dt.date.fromisoformat(cells[0])
        except ValueError:
            raise FeeTableError(f"{cells[0]!r} is not a date (YYYY-MM-DD)", line) from None
        if cells[1] not in FEE_KINDS:
            raise FeeTableError(f"{cells[1]!r} is not a fee kind ({', '.join(FEE_KINDS)})", line)
        try:
            cap = Decimal(cells[2])
        except InvalidOperation:
            raise FeeTableError(f"{cells[2]!r} is not an amount (like 35.00)", line) from None
        if not cap.is_finite() or cap < 0:
            raise FeeTableError(f"{cells[2]!r} is not an amount of zero or more", line)
        if (cells[1], from_date) in seen:
            raise FeeTableError(f"a second {cells[1]} cap from {from_date.isoformat()}", line)
        seen.add((cells[1], from_date))
        rows.append(FeeCap(from_date, cells[1], round_money(cap), cells[3] if len(cells) == 4 else "", line))
    if not header_seen:
        raise FeeTableError("the fee table is empty")
    return FeeTable(tuple(sorted(rows, key=lambda c: (c.from_date, c.kind))))


def fee_cap(kind: str, on: dt.date, table: FeeTable) -> Decimal | None:
    """The highest fee of ``kind`` the law allows on ``on``; None when the table knows none for that day."""
    cap = table.cap_on(kind, on)
    return cap.cap if cap else None


# ---------------------------------------------------------------- what was sent, pay-by and the step due


class Sent(NamedTuple):
    """A reminder already sent for the invoice (``fee``: the fee it charged, for the two-fee limit)."""

    step: int
    sent_on: dt.date
    pay_by: dt.date
    fee: Decimal = ZERO


def _sent(sent: Iterable[Sequence[Any]]) -> list[Sent]:
    return sorted((s if isinstance(s, Sent) else Sent(*s) for s in sent), key=lambda s: (s.step, s.sent_on))


def pay_by(sent_on: dt.date, days_to_pay: int) -> dt.date:
    """``sent_on + days_to_pay``, on the next business day when that is a weekend or a Norwegian holiday."""
    return first_business_day_on_or_after(sent_on + dt.timedelta(days=days_to_pay))


@dataclass(frozen=True)
class DueStep:
    step: Step
    due_on: dt.date  # the day the step came due (≤ the run's date)
    pay_by: dt.date  # if sent on the run's date
    skipped: tuple[int, ...] = ()  # steps passed over because a later one is due (a run after a gap)


def next_step(steps: Sequence[Step], due_date: dt.date, sent: Iterable[Sequence[Any]], on: dt.date) -> DueStep | None:
    """The one step to send on ``on`` for an invoice due ``due_date`` that has had the reminders ``sent``
    (``(step, sent_on, pay_by[, fee])``), or None when none is due yet or all have been sent."""
    done = _sent(sent)
    last = done[-1] if done else None
    index = last.step if last else 0  # steps[index] is the next one (numbers are 1-based)
    if index >= len(steps):
        return None
    base = last.pay_by if last else due_date
    due_on = base + dt.timedelta(days=steps[index].after_days)
    if on < due_on:
        return None
    skipped: list[int] = []
    # Catch up after a gap: had the step been sent on its day, would the next one be due by now as well?
    while index + 1 < len(steps) and steps[index].kind != "warning":
        later_due = pay_by(due_on, steps[index].days_to_pay) + dt.timedelta(days=steps[index + 1].after_days)
        if on < later_due:
            break
        skipped.append(steps[index].number)
        index += 1
        due_on = later_due
    step = steps[index]
    return DueStep(step, due_on, pay_by(on, step.days_to_pay), tuple(skipped))


# ---------------------------------------------------------------- the fee


@dataclass(frozen=True)
class Fee:
    amount: Decimal
    explanation_nb: str = ""
    explanation_en: str = ""
    cap: FeeCap | None = None

    def explain(self, lang: str = "nb") -> str:
        return self.explanation_nb if lang == "nb" else self.explanation_en


NO_FEE_CHARGED = Fee(ZERO.quantize(Decimal("0.01")))


def _no_fee(name: tuple[str, str], nb: str, en: str) -> Fee:
    return Fee(NO_FEE_CHARGED.amount, f"Ikke {name[0].lower()}: {nb}", f"No {name[1].lower()}: {en}")


def fee_for(step: Step, *, due_date: dt.date, on: dt.date, table: FeeTable, sent: Iterable[Sequence[Any]] = ()) -> Fee:
    """The fee ``step`` charges when sent on ``on`` for an invoice due ``due_date`` after the reminders
    ``sent`` (``(step, sent_on, pay_by, fee)``), with its explanation in Bokmål and English."""
    if step.fee == NO_FEE:
        return NO_FEE_CHARGED
    name = FEE_NAMES[step.fee]
    earliest = due_date + dt.timedelta(days=FEE_EARLIEST_DAYS)
    if on < earliest:
        return _no_fee(
            name,
            f"et gebyr kan tidligst kreves {FEE_EARLIEST_DAYS} dager etter forfall "
            f"(forfall {show_date(due_date, 'nb')}, tidligst {show_date(earliest, 'nb')}), {LEGAL_BASIS}.",
            f"a fee may be charged at the earliest {FEE_EARLIEST_DAYS} days after the due date (due "
            f"{show_date(due_date, 'en')}, earliest {show_date(earliest, 'en')}), {LEGAL_BASIS}.",
        )
    earlier = [s for s in _sent(sent) if s.step < step.number]
    charged = [s for s in earlier if s.fee > 0]
    if len(charged) >= MAX_FEES:
        return _no_fee(
            name,
            f"høyst {MAX_FEES} gebyrer per faktura, og {len(charged)} er allerede krevd ({LEGAL_LIMIT}).",
            f"at most {MAX_FEES} fees per invoice, and {len(charged)} have been charged already ({LEGAL_LIMIT}).",
        )
    if charged or step.fee == "demand":
        missed = [s for s in earlier if (s.pay_by - s.sent_on).days >= STATUTORY_DAYS and on > s.pay_by]
        if not missed:
            return _no_fee(
                name,
                f"kunden har ikke oversittet en betalingsfrist på minst {STATUTORY_DAYS} dager i et tidligere varsel"
                f" ({LEGAL_LIMIT}).",
                f"the customer has not let a deadline of at least {STATUTORY_DAYS} days in an earlier reminder pass"
                f" ({LEGAL_LIMIT}).",
            )
    cap = table.cap_on(step.fee, on)
    if cap is None:
        return _no_fee(
            name,
            f"ingen lovlig sats er kjent for {show_date(on, 'nb')}.",
            f"no legal rate is known for {show_date(on, 'en')}.",
        )
    amount = cap.cap if step.fee_amount is None else min(step.fee_amount, cap.cap)
    if amount <= 0:
        return NO_FEE_CHARGED
    return Fee(
        amount,
        f"{name[0]} {show_money(amount, 'nb')} (høyeste lovlige gebyr fra {show_date(cap.from_date, 'nb')}: "
        f"{show_money(cap.cap, 'nb')}, {LEGAL_BASIS})",
        f"{name[1]} {show_money(amount, 'en')} (the highest fee allowed by law from {show_date(cap.from_date, 'en')}: "
        f"{show_money(cap.cap, 'en')}, {LEGAL_BASIS})",
        cap,
    )
