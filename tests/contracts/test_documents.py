"""The contract PDF: rendered with WeasyPrint from the contract's terms and the engine's prices, kept with
its SHA-256, which the signature records."""

import datetime as dt
import hashlib

import pytest
from django.utils import translation

from contracts import documents, services
from contracts.models import ContractDocument, Signature
from tenants.tenancy import tenant_context
from tests.contracts.conftest import ACTOR, signed_at, spekter_priced_on

pytestmark = pytest.mark.django_db
d = dt.date


def spekter_contract(ctx):
    return services.contract_create(
        actor=ACTOR,
        customer=ctx["kommune"],
        plan=ctx["plan"],
        interval="year",
        on=d(2026, 3, 1),
        priced_on=spekter_priced_on(ctx["schools"]),
        terms_data=services.TERM_PRESETS["spekter"],
    )


def test_the_pdf_renders_and_its_sha256_is_stored(spekter):
    with tenant_context(spekter["tenant"]):
        contract = spekter_contract(spekter)
        document = documents.store_contract_document(contract)
        stored = ContractDocument.objects.get(pk=document.pk)
        pdf = bytes(stored.pdf)
        assert pdf[:4] == b"%PDF"
        assert stored.sha256 == hashlib.sha256(pdf).hexdigest()
        assert documents.latest_document(contract) == stored


def test_the_signature_records_the_sha256_of_the_stored_document(spekter):
    with tenant_context(spekter["tenant"]):
        contract = services.contract_send(actor=ACTOR, contract=spekter_contract(spekter), on=d(2026, 3, 2))
        document = documents.store_contract_document(contract)
        services.contract_sign(
            actor=ACTOR,
            contract=contract,
            name="Kari Nordmann",
            title="Rektor",
            signed_at=signed_at(d(2026, 3, 15)),
            received_on=d(2026, 3, 15),
            document_sha256=document.sha256,
        )
        signature = Signature.objects.get(contract=contract)
        assert signature.document_sha256 == hashlib.sha256(bytes(ContractDocument.objects.get().pdf)).hexdigest()


def test_the_document_names_parties_prices_and_terms_in_norwegian(spekter):
    with tenant_context(spekter["tenant"]):
        contract = spekter_contract(spekter)
        html = documents.render_contract_html(contract)
    tenant, kommune = spekter["tenant"], spekter["kommune"]
    assert tenant.name in html and f"Org.nr. {tenant.org_number_display}" in html
    assert kommune.name in html and f"Org.nr. {kommune.org_number_display}" in html
    # Three schools (87, 240, 1100 pupils) priced by the band table: 2 892 + 4 875 + 18 525 = 26 292 kr.
    assert "Skole 1" in html and "87" in html
    assert "26\xa0292,00\xa0kr" in html
    assert "32\xa0865,00\xa0kr" in html  # with 25 % VAT
    assert "Databehandleravtale" in html


def test_terms_in_words_name_the_dates_with_exclusive_ends_shown_as_last_days(spekter):
    with tenant_context(spekter["tenant"]), translation.override("en"):
        contract = spekter_contract(spekter)
        contract.start_date, contract.term_end = d(2026, 3, 15), d(2027, 3, 15)
        contract.notice_deadline = d(2026, 12, 14)
        rows = dict(documents.describe_terms(contract, "Spekter"))
    assert rows["Term"] == (
        "The first term is 12 months from the start. It runs from 2026-03-15 to and including 2027-03-14."
    )
    assert rows["Start"] == "The subscription starts on the date Spekter receives the signed contract."
    assert rows["Notice"].endswith("The last day for notice in the current term is 2026-12-14.")
    assert rows["Renewal"].startswith("The agreement renews automatically by 12 months at a time")


def test_a_renewed_contract_describes_its_current_period(spekter):
    import datetime as dt

    from contracts import jobs
    from contracts.documents import describe_terms
    from tests.contracts.test_services import active_spekter

    with tenant_context(spekter["tenant"]):
        contract = active_spekter(spekter)
        jobs.renew_due(dt.date(2027, 3, 15))
        contract.refresh_from_db()
        with translation.override("nb"):
            term = dict(describe_terms(contract))["Avtaleperiode"]
    assert term.endswith(
        "Den startet 15.03.2026; inneværende periode (fornyelse 1) løper fra og med 15.03.2027 til og med 14.03.2028."
    )
