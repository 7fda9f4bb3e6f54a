"""Contract dates and states on the pages.

Exclusive ends (a term "up to 2027-03-15") are always shown as the last day, "to and including
14.03.2027": ``{{ contract.term_end|last_day|date:"SHORT_DATE_FORMAT" }}``.
"""

from __future__ import annotations

import datetime as dt

from django import template

from contracts import lifecycle
from contracts.documents import state_label, step_label

register = template.Library()

BADGES = {
    lifecycle.ACTIVE: "badge--ok",
    lifecycle.ACCEPTANCE: "badge--ok",
    lifecycle.TRIAL: "badge--ok",
    lifecycle.NOTICE_GIVEN: "badge--warn",
    lifecycle.AWAITING_DPA: "badge--warn",
    lifecycle.SENT: "badge--warn",
    lifecycle.PAUSED: "badge--warn",
    lifecycle.SUSPENDED: "badge--danger",
    lifecycle.DELETED: "badge--danger",
}


@register.filter
def last_day(value):
    """An exclusive end date → the last day it covers."""
    if isinstance(value, dt.date):
        return value - dt.timedelta(days=1)
    return value


@register.filter
def state_name(state: str) -> str:
    return state_label(state)


@register.filter
def state_badge(state: str) -> str:
    return BADGES.get(state, "badge--neutral")


@register.filter
def step_name(code: str) -> str:
    return step_label(code)


@register.filter
def event_name(event: str) -> str:
    """A lifecycle event in words, in the active language ("sign_awaiting_dpa" → "sign")."""
    from django.utils.translation import get_language

    names = {**lifecycle.EVENTS, "create": ("opprette", "create"), "trial": ("starte prøveperiode", "start a trial")}
    nb, en = names.get(event, (event, event))
    return en if (get_language() or "nb").startswith("en") else nb
