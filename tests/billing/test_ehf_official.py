"""Every kind of EHF the product makes passes the official Peppol BIS Billing 3.0 rules (CEN EN 16931 and
PEPPOL Schematron, no fatal assert) and the OASIS UBL 2.1 schema; run with ``tests/billing/peppol_official.py``
from ``../shared/standards/`` (skipped with a message when that folder is absent).

The product's VAT categories are S (25 %), E (exempt: amounts outside Norwegian VAT) and AE (buyer abroad,
reverse charge) — ``billing.document.VAT_CATEGORY_BY_TREATMENT``; one per invoice, from the customer — and O (not
subject to VAT: late-payment interest and reminder fees on an interest invoice, whoever the buyer is). The
documents come two ways: the pure samples of ``test_ehf.py`` (``render_ehf`` on an ``InvoiceDocument``), and
issued invoices and credit notes from PostgreSQL through the product's own path (billing run / manual
invoice / credit note → ``billing.files.invoice_file(fmt="ehf")``, the stored file the access point gets).
The official examples must pass and a broken document must fail, so the harness is known to work."""

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

import tests.billing.test_ehf as pure
from billing import run, services
from billing.ehf import EhfError, render_ehf
from billing.files import invoice_file
from billing.models import Invoice
from catalog import services as catalog_services
from contracts import services as contract_services
from receivables.interest_billing import interest_run
from receivables.models import CollectionPolicy, Reminder
from tenants.tenancy import tenant_context
from tests.billing.peppol_official import (
    EXAMPLES_DIR,
    fatal,
    official_failures,
    problems,
    require_standards,
    xsd_errors,
)
from tests.billing.test_hours_charges import consulting, record
from tests.billing.test_services import ACTOR, digireq_contract, piscator_contract, sign, spekter_contract
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory
from tests.receivables.test_interest_billing import make_invoice, pay

require_standards()  # skips the module, with the reason, when ../shared/standards is absent
d = dt.date


def assert_all_pass(documents: dict[str, bytes]):
    """Every document passes both rule sets and the XSD; a failure names each document and rule."""
    assert documents
    found = {name: problems(xml) for name, xml in documents.items()}
    assert {name: p for name, p in found.items() if p} == {}


# ---------------------------------------------------------------- the harness works


@pytest.mark.parametrize("path", sorted(EXAMPLES_DIR.glob("*.xml")), ids=lambda p: p.name)
def test_official_examples_pass(path):
    xml = path.read_bytes()
    assert fatal(official_failures(xml)) == []
    assert xsd_errors(xml) == []


def test_examples_are_there():
    assert len(sorted(EXAMPLES_DIR.glob("*.xml"))) >= 7


def test_a_document_without_the_buyer_name_fails_br_07():
    xml = pure.tamper(
        render_ehf(pure.spekter_invoice()),
        "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
        None,
    )
    assert "BR-07" in {f.id for f in fatal(official_failures(xml))}
    assert xsd_errors(xml) == []  # UBL makes RegistrationName optional: only the BIS rule catches it


def test_a_document_without_the_payable_amount_fails_br_15_and_the_xsd():
    xml = pure.tamper(render_ehf(pure.credit_note()), "cac:LegalMonetaryTotal/cbc:PayableAmount", None)
    assert "BR-15" in {f.id for f in fatal(official_failures(xml))}
    assert any("PayableAmount" in e for e in xsd_errors(xml))


def test_a_wrong_vat_total_fails_the_official_br_co_15():
    xml = pure.tamper(render_ehf(pure.spekter_invoice()), "cac:TaxTotal/cbc:TaxAmount", "6573.01")
    assert {"BR-CO-14", "BR-CO-15"} <= {f.id for f in fatal(official_failures(xml))}
    assert xsd_errors(xml) == []


def test_elements_out_of_schema_order_fail_the_xsd():
    root = ET.fromstring(render_ehf(pure.spekter_invoice()))  # noqa: S314 - our own rendered output
    due = root.find("cbc:DueDate", pure.NS)
    root.remove(due)
    root.append(due)
    assert xsd_errors(ET.tostring(root))


# ---------------------------------------------------------------- pure samples (test_ehf.py)


def _pure_documents() -> dict:
    swedish_credit = dataclasses.replace(
        pure.reverse_charge_invoice(),
        kind="credit_note",
        number="2026-0003",
        due_date=dt.date(2026, 9, 30),
        credited_number="2026-0001",
        credited_issue_date=dt.date(2026, 8, 1),
    )
    support = pure.line(
        2, "Konsulentbistand 04.02.2025", "8100.00", qty="6", unit="HUR", start=d(2025, 2, 4), end=d(2025, 2, 4)
    )
    quarter = dict(start=d(2025, 3, 17), end=d(2025, 6, 16))
    widened = pure.document(
        [pure.line(1, "Piscator Standard, fastpris", "24000.00", unit="QAN", **quarter), support],
        period_start=quarter["start"],
        period_end=quarter["end"],
    )
    return {
        **pure.VALID,
        "credit_note_with_due_date": lambda: dataclasses.replace(pure.credit_note(), due_date=dt.date(2026, 10, 15)),
        "reverse_charge_credit_note": lambda: swedish_credit,
        "hours_before_the_period": lambda: widened,
        # a buyer known by its org number only (no Peppol id): EndpointID 0192:<orgnr>
        "buyer_org_number_only": lambda: pure.spekter_invoice(buyer=pure.EXEMPT_BUYER),
        # a state university seller: not in Foretaksregisteret (NO-R-002 is only a warning)
        "seller_not_in_foretaksregisteret": lambda: pure.spekter_invoice(
            seller=dataclasses.replace(pure.SPEKTER, in_foretaksregisteret=False)
        ),
    }


PURE = _pure_documents()


@pytest.mark.parametrize("name", PURE)
def test_pure_samples_pass_the_official_rules_and_the_xsd(name):
    assert_all_pass({name: render_ehf(PURE[name]())})


# ---------------------------------------------------------------- through the product (PostgreSQL)


def ehf(invoice: Invoice) -> bytes:
    return invoice_file(invoice=invoice, fmt="ehf").content


def _run(on: dt.date) -> list[Invoice]:
    before = set(Invoice.objects.values_list("pk", flat=True))
    run.run_tenant(on)
    return list(Invoice.objects.exclude(pk__in=before).order_by("pk"))


@pytest.mark.django_db
@pytest.mark.parametrize("credit", ["full", "partial"])
def test_spekter_kommune_invoice_and_its_credit_note(tenant_a, credit):
    # given a kommune (Norwegian org number, 25 %) invoiced by the billing run, then credited
    with tenant_context(tenant_a):
        spekter_contract(plan_for("spekter"))
        (invoice,) = _run(d(2026, 3, 20))
        amount = "1000.00" if credit == "partial" else None
        note = services.credit_note_create(
            actor=ACTOR, invoice=invoice, on=d(2026, 4, 2), reason="Feil", net_amount=amount
        )
        documents = {"spekter invoice": ehf(invoice), f"{credit} credit": ehf(note)}
    roots = [ET.fromstring(x).tag.rsplit("}")[1] for x in documents.values()]  # noqa: S314 - our own output
    assert roots == ["Invoice", "CreditNote"]
    assert_all_pass(documents)


@pytest.mark.django_db
def test_standard_norge_invoice_with_several_lines(tenant_a):
    with tenant_context(tenant_a):
        for code in ("1", "2"):
            catalog_services.category_save(actor=ACTOR, data={"code": code, "name_nb": code, "name_en": code})
        cat1, cat2 = [f"NS 1-{i}" for i in range(40)], [f"ISO 2-{i}" for i in range(10)]
        rows = [f"{c},T,1,1200" for c in cat1] + [f"{c},T,2,1500" for c in cat2]
        catalog_services.standards_import_csv(
            actor=ACTOR, text="code,title,category,price\n" + "\n".join(rows), year=2026
        )
        contract = contract_services.contract_create(
            actor=ACTOR,
            customer=CustomerFactory(),
            plan=plan_for("standard-norge"),
            interval="year",
            on=d(2026, 5, 1),
            priced_on={"standards": [{"code": c} for c in cat1 + cat2], "concurrent_users": 7, "addons": ["offline"]},
            terms_data=contract_services.TERM_PRESETS["standard-norge"],
        )
        sign(contract, d(2026, 5, 10))
        (invoice,) = _run(d(2026, 5, 10))
        assert invoice.lines.count() >= 2
        assert_all_pass({"standard norge": ehf(invoice)})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "treatment, country",
    [("no_25", "NO"), ("exempt", "NO"), ("reverse_charge", "SE")],
    ids=["S-25", "E-exempt", "AE-abroad"],
)
def test_digireq_monthly_in_each_vat_category(tenant_a, treatment, country):
    # given a DigiReq monthly customer with the product's VAT treatment (a buyer abroad: reverse charge)
    with tenant_context(tenant_a):
        contract = digireq_contract(plan_for("digireq"), "month")
        customer = contract.customer
        customer.vat_treatment, customer.country = treatment, country
        if country == "SE":
            customer.address_line, customer.postal_code, customer.city = "Drottninggatan 5", "111 51", "Stockholm"
        customer.save()
        first, *_ = _run(d(2026, 1, 19))
        (second,) = _run(d(2026, 2, 19))
        note = services.credit_note_create(actor=ACTOR, invoice=second, on=d(2026, 2, 20), reason="Feil")
        partial = services.credit_note_create(
            actor=ACTOR, invoice=first, on=d(2026, 2, 20), reason="Rabatt", net_amount="100.00"
        )
        category = {"no_25": "S", "exempt": "E", "reverse_charge": "AE"}[treatment]
        assert {line.vat_category for line in first.lines.all()} == {category}
        assert_all_pass({"month 1": ehf(first), "month 2": ehf(second), "credit": ehf(note), "partial": ehf(partial)})


@pytest.mark.django_db
def test_piscator_invoice_with_hours_and_travel(tenant_a):
    with tenant_context(tenant_a):
        contract = piscator_contract(plan_for("piscator"))
        service = consulting()
        record(contract, service, d(2026, 2, 16), hours="3", travel_hours="2")
        (invoice,) = _run(d(2026, 2, 16))
        record(contract, service, d(2026, 2, 20), hours="1.5", expenses="350.00", expenses_description="Parkering")
        (supplementary,) = _run(d(2026, 3, 1))  # February's hours on their own invoice
        assert {line.unit_code for line in invoice.lines.all()} >= {"HUR"}
        assert_all_pass({"period + hours": ehf(invoice), "supplementary hours": ehf(supplementary)})


@pytest.mark.django_db
def test_manual_invoices_to_buyers_with_and_without_a_peppol_id(tenant_a):
    with tenant_context(tenant_a):
        with_id = CustomerFactory(name="Bergen kommune")
        with_id.peppol_endpoint = f"0192:{with_id.org_number}"
        with_id.save()
        org_number_only = CustomerFactory(name="Lesesenteret")
        lines = [
            {"description": "Kurs", "quantity": "2", "unit_price": "1000.00"},
            {"description": "Materiell", "quantity": "3", "unit_price": "33.33", "explanation": "Hefter"},
        ]
        documents = {}
        for customer in (with_id, org_number_only):
            draft = services.invoice_manual_draft_create(
                actor=ACTOR, customer=customer, lines=lines, buyer_reference="Ref 42"
            )
            documents[customer.name] = ehf(services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 3, 20)))
        assert_all_pass(documents)


@pytest.mark.django_db
def test_manual_invoice_without_any_reference_gets_no_ehf(tenant_a):
    # PEPPOL-EN16931-R003: an EHF needs the buyer's reference or an order reference. The product refuses the
    # EHF and says what to add (the PDF can still go by e-mail), rather than sending what an access point
    # would reject; found by the opt-in collector on test_portal_pages.py::test_downloads_pdf_nb_en_and_ehf.
    with tenant_context(tenant_a):
        customer = CustomerFactory(name="Bergen kommune", invoice_reference="")
        draft = services.invoice_manual_draft_create(
            actor=ACTOR, customer=customer, lines=[{"description": "Kurs", "quantity": "1", "unit_price": "1000.00"}]
        )
        invoice = services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 3, 20))
        with pytest.raises((ValidationError, EhfError), match="R003"):
            ehf(invoice)
        customer.invoice_reference = "4410-OPPV"
        customer.save()
        draft = services.invoice_manual_draft_create(
            actor=ACTOR, customer=customer, lines=[{"description": "Kurs", "quantity": "1", "unit_price": "1000.00"}]
        )
        invoice = services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 3, 20))
        assert_all_pass({"manual, the customer's reference": ehf(invoice)})


@pytest.mark.django_db
def test_a_buyer_abroad_without_any_identifier_gets_no_ehf(tenant_a):
    # the product's rule: no Peppol id and no Norwegian org number → no EHF (the PDF goes by e-mail)
    with tenant_context(tenant_a):
        customer = CustomerFactory(
            name="Läromedel Norden AB", org_number="", country="SE", vat_treatment="reverse_charge"
        )
        draft = services.invoice_manual_draft_create(
            actor=ACTOR, customer=customer, lines=[{"description": "Lisens", "quantity": "1", "unit_price": "100"}]
        )
        invoice = services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 3, 20))
        with pytest.raises(ValidationError):
            ehf(invoice)


@pytest.mark.django_db
def test_interest_invoice_not_subject_to_vat(tenant_a):
    # given a VAT-registered seller (its MVA id must be left out, BR-O-02) and a kommune paying late, with a
    # reminder fee: the interest invoice (category O only) the interest run issues, as stored for the outbox
    tenant_a.mva_registered, tenant_a.in_foretaksregisteret = True, True
    tenant_a.address_line, tenant_a.postal_code, tenant_a.city = "Kongens gate 1", "0153", "Oslo"
    tenant_a.save()
    with tenant_context(tenant_a):
        CollectionPolicy.objects.create(name="SSA-L", interest="ssal", interest_invoicing="on_payment")
        customer = CustomerFactory(name="Bergen kommune", invoice_reference="4410-OPPV")
        customer.peppol_endpoint = f"0192:{customer.org_number}"
        customer.save()
        late = make_invoice(customer, due=d(2024, 11, 30))
        Reminder.objects.create(
            invoice=late, customer=customer, step=1, kind="reminder", sent_on=d(2024, 12, 14),
            pay_by=d(2024, 12, 28), outstanding=late.total, fee=Decimal("35.00"),
            fee_explanation_nb="Purregebyr 35,00 kr", fee_explanation_en="Reminder fee NOK 35.00",
        )  # fmt: skip
        pay(late, late.total, d(2025, 2, 28))
        (invoice,) = interest_run(on=d(2025, 3, 3)).issued
        assert {line.vat_category for line in invoice.lines.all()} == {"O"}
        xml = ehf(invoice)
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    assert root.find(".//cac:TaxCategory/cbc:ID", pure.NS).text == "O"
    assert "MVA" not in xml.decode()
    assert_all_pass({"interest invoice (O)": xml})
