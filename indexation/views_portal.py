"""Price changes in the customer portal: the announced (approved, later) and past price changes of the
logged-in customer's contracts (a kommune's or fylkeskommune's include its schools'), the price-change
letter, and the right to terminate before an increase above the index. Anything else is 404.

Terminating is for the customer's own contracts, as giving notice is (``contracts.views_portal``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from contracts.models import Contract
from indexation import selectors, services
from indexation.history import price_history
from indexation.models import IndexationProposal, ProposalStatus
from tenants.audit import Actor
from tenants.decorators import portal_required
from tenants.jobs import business_today


def _today() -> dt.date:
    return business_today()


def _day(value: dt.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def _ends_before(contract: Contract, proposal: IndexationProposal) -> bool:
    return bool(contract.ends_on and contract.ends_on <= proposal.effective_on)


def _may_terminate(request, proposal: IndexationProposal, today: dt.date) -> bool:
    contract = proposal.contract
    return (
        proposal.may_terminate
        and proposal.status == ProposalStatus.APPROVED
        and contract.customer_id == request.customer.pk
        and today < proposal.effective_on
        and not _ends_before(contract, proposal)
    )


@dataclass
class PastChange:
    effective_from: dt.date
    contract: Contract
    reason: str
    old: Decimal | None
    new: Decimal | None
    explanation: str
    proposal: IndexationProposal | None = None
    not_applied: bool = False

    @property
    def change(self) -> Decimal | None:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def percent(self) -> Decimal | None:
        if not self.old or self.change is None:
            return None
        return (self.change / self.old * 100).quantize(Decimal("0.01"))


@portal_required
def price_changes(request, tenant_slug):
    today = _today()
    customer = request.customer
    visible = selectors.portal_proposals(customer)
    announced = list(visible.filter(status=ProposalStatus.APPROVED).order_by("effective_on", "contract__reference"))
    for p in announced:
        p.can_terminate = _may_terminate(request, p, today)
        p.ends_before = _ends_before(p.contract, p)
        p.last_day = (p.contract.ends_on - dt.timedelta(days=1)) if p.ends_before else None
        p.own = p.contract.customer_id == customer.pk
    by_id = {p.pk: p for p in visible.exclude(status=ProposalStatus.APPROVED)}
    past: list[PastChange] = []
    for contract in selectors.portal_contracts(customer).filter(start_date__isnull=False).order_by("reference"):
        for entry in price_history(contract, today=today):
            if entry.announced or entry.reason == "start" or entry.previous_yearly_price is None:
                continue
            past.append(
                PastChange(
                    effective_from=entry.effective_from,
                    contract=contract,
                    reason=entry.reason_label,
                    old=entry.previous_yearly_price,
                    new=entry.yearly_price,
                    explanation=entry.explanation,
                    proposal=by_id.get(entry.proposal_id) if entry.proposal_id else None,
                )
            )
    for p in by_id.values():
        if p.status == ProposalStatus.WITHDRAWN:
            past.append(
                PastChange(
                    effective_from=p.effective_on,
                    contract=p.contract,
                    reason=_("Not applied: the agreement ended first"),
                    old=p.old_amount,
                    new=p.new_amount,
                    explanation=p.explanation,
                    proposal=p,
                    not_applied=True,
                )
            )
    past.sort(key=lambda c: (c.effective_from, c.contract.reference), reverse=True)
    context = {"announced": announced, "past": past, "today": today}
    return render(request, "portal/indexation/price_changes.html", context)


@portal_required
def letter(request, tenant_slug, pk):
    from indexation.letters import render_letter_pdf

    proposal = get_object_or_404(selectors.portal_proposals(request.customer), pk=pk)
    if proposal.notice_sent_on is None:
        raise Http404("No letter was sent for this price change")
    response = HttpResponse(render_letter_pdf(proposal), content_type="application/pdf")
    name = f"prisendring-{proposal.contract.reference}-{proposal.effective_on.isoformat()}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@portal_required
@require_http_methods(["GET", "POST"])
def terminate(request, tenant_slug, pk):
    """GET: what terminating means (the agreement ends the day before the new price); POST: terminate."""
    proposal = get_object_or_404(
        selectors.portal_proposals(request.customer).filter(status=ProposalStatus.APPROVED, may_terminate=True), pk=pk
    )
    if proposal.contract.customer_id != request.customer.pk:
        raise Http404("Not this customer's own contract")
    today = _today()
    list_url = reverse("indexation_portal:list", args=[request.tenant.slug])
    last_day = proposal.effective_on - dt.timedelta(days=1)
    blocked: list[str] = []
    if not _may_terminate(request, proposal, today):
        if _ends_before(proposal.contract, proposal):
            blocked.append(
                _("The agreement already ends before the price change: it runs to and including %(day)s.")
                % {"day": _day(proposal.contract.ends_on - dt.timedelta(days=1))}
            )
        else:
            blocked.append(_("The right to terminate ended when the new price took effect."))
    status = 200
    if request.method == "POST" and not blocked:
        try:
            notice = services.terminate_before_increase(actor=Actor.for_user(request.user), proposal=proposal, on=today)
        except ValidationError as exc:
            blocked = exc.messages
        else:
            messages.success(
                request,
                _(
                    "Agreement %(ref)s is terminated. It runs to and including %(day)s, the day before the new "
                    "price; the new price never applies."
                )
                % {"ref": proposal.contract.reference, "day": _day(notice.ends_on - dt.timedelta(days=1))},
            )
            return redirect(list_url)
    if request.method == "POST":
        status = 400
    context = {
        "proposal": proposal,
        "contract": proposal.contract,
        "last_day": last_day,
        "blocked": blocked,
        "list_url": list_url,
    }
    return render(request, "portal/indexation/terminate.html", context, status=status)
