"""CPI indexation in the back-office: thin views over ``indexation.services`` and
``pricing.index_services`` (every change) and ``indexation.selectors`` (reads).

Objects are looked up through the tenant-scoped managers, so another tenant's proposal, contract or
hand-entered value is "not found" (404). Every form: bad input → 400 with a message per field, nothing
saved. The business date is Oslo's today (``tenants.jobs.business_today``).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from contracts.models import Contract
from indexation import selectors, services
from indexation.forms import ApproveAllForm, IncreaseForm, IndexValueForm, ProposalFilterForm, RejectForm
from indexation.history import price_history
from indexation.models import IndexationProposal, ProposalStatus
from pricing import indexation as ix
from pricing.index_services import index_value_enter, index_value_override_delete
from pricing.models import IndexValueOverride
from pricing.templatetags.pricing_ui import money
from tenants.audit import Actor
from tenants.decorators import forbidden, staff_required
from tenants.forms import apply_errors
from tenants.jobs import business_today
from tenants.models import AuditEvent
from tenants.permissions import has_permission

PER_PAGE = 25


def _url(request, name: str, *args) -> str:
    return reverse(f"indexation_bo:{name}", args=[request.tenant.slug, *args])


def _actor(request) -> Actor:
    return Actor.for_user(request.user)


def _can(request, permission: str) -> bool:
    return has_permission(request.membership.role, permission)


def _today() -> dt.date:
    return business_today()


def _day(value: dt.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def _proposal(pk) -> IndexationProposal:
    return get_object_or_404(selectors.proposals(), pk=pk)


def _contract(pk) -> Contract:
    return get_object_or_404(
        Contract.objects.select_related("customer", "customer__parent", "product", "plan", "indexation_policy"), pk=pk
    )


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# ---------------------------------------------------------------- overview


@staff_required("indexation.view")
def overview(request, tenant_slug):
    today = _today()
    context = {
        "today": today,
        "todo": selectors.to_do(today),
        "announced": selectors.announced(today),
        "applied": selectors.recently_applied(),
        "indexes": selectors.index_overview(today),
        "policies": selectors.policy_rows(),
    }
    return render(request, "backoffice/indexation/overview.html", context)


# ---------------------------------------------------------------- proposals


@staff_required("indexation.view")
def proposal_list(request, tenant_slug):
    form = ProposalFilterForm(request.GET or None)
    queryset = selectors.filter_proposals(selectors.proposals(), **form.filters())
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    filters = form.filters()
    group = None
    if filters.get("policy") and filters.get("effective_on"):
        count = selectors.proposed_count(filters["policy"].pk, filters["effective_on"])
        if count:
            group = {"policy": filters["policy"], "effective_on": filters["effective_on"], "count": count}
    context = {"filter_form": form, "page": page, "query": _query_without_page(request), "group": group}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "backoffice/indexation/_proposal_results.html", context)
    return render(request, "backoffice/indexation/proposal_list.html", context)


def _event_words(kind: str) -> str:
    words = {
        "indexation.proposed": _("Proposed"),
        "indexation.approved": _("Approved"),
        "indexation.notice_sent": _("The customer was sent the price-change letter"),
        "indexation.applied": _("Applied: the new price is in force"),
        "indexation.rejected": _("Rejected"),
        "indexation.withdrawn": _("Withdrawn: the agreement ended before the change"),
        "indexation.terminated": _("The customer terminated the agreement before the change"),
    }
    return words.get(kind, kind)


def detail_context(request, proposal: IndexationProposal, **extra) -> dict:
    today = _today()
    contract = proposal.contract
    events = [(e.occurred_on, _event_words(e.kind)) for e in selectors.proposal_events(proposal)]
    reason = ""
    if proposal.status == ProposalStatus.REJECTED:
        audit = (
            AuditEvent.objects.filter(action="indexation.reject", object_type="indexationproposal",
                                      object_id=str(proposal.pk)).order_by("-at").first()
        )  # fmt: skip
        if audit is not None:
            reason = ((audit.changes or {}).get("reason") or [None, ""])[1] or ""
    others = 0
    if proposal.status == ProposalStatus.PROPOSED:
        others = selectors.proposed_count(proposal.policy_id, proposal.effective_on)
    terminated = bool(contract is not None and contract.ends_on and contract.ends_on <= proposal.effective_on)
    too_late = (
        proposal.status == ProposalStatus.PROPOSED and proposal.notice_by is not None and today > proposal.notice_by
    )
    return {
        "proposal": proposal,
        "contract": contract,
        "events": events,
        "reject_reason": reason,
        "others": others,
        "terminated": terminated,
        "last_day": proposal.effective_on - dt.timedelta(days=1),
        "series_label": selectors.series_label(proposal.series) if proposal.series_id else "",
        "series_name": selectors.series_name(proposal.series) if proposal.series_id else "",
        "reference_month": selectors.month_name(proposal.reference_month),
        "new_month": selectors.month_name(proposal.new_month),
        "policy_sentence": selectors.policy_sentence(proposal.policy),
        "applies_to": selectors.policy_applies_to(proposal.policy),
        "letter": proposal.contract_id is not None and proposal.notice_sent_on is not None,
        "too_late": too_late,
        "postponed_to": _postponed_to(proposal, today) if too_late else None,
        "reject_form": extra.pop("reject_form", None) or RejectForm(),
        "today": today,
        **extra,
    }


def _postponed_to(proposal: IndexationProposal, today: dt.date) -> dt.date | None:
    """Approved after the day the customer had to be told, a change takes effect once the notice has run
    from today (``services.proposal_approve``)."""
    try:
        rules = proposal.policy.rules()
    except ix.IndexationError:
        return None
    notice = rules.above_cap_notice if proposal.above_cap and rules.above_cap_notice else rules.notice
    return max(notice.after(today), proposal.effective_on)


def _detail(request, proposal: IndexationProposal, status: int = 200, **extra):
    return render(
        request, "backoffice/indexation/proposal_detail.html", detail_context(request, proposal, **extra), status=status
    )


@staff_required("indexation.view")
def proposal_detail(request, tenant_slug, pk):
    return _detail(request, _proposal(pk))


def _what(proposal: IndexationProposal) -> str:
    if proposal.contract_id:
        return f"{proposal.contract.reference} ({proposal.contract.customer.name})"
    return proposal.plan.name if proposal.plan_id else proposal.policy.name


@staff_required("indexation.approve")
@require_POST
def proposal_approve(request, tenant_slug, pk):
    proposal = _proposal(pk)
    planned = proposal.effective_on
    try:
        proposal = services.proposal_approve(actor=_actor(request), proposal=proposal, on=_today())
    except ValidationError as exc:
        return _detail(request, _proposal(pk), status=400, action_errors=exc.messages)
    text = _("Approved: %(what)s goes from %(old)s to %(new)s a year from %(day)s.") % {
        "what": _what(proposal),
        "old": money(proposal.old_amount),
        "new": money(proposal.new_amount),
        "day": _day(proposal.effective_on),
    }
    if proposal.effective_on != planned:
        text += " " + _("The customer is told too late for %(planned)s, so the change takes effect on %(day)s.") % {
            "planned": _day(planned),
            "day": _day(proposal.effective_on),
        }
    if proposal.notice_sent_on:
        text += " " + _("The customer has been sent the price-change letter.")
    if proposal.status == ProposalStatus.APPLIED:
        text += " " + _("Its date has come, so the new price is already in force.")
    messages.success(request, text)
    return redirect(_url(request, "proposal", proposal.pk))


@staff_required("indexation.approve")
@require_POST
def proposal_reject(request, tenant_slug, pk):
    proposal = _proposal(pk)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.proposal_reject(
                actor=_actor(request), proposal=proposal, on=_today(), reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            return _detail(request, _proposal(pk), status=400, action_errors=exc.messages)
        messages.success(
            request,
            _("Rejected: %(what)s keeps its price on %(day)s.")
            % {"what": _what(proposal), "day": _day(proposal.effective_on)},
        )
        return redirect(_url(request, "proposal", proposal.pk))
    return _detail(request, proposal, status=400, reject_form=form, reject_open=True)


@staff_required("indexation.approve")
@require_POST
def proposals_approve_all(request, tenant_slug):
    form = ApproveAllForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the policy and the date to approve."))
        return redirect(_url(request, "proposals"))
    policy, effective_on = form.cleaned_data["policy"], form.cleaned_data["effective_on"]
    before = selectors.proposed_count(policy.pk, effective_on)
    done = services.proposals_approve(actor=_actor(request), policy=policy, effective_on=effective_on, on=_today())
    if done:
        messages.success(
            request,
            _("%(n)s price change(s) under “%(policy)s” from %(day)s approved.")
            % {"n": done, "policy": policy.name, "day": _day(effective_on)},
        )
    if done < before:
        messages.warning(
            request,
            _("%(n)s could not be approved; they are still awaiting approval. Open them to see why.")
            % {"n": before - done},
        )
    elif not before:
        messages.info(request, _("Nothing under this policy for that date awaits approval."))
    query = f"?policy={policy.pk}&effective_on={effective_on.isoformat()}"
    target = request.POST.get("next", "")
    if target == "overview":
        return redirect(_url(request, "overview"))
    return redirect(_url(request, "proposals") + query)


@staff_required("indexation.view")
def proposal_letter(request, tenant_slug, pk, language):
    from indexation.letters import render_letter_pdf

    proposal = _proposal(pk)
    if proposal.contract_id is None or proposal.notice_sent_on is None or language not in ("nb", "en"):
        return _detail(
            request, proposal, status=404, action_errors=[_("No price-change letter was sent for this change.")]
        )
    pdf = render_letter_pdf(proposal, lang=language)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"prisendring-{proposal.contract.reference}-{proposal.effective_on.isoformat()}-{language}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------- index values entered by hand


@staff_required("indexation.view")
@require_http_methods(["GET", "POST"])
def index_values(request, tenant_slug):
    status = 200
    form = None
    if request.method == "POST":
        if not _can(request, "index_value.enter"):
            return forbidden(request)
        form = IndexValueForm(request.POST, today=_today())
        if form.is_valid():
            data = form.cleaned_data
            try:
                override = index_value_enter(
                    actor=_actor(request),
                    series=data["series"],
                    month=data["month"],
                    value=data["value"],
                    note=data["note"],
                    today=_today(),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(series)s for %(month)s is %(value)s (entered by hand). The next indexation run uses it.")
                    % {
                        "series": selectors.series_label(override.series),
                        "month": selectors.month_name(override.month),
                        "value": selectors.figure(override.value),
                    },
                )
                return redirect(_url(request, "values"))
        status = 400
    elif _can(request, "index_value.enter"):
        initial = {}
        if request.GET.get("series"):
            initial["series"] = request.GET["series"]
        if request.GET.get("month"):
            initial["month"] = request.GET["month"]
        form = IndexValueForm(initial=initial, today=_today())
    today = _today()
    context = {
        "form": form,
        "overrides": list(selectors.overrides()),
        "indexes": selectors.index_overview(today, years=1),
        "waiting": selectors.to_do(today).waiting,
        "today": today,
    }
    return render(request, "backoffice/indexation/index_values.html", context, status=status)


@staff_required("index_value.enter")
@require_http_methods(["GET", "POST"])
def index_value_delete(request, tenant_slug, pk):
    override = get_object_or_404(IndexValueOverride.objects.select_related("series"), pk=pk)
    what = _("%(series)s for %(month)s: %(value)s") % {
        "series": selectors.series_label(override.series),
        "month": selectors.month_name(override.month),
        "value": selectors.figure(override.value),
    }
    if request.method == "POST":
        index_value_override_delete(actor=_actor(request), override=override)
        messages.success(request, _("Removed the value entered by hand (%(what)s).") % {"what": what})
        return redirect(_url(request, "values"))
    context = {
        "object": override,
        "cancel_url": _url(request, "values"),
        "title": _("Remove the value entered by hand?"),
        "what": what,
    }
    return render(request, "backoffice/indexation/value_delete.html", context)


# ---------------------------------------------------------------- a contract's price history and increases


def _above_cap_policy(contract: Contract):
    policy = services.policy_for(contract)
    if policy is None or not policy.above_cap_notice_months:
        return policy, False
    return policy, True


@staff_required("indexation.view")
def contract_history(request, tenant_slug, pk):
    contract = _contract(pk)
    today = _today()
    entries = list(reversed(price_history(contract, today=today)))
    proposals = list(selectors.proposals().filter(contract=contract).order_by("-effective_on"))
    policy, above_cap = _above_cap_policy(contract)
    context = {
        "contract": contract,
        "entries": entries,
        "proposals": proposals,
        "policy": policy,
        "policy_sentence": selectors.policy_sentence(policy) if policy else "",
        "can_increase": above_cap and contract.state in services.INDEXABLE_STATES,
        "today": today,
    }
    return render(request, "backoffice/indexation/price_history.html", context)


def _earliest_increase(contract: Contract, policy, today: dt.date) -> dt.date | None:
    """The first date an increase above the index can still take effect, the notice counted from today."""
    try:
        rules = policy.rules()
    except ix.IndexationError:
        return None
    if contract.start_date is None:
        return None
    notice = rules.above_cap_notice or rules.notice
    candidate = ix.next_effective(rules, contract.start_date, max(notice.after(today), today + dt.timedelta(days=1)))
    if not notice.is_none and notice.before(candidate) < today:
        candidate = ix.next_effective(rules, contract.start_date, candidate + dt.timedelta(days=1))
    return candidate


@staff_required("indexation.approve")
@require_http_methods(["GET", "POST"])
def increase_request(request, tenant_slug, pk):
    contract = _contract(pk)
    policy, above_cap = _above_cap_policy(contract)
    today = _today()
    earliest = _earliest_increase(contract, policy, today) if above_cap else None
    status = 200
    if request.method == "POST" and above_cap:
        form = IncreaseForm(request.POST)
        if form.is_valid():
            try:
                proposal = services.increase_request(
                    actor=_actor(request),
                    contract=contract,
                    percent=form.cleaned_data["percent"],
                    effective_on=form.cleaned_data["effective_on"],
                    on=today,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "The increase is proposed: from %(old)s to %(new)s a year from %(day)s. Approve it to send "
                        "the customer the letter (by %(notice_by)s at the latest)."
                    )
                    % {
                        "old": money(proposal.old_amount),
                        "new": money(proposal.new_amount),
                        "day": _day(proposal.effective_on),
                        "notice_by": _day(proposal.notice_by) if proposal.notice_by else "—",
                    },
                )
                return redirect(_url(request, "proposal", proposal.pk))
        status = 400
    else:
        form = IncreaseForm(initial={"effective_on": earliest}) if above_cap else None
    context = {
        "contract": contract,
        "policy": policy,
        "policy_sentence": selectors.policy_sentence(policy) if policy else "",
        "above_cap": above_cap,
        "form": form,
        "earliest": earliest,
        "notice_months": policy.above_cap_notice_months if above_cap else None,
        "may_terminate": bool(policy and policy.above_cap_may_terminate),
    }
    return render(request, "backoffice/indexation/increase.html", context, status=status)
