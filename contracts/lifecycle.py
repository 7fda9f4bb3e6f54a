"""The contract lifecycle: one explicit transition table, in pure code.

A move that is not in the table is a :class:`ForbiddenTransition` with a message that says what
is allowed instead; services record every move with its actor.
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFT = "draft"
SENT = "sent"  # sent for signature
AWAITING_DPA = "awaiting_dpa"  # signed, waiting for the data processing agreement
ACCEPTANCE = "acceptance"  # active, in the acceptance period
ACTIVE = "active"  # active, ordinary operation
NOTICE_GIVEN = "notice_given"
ENDED = "ended"
TRIAL = "trial"
PAUSED = "paused"
DELETED = "deleted"
SUSPENDED = "suspended"
CANCELLED = "cancelled"  # a draft or an unsigned offer withdrawn

STATES: dict[str, tuple[str, str]] = {
    DRAFT: ("Utkast", "Draft"),
    SENT: ("Sendt til signering", "Sent for signature"),
    AWAITING_DPA: ("Signert, venter på databehandleravtale", "Signed, waiting for the DPA"),
    ACCEPTANCE: ("Aktiv, i godkjenningsperioden", "Active, in the acceptance period"),
    ACTIVE: ("Aktiv, ordinær drift", "Active, ordinary operation"),
    NOTICE_GIVEN: ("Oppsagt", "Notice given"),
    ENDED: ("Avsluttet", "Ended"),
    TRIAL: ("Prøveperiode", "Trial"),
    PAUSED: ("Pauset", "Paused"),
    DELETED: ("Slettet", "Deleted"),
    SUSPENDED: ("Stengt (betalingsmislighold)", "Suspended (payment default)"),
    CANCELLED: ("Trukket tilbake", "Withdrawn"),
}

# (from, event) -> to
TRANSITIONS: dict[tuple[str, str], str] = {
    (DRAFT, "send"): SENT,
    (DRAFT, "cancel"): CANCELLED,
    (SENT, "cancel"): CANCELLED,
    (DRAFT, "sign"): ACTIVE,  # staff record a signed paper copy straight from the draft
    (SENT, "sign"): ACTIVE,
    (DRAFT, "sign_awaiting_dpa"): AWAITING_DPA,
    (SENT, "sign_awaiting_dpa"): AWAITING_DPA,
    (DRAFT, "sign_into_acceptance"): ACCEPTANCE,
    (SENT, "sign_into_acceptance"): ACCEPTANCE,
    (AWAITING_DPA, "dpa_signed"): ACTIVE,
    (AWAITING_DPA, "dpa_signed_into_acceptance"): ACCEPTANCE,
    (ACCEPTANCE, "accept"): ACTIVE,
    (ACCEPTANCE, "give_notice"): NOTICE_GIVEN,
    (ACTIVE, "give_notice"): NOTICE_GIVEN,
    (ACTIVE, "renew"): ACTIVE,
    (NOTICE_GIVEN, "renew"): NOTICE_GIVEN,  # a late notice: one more period runs before the end
    (NOTICE_GIVEN, "withdraw_notice"): ACTIVE,
    (NOTICE_GIVEN, "end"): ENDED,
    (ACTIVE, "end"): ENDED,  # a term that does not renew reaches its end
    (ACTIVE, "suspend"): SUSPENDED,
    (NOTICE_GIVEN, "suspend"): SUSPENDED,
    (SUSPENDED, "resume"): ACTIVE,
    (SUSPENDED, "end"): ENDED,
    (TRIAL, "extend"): TRIAL,
    (TRIAL, "convert"): ACTIVE,
    (TRIAL, "pause"): PAUSED,
    (ACTIVE, "pause"): PAUSED,  # unpaid 45 days or more after the due date (DigiReq)
    (PAUSED, "reactivate"): ACTIVE,
    (PAUSED, "delete"): DELETED,
}

EVENTS: dict[str, tuple[str, str]] = {
    "send": ("send til signering", "send for signature"),
    "cancel": ("trekke tilbake", "withdraw"),
    "sign": ("signere", "sign"),
    "sign_awaiting_dpa": ("signere", "sign"),
    "sign_into_acceptance": ("signere", "sign"),
    "dpa_signed": ("registrere databehandleravtalen", "record the DPA"),
    "dpa_signed_into_acceptance": ("registrere databehandleravtalen", "record the DPA"),
    "accept": ("godkjenne leveransen", "accept the delivery"),
    "give_notice": ("si opp", "give notice"),
    "renew": ("fornye", "renew"),
    "withdraw_notice": ("trekke oppsigelsen", "withdraw the notice"),
    "end": ("avslutte", "end"),
    "suspend": ("stenge", "suspend"),
    "resume": ("gjenåpne", "resume"),
    "extend": ("forlenge prøveperioden", "extend the trial"),
    "convert": ("gå over til betalt abonnement", "convert to a paid subscription"),
    "pause": ("pause", "pause"),
    "reactivate": ("reaktivere", "reactivate"),
    "delete": ("slette", "delete"),
}

HAS_ACCESS = frozenset({ACCEPTANCE, ACTIVE, NOTICE_GIVEN, TRIAL})
BILLABLE = frozenset({ACCEPTANCE, ACTIVE, NOTICE_GIVEN, SUSPENDED})
OPEN = frozenset(STATES) - {ENDED, DELETED, CANCELLED}


class ForbiddenTransition(ValueError):
    def __init__(self, state: str, event: str):
        self.state, self.event = state, event
        allowed = allowed_events(state)
        state_nb, state_en = STATES.get(state, (state, state))
        event_nb, event_en = EVENTS.get(event, (event, event))
        self.message_en = f"A contract that is '{state_en.lower()}' cannot {event_en}" + (
            f"; it can: {', '.join(EVENTS[e][1] for e in allowed)}." if allowed else "; nothing more can happen to it."
        )
        self.message_nb = f"En avtale som er «{state_nb.lower()}» kan ikke {event_nb}" + (
            f"; mulig nå: {', '.join(EVENTS[e][0] for e in allowed)}." if allowed else "; den kan ikke endres mer."
        )
        super().__init__(self.message_en)


@dataclass(frozen=True)
class Move:
    from_state: str
    event: str
    to_state: str


def allowed_events(state: str) -> list[str]:
    return sorted({event for (source, event) in TRANSITIONS if source == state})


def move(state: str, event: str) -> Move:
    """The move ``event`` makes from ``state``, or :class:`ForbiddenTransition`."""
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise ForbiddenTransition(state, event)
    return Move(state, event, target)
