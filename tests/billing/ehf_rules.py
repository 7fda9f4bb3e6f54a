"""A Python checker for the Peppol BIS Billing 3.0 rules our EHF can break.

Each rule is a small function over the parsed UBL tree that returns violations tagged with the
official rule id (EN 16931 ``BR-…``, Peppol ``PEPPOL-EN16931-…`` / ``PEPPOL-COMMON-…``, national
``NO-R-…``). The tests run every rule over every rendered document; the official Schematron and XSD
are run separately (docs/ehf.md lists what is and is not covered here).

Written from OpenPEPPOL/peppol-bis-invoice-3 ``rules/sch/PEPPOL-EN16931-UBL.sch`` and the EN 16931
UBL rules (``CEN-EN16931-UBL.sch``); sums are compared exactly after rounding to the cent where the
official rule rounds, which is at least as strict as the official test.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS = {"cbc": CBC, "cac": CAC}
ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "CreditNote",
}
CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"

# Code lists (from PEPPOL-EN16931-UBL.sch, 3.0.15, and UNCL / UN/ECE)
ISO4217 = set(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS "
    "KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRO MUR MVR MWK MXN "
    "MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR "
    "SDG SEK SGD SHP SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN "
    "UYI UYU UZS VEF VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XDR XOF XPD XPF XPT XSU XTS XUA XXX YER "
    "ZAR ZMW ZWL".split()
)
ISO3166 = set(
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV "
    "BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES "
    "ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE "
    "IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU "
    "NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM "
    "SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE "
    "VG VI VN VU WF WS YE YT ZA ZM ZW 1A XI".split()
)
EAS = set(
    "0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0151 0183 0184 0188 0190 0191 0192 0193 "
    "0195 0196 0198 0199 0200 0201 0202 0204 0208 0209 0210 0211 0212 0213 0215 0216 0218 0221 0230 9901 "
    "9910 9913 9914 9915 9918 9919 9920 9922 9923 9924 9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 "
    "9935 9936 9937 9938 9939 9940 9941 9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 9957 "
    "9959".split()
)
UNCL5305 = {"AE", "E", "S", "Z", "G", "O", "K", "L", "M"}
# UNCL4461: the subset a Norwegian vendor uses (credit transfer, bank giro, direct debit, SEPA, card)
UNCL4461_SUBSET = {"1", "10", "20", "30", "31", "42", "48", "49", "54", "55", "57", "58", "59", "97", "ZZZ"}
# UN/ECE rec 20 (+21): the units our price lists use
REC20_SUBSET = {"EA", "C62", "H87", "HUR", "DAY", "WEE", "MON", "QAN", "ANN", "MIN", "KMT", "XPP"}
INVOICE_TYPE_CODES = set(
    "71 80 82 84 102 218 219 331 380 382 383 386 388 393 395 553 575 623 780 817 870 875 876 877".split()
)
CREDIT_NOTE_TYPE_CODES = {"381", "396", "81", "83", "532"}
EXEMPTION_CATEGORY = {  # PEPPOL-EN16931-P0104..P0111
    "VATEX-EU-G": ("PEPPOL-EN16931-P0104", "G"),
    "VATEX-EU-O": ("PEPPOL-EN16931-P0105", "O"),
    "VATEX-EU-IC": ("PEPPOL-EN16931-P0106", "K"),
    "VATEX-EU-AE": ("PEPPOL-EN16931-P0107", "AE"),
    "VATEX-EU-D": ("PEPPOL-EN16931-P0108", "E"),
    "VATEX-EU-F": ("PEPPOL-EN16931-P0109", "E"),
    "VATEX-EU-I": ("PEPPOL-EN16931-P0110", "E"),
    "VATEX-EU-J": ("PEPPOL-EN16931-P0111", "E"),
}

# UBL 2.1 schema sequences (the elements BIS uses), to catch an element out of order
ROOT_SEQUENCE = {
    "Invoice": "UBLVersionID CustomizationID ProfileID ProfileExecutionID ID CopyIndicator UUID IssueDate IssueTime "
    "DueDate InvoiceTypeCode Note TaxPointDate DocumentCurrencyCode TaxCurrencyCode PricingCurrencyCode "
    "PaymentCurrencyCode PaymentAlternativeCurrencyCode AccountingCostCode AccountingCost LineCountNumeric "
    "BuyerReference InvoicePeriod OrderReference BillingReference DespatchDocumentReference "
    "ReceiptDocumentReference StatementDocumentReference OriginatorDocumentReference ContractDocumentReference "
    "AdditionalDocumentReference ProjectReference Signature AccountingSupplierParty AccountingCustomerParty "
    "PayeeParty BuyerCustomerParty SellerSupplierParty TaxRepresentativeParty Delivery DeliveryTerms "
    "PaymentMeans PaymentTerms PrepaidPayment AllowanceCharge TaxExchangeRate PricingExchangeRate "
    "PaymentExchangeRate PaymentAlternativeExchangeRate TaxTotal WithholdingTaxTotal LegalMonetaryTotal "
    "InvoiceLine".split(),
    "CreditNote": "UBLVersionID CustomizationID ProfileID ProfileExecutionID ID CopyIndicator UUID IssueDate IssueTime "
    "TaxPointDate CreditNoteTypeCode Note DocumentCurrencyCode TaxCurrencyCode PricingCurrencyCode "
    "PaymentCurrencyCode PaymentAlternativeCurrencyCode AccountingCostCode AccountingCost LineCountNumeric "
    "BuyerReference InvoicePeriod DiscrepancyResponse OrderReference BillingReference DespatchDocumentReference "
    "ReceiptDocumentReference ContractDocumentReference AdditionalDocumentReference StatementDocumentReference "
    "OriginatorDocumentReference Signature AccountingSupplierParty AccountingCustomerParty PayeeParty "
    "BuyerCustomerParty SellerSupplierParty TaxRepresentativeParty Delivery DeliveryTerms PaymentMeans "
    "PaymentTerms TaxExchangeRate PricingExchangeRate PaymentExchangeRate PaymentAlternativeExchangeRate "
    "AllowanceCharge TaxTotal LegalMonetaryTotal CreditNoteLine".split(),
}
NESTED_SEQUENCES = {
    "Party": "MarkCareIndicator MarkAttentionIndicator WebsiteURI LogoReferenceID EndpointID "
    "IndustryClassificationCode PartyIdentification PartyName Language PostalAddress PhysicalLocation "
    "PartyTaxScheme PartyLegalEntity "
    "Contact".split(),
    "PostalAddress": "ID AddressTypeCode AddressFormatCode Postbox Floor Room StreetName AdditionalStreetName "
    "BlockName BuildingName BuildingNumber InhouseMail Department MarkAttention MarkCare PlotIdentification "
    "CitySubdivisionName CityName PostalZone CountrySubentity CountrySubentityCode Region District "
    "TimezoneOffset AddressLine Country LocationCoordinate".split(),
    "PaymentMeans": "ID PaymentMeansCode PaymentDueDate PaymentChannelCode InstructionID InstructionNote PaymentID "
    "CardAccount PayerFinancialAccount PayeeFinancialAccount CreditAccount PaymentMandate".split(),
    "TaxCategory": "ID Name Percent BaseUnitMeasure PerUnitAmount TaxExemptionReasonCode TaxExemptionReason "
    "TierRange TierRatePercent TaxScheme".split(),
    "ClassifiedTaxCategory": "ID Name Percent BaseUnitMeasure PerUnitAmount TaxExemptionReasonCode "
    "TaxExemptionReason TierRange TierRatePercent TaxScheme".split(),
    "TaxSubtotal": "TaxableAmount TaxAmount CalculationSequenceNumeric TransactionCurrencyTaxAmount Percent "
    "BaseUnitMeasure PerUnitAmount TierRange TierRatePercent TaxCategory".split(),
    "LegalMonetaryTotal": "LineExtensionAmount TaxExclusiveAmount TaxInclusiveAmount AllowanceTotalAmount "
    "ChargeTotalAmount PrepaidAmount PayableRoundingAmount PayableAmount".split(),
    "InvoiceLine": "ID UUID Note InvoicedQuantity LineExtensionAmount TaxPointDate AccountingCostCode "
    "AccountingCost PaymentPurposeCode FreeOfChargeIndicator InvoicePeriod OrderLineReference "
    "DespatchLineReference ReceiptLineReference BillingReference DocumentReference PricingReference "
    "OriginatorParty Delivery PaymentTerms AllowanceCharge TaxTotal WithholdingTaxTotal Item Price "
    "DeliveryTerms SubInvoiceLine ItemPriceExtension".split(),
    "CreditNoteLine": "ID UUID Note CreditedQuantity LineExtensionAmount TaxPointDate AccountingCostCode "
    "AccountingCost PaymentPurposeCode FreeOfChargeIndicator InvoicePeriod OrderLineReference "
    "DiscrepancyResponse DespatchLineReference ReceiptLineReference BillingReference DocumentReference "
    "PricingReference OriginatorParty Delivery TaxTotal AllowanceCharge Item Price DeliveryTerms "
    "SubCreditNoteLine ItemPriceExtension".split(),
    "Item": "Description PackQuantity PackSizeNumeric CatalogueIndicator Name HazardousRiskIndicator "
    "AdditionalInformation Keyword BrandName ModelName BuyersItemIdentification SellersItemIdentification "
    "ManufacturersItemIdentification StandardItemIdentification CatalogueItemIdentification "
    "AdditionalItemIdentification CatalogueDocumentReference ItemSpecificationDocumentReference OriginCountry "
    "CommodityClassification TransactionConditions HazardousItem ClassifiedTaxCategory AdditionalItemProperty "
    "ManufacturerParty InformationContentProviderParty OriginAddress ItemInstance Certificate Dimension".split(),
}
AMOUNT_TAGS = {
    "Amount",
    "BaseAmount",
    "PriceAmount",
    "TaxAmount",
    "TaxableAmount",
    "LineExtensionAmount",
    "TaxExclusiveAmount",
    "TaxInclusiveAmount",
    "AllowanceTotalAmount",
    "ChargeTotalAmount",
    "PrepaidAmount",
    "PayableRoundingAmount",
    "PayableAmount",
}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str


class Doc:
    """The parsed document with the few look-ups the rules share."""

    def __init__(self, xml: bytes):
        self.root = ET.fromstring(xml)  # noqa: S314 - our own rendered output, in tests
        self.kind = ROOTS.get(self.root.tag, "")
        self.line_tag = "CreditNoteLine" if self.kind == "CreditNote" else "InvoiceLine"
        self.qty_tag = "CreditedQuantity" if self.kind == "CreditNote" else "InvoicedQuantity"

    def find(self, path: str, el: ET.Element | None = None) -> ET.Element | None:
        return (self.root if el is None else el).find(path, NS)

    def findall(self, path: str, el: ET.Element | None = None) -> list[ET.Element]:
        return (self.root if el is None else el).findall(path, NS)

    def text(self, path: str, el: ET.Element | None = None) -> str:
        found = self.find(path, el)
        return (found.text or "").strip() if found is not None else ""

    def lines(self) -> list[ET.Element]:
        return self.findall(f"cac:{self.line_tag}")

    def subtotals(self) -> list[ET.Element]:
        return self.findall("cac:TaxTotal/cac:TaxSubtotal")

    def seller(self) -> ET.Element | None:
        return self.find("cac:AccountingSupplierParty/cac:Party")

    def buyer(self) -> ET.Element | None:
        return self.find("cac:AccountingCustomerParty/cac:Party")

    def tax_scheme_id(self, party: ET.Element | None, scheme: str) -> str:
        if party is None:
            return ""
        for pts in self.findall("cac:PartyTaxScheme", party):
            if self.text("cac:TaxScheme/cbc:ID", pts) == scheme:
                return self.text("cbc:CompanyID", pts)
        return ""

    def supplier_country(self) -> str:
        """The Schematron's $supplierCountry: the VAT id's prefix, else the postal country."""
        vat = self.tax_scheme_id(self.seller(), "VAT")
        if vat:
            return vat[:2].upper()
        return self.text(
            "cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode"
        ).upper()

    def line_categories(self) -> list[tuple[ET.Element, str, Decimal | None]]:
        out = []
        for line in self.lines():
            cat = self.find("cac:Item/cac:ClassifiedTaxCategory", line)
            code = self.text("cbc:ID", cat) if cat is not None else ""
            out.append((line, code, dec(self.text("cbc:Percent", cat)) if cat is not None else None))
        return out


def dec(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except (InvalidOperation, TypeError):
        return None


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def mod11(number: str) -> bool:
    """The Schematron's u:mod11 (weights 2–7 from the right; Norwegian org numbers)."""
    if not re.fullmatch(r"[0-9]+", number) or int(number) == 0:
        return False
    body, check = number[:-1], int(number[-1])
    total = sum(int(d) * (i % 6 + 2) for i, d in enumerate(reversed(body)))
    return (11 - total % 11) % 11 == check


def luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


RULES: list[Callable[[Doc], list[Violation]]] = []


def rule(fn: Callable[[Doc], list[Violation]]) -> Callable[[Doc], list[Violation]]:
    RULES.append(fn)
    return fn


def v(rule_id: str, message: str) -> list[Violation]:
    return [Violation(rule_id, message)]


# ---- structure ---------------------------------------------------------------------------------


@rule
def ubl_root(d: Doc) -> list[Violation]:
    return [] if d.kind else v("UBL-ROOT", f"root {d.root.tag} is neither a UBL 2.1 Invoice nor CreditNote")


@rule
def ubl_sequence(d: Doc) -> list[Violation]:
    """Children in the UBL 2.1 schema order (what the XSD would reject)."""
    out: list[Violation] = []

    def check(el: ET.Element, sequence: list[str], where: str) -> None:
        last = -1
        for child in el:
            name = local(child.tag)
            if name not in sequence:
                out.append(Violation("UBL-XSD", f"{where}: unexpected element {name}"))
                continue
            pos = sequence.index(name)
            if pos < last:
                out.append(Violation("UBL-XSD", f"{where}: {name} is out of the schema order"))
            last = max(last, pos)

    if d.kind:
        check(d.root, ROOT_SEQUENCE[d.kind], d.kind)
    for el in d.root.iter():
        name = local(el.tag)
        if name in NESTED_SEQUENCES and len(el):
            check(el, NESTED_SEQUENCES[name], name)
    return out


@rule
def r008_no_empty_elements(d: Doc) -> list[Violation]:
    return [
        Violation("PEPPOL-EN16931-R008", f"empty element {local(el.tag)}")
        for el in d.root.iter()
        if len(el) == 0 and not (el.text or "").strip()
    ]


# ---- document level (BR-01..BR-16, Peppol R00x) -----------------------------------------------


@rule
def mandatory_document_elements(d: Doc) -> list[Violation]:
    type_tag = "cbc:CreditNoteTypeCode" if d.kind == "CreditNote" else "cbc:InvoiceTypeCode"
    required = [
        ("BR-01", "cbc:CustomizationID", "Specification identifier"),
        ("BR-02", "cbc:ID", "Invoice number"),
        ("BR-03", "cbc:IssueDate", "Issue date"),
        ("BR-04", type_tag, "Invoice type code"),
        ("BR-05", "cbc:DocumentCurrencyCode", "Invoice currency code"),
        ("BR-06", "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName", "Seller name"),
        ("BR-07", "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName", "Buyer name"),
        ("BR-08", "cac:AccountingSupplierParty/cac:Party/cac:PostalAddress", "Seller postal address"),
        (
            "BR-09",
            "cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode",
            "Seller country code",
        ),
        ("BR-10", "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress", "Buyer postal address"),
        (
            "BR-11",
            "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode",
            "Buyer country code",
        ),
        ("BR-12", "cac:LegalMonetaryTotal/cbc:LineExtensionAmount", "Sum of Invoice line net amount"),
        ("BR-13", "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", "Invoice total amount without VAT"),
        ("BR-14", "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "Invoice total amount with VAT"),
        ("BR-15", "cac:LegalMonetaryTotal/cbc:PayableAmount", "Amount due for payment"),
        ("PEPPOL-EN16931-R001", "cbc:ProfileID", "Business process"),
        ("PEPPOL-EN16931-R010", "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", "Buyer electronic address"),
        ("PEPPOL-EN16931-R020", "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", "Seller electronic address"),
    ]
    out = [Violation(rid, f"{what} missing") for rid, path, what in required if d.find(path) is None]
    if not d.lines():
        out.append(Violation("BR-16", "an Invoice shall have at least one line"))
    return out


@rule
def r004_customization(d: Doc) -> list[Violation]:
    if not d.text("cbc:CustomizationID").startswith(CUSTOMIZATION_ID):
        return v("PEPPOL-EN16931-R004", f"CustomizationID must be {CUSTOMIZATION_ID}")
    return []


@rule
def r007_profile(d: Doc) -> list[Violation]:
    if not re.fullmatch(r"urn:fdc:peppol\.eu:2017:poacc:billing:[0-9]{2}:1\.0", d.text("cbc:ProfileID")):
        return v("PEPPOL-EN16931-R007", "ProfileID must be urn:fdc:peppol.eu:2017:poacc:billing:NN:1.0")
    return []


@rule
def r002_one_note(d: Doc) -> list[Violation]:
    return v("PEPPOL-EN16931-R002", "more than one document note") if len(d.findall("cbc:Note")) > 1 else []


@rule
def r003_buyer_reference(d: Doc) -> list[Violation]:
    if d.text("cbc:BuyerReference") or d.text("cac:OrderReference/cbc:ID"):
        return []
    return v("PEPPOL-EN16931-R003", "a buyer reference or purchase order reference must be provided")


@rule
def r053_one_tax_total(d: Doc) -> list[Violation]:
    with_subtotals = [t for t in d.findall("cac:TaxTotal") if d.find("cac:TaxSubtotal", t) is not None]
    out = []
    if len(with_subtotals) != 1:
        out += v("PEPPOL-EN16931-R053", f"{len(with_subtotals)} TaxTotal with subtotals, expected 1")
    if not d.subtotals():
        out += v("BR-CO-18", "no VAT breakdown")
    return out


@rule
def type_codes(d: Doc) -> list[Violation]:
    if d.kind == "Invoice" and d.text("cbc:InvoiceTypeCode") not in INVOICE_TYPE_CODES:
        return v("PEPPOL-EN16931-P0100", f"invoice type code {d.text('cbc:InvoiceTypeCode')!r} not allowed")
    if d.kind == "CreditNote" and d.text("cbc:CreditNoteTypeCode") not in CREDIT_NOTE_TYPE_CODES:
        return v("PEPPOL-EN16931-P0101", f"credit note type code {d.text('cbc:CreditNoteTypeCode')!r} not allowed")
    return []


@rule
def f001_dates(d: Doc) -> list[Violation]:
    out = []
    for el in d.root.iter():
        if local(el.tag) in {"IssueDate", "DueDate", "PaymentDueDate", "TaxPointDate", "StartDate", "EndDate"}:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", (el.text or "").strip()):
                out.append(Violation("PEPPOL-EN16931-F001", f"{local(el.tag)} {el.text!r} is not YYYY-MM-DD"))
    return out


@rule
def periods(d: Doc) -> list[Violation]:
    out = []
    doc_start, doc_end = d.text("cac:InvoicePeriod/cbc:StartDate"), d.text("cac:InvoicePeriod/cbc:EndDate")
    if doc_start and doc_end and doc_end < doc_start:
        out += v("BR-29", "invoice period ends before it starts")
    for line in d.lines():
        start, end = d.text("cac:InvoicePeriod/cbc:StartDate", line), d.text("cac:InvoicePeriod/cbc:EndDate", line)
        lid = d.text("cbc:ID", line)
        if start and end and end < start:
            out += v("BR-30", f"line {lid}: period ends before it starts")
        if doc_start and start and start < doc_start:
            out += v("PEPPOL-EN16931-R110", f"line {lid}: period starts before the invoice period")
        if doc_end and end and end > doc_end:
            out += v("PEPPOL-EN16931-R111", f"line {lid}: period ends after the invoice period")
    return out


@rule
def credit_note_reference(d: Doc) -> list[Violation]:
    refs = d.findall("cac:BillingReference/cac:InvoiceDocumentReference")
    return [Violation("BR-55", "preceding invoice reference without an ID") for r in refs if not d.text("cbc:ID", r)]


# ---- parties ----------------------------------------------------------------------------------


@rule
def endpoint_schemes(d: Doc) -> list[Violation]:
    out = []
    for party in (d.seller(), d.buyer()):
        ep = d.find("cbc:EndpointID", party) if party is not None else None
        if ep is None:
            continue
        scheme = ep.get("schemeID", "")
        if not scheme:
            out += v("BR-62" if party is d.seller() else "BR-63", "electronic address without a scheme identifier")
        elif scheme not in EAS:
            out += v("PEPPOL-EN16931-CL008", f"EndpointID scheme {scheme!r} not in the EAS code list")
    return out


@rule
def org_number_checksums(d: Doc) -> list[Violation]:
    """PEPPOL-COMMON-R041 (0192: nine digits, MOD11) and R049 (0007: ten digits, Luhn)."""
    out = []
    for el in d.root.iter():
        name = local(el.tag)
        parent_ok = name in {"EndpointID", "CompanyID"} or name == "ID"
        if not parent_ok:
            continue
        value, scheme = (el.text or "").strip(), el.get("schemeID", "")
        if scheme == "0192" and not (re.fullmatch(r"[0-9]{9}", value) and mod11(value)):
            out += v("PEPPOL-COMMON-R041", f"{name} {value!r}: not a valid Norwegian organisation number")
        if scheme == "0007" and not (re.fullmatch(r"[0-9]{10}", value) and luhn(value)):
            out += v("PEPPOL-COMMON-R049", f"{name} {value!r}: not a valid Swedish organisation number")
    return out


@rule
def countries(d: Doc) -> list[Violation]:
    return [
        Violation("BR-CL-14", f"country code {el.text!r} not in ISO 3166-1")
        for el in d.findall(".//cac:Country/cbc:IdentificationCode")
        if (el.text or "").strip() not in ISO3166
    ]


@rule
def vat_identifier_prefix(d: Doc) -> list[Violation]:
    """BR-CO-09: a VAT identifier starts with an ISO 3166 country code (EL for Greece)."""
    out = []
    for party in (d.seller(), d.buyer()):
        vat = d.tax_scheme_id(party, "VAT")
        if vat and not (vat[:2] in ISO3166 or vat[:2] == "EL"):
            out += v("BR-CO-09", f"VAT identifier {vat!r} has no country prefix")
    return out


@rule
def norway(d: Doc) -> list[Violation]:
    """NO-R-001 (seller VAT id NO + valid org number + MVA) and NO-R-002 (Foretaksregisteret)."""
    if d.supplier_country() != "NO":
        return []
    out = []
    seller = d.seller()
    vat = d.tax_scheme_id(seller, "VAT")
    if vat.startswith("NO") and not (re.fullmatch(r"NO[0-9]{9}MVA", vat) and mod11(vat[2:11])):
        out += v("NO-R-001", f"Norwegian seller VAT id {vat!r} must be NO + valid org number + MVA")
    if d.tax_scheme_id(seller, "TAX") != "Foretaksregisteret":
        out += v("NO-R-002", "Norwegian seller must state 'Foretaksregisteret' (PartyTaxScheme TAX)")
    return out


# ---- payment ----------------------------------------------------------------------------------


@rule
def payment(d: Doc) -> list[Violation]:
    out = []
    for means in d.findall("cac:PaymentMeans"):
        code = d.text("cbc:PaymentMeansCode", means)
        if not code:
            out += v("BR-49", "payment means without a type code")
        elif code not in UNCL4461_SUBSET:
            out += v("BR-CL-16", f"payment means code {code!r} not in UNCL4461")
        if code in {"30", "58"} and not d.text("cac:PayeeFinancialAccount/cbc:ID", means):
            out += v("BR-61", "credit transfer without the payment account identifier")
        if code in {"49", "59"} and not d.text("cac:PaymentMandate/cbc:ID", means):
            out += v("PEPPOL-EN16931-R061", "direct debit without a mandate reference")
    payable = dec(d.text("cac:LegalMonetaryTotal/cbc:PayableAmount"))
    has_due = d.text("cbc:DueDate") or d.text("cac:PaymentMeans/cbc:PaymentDueDate")
    if payable is not None and payable > 0 and not (has_due or d.text("cac:PaymentTerms/cbc:Note")):
        out += v("BR-CO-25", "a positive amount due needs a due date or payment terms")
    return out


# ---- amounts and code lists -------------------------------------------------------------------


@rule
def amounts(d: Doc) -> list[Violation]:
    """R051/BR-CL-04/CL007 (currency) and BR-DEC (two decimals)."""
    out = []
    currency = d.text("cbc:DocumentCurrencyCode")
    if currency not in ISO4217:
        out += v("BR-CL-04", f"currency {currency!r} not in ISO 4217")
    for el in d.root.iter():
        name = local(el.tag)
        if name not in AMOUNT_TAGS:
            continue
        cid = el.get("currencyID", "")
        if cid not in ISO4217:
            out += v("PEPPOL-EN16931-CL007", f"{name}: currencyID {cid!r} not in ISO 4217")
        elif cid != currency:
            out += v("PEPPOL-EN16931-R051", f"{name}: currencyID {cid} differs from {currency}")
        text = (el.text or "").strip()
        if dec(text) is None:
            out += v("UBL-XSD", f"{name}: {text!r} is not a decimal")
        elif name != "PriceAmount" and "." in text and len(text.split(".")[1]) > 2:
            out += v("BR-DEC", f"{name} {text} has more than two decimals")
    return out


@rule
def lines(d: Doc) -> list[Violation]:
    out = []
    for line in d.lines():
        lid = d.text("cbc:ID", line)
        qty_el = d.find(f"cbc:{d.qty_tag}", line)
        if not lid:
            out += v("BR-21", "line without an identifier")
        if qty_el is None:
            out += v("BR-22", f"line {lid}: no quantity")
        elif not qty_el.get("unitCode"):
            out += v("BR-23", f"line {lid}: no unit code")
        elif qty_el.get("unitCode") not in REC20_SUBSET:
            out += v("BR-CL-23", f"line {lid}: unit code {qty_el.get('unitCode')!r} not in UN/ECE rec 20")
        net = dec(d.text("cbc:LineExtensionAmount", line))
        if net is None:
            out += v("BR-24", f"line {lid}: no net amount")
        if not d.text("cac:Item/cbc:Name", line):
            out += v("BR-25", f"line {lid}: no item name")
        price = dec(d.text("cac:Price/cbc:PriceAmount", line))
        if price is None:
            out += v("BR-26", f"line {lid}: no net price")
        elif price < 0:
            out += v("BR-27", f"line {lid}: negative price")
        base = dec(d.text("cac:Price/cbc:BaseQuantity", line) or "1")
        if base is None or base <= 0:
            out += v("PEPPOL-EN16931-R121", f"line {lid}: base quantity must be above zero")
            base = Decimal(1)
        qty = dec(qty_el.text or "") if qty_el is not None else Decimal(1)
        if net is not None and price is not None and qty is not None:
            if abs(net - qty * price / base) > Decimal("0.02"):
                out += v("PEPPOL-EN16931-R120", f"line {lid}: {net} ≠ {qty} × {price}")
        if d.find("cac:Item/cac:ClassifiedTaxCategory/cbc:ID", line) is None:
            out += v("BR-CO-04", f"line {lid}: no VAT category")
    return out


@rule
def tax_categories(d: Doc) -> list[Violation]:
    """BR-CL-17/18 (UNCL5305), TaxScheme VAT, and the exemption code ↔ category pairs (P0104..P0111)."""
    out = []
    for cat in d.findall(".//cac:TaxCategory") + d.findall(".//cac:ClassifiedTaxCategory"):
        code = d.text("cbc:ID", cat)
        rid = "BR-CL-17" if local(cat.tag) == "TaxCategory" else "BR-CL-18"
        if code not in UNCL5305:
            out += v(rid, f"VAT category {code!r} not in UNCL5305")
        if d.text("cac:TaxScheme/cbc:ID", cat) != "VAT":
            out += v("BR-CO-VAT", f"{local(cat.tag)} {code}: TaxScheme must be VAT")
        reason_code = d.text("cbc:TaxExemptionReasonCode", cat).upper()
        if reason_code in EXEMPTION_CATEGORY:
            pid, expected = EXEMPTION_CATEGORY[reason_code]
            if code != expected:
                out += v(pid, f"exemption code {reason_code} requires category {expected}, not {code}")
    return out


# ---- totals (BR-CO) ---------------------------------------------------------------------------


def _total(d: Doc, tag: str) -> Decimal | None:
    return dec(d.text(f"cac:LegalMonetaryTotal/cbc:{tag}"))


@rule
def totals(d: Doc) -> list[Violation]:
    out = []
    line_sum = sum((dec(d.text("cbc:LineExtensionAmount", ln)) or Decimal(0) for ln in d.lines()), Decimal(0))
    allowances = sum(
        (
            dec(d.text("cbc:Amount", a)) or 0
            for a in d.findall("cac:AllowanceCharge")
            if d.text("cbc:ChargeIndicator", a) == "false"
        ),
        Decimal(0),
    )
    charges = sum(
        (
            dec(d.text("cbc:Amount", a)) or 0
            for a in d.findall("cac:AllowanceCharge")
            if d.text("cbc:ChargeIndicator", a) == "true"
        ),
        Decimal(0),
    )
    line_ext, excl, incl, payable = (
        _total(d, t) for t in ("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount", "PayableAmount")
    )
    prepaid = _total(d, "PrepaidAmount") or Decimal(0)
    rounding = _total(d, "PayableRoundingAmount") or Decimal(0)
    tax_totals = [t for t in d.findall("cac:TaxTotal") if d.find("cac:TaxSubtotal", t) is not None]
    vat = dec(d.text("cbc:TaxAmount", tax_totals[0])) if tax_totals else None
    if line_ext is not None and line_ext != cents(line_sum):
        out += v("BR-CO-10", f"LineExtensionAmount {line_ext} ≠ sum of line net amounts {cents(line_sum)}")
    if line_ext is not None and excl is not None and excl != cents(line_ext - allowances + charges):
        out += v("BR-CO-13", f"TaxExclusiveAmount {excl} ≠ {line_ext} − {allowances} + {charges}")
    if tax_totals:
        sub_sum = sum(
            (dec(d.text("cbc:TaxAmount", s)) or Decimal(0) for s in d.findall("cac:TaxSubtotal", tax_totals[0])),
            Decimal(0),
        )
        if vat is None or vat != cents(sub_sum):
            out += v("BR-CO-14", f"TaxTotal {vat} ≠ sum of the VAT category amounts {sub_sum}")
    if excl is not None and incl is not None and incl != cents(excl + (vat or Decimal(0))):
        out += v("BR-CO-15", f"TaxInclusiveAmount {incl} ≠ {excl} + {vat}")
    if incl is not None and payable is not None and payable != cents(incl - prepaid + rounding):
        out += v("BR-CO-16", f"PayableAmount {payable} ≠ {incl} − {prepaid} + {rounding}")
    return out


@rule
def vat_breakdown(d: Doc) -> list[Violation]:
    """BR-45..48, BR-CO-17, and the category rules BR-S-*, BR-E-*, BR-AE-* (01, 02, 05, 08, 09, 10)."""
    out: list[Violation] = []
    # BT-31 (VAT id) or BT-32 (tax registration id) of the seller
    seller_tax_id = bool(d.findall("cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID"))
    buyer = d.buyer()
    buyer_id = bool(d.tax_scheme_id(buyer, "VAT")) or (
        buyer is not None and bool(d.text("cac:PartyLegalEntity/cbc:CompanyID", buyer))
    )
    line_cats = d.line_categories()
    subtotals = []
    for sub in d.subtotals():
        cat = d.find("cac:TaxCategory", sub)
        taxable, tax = dec(d.text("cbc:TaxableAmount", sub)), dec(d.text("cbc:TaxAmount", sub))
        code = d.text("cbc:ID", cat) if cat is not None else ""
        rate = dec(d.text("cbc:Percent", cat)) if cat is not None else None
        if taxable is None:
            out += v("BR-45", "VAT breakdown without a taxable amount")
        if tax is None:
            out += v("BR-46", "VAT breakdown without a VAT amount")
        if not code:
            out += v("BR-47", "VAT breakdown without a category code")
        if rate is None and code != "O":
            out += v("BR-48", f"VAT breakdown {code} without a rate")
        if taxable is not None and tax is not None and rate is not None and tax != cents(taxable * rate / 100):
            out += v("BR-CO-17", f"VAT {code} {rate} %: {tax} ≠ {taxable} × {rate} / 100")
        subtotals.append((code, rate, taxable, tax, cat))

    def category_rules(prefix: str, code: str, zero_rate: bool, needs_buyer: bool) -> None:
        used = [(ln, r) for ln, c, r in line_cats if c == code]
        groups = [s for s in subtotals if s[0] == code]
        if used and (len(groups) != 1 if code != "S" else not groups):
            out.extend(
                v(
                    f"{prefix}-01",
                    f"lines in category {code} need {'exactly one' if code != 'S' else 'a'} {code} VAT breakdown",
                )
            )
        if used and not seller_tax_id:
            out.extend(v(f"{prefix}-02", f"category {code} needs the seller's VAT identifier"))
        if used and needs_buyer and not buyer_id:
            out.extend(v(f"{prefix}-02", f"category {code} needs the buyer's VAT or legal registration identifier"))
        for ln, r in used:
            if r is None or (r != 0 if zero_rate else r <= 0):
                out.extend(v(f"{prefix}-05", f"line {d.text('cbc:ID', ln)}: rate {r} not allowed for category {code}"))
        for _code, rate, taxable, tax, cat in groups:
            nets = sum(
                (
                    dec(d.text("cbc:LineExtensionAmount", ln)) or Decimal(0)
                    for ln, cc, rr in line_cats
                    if cc == code and rr == rate
                ),
                Decimal(0),
            )
            if taxable is not None and taxable != cents(nets):
                out.extend(v(f"{prefix}-08", f"{code} {rate} %: taxable {taxable} ≠ sum of lines {nets}"))
            expected = (
                Decimal(0)
                if zero_rate
                else (cents(taxable * rate / 100) if taxable is not None and rate is not None else None)
            )
            if tax is not None and expected is not None and tax != expected:
                out.extend(v(f"{prefix}-09", f"{code} {rate} %: VAT {tax} ≠ {expected}"))
            has_reason = bool(d.text("cbc:TaxExemptionReasonCode", cat) or d.text("cbc:TaxExemptionReason", cat))
            if code == "S" and has_reason:
                out.extend(v("BR-S-10", "standard rated breakdown must not have an exemption reason"))
            if code in {"E", "AE"} and not has_reason:
                out.extend(v(f"{prefix}-10", f"{code} breakdown needs an exemption reason code or text"))

    category_rules("BR-S", "S", zero_rate=False, needs_buyer=False)
    category_rules("BR-E", "E", zero_rate=True, needs_buyer=False)
    category_rules("BR-AE", "AE", zero_rate=True, needs_buyer=True)
    return out


def check(xml: bytes) -> list[Violation]:
    """Every rule over ``xml``; an empty list means no rule here objects."""
    d = Doc(xml)
    out: list[Violation] = []
    for fn in RULES:
        out.extend(fn(d))
    return out


def rule_ids(xml: bytes) -> set[str]:
    return {violation.rule for violation in check(xml)}
