"""Demo CPI indexation: the index figures from SSB (the local fake serving SSB's published values), each
vendor's policy as its terms say, and the staff decisions of the replay — through the same services and
the same nightly job production runs (called from :func:`demo.contracts.replay`).

What the replay shows, on SSB's real figures:
* Spekter: the price list raised by KPI in whole kroner from 1 January 2025 and 2026 (approved in
  November); running contracts take the new list at their next term year; the list for 2027 waits for
  October 2026's index.
* Standard Norge: the catalogue prices for 2025 and 2026 indexed from 2024's list, approved in November.
* Piscator: each contract's price on its anniversary from the signing month's index, without notice
  (the second change in March 2026 crosses SSB's move to 2025 = 100).
* DigiReq: 1 January 2025 and 2026 up to the CPI change (approved in December); in June 2026 an increase
  of 9 % from 1 January 2027, above CPI, announced 6 months ahead; Lillestrøm terminates before it.
* Identum: 1 January 2025 by the services sub-index with 4 weeks' notice; 1 January 2026 waits for
  September 2025 of a table SSB has closed (its successor 14702 is not in the fake), and says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from contracts.models import Contract
from indexation import services
from indexation.models import IndexationProposal, ProposalStatus
from indexation.presets import PRESETS
from pricing.index_services import index_fetch, index_series_ensure
from pricing.models import IndexationPolicy, Plan
from tenants.audit import Actor

FINANCE = Actor.system("load_demo (finance)")
CUSTOMER = Actor.system("load_demo (customer in the portal)")

PLAN_OF = {
    "spekter": "spekter-2020",
    "standard-norge": "standard-norge-abonnement",
    "piscator": "piscator-standard",
    "digireq": "digireq-2026",
    "identum": "identum-eadm",
}
# List and catalogue policies were adopted for 2025; contract policies follow the contracts' terms.
FIRST_EFFECTIVE = {"spekter": dt.date(2025, 1, 1), "standard-norge": dt.date(2025, 1, 1)}

Action = tuple[dt.date, str, Callable[[], object]]


def load_index_figures(as_of: dt.date) -> dict[str, int]:
    """The series and every published month up to ``as_of``, fetched from SSB (the fake in the demo)."""
    index_series_ensure()
    report = index_fetch(as_of=as_of)
    return {"index values": report.new_count}


def load_policy(slug: str) -> IndexationPolicy | None:
    if slug not in PRESETS:
        return None
    found = IndexationPolicy.objects.filter(code=PRESETS[slug]["code"]).first()
    if found is not None:
        return found
    plan = Plan.objects.get(code=PLAN_OF[slug])
    return services.policy_create(
        actor=FINANCE,
        data={**PRESETS[slug], "plan": plan, "first_effective_on": FIRST_EFFECTIVE.get(slug)},
    )


def approve_policy(on: dt.date, effective_on: dt.date) -> Callable[[], object]:
    """Finance approves every proposal of the vendor's policy for a date (skipped when none is there)."""

    def run():
        for policy in IndexationPolicy.objects.filter(is_active=True):
            services.proposals_approve(actor=FINANCE, policy=policy, effective_on=effective_on, on=on)

    return run


def increase(references: list[str], percent: str, effective_on: dt.date, on: dt.date) -> Callable[[], object]:
    """An increase above CPI asked for and approved on ``on`` (the notice goes out then)."""

    def run():
        for reference in references:
            contract = Contract.objects.filter(reference=reference).first()
            if (
                contract is None
                or IndexationProposal.objects.filter(contract=contract, effective_on=effective_on)
                .exclude(status=ProposalStatus.WAITING)
                .exists()
            ):
                continue
            proposal = services.increase_request(
                actor=FINANCE, contract=contract, percent=Decimal(percent), effective_on=effective_on, on=on
            )
            services.proposal_approve(actor=FINANCE, proposal=proposal, on=on)

    return run


def terminate(reference: str, effective_on: dt.date, on: dt.date) -> Callable[[], object]:
    """The customer uses the right to terminate before an increase above CPI (in the portal)."""

    def run():
        proposal = IndexationProposal.objects.filter(
            contract__reference=reference, effective_on=effective_on, status=ProposalStatus.APPROVED
        ).first()
        if proposal is not None and proposal.may_terminate and proposal.contract.ends_on is None:
            services.terminate_before_increase(actor=CUSTOMER, proposal=proposal, on=on)

    return run


def story(slug: str, as_of: dt.date) -> list[Action]:
    d = dt.date
    if slug in ("spekter", "standard-norge"):
        return [
            (d(2024, 11, 20), "approve list", approve_policy(d(2024, 11, 20), d(2025, 1, 1))),
            (d(2025, 11, 20), "approve list", approve_policy(d(2025, 11, 20), d(2026, 1, 1))),
            (d(2026, 11, 20), "approve list", approve_policy(d(2026, 11, 20), d(2027, 1, 1))),
        ]
    if slug == "digireq":
        return [
            (d(2024, 12, 16), "approve cpi", approve_policy(d(2024, 12, 16), d(2025, 1, 1))),
            (d(2025, 12, 16), "approve cpi", approve_policy(d(2025, 12, 16), d(2026, 1, 1))),
            (
                d(2026, 6, 15),
                "increase",
                increase(["DR-2024-001", "DR-T-002", "DR-T-003"], "9", d(2027, 1, 1), d(2026, 6, 15)),
            ),
            (d(2026, 7, 6), "terminate", terminate("DR-T-003", d(2027, 1, 1), d(2026, 7, 6))),
        ]
    return []


def indexation_dates(after: dt.date, until: dt.date) -> set[dt.date]:
    """Days on which the indexation job has something to read or apply: the days the policies read the
    index (1 and 15 November, 15 December) and every 1 January; anniversaries are billing days already."""
    days = set()
    for year in range(after.year, until.year + 2):
        days.update({dt.date(year, 11, 1), dt.date(year, 11, 15), dt.date(year, 12, 15), dt.date(year, 1, 1)})
    return {day for day in days if after < day <= until}


def indexation_day(day: dt.date) -> services.RunReport:
    return services.indexation_run(as_of=day)
