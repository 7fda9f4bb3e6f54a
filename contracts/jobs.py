"""The contract jobs, for one tenant and one business date. Each is idempotent: a second run for the
same date changes nothing. Celery tasks (contracts/tasks.py) and ``manage.py contract_jobs`` call these.
"""

from __future__ import annotations

import datetime as dt

from contracts import lifecycle, notify, services, terms
from contracts.models import Contract
from tenants.audit import Actor


def _actor(job: str, on: dt.date) -> Actor:
    return Actor.job(f"{job} {on.isoformat()}")


def accept_due(on: dt.date) -> int:
    actor = _actor("contracts_accept", on)
    due = Contract.objects.filter(state=lifecycle.ACCEPTANCE, ordinary_from__lte=on)
    return sum(services.contract_accept_due(actor=actor, contract=c, on=on) for c in due)


def renew_due(on: dt.date) -> int:
    actor = _actor("contracts_renew", on)
    count = 0
    for contract in Contract.objects.filter(
        state=lifecycle.ACTIVE, term_end__lte=on, renewal_term_months__isnull=False
    ):
        renewed = services.contract_renew_due(actor=actor, contract=contract, on=on)
        if renewed and contract.renewal_term_months >= 12:  # a monthly plan's months need no letter
            contract.refresh_from_db()
            notify.send(contract, "renewed", key=f"renewed-{contract.term_index}", on=on)
        count += renewed
    return count


def end_due(on: dt.date) -> int:
    actor = _actor("contracts_end", on)
    due = Contract.objects.filter(state=lifecycle.NOTICE_GIVEN, ends_on__lte=on) | Contract.objects.filter(
        state=lifecycle.ACTIVE, renewal_term_months__isnull=True, term_end__lte=on
    )
    return sum(services.contract_end_due(actor=actor, contract=c, on=on) for c in due)


def notice_reminders(on: dt.date) -> int:
    """Remind customer and staff 30 days before the last day for notice (and on any later day up to it,
    once per term: a replay that skipped days still sends it)."""
    sent = 0
    window_start = on
    window_end = on + dt.timedelta(days=terms.NOTICE_REMINDER_DAYS)
    for contract in Contract.objects.filter(
        state=lifecycle.ACTIVE,
        notice_deadline__gte=window_start,
        notice_deadline__lte=window_end,
        renewal_term_months__isnull=False,
        initial_term_months__gte=12,
    ):
        message = notify.send(
            contract,
            "notice_reminder",
            key=f"deadline-{contract.notice_deadline.isoformat()}",
            on=on,
            staff=True,
            deadline=contract.notice_deadline,
        )
        sent += message is not None
    return sent


def pause_due(on: dt.date) -> int:
    actor = _actor("trials_pause", on)
    count = 0
    for contract in Contract.objects.filter(state=lifecycle.TRIAL, trial_ends_on__lte=on):
        count += services.contract_pause_due(actor=actor, contract=contract, on=on)
    return count


PAUSE_NOTICE_KINDS = {
    "paused": "trial_paused",
    "60_days_left": "deletion_60_days_left",
    "30_days_left": "deletion_30_days_left",
    "7_days_left": "deletion_7_days_left",
}


def _unpaid_pause_context(contract: Contract) -> dict:
    """For a pause for an unpaid invoice: the invoice its open default case names (receivables.default)."""
    from receivables.models import DefaultCase, DefaultStatus

    case = (
        DefaultCase.objects.filter(contract=contract)
        .exclude(status=DefaultStatus.CLOSED)
        .select_related("invoice")
        .first()
    )
    return {"invoice": case.invoice if case else None, "case": case}


def pause_notices(on: dt.date) -> int:
    """Notices at the pause and with 60, 30 and 7 days left — each once, on or after its day. A pause for an
    unpaid invoice (``pause_reason`` "unpaid") gets "paused_unpaid" at the pause instead of "trial_paused"
    (receivables.default sends it when it pauses, with the same key, so it goes once); the deletion notices
    are the trial's."""
    sent = 0
    for contract in Contract.objects.filter(state=lifecycle.PAUSED, paused_on__lte=on):
        timeline = terms.pause_timeline(contract.paused_on)
        due = [(day, kind) for day, kind in timeline.notices if day <= on]
        if due:  # only the latest due notice: a replay does not send a stack of stale ones
            day, kind = due[-1]
            unpaid = contract.pause_reason == "unpaid"
            message_kind = "paused_unpaid" if unpaid and kind == "paused" else PAUSE_NOTICE_KINDS[kind]
            extra = _unpaid_pause_context(contract) if message_kind == "paused_unpaid" else {}
            message = notify.send(
                contract,
                message_kind,
                key=f"{kind}-{contract.paused_on.isoformat()}",
                on=on,
                deletion_on=timeline.deletion_on,
                **extra,
            )
            sent += message is not None
    return sent


def delete_due(on: dt.date) -> int:
    actor = _actor("paused_delete", on)
    count = 0
    for contract in Contract.objects.filter(state=lifecycle.PAUSED, deletion_due_on__lte=on):
        if services.contract_delete_due(actor=actor, contract=contract, on=on):
            contract.refresh_from_db()
            notify.send(contract, "data_deleted", key=f"deleted-{contract.deleted_on.isoformat()}", on=on)
            _close_default_case(contract, on)
            count += 1
    return count


def _close_default_case(contract: Contract, on: dt.date) -> None:
    """A contract deleted while paused for an unpaid invoice: its default case ends with it."""
    from receivables.models import DefaultCase, DefaultStatus

    DefaultCase.objects.filter(contract=contract).exclude(status=DefaultStatus.CLOSED).update(
        status=DefaultStatus.CLOSED, closed_on=on, closed_reason="deleted"
    )


JOBS = {
    "accept": accept_due,
    "renew": renew_due,
    "end": end_due,
    "notice_reminders": notice_reminders,
    "trials_pause": pause_due,
    "pause_notices": pause_notices,
    "paused_delete": delete_due,
}
# Order matters within one date: notice ends before renewal would otherwise renew it; pauses before notices.
ORDER = ("accept", "end", "renew", "notice_reminders", "trials_pause", "pause_notices", "paused_delete")


def run_all(on: dt.date) -> dict[str, int]:
    return {name: JOBS[name](on) for name in ORDER}
