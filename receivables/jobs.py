"""The nightly collections job for one tenant and one business date: payment defaults first (a payment
imported tonight lifts a suspension before anything else looks at it; a pause or notice is decided), then
reminders, then interest invoices. Each part is idempotent, resumable and has a dry run; so is this.

Called by the Celery task (``receivables/tasks.py``), ``manage.py collections_run`` and the demo.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ORDER = ("default", "dunning", "interest")


def _jobs():
    from receivables.default import default_run
    from receivables.dunning import dunning_run
    from receivables.interest_billing import interest_run

    return {"default": default_run, "dunning": dunning_run, "interest": interest_run}


def _summary(result) -> str:
    summary = getattr(result, "summary", None)
    if callable(summary):
        return summary()
    return str(summary if summary is not None else result)


def _errors(result) -> list[str]:
    for name in ("errors", "problems", "failed"):
        value = getattr(result, name, None)
        if value:
            return [str(v) for v in value]
    return []


@dataclass
class CollectionsReport:
    on: dt.date
    dry_run: bool = False
    results: dict[str, object] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return "; ".join(f"{name}: {_summary(result)}" for name, result in self.results.items())

    def as_dict(self) -> dict:
        return {
            "on": self.on.isoformat(),
            "dry_run": self.dry_run,
            "results": {name: _summary(result) for name, result in self.results.items()},
            "errors": self.errors,
        }


def collections_run(*, on: dt.date, dry_run: bool = False) -> CollectionsReport:
    """Every collections step for the current tenant on ``on``."""
    report = CollectionsReport(on=on, dry_run=dry_run)
    jobs = _jobs()
    for name in ORDER:
        result = jobs[name](on=on, dry_run=dry_run)
        report.results[name] = result
        report.errors += [f"{name}: {error}" for error in _errors(result)]
    return report
