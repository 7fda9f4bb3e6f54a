"""Reads for the indexation pages: proposals and their filters, what needs doing (grouped per policy and
date, with the total revenue effect), the index series with a chart drawn server-side as SVG geometry,
the policies in words, and what a portal user may see. Nothing here writes.

Amounts are the proposals' yearly prices (before/after); money is formatted by the templates.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.utils.formats import date_format, number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from billing.selectors import customer_family_q
from contracts import lifecycle
from contracts.models import Contract
from indexation.models import IndexationEvent, IndexationProposal, ProposalStatus
from pricing import indexation as ix
from pricing.index_data import as_month
from pricing.models import IndexationPolicy, IndexSeries, IndexValue, IndexValueOverride

CHART_YEARS = 5


def lang() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"


def month_name(day: dt.date | None) -> str:
    """The first of a month → "september 2025" / "September 2025"."""
    return "" if day is None else ix.month_label(as_month(day), lang())


def series_short(series: IndexSeries) -> str:
    return series.short_en if lang() == "en" else series.short_nb


def series_name(series: IndexSeries) -> str:
    return series.name_en if lang() == "en" else series.name_nb


def series_label(series: IndexSeries) -> str:
    """ "KPI (2015=100)" — the index and its base, as a line of the chart is named."""
    return f"{series_short(series)} ({series.base})"


# ---------------------------------------------------------------- proposals


def proposals() -> QuerySet[IndexationProposal]:
    return IndexationProposal.objects.select_related(
        "policy", "contract", "contract__customer", "plan", "series"
    ).defer("contract__customer__registry")


def filter_proposals(
    queryset: QuerySet[IndexationProposal],
    *,
    status: str = "",
    policy: IndexationPolicy | None = None,
    effective_on: dt.date | None = None,
    q: str = "",
) -> QuerySet[IndexationProposal]:
    if status == "open":
        queryset = queryset.filter(status__in=(ProposalStatus.WAITING, ProposalStatus.PROPOSED))
    elif status:
        queryset = queryset.filter(status=status)
    if policy is not None:
        queryset = queryset.filter(policy=policy)
    if effective_on is not None:
        queryset = queryset.filter(effective_on=effective_on)
    q = (q or "").strip()
    if q:
        queryset = queryset.filter(
            Q(contract__reference__icontains=q)
            | Q(contract__customer__name__icontains=q)
            | Q(contract__customer__org_number__startswith=q.replace(" ", ""))
            | Q(plan__name_nb__icontains=q)
            | Q(plan__name_en__icontains=q)
        )
    return queryset.order_by("effective_on", "policy_id", "contract__customer__name", "contract__reference", "id")


def proposal_events(proposal: IndexationProposal) -> list[IndexationEvent]:
    return list(proposal.events.order_by("occurred_on", "id"))


def proposed_count(policy_id: int, effective_on: dt.date) -> int:
    return IndexationProposal.objects.filter(
        policy_id=policy_id, effective_on=effective_on, status=ProposalStatus.PROPOSED
    ).count()


EFFECT = F("new_amount") - F("old_amount")


@dataclass
class Group:
    """Proposals of one policy for one date: how many, yearly prices before and after, the effect."""

    policy: IndexationPolicy
    effective_on: dt.date
    count: int
    old_total: Decimal | None = None
    new_total: Decimal | None = None
    effect: Decimal | None = None
    notice_by: dt.date | None = None
    reason: str = ""
    last_applied: dt.date | None = None

    @property
    def percent(self) -> Decimal | None:
        if not self.old_total or self.effect is None:
            return None
        return (self.effect / self.old_total * 100).quantize(Decimal("0.01"))


def _policies(ids) -> dict[int, IndexationPolicy]:
    return {p.pk: p for p in IndexationPolicy.objects.filter(pk__in=set(ids)).select_related("plan")}


def _groups(queryset: QuerySet[IndexationProposal], *, order=("effective_on", "policy_id")) -> list[Group]:
    rows = list(
        queryset.values("policy_id", "effective_on")
        .annotate(
            n=Count("id"),
            old=Sum("old_amount"),
            new=Sum("new_amount"),
            effect=Sum(EFFECT),
            notice_by=Min("notice_by"),
            applied=Max("applied_on"),
        )
        .order_by(*order)
    )
    policies = _policies(r["policy_id"] for r in rows)
    return [
        Group(
            policy=policies[r["policy_id"]],
            effective_on=r["effective_on"],
            count=r["n"],
            old_total=r["old"],
            new_total=r["new"],
            effect=r["effect"],
            notice_by=r["notice_by"],
            last_applied=r["applied"],
        )
        for r in rows
    ]


@dataclass
class ToDo:
    awaiting: list[Group]
    waiting: list[Group]
    notices: list[Group]
    late: list[Group]

    @property
    def notice_dates(self) -> int:
        return len(self.notices) + len(self.late)

    @property
    def empty(self) -> bool:
        return not (self.awaiting or self.waiting or self.notices or self.late)


def to_do(today: dt.date) -> ToDo:
    """What finance staff have to act on: proposals awaiting approval per policy and date (with the total
    revenue effect), proposals waiting for an index month (the reason in words), and customers who must
    be told by a date (approving sends the letter) — or for whom that date has passed."""
    awaiting = _groups(IndexationProposal.objects.filter(status=ProposalStatus.PROPOSED))
    waiting_rows = list(
        IndexationProposal.objects.filter(status=ProposalStatus.WAITING)
        .values("policy_id", "effective_on", "waiting_nb", "waiting_en")
        .annotate(n=Count("id"))
        .order_by("effective_on", "policy_id")
    )
    policies = _policies(r["policy_id"] for r in waiting_rows)
    waiting = [
        Group(
            policy=policies[r["policy_id"]],
            effective_on=r["effective_on"],
            count=r["n"],
            reason=(r["waiting_en"] if lang() == "en" else r["waiting_nb"]) or r["waiting_nb"],
        )
        for r in waiting_rows
    ]
    unsent = IndexationProposal.objects.filter(
        status__in=(ProposalStatus.PROPOSED, ProposalStatus.APPROVED),
        notice_by__isnull=False,
        notice_sent_on__isnull=True,
        contract__isnull=False,
    )
    notices = _groups(unsent.filter(notice_by__gte=today), order=("notice_by", "effective_on", "policy_id"))
    late = _groups(unsent.filter(notice_by__lt=today), order=("notice_by", "effective_on", "policy_id"))
    return ToDo(awaiting=awaiting, waiting=waiting, notices=notices, late=late)


def recently_applied(limit: int = 8) -> list[Group]:
    return _groups(
        IndexationProposal.objects.filter(status=ProposalStatus.APPLIED), order=("-effective_on", "policy_id")
    )[:limit]


def announced(today: dt.date, limit: int = 8) -> list[Group]:
    """Approved, taking effect later."""
    return _groups(IndexationProposal.objects.filter(status=ProposalStatus.APPROVED, effective_on__gt=today))[:limit]


# ---------------------------------------------------------------- policies in words


def index_names() -> dict[str, str]:
    """index_code → its short name in the active language (from the newest series of that index)."""
    out: dict[str, str] = {}
    for series in IndexSeries.objects.order_by("index_code", "-base_year"):
        out.setdefault(series.index_code, series_short(series))
    return out


def policy_sentence(policy: IndexationPolicy, names: dict[str, str] | None = None) -> str:
    """The policy as a finance person reads it, e.g. "1 January, up to CPI over the last 12 months (read on
    15 December), 6 months' notice above CPI, customer may terminate, approved by staff"."""
    names = names if names is not None else index_names()
    index = names.get(policy.index_code, policy.index_code)
    parts = [_("1 January") if policy.timing == "january" else _("on each contract anniversary")]
    capped = policy.cap == "index"
    if policy.reference == "twelve_months":
        how = (
            _("up to %(index)s over the last 12 months") if capped else _("by %(index)s over the last 12 months")
        ) % {"index": index}
    else:
        how = (
            _("up to %(index)s since the signing month, then since the last month used")
            if capped
            else _("by %(index)s since the signing month, then since the last month used")
        ) % {"index": index}
    if policy.measure_month and policy.measure_day:
        day = date_format(dt.date(2000, policy.measure_month, policy.measure_day), "j F" if lang() == "en" else "j. F")
        how += " " + _("(read on %(day)s)") % {"day": day}
    parts.append(how)
    notice = ix.Notice(policy.notice_months, policy.notice_days)
    if notice.is_none:
        parts.append(
            _("no notice up to %(index)s") % {"index": index} if policy.above_cap_notice_months else _("no notice")
        )
    else:
        parts.append(_("%(notice)s' notice") % {"notice": notice.label(lang())})
    if policy.above_cap_notice_months:
        above = ix.Notice(policy.above_cap_notice_months, 0)
        parts.append(_("%(notice)s' notice above %(index)s") % {"notice": above.label(lang()), "index": index})
        if policy.above_cap_may_terminate:
            parts.append(_("customer may terminate"))
    parts.append(_("a falling index lowers the price") if policy.falling == "lower" else _("never lowered"))
    if policy.whole_kroner:
        parts.append(_("rounded to whole kroner"))
    parts.append(_("approved by staff") if policy.approval == "staff" else _("applied automatically"))
    return ", ".join(parts)


def policy_applies_to(policy: IndexationPolicy) -> str:
    plan = policy.plan.name if policy.plan_id else ""
    if policy.scope == "contract":
        if plan:
            return _("Each contract's price on the plan %(plan)s") % {"plan": plan}
        return _("The contracts that name this policy")
    if policy.scope == "list":
        return _("The price list of the plan %(plan)s (new contracts and renewals)") % {"plan": plan}
    return _("The standards catalogue's prices")


@dataclass
class PolicyRow:
    policy: IndexationPolicy
    sentence: str
    applies_to: str
    contracts: int = 0


def policy_contracts(policy: IndexationPolicy) -> QuerySet[Contract]:
    """The running contracts a policy's changes reach (a contract's own policy replaces its plan's)."""
    from indexation.services import INDEXABLE_STATES

    running = Contract.objects.filter(state__in=INDEXABLE_STATES)
    if policy.scope != "contract":
        return running.filter(plan_id=policy.plan_id) if policy.plan_id else running.none()
    if policy.plan_id:
        return running.filter(Q(indexation_policy=policy) | Q(indexation_policy__isnull=True, plan_id=policy.plan_id))
    return running.filter(indexation_policy=policy)


def policy_rows() -> list[PolicyRow]:
    names = index_names()
    policies = list(IndexationPolicy.objects.select_related("plan").order_by("-is_active", "code"))
    return [
        PolicyRow(p, policy_sentence(p, names), policy_applies_to(p), policy_contracts(p).count()) for p in policies
    ]


# ---------------------------------------------------------------- index series and the chart


@dataclass
class ChartLine:
    label: str
    base: str
    points: str
    colour: str
    dash: str
    first: tuple[str, str]  # (month, value) as shown
    last: tuple[str, str]
    end_x: float
    end_y: float
    label_y: float

    @property
    def swatch(self) -> tuple[float, float, float, float]:
        """(x1, x2, y, text x) of the short line and the label drawn after the line's last point."""
        return (
            round(self.end_x + 4, 1),
            round(self.end_x + 22, 1),
            round(self.label_y - 4, 1),
            round(self.end_x + 26, 1),
        )

    hand: list[tuple[float, float, str]] = field(default_factory=list)  # hand-entered points


@dataclass
class Chart:
    key: str
    title: str
    desc: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    lines: list[ChartLine]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    y_label: str
    table_headers: list[str]
    table_rows: list[tuple[str, list[str]]]  # (month, the value of each series in table_headers)


COLOURS = (("#1d5bbf", ""), ("#7a4b00", "6 4"), ("#17663a", "2 3"), ("#a4221b", "8 3 2 3"))


def figure(value: Decimal) -> str:
    return number_format(value.normalize() if value == value.to_integral() else value, decimal_pos=1)


def _nice_step(span: Decimal) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100):
        if span / step <= 6:
            return step
    return 200


@dataclass
class SeriesInfo:
    series: IndexSeries
    label: str
    name: str
    latest_month: dt.date | None
    latest_value: Decimal | None
    closed_after: str
    overrides: list[IndexValueOverride]
    closed: bool = False  # the series ended before today (SSB publishes no more months in it)

    @property
    def latest_label(self) -> str:
        return month_name(self.latest_month)


@dataclass
class IndexOverview:
    index_code: str
    name: str
    series: list[SeriesInfo]
    chart: Chart | None
    policies: list[IndexationPolicy]


def _closed_text(series: IndexSeries) -> str:
    if not series.closed_after:
        return ""
    try:
        return ix.month_label(ix.parse_month(series.closed_after), lang())
    except ix.IndexationError:
        return series.closed_after


def _closed_before(series: IndexSeries, today: dt.date) -> bool:
    if not series.closed_after:
        return False
    try:
        return ix.month_of(today) > ix.parse_month(series.closed_after)
    except ix.IndexationError:
        return False


def index_overview(today: dt.date, *, years: int = CHART_YEARS) -> list[IndexOverview]:
    """Per index (CPI, the services sub-index): its series (one per base) with the latest month, when it was
    fetched and the last fetch error, this tenant's hand-entered values, and a chart of the last ``years``
    years (one line per series; months entered by hand marked)."""
    start_month = ix.add_months_to(ix.month_of(today), -12 * years)
    start = dt.date(start_month[0], start_month[1], 1)
    this_month = dt.date(today.year, today.month, 1)
    all_series = list(
        IndexSeries.objects.filter(Q(published_from__isnull=True) | Q(published_from__lte=today)).order_by(
            "index_code", "base_year"
        )
    )
    ended = IndexValue.objects.filter(month__lt=this_month)
    values: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    for sid, month, value in ended.filter(month__gte=start).values_list("series_id", "month", "value"):
        values[sid][month] = value
    latest = {r["series_id"]: r["month"] for r in ended.values("series_id").annotate(month=Max("month"))}
    latest_q = Q(pk__in=[])
    for sid, month in latest.items():
        latest_q |= Q(series_id=sid, month=month)
    latest_values = {
        (sid, month): v
        for sid, month, v in IndexValue.objects.filter(latest_q).values_list("series_id", "month", "value")
    }
    overrides: dict[int, list[IndexValueOverride]] = defaultdict(list)
    for o in IndexValueOverride.objects.filter(month__lt=this_month).order_by("series_id", "-month"):
        overrides[o.series_id].append(o)
    policies: dict[str, list[IndexationPolicy]] = defaultdict(list)
    for p in IndexationPolicy.objects.filter(is_active=True).order_by("code"):
        policies[p.index_code].append(p)

    by_index: dict[str, list[IndexSeries]] = defaultdict(list)
    for s in all_series:
        by_index[s.index_code].append(s)
    out = []
    for code in sorted(by_index, key=lambda c: (not policies.get(c), c != "kpi", c)):
        members = by_index[code]
        newest = max(members, key=lambda s: s.base_year)
        infos = [
            SeriesInfo(
                series=s,
                label=series_label(s),
                name=series_name(s),
                latest_month=latest.get(s.pk),
                latest_value=latest_values.get((s.pk, latest.get(s.pk))),
                closed_after=_closed_text(s),
                overrides=overrides.get(s.pk, []),
                closed=_closed_before(s, today),
            )
            for s in sorted(members, key=lambda s: -s.base_year)
        ]
        shown = {}
        for s in members:
            merged = dict(values.get(s.pk, {}))
            hand = set()
            for o in overrides.get(s.pk, []):
                if o.month >= start and o.month not in merged:
                    merged[o.month] = o.value
                    hand.add(o.month)
            if merged:
                shown[s] = (merged, hand)
        out.append(
            IndexOverview(
                index_code=code,
                name=series_name(newest),
                series=infos,
                chart=_chart(code, series_name(newest), shown) if shown else None,
                policies=policies.get(code, []),
            )
        )
    return out


def _chart(key: str, name: str, shown: dict[IndexSeries, tuple[dict[dt.date, Decimal], set[dt.date]]]) -> Chart:
    width, height = 640, 280
    left, right, top, bottom = 52, 150, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    months = sorted({m for merged, _hand in shown.values() for m in merged})
    first, last = months[0], months[-1]
    span_months = max(1, (last.year - first.year) * 12 + last.month - first.month)
    all_values = [v for merged, _hand in shown.values() for v in merged.values()]
    low, high = min(all_values), max(all_values)
    step = _nice_step(max(high - low, Decimal(1)))
    y_min = math.floor(low / step) * step
    y_max = math.ceil(high / step) * step
    if y_max == y_min:
        y_max = y_min + step

    def x_of(m: dt.date) -> float:
        return round(left + plot_w * ((m.year - first.year) * 12 + m.month - first.month) / span_months, 1)

    def y_of(v: Decimal) -> float:
        return round(top + plot_h * (1 - float((v - y_min) / (y_max - y_min))), 1)

    lines = []
    ends: list[float] = []
    for n, (series, (merged, hand)) in enumerate(sorted(shown.items(), key=lambda kv: kv[0].base_year)):
        colour, dash = COLOURS[n % len(COLOURS)]
        ordered = sorted(merged.items())
        first_m, first_v = ordered[0]
        last_m, last_v = ordered[-1]
        end_y = y_of(last_v)
        label_y = end_y + 4
        for other in ends:  # keep the end labels of lines that end close together apart
            if abs(label_y - other) < 14:
                label_y = other + 14 if label_y >= other else other - 14
        ends.append(label_y)
        lines.append(
            ChartLine(
                label=series_label(series),
                base=series.base,
                points=" ".join(f"{x_of(m)},{y_of(v)}" for m, v in ordered),
                colour=colour,
                dash=dash,
                first=(month_name(first_m), figure(first_v)),
                last=(month_name(last_m), figure(last_v)),
                end_x=x_of(last_m),
                end_y=end_y,
                label_y=label_y,
                hand=[(x_of(m), y_of(merged[m]), f"{month_name(m)}: {figure(merged[m])}") for m in sorted(hand)],
            )
        )
    x_ticks = [
        (x_of(dt.date(year, 1, 1)), str(year))
        for year in range(first.year + (first.month > 1), last.year + 1)
        if dt.date(year, 1, 1) >= first
    ]
    y_ticks = [(y_of(Decimal(v)), str(v)) for v in range(y_min, y_max + 1, step)]
    parts = [
        _("%(line)s from %(first)s (%(first_month)s) to %(last)s (%(last_month)s)")
        % {"line": line.label, "first": line.first[1], "first_month": line.first[0], "last": line.last[1],
           "last_month": line.last[0]}
        for line in lines
    ]  # fmt: skip
    desc = _("Monthly index values, %(from)s to %(to)s.") % {"from": month_name(first), "to": month_name(last)}
    desc += " " + "; ".join(parts) + "."
    if len(lines) > 1:
        desc += " " + _("Each base is its own line: SSB publishes the same index on a new base, so the levels differ.")
    newest_first = sorted(shown.items(), key=lambda kv: -kv[0].base_year)
    table_rows = [
        (month_name(m), [figure(merged[m]) if m in merged else "—" for _s, (merged, _hand) in newest_first])
        for m in reversed(months[-13:])
    ]
    return Chart(
        key=key,
        title=_("%(index)s, the last %(years)s years") % {"index": name, "years": CHART_YEARS},
        desc=desc,
        width=width,
        height=height,
        left=left,
        top=top,
        right=width - right,
        bottom=height - bottom,
        lines=lines,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        y_label=_("Index"),
        table_headers=[series_label(s) for s, _data in newest_first],
        table_rows=table_rows,
    )


def overrides() -> QuerySet[IndexValueOverride]:
    return IndexValueOverride.objects.select_related("series").order_by("-month", "series__code")


# ---------------------------------------------------------------- the portal


PORTAL_HIDDEN_STATES = (lifecycle.DRAFT, lifecycle.CANCELLED)


def portal_contracts(customer) -> QuerySet[Contract]:
    """The contracts a portal user of ``customer`` sees (a kommune's or fylkeskommune's include its schools')."""
    return (
        Contract.objects.filter(customer_family_q(customer))
        .exclude(state__in=PORTAL_HIDDEN_STATES)
        .select_related("customer", "product", "plan")
    )


def portal_proposals(customer) -> QuerySet[IndexationProposal]:
    """Price changes a customer is shown: approved (announced) and applied ones, and withdrawn ones the
    customer had been told of. Never those still awaiting the vendor's decision."""
    return (
        IndexationProposal.objects.filter(contract__in=portal_contracts(customer))
        .filter(
            Q(status__in=(ProposalStatus.APPROVED, ProposalStatus.APPLIED))
            | Q(status=ProposalStatus.WITHDRAWN, notice_sent_on__isnull=False)
        )
        .select_related("contract", "contract__customer", "contract__product", "policy", "series")
    )
