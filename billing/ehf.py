"""EHF: an issued invoice or credit note as Peppol BIS Billing 3.0 (UBL 2.1) XML.

Pure: renders a :class:`billing.document.InvoiceDocument` (the same data the PDF is drawn from) with
the standard library's ElementTree; no database. Element order follows the UBL 2.1 schema sequences
(the Peppol examples in OpenPEPPOL/peppol-bis-invoice-3 ``rules/examples`` and
``rules/national-examples/NO``). ``tests/billing/ehf_rules.py`` checks the output against the BIS
rules that can be expressed in Python; the official Schematron/XSD run is separate (docs/ehf.md).
"""

from __future__ import annotations

import datetime as dt
import threading
import xml.etree.ElementTree as ET
from decimal import Decimal

from billing.document import NOT_SUBJECT_TO_VAT, InvoiceDocument, Party, VatBreakdown

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

ET.register_namespace("cac", NS_CAC)
ET.register_namespace("cbc", NS_CBC)
_SERIALISE = threading.Lock()

NORWEGIAN_ORG_SCHEME = "0192"  # EAS/ICD: Enhetsregisteret ved Brønnøysundregistrene
INVOICE_TYPE_CODE = "380"  # UNCL1001 commercial invoice
CREDIT_NOTE_TYPE_CODE = "381"  # UNCL1001 credit note
PAYMENT_MEANS_CREDIT_TRANSFER = "30"  # UNCL4461

# VATEX codes the Peppol rules accept per VAT category (PEPPOL-EN16931-P0104..P0111): a code that
# belongs to another category (document.py's VATEX-EU-O is category O's) is left out and only the
# reason text is sent, which BR-E-10 / BR-AE-10 accept on their own.
EXEMPTION_CODES_BY_CATEGORY = {
    "AE": {"VATEX-EU-AE"},
    NOT_SUBJECT_TO_VAT: {"VATEX-EU-O"},
    "E": {"VATEX-EU-D", "VATEX-EU-F", "VATEX-EU-I", "VATEX-EU-J", "VATEX-EU-79-C"}
    | {f"VATEX-EU-132-1{c}" for c in "ABCDEFGHIJKLMNOPQ"}
    | {f"VATEX-EU-143-1{c}" for c in "ABCDEFGHIJKL"}
    | {f"VATEX-EU-148{c}" for c in ("", "-A", "-B", "-C", "-D", "-E", "-F", "-G")}
    | {f"VATEX-EU-151-1{c}" for c in "ABCDE"}
    | {"VATEX-EU-309"},
}


class EhfError(ValueError):
    """The document cannot be sent as EHF (e.g. no electronic address for the buyer)."""


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _cbc(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, _q(NS_CBC, tag), attrs)
    el.text = text
    return el


def _cac(parent: ET.Element, tag: str) -> ET.Element:
    return ET.SubElement(parent, _q(NS_CAC, tag))


def money(amount: Decimal) -> str:
    """Two decimals, as BR-DEC asks of every amount."""
    return f"{Decimal(amount).quantize(Decimal('0.01')):f}"


def _price(amount: Decimal) -> str:
    """At least two decimals, never fewer than the price has (R120 compares quantity × price)."""
    amount = Decimal(amount)
    exponent = min(amount.normalize().as_tuple().exponent, -2)
    return f"{amount.quantize(Decimal(1).scaleb(exponent)):f}"


def _number(value: Decimal) -> str:
    """A quantity or percent without trailing zeros: 25, 0, 1.5."""
    value = Decimal(value)
    text = f"{value.normalize():f}"
    return text if text != "-0" else "0"


def _date(value: dt.date) -> str:
    return value.isoformat()


def endpoint(party: Party) -> tuple[str, str]:
    """(schemeID, identifier) of a party's Peppol electronic address (BT-34 / BT-49).

    The Peppol id when known ("0192:…" or another EAS scheme such as "0007:…" for a Swedish
    buyer), else the Norwegian org number under 0192. A party with neither cannot receive EHF.
    """
    if party.peppol_id and ":" in party.peppol_id:
        scheme, value = party.peppol_id.split(":", 1)
        if scheme.strip() and value.strip():
            return scheme.strip(), value.strip()
    if party.org_number:
        return NORWEGIAN_ORG_SCHEME, party.org_number
    raise EhfError(f"{party.name}: EHF needs a Peppol id or a Norwegian organisation number")


def _legal_id(party: Party) -> tuple[str, str] | None:
    """(schemeID, identifier) for PartyIdentification / PartyLegalEntity CompanyID, if any."""
    if party.org_number:
        return NORWEGIAN_ORG_SCHEME, party.org_number
    if party.peppol_id:
        scheme, value = endpoint(party)
        return scheme, value
    return None


def _party(parent: ET.Element, wrapper: str, party: Party, *, seller: bool, vat_id: bool = True) -> None:
    holder = _cac(parent, wrapper)
    el = _cac(holder, "Party")
    scheme, value = endpoint(party)
    _cbc(el, "EndpointID", value, schemeID=scheme)
    legal = _legal_id(party)
    if legal:
        _cbc(_cac(el, "PartyIdentification"), "ID", legal[1], schemeID=legal[0])
    _cbc(_cac(el, "PartyName"), "Name", party.name)
    address = _cac(el, "PostalAddress")
    if party.address_line:
        _cbc(address, "StreetName", party.address_line)
    if party.city:
        _cbc(address, "CityName", party.city)
    if party.postal_code:
        _cbc(address, "PostalZone", party.postal_code)
    _cbc(_cac(address, "Country"), "IdentificationCode", party.country or "NO")
    if party.vat_number and vat_id:
        tax = _cac(el, "PartyTaxScheme")
        _cbc(tax, "CompanyID", party.vat_number)
        _cbc(_cac(tax, "TaxScheme"), "ID", "VAT")
    if seller and party.in_foretaksregisteret:
        # NO-R-002: a Norwegian AS/ASA (or branch) states "Foretaksregisteret" (foretaksregisterloven § 10-2)
        tax = _cac(el, "PartyTaxScheme")
        _cbc(tax, "CompanyID", "Foretaksregisteret")
        _cbc(_cac(tax, "TaxScheme"), "ID", "TAX")
    entity = _cac(el, "PartyLegalEntity")
    _cbc(entity, "RegistrationName", party.name)
    if legal:
        _cbc(entity, "CompanyID", legal[1], schemeID=legal[0])
    if party.email:
        _cbc(_cac(el, "Contact"), "ElectronicMail", party.email)


def _tax_category(parent: ET.Element, tag: str, category: str, rate: Decimal, code: str = "", reason: str = "") -> None:
    el = _cac(parent, tag)
    _cbc(el, "ID", category)
    if category != NOT_SUBJECT_TO_VAT:  # O has no rate (BR-O-05 on a line; BR-48 lets the breakdown go without)
        _cbc(el, "Percent", _number(rate))
    if code and code.upper() in EXEMPTION_CODES_BY_CATEGORY.get(category, set()):
        _cbc(el, "TaxExemptionReasonCode", code)
    if reason and category != "S":
        _cbc(el, "TaxExemptionReason", reason)
    _cbc(_cac(el, "TaxScheme"), "ID", "VAT")


def _period(parent: ET.Element, start: dt.date | None, end: dt.date | None) -> None:
    if start is None and end is None:
        return
    el = _cac(parent, "InvoicePeriod")
    if start is not None:
        _cbc(el, "StartDate", _date(start))
    if end is not None:
        _cbc(el, "EndDate", _date(end))


def _document_period(doc: InvoiceDocument) -> tuple[dt.date | None, dt.date | None]:
    """The invoicing period (BG-14), widened to enclose every line period.

    A line can fall outside the document's own period, e.g. billable support delivered in February
    on the next quarterly invoice (17.03-16.06). Peppol requires each line period to lie within
    the invoice period (PEPPOL-EN16931-R110/R111, fatal), so the EHF period starts at the earliest
    line start and ends at the latest line end; the lines keep their own dates.
    """
    start, end = doc.period_start, doc.period_end
    if start is not None:
        start = min([start, *(ln.period_start for ln in doc.lines if ln.period_start is not None)])
    if end is not None:
        end = max([end, *(ln.period_end for ln in doc.lines if ln.period_end is not None)])
    return start, end


def _breakdown(doc: InvoiceDocument) -> tuple[VatBreakdown, ...]:
    if doc.vat_breakdown:
        return doc.vat_breakdown
    from billing.document import vat_breakdown

    return vat_breakdown(doc.lines)


def build_ehf(doc: InvoiceDocument) -> ET.Element:
    """The UBL tree (Invoice or CreditNote) for ``doc``."""
    credit = doc.kind == "credit_note"
    if doc.kind not in ("invoice", "credit_note"):
        raise EhfError(f"unknown document kind {doc.kind!r}")
    if not doc.lines:
        raise EhfError("an invoice needs at least one line (BR-16)")
    if not doc.seller.org_number:
        raise EhfError("the seller needs an organisation number")
    endpoint(doc.buyer)  # raises EhfError early for a buyer without an electronic address
    if not doc.buyer_reference and not doc.order_reference:
        raise EhfError(
            "EHF needs the buyer's reference or an order reference (PEPPOL-EN16931-R003): give the invoice a "
            "reference, or set the customer's invoice reference"
        )

    outside = doc.not_subject_to_vat
    if outside and any(line.vat_category != NOT_SUBJECT_TO_VAT for line in doc.lines):
        raise EhfError(
            "a document with lines not subject to VAT (category O) cannot have lines in another VAT category "
            "(BR-O-11, BR-O-12): invoice them separately"
        )

    root = ET.Element(_q(NS_CREDIT_NOTE if credit else NS_INVOICE, "CreditNote" if credit else "Invoice"))
    cur = doc.currency
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", doc.number)
    _cbc(root, "IssueDate", _date(doc.issue_date))
    if credit:
        _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
    else:
        if doc.due_date is not None:
            _cbc(root, "DueDate", _date(doc.due_date))
        _cbc(root, "InvoiceTypeCode", INVOICE_TYPE_CODE)
    if doc.note:
        _cbc(root, "Note", doc.note)
    _cbc(root, "DocumentCurrencyCode", cur)
    if doc.buyer_reference:
        _cbc(root, "BuyerReference", doc.buyer_reference)
    _period(root, *_document_period(doc))
    if doc.order_reference:
        _cbc(_cac(root, "OrderReference"), "ID", doc.order_reference)
    if credit and doc.credited_number:
        ref = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(ref, "ID", doc.credited_number)
        if doc.credited_issue_date is not None:
            _cbc(ref, "IssueDate", _date(doc.credited_issue_date))

    # BR-O-02: a document not subject to VAT carries neither the seller's nor the buyer's VAT identifier (the
    # seller's org number, "Foretaksregisteret" and legal entity stay).
    _party(root, "AccountingSupplierParty", doc.seller, seller=True, vat_id=not outside)
    _party(root, "AccountingCustomerParty", doc.buyer, seller=False, vat_id=not outside)

    if doc.seller.bank_account:
        means = _cac(root, "PaymentMeans")
        _cbc(means, "PaymentMeansCode", PAYMENT_MEANS_CREDIT_TRANSFER)
        if credit and doc.due_date is not None:
            # UBL 2.1 CreditNote has no DueDate; BIS puts BT-9 on the payment means
            _cbc(means, "PaymentDueDate", _date(doc.due_date))
        if doc.kid:
            _cbc(means, "PaymentID", doc.kid)
        _cbc(_cac(means, "PayeeFinancialAccount"), "ID", doc.seller.bank_account)
    if doc.payment_terms:
        _cbc(_cac(root, "PaymentTerms"), "Note", doc.payment_terms)

    breakdown = _breakdown(doc)
    net = sum((line.net for line in doc.lines), Decimal(0))
    vat = sum((group.tax for group in breakdown), Decimal(0))
    tax_total = _cac(root, "TaxTotal")
    _cbc(tax_total, "TaxAmount", money(vat), currencyID=cur)
    for group in breakdown:
        sub = _cac(tax_total, "TaxSubtotal")
        _cbc(sub, "TaxableAmount", money(group.taxable), currencyID=cur)
        _cbc(sub, "TaxAmount", money(group.tax), currencyID=cur)
        _tax_category(sub, "TaxCategory", group.category, group.rate, group.exemption_code, group.exemption_reason)

    totals = _cac(root, "LegalMonetaryTotal")
    _cbc(totals, "LineExtensionAmount", money(net), currencyID=cur)
    _cbc(totals, "TaxExclusiveAmount", money(net), currencyID=cur)
    _cbc(totals, "TaxInclusiveAmount", money(net + vat), currencyID=cur)
    _cbc(totals, "PayableAmount", money(net + vat), currencyID=cur)

    for line in doc.lines:
        el = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        _cbc(el, "ID", str(line.number))
        _cbc(el, "CreditedQuantity" if credit else "InvoicedQuantity", _number(line.quantity), unitCode=line.unit_code)
        _cbc(el, "LineExtensionAmount", money(line.net), currencyID=cur)
        _period(el, line.period_start, line.period_end)
        item = _cac(el, "Item")
        if line.explanation:
            _cbc(item, "Description", line.explanation)
        _cbc(item, "Name", line.description)
        _tax_category(item, "ClassifiedTaxCategory", line.vat_category, line.vat_rate)
        _cbc(_cac(el, "Price"), "PriceAmount", _price(line.unit_price), currencyID=cur)
    return root


def render_ehf(doc: InvoiceDocument) -> bytes:
    """The EHF XML (UTF-8, with declaration) for an issued invoice or credit note."""
    root = build_ehf(doc)
    namespace = root.tag[1:].split("}")[0]
    # ElementTree's default_namespace option refuses unqualified attributes (currencyID, schemeID), so
    # the document namespace is registered as the default prefix for this one serialisation.
    with _SERIALISE:
        previous = ET._namespace_map.get(namespace)
        ET.register_namespace("", namespace)
        try:
            body = ET.tostring(root, encoding="unicode")
        finally:
            ET._namespace_map.pop(namespace, None)
            if previous is not None:
                ET._namespace_map[namespace] = previous
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode("utf-8")
