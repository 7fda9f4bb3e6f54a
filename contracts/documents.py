"""The contract as a document: its terms in words, what it is priced on with the engine's lines, and the PDF.

``render_contract_pdf`` renders ``templates/documents/contract.html`` (in Norwegian) with WeasyPrint;
``store_contract_document`` keeps the bytes with their SHA-256, which a signature records: the
document the customer saw.

Dates: a term's end is exclusive (the term runs *up to* it); documents and pages show the last day
it covers, "to and including", everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from contracts import lifecycle
from contracts.models import Contract, ContractDocument, PricedOn, StartRule


def _lang() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"


def state_label(state: str) -> str:
    names = lifecycle.STATES.get(state)
    if names is None:
        return state
    return names[1] if _lang() == "en" else names[0]


def step_label(code: str) -> str:
    return {
        "contract_signed": _("Signed contract received"),
        "dpa_signed": _("Data processing agreement signed by the school owner"),
        "feide_activated": _("Activated in Feide"),
    }.get(code, code)


def show_date(day: dt.date | None) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT") if day else "—"


def show_last_day(exclusive_end: dt.date | None) -> str:
    """An exclusive end shown as the last day it covers."""
    return show_date(exclusive_end - dt.timedelta(days=1)) if exclusive_end else "—"


def months_words(n: int) -> str:
    return ngettext("%(n)d month", "%(n)d months", n) % {"n": n}


def days_words(n: int) -> str:
    return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}


def notice_words(contract: Contract) -> str:
    parts = []
    if contract.notice_months:
        parts.append(months_words(contract.notice_months))
    if contract.notice_days:
        parts.append(days_words(contract.notice_days))
    return _(" and ").join(parts)


def describe_terms(contract: Contract, vendor_name: str = "") -> list[tuple[str, str]]:
    """The contract's terms as (heading, sentence) pairs in the active language."""
    rows: list[tuple[str, str]] = []
    vendor = vendor_name or _("the vendor")
    # Start
    if contract.start_rule == StartRule.ON_RECEIPT:
        start = _("The subscription starts on the date %(vendor)s receives the signed contract.") % {"vendor": vendor}
    elif contract.start_rule == StartRule.AFTER_SIGNING:
        start = _("The agreement starts %(period)s after it is signed.") % {
            "period": days_words(contract.start_offset_days)
        }
    else:
        start = _("The agreement starts on the agreed date, %(date)s.") % {"date": show_date(contract.agreed_start)}
    rows.append((_("Start"), start))
    # Term and renewal
    term = _("The first term is %(period)s from the start.") % {"period": months_words(contract.initial_term_months)}
    if contract.start_date and contract.term_end and contract.term_index == 0:
        term += " " + _("It runs from %(start)s to and including %(last)s.") % {
            "start": show_date(contract.start_date),
            "last": show_last_day(contract.term_end),
        }
    elif contract.start_date and contract.term_end:
        from contracts.terms import nth_term_end

        current_start = nth_term_end(contract.terms(), contract.start_date, contract.term_index - 1)
        term += " " + _(
            "It started %(start)s; the current period (renewal %(n)s) runs from %(current)s to and including %(last)s."
        ) % {
            "start": show_date(contract.start_date),
            "n": contract.term_index,
            "current": show_date(current_start),
            "last": show_last_day(contract.term_end),
        }
    rows.append((_("Term"), term))
    if contract.renewal_term_months:
        renewal = _("The agreement renews automatically by %(period)s at a time unless either party gives notice.") % {
            "period": months_words(contract.renewal_term_months)
        }
    else:
        renewal = _("The agreement does not renew by itself; it ends when the term ends.")
    rows.append((_("Renewal"), renewal))
    # Notice
    notice = notice_words(contract)
    if notice:
        text = _(
            "Notice must be received no later than %(period)s before the end of the term. "
            "A notice received later takes effect at the end of the next renewal period."
        ) % {"period": notice}
        if contract.notice_deadline:
            text += " " + _("The last day for notice in the current term is %(date)s.") % {
                "date": show_date(contract.notice_deadline)
            }
    else:
        text = _("The agreement can be cancelled at any time, effective at the end of the paid period; no refund.")
    rows.append((_("Notice"), text))
    if contract.binding_months:
        rows.append(
            (_("Binding period"), _("Binding for %(period)s.") % {"period": months_words(contract.binding_months)})
        )
    if contract.acceptance_days:
        after = (
            _("ordinary operation begins on the first business day after it")
            if contract.ordinary_on_business_day
            else _("ordinary operation begins the day after it, unless deviations are notified in writing")
        )
        text = _("An acceptance period of %(period)s from the start; %(after)s.") % {
            "period": days_words(contract.acceptance_days),
            "after": after,
        }
        if contract.ordinary_from:
            text += " " + _("Ordinary operation from %(date)s.") % {"date": show_date(contract.ordinary_from)}
        rows.append((_("Acceptance"), text))
    if contract.dpa_required:
        rows.append(
            (
                _("Data processing agreement"),
                _(
                    "The school owner (the kommune or fylkeskommune) is the controller and must sign a data "
                    "processing agreement, once for all its schools. Access is given when the contract and the "
                    "data processing agreement are signed."
                ),
            )
        )
    return rows


def current_priced_on(contract: Contract, on: dt.date | None = None) -> PricedOn | None:
    rows = contract.priced_on.all().order_by("-effective_from", "-id")
    if on is not None:
        rows = rows.filter(effective_from__lte=on)
    return rows.first()


def price_for(contract: Contract, priced: PricedOn | None) -> dict[str, Any] | None:
    """The engine's lines and explanations for what the contract is priced on (``quote_compute``)."""
    if priced is None:
        return None
    from pricing.services import quote_compute

    request = {**priced.request, "plan": contract.plan.code, "interval": contract.interval}
    try:
        result, _version, _customer = quote_compute(request=request, on=priced.effective_from)
    except ValidationError:
        return None
    return result.as_dict()


def priced_on_rows(priced: PricedOn | None) -> list[tuple[str, str]]:
    """What it is priced on, in words: (what, how many)."""
    if priced is None:
        return []
    request = priced.request or {}
    rows = [(s.get("name") or "—", _("%(n)s pupils") % {"n": s.get("pupils")}) for s in request.get("schools") or []]
    for name, value in (request.get("quantities") or {}).items():
        label = _("Active users") if name == "active_users" else name.replace("_", " ")
        rows.append((label, str(value)))
    standards = request.get("standards") or []
    if standards:
        codes = ", ".join(str(s.get("code") or "") for s in standards)
        rows.append((_("Standards (%(n)d)") % {"n": len(standards)}, codes))
    if request.get("concurrent_users"):
        rows.append((_("Concurrent users"), str(request["concurrent_users"])))
    for addon in request.get("addons") or []:
        rows.append((_("Add-on"), str(addon)))
    return rows


def document_context(contract: Contract) -> dict[str, Any]:
    from tenants.tenancy import require_tenant

    tenant = require_tenant()
    priced = current_priced_on(contract)
    return {
        "contract": contract,
        "tenant": tenant,
        "customer": contract.customer,
        "owner": contract.customer.parent,
        "terms": describe_terms(contract, tenant.name),
        "priced": priced,
        "priced_rows": priced_on_rows(priced),
        "price": price_for(contract, priced),
        "state": state_label(contract.state),
        "today": timezone.localdate(),
    }


def render_contract_html(contract: Contract) -> str:
    with translation.override("nb"):
        return render_to_string("documents/contract.html", document_context(contract))


def render_contract_pdf(contract: Contract) -> bytes:
    from weasyprint import HTML

    html = render_contract_html(contract)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def store_contract_document(contract: Contract) -> ContractDocument:
    """Render the contract and keep it with its SHA-256 (the newest document is the one to sign)."""
    pdf = render_contract_pdf(contract)
    return ContractDocument.objects.create(
        contract=contract, kind="contract", pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest()
    )


def latest_document(contract: Contract) -> ContractDocument | None:
    return contract.documents.filter(kind="contract").order_by("-created_at", "-id").first()
