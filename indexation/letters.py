"""The price-change letter (PDF): what the price becomes, from when, why, and the customer's rights."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from contracts.notify import language_for
from indexation.models import IndexationProposal
from tenants.tenancy import require_tenant


def letter_context(proposal: IndexationProposal) -> dict:
    contract = proposal.contract
    return {
        "proposal": proposal,
        "contract": contract,
        "customer": contract.customer,
        "tenant": require_tenant(),
        "last_day": proposal.effective_on,
    }


def render_letter_html(proposal: IndexationProposal, lang: str | None = None) -> str:
    lang = lang or language_for(proposal.contract)
    with translation.override(lang):
        return render_to_string("documents/price_change_letter.html", {**letter_context(proposal), "lang": lang})


def render_letter_pdf(proposal: IndexationProposal, lang: str | None = None) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_letter_html(proposal, lang), base_url=str(settings.BASE_DIR)).write_pdf()
