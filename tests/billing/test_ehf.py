"""EHF (Peppol BIS Billing 3.0): the rendered XML carries the right values and passes every rule in
``ehf_rules``; broken documents make the right rule fire. Pure: no database."""

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from billing.document import DocumentLine, InvoiceDocument, Party, vat_breakdown
from billing.ehf import CUSTOMIZATION_ID, PROFILE_ID, EhfError, render_ehf
from tests.billing.ehf_rules import NS, check, rule_ids

D = Decimal
INV = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}"
CN = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}"

SPEKTER = Party(
    name="Spekter Skole AS",
    org_number="923609016",
    address_line="Kongens gate 1",
    postal_code="0153",
    city="Oslo",
    vat_registered=True,
    in_foretaksregisteret=True,
    peppol_id="0192:923609016",
    email="faktura@spekter.example",
    bank_account="15032080000",
)
STANDARD_NORGE = Party(
    name="Standard Online AS",
    org_number="974760673",
    address_line="Lysaker Torg 12",
    postal_code="1366",
    city="Lysaker",
    vat_registered=True,
    in_foretaksregisteret=True,
    bank_account="60010612345",
)
KOMMUNE = Party(
    name="Bergen kommune",
    org_number="987654325",
    address_line="Postboks 7700",
    postal_code="5020",
    city="Bergen",
    vat_registered=True,
    peppol_id="0192:987654325",
)
SWEDISH_BUYER = Party(
    name="Läromedel Norden AB",
    org_number="",
    country="SE",
    address_line="Drottninggatan 5",
    postal_code="111 51",
    city="Stockholm",
    peppol_id="0007:5560360793",
)
EXEMPT_BUYER = Party(
    name="Stiftelsen Lesesenteret",
    org_number="940192226",
    address_line="Postboks 8900",
    postal_code="4036",
    city="Stavanger",
)


def line(n, description, net, *, qty="1", unit="ANN", cat="S", start=dt.date(2026, 8, 1), end=dt.date(2027, 7, 31)):
    rate = D(25) if cat == "S" else D(0)  # O too: the model keeps 0; the EHF leaves the rate out
    net = D(net)
    return DocumentLine(
        number=n,
        description=description,
        explanation=f"{description}: forklaring",
        explanation_en=f"{description}: explanation",
        quantity=D(qty),
        unit_code=unit,
        unit_price=net / D(qty),
        net=net,
        vat_category=cat,
        vat_rate=rate,
        period_start=start,
        period_end=end,
    )


def document(lines, *, seller=SPEKTER, buyer=KOMMUNE, kind="invoice", **extra):
    fields = dict(
        kind=kind,
        number="2026-0001",
        issue_date=dt.date(2026, 8, 1),
        due_date=dt.date(2026, 8, 31),
        currency="NOK",
        seller=seller,
        buyer=buyer,
        buyer_reference="Oppvekst, ressursnr. 4011",
        kid="20260000013",
        lines=tuple(lines),
        period_start=min(ln.period_start for ln in lines),
        period_end=max(ln.period_end for ln in lines),
        order_reference="AVT-000-17",
        payment_terms="30 dager netto",
        vat_breakdown=vat_breakdown(lines),
    )
    fields.update(extra)
    return InvoiceDocument(**fields)


def spekter_invoice(**extra):
    return document(
        [
            line(1, "Spekter grunnskole, 200–399 elever", "2892.00"),
            line(2, "Spekter tillegg, kartlegging", "4875.00"),
            line(3, "Spekter lisens per elev", "18525.00", qty="285", unit="EA"),
        ],
        **extra,
    )


def standard_norge_invoice():
    q = dict(start=dt.date(2026, 4, 1), end=dt.date(2026, 12, 31), unit="QAN", qty="3")
    return document(
        [line(1, "Standardsamling, lisens", "49612.50", **q), line(2, "Offline-tilgang", "4961.25", **q)],
        seller=STANDARD_NORGE,
        number="SN-2026-0007",
        issue_date=dt.date(2026, 5, 10),
        due_date=dt.date(2026, 6, 9),
    )


def reverse_charge_invoice():
    return document([line(1, "Spekter lisens, Sverige", "12000.00", cat="AE")], buyer=SWEDISH_BUYER, currency="NOK")


def exempt_invoice():
    return document([line(1, "Spekter lisens", "5000.00", cat="E")], buyer=EXEMPT_BUYER)


def credit_note():
    return document(
        [line(1, "Spekter tillegg, kartlegging (kreditert)", "4875.00")],
        kind="credit_note",
        number="2026-0002",
        issue_date=dt.date(2026, 9, 15),
        due_date=None,
        credited_number="2026-0001",
        credited_issue_date=dt.date(2026, 8, 1),
    )


def interest_invoice(**extra):
    """Late-payment interest and a reminder fee: outside the scope of VAT (category O), from a VAT-registered
    seller (its MVA id is left out of the EHF, BR-O-02) to a VAT-registered kommune."""
    interest = line(
        1,
        "Forsinkelsesrente faktura 10042, 16.01.2025–01.03.2025",
        "154.11",
        unit="EA",
        cat="O",
        start=dt.date(2025, 1, 16),
        end=dt.date(2025, 3, 1),
    )
    interest = dataclasses.replace(
        interest,
        explanation="10 000,00 kr × 12,5 % × 45/365 = 154,11 kr (16.01.2025–01.03.2025)",
        explanation_en="NOK 10,000.00 × 12.5% × 45/365 = NOK 154.11 (2025-01-16 to 2025-03-01)",
    )
    fee = dataclasses.replace(
        line(2, "Purregebyr faktura 10042, purring 29.01.2025", "35.00", unit="EA", cat="O"),
        period_start=None,
        period_end=None,
    )
    doc = document([interest], number="2025-0107", issue_date=dt.date(2025, 3, 3), due_date=dt.date(2025, 4, 2))
    return dataclasses.replace(doc, lines=(interest, fee), vat_breakdown=vat_breakdown([interest, fee]), **extra)


def parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 - our own rendered output


def text(root, path):
    return root.find(path, NS).text


def tamper(xml: bytes, path: str, value: str | None) -> bytes:
    """The XML with one element's text replaced (or the element removed when value is None)."""
    root = parse(xml)
    el = root.find(path, NS)
    assert el is not None, path
    if value is None:
        parent = root.find(path.rsplit("/", 1)[0], NS) if "/" in path else root
        parent.remove(el)
    else:
        el.text = value
    return ET.tostring(root)


# ---- valid documents pass every rule ----------------------------------------------------------

VALID = {
    "spekter": spekter_invoice,
    "standard_norge_first_year": standard_norge_invoice,
    "reverse_charge_sweden": reverse_charge_invoice,
    "exempt_buyer": exempt_invoice,
    "credit_note": credit_note,
    "interest_not_subject_to_vat": interest_invoice,
}


@pytest.mark.parametrize("name", VALID)
def test_valid_documents_pass_every_rule(name):
    # given a document built as the billing service would; when rendered; then no rule objects
    assert check(render_ehf(VALID[name]())) == []


def test_spekter_invoice_header_parties_and_totals():
    root = parse(render_ehf(spekter_invoice()))
    assert root.tag == f"{INV}Invoice"
    assert text(root, "cbc:CustomizationID") == CUSTOMIZATION_ID
    assert text(root, "cbc:ProfileID") == PROFILE_ID
    assert [text(root, p) for p in ("cbc:ID", "cbc:IssueDate", "cbc:DueDate", "cbc:InvoiceTypeCode")] == [
        "2026-0001",
        "2026-08-01",
        "2026-08-31",
        "380",
    ]
    assert text(root, "cbc:BuyerReference") == "Oppvekst, ressursnr. 4011"
    assert text(root, "cac:OrderReference/cbc:ID") == "AVT-000-17"
    seller = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    endpoint = seller.find("cbc:EndpointID", NS)
    assert (endpoint.get("schemeID"), endpoint.text) == ("0192", "923609016")
    schemes = [
        (text(p, "cbc:CompanyID"), text(p, "cac:TaxScheme/cbc:ID")) for p in seller.findall("cac:PartyTaxScheme", NS)
    ]
    assert schemes == [("NO923609016MVA", "VAT"), ("Foretaksregisteret", "TAX")]
    legal = seller.find("cac:PartyLegalEntity/cbc:CompanyID", NS)
    assert (legal.get("schemeID"), legal.text) == ("0192", "923609016")
    buyer_ep = root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert (buyer_ep.get("schemeID"), buyer_ep.text) == ("0192", "987654325")
    means = root.find("cac:PaymentMeans", NS)
    assert [text(means, p) for p in ("cbc:PaymentMeansCode", "cbc:PaymentID", "cac:PayeeFinancialAccount/cbc:ID")] == [
        "30",
        "20260000013",
        "15032080000",
    ]
    assert text(root, "cac:PaymentTerms/cbc:Note") == "30 dager netto"
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "6573.00"
    sub = root.find("cac:TaxTotal/cac:TaxSubtotal", NS)
    assert [
        text(sub, p)
        for p in ("cbc:TaxableAmount", "cbc:TaxAmount", "cac:TaxCategory/cbc:ID", "cac:TaxCategory/cbc:Percent")
    ] == [
        "26292.00",
        "6573.00",
        "S",
        "25",
    ]
    totals = root.find("cac:LegalMonetaryTotal", NS)
    assert [(local.split("}")[1], el.text, el.get("currencyID")) for el in totals for local in [el.tag]] == [
        ("LineExtensionAmount", "26292.00", "NOK"),
        ("TaxExclusiveAmount", "26292.00", "NOK"),
        ("TaxInclusiveAmount", "32865.00", "NOK"),
        ("PayableAmount", "32865.00", "NOK"),
    ]


def test_spekter_invoice_lines():
    root = parse(render_ehf(spekter_invoice()))
    lines = root.findall("cac:InvoiceLine", NS)
    assert [text(ln, "cbc:LineExtensionAmount") for ln in lines] == ["2892.00", "4875.00", "18525.00"]
    third = lines[2]
    qty = third.find("cbc:InvoicedQuantity", NS)
    assert (qty.text, qty.get("unitCode")) == ("285", "EA")
    assert text(third, "cac:Price/cbc:PriceAmount") == "65.00"
    assert text(third, "cac:Item/cbc:Name") == "Spekter lisens per elev"
    assert text(third, "cac:Item/cbc:Description") == "Spekter lisens per elev: forklaring"
    assert [text(third, f"cac:InvoicePeriod/cbc:{t}") for t in ("StartDate", "EndDate")] == ["2026-08-01", "2027-07-31"]
    cat = third.find("cac:Item/cac:ClassifiedTaxCategory", NS)
    assert [text(cat, p) for p in ("cbc:ID", "cbc:Percent", "cac:TaxScheme/cbc:ID")] == ["S", "25", "VAT"]


def test_standard_norge_first_year_rounds_vat_once():
    root = parse(render_ehf(standard_norge_invoice()))
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "13643.44"  # 54 573.75 × 25 % = 13 643.4375
    assert text(root, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == "54573.75"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "68217.19"
    # a price with more decimals than the øre keeps them: 49 612.50 / 3 quarters
    assert text(root, "cac:InvoiceLine/cac:Price/cbc:PriceAmount") == "16537.50"
    assert root.find("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", NS).text == "974760673"


def test_reverse_charge_to_a_swedish_buyer():
    root = parse(render_ehf(reverse_charge_invoice()))
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    ep = buyer.find("cbc:EndpointID", NS)
    assert (ep.get("schemeID"), ep.text) == ("0007", "5560360793")
    assert text(buyer, "cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "SE"
    assert buyer.find("cac:PartyTaxScheme", NS) is None  # no Norwegian VAT id for a foreign buyer
    assert text(buyer, "cac:PartyLegalEntity/cbc:CompanyID") == "5560360793"  # BT-47, for BR-AE-02
    cat = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert [text(cat, p) for p in ("cbc:ID", "cbc:Percent", "cbc:TaxExemptionReasonCode")] == ["AE", "0", "VATEX-EU-AE"]
    assert text(cat, "cbc:TaxExemptionReason") == "Omvendt avgiftsplikt (reverse charge)"
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "0.00"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "12000.00"


def test_exempt_buyer_gets_category_e_with_a_reason_text_only():
    root = parse(render_ehf(exempt_invoice()))
    cat = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert [text(cat, p) for p in ("cbc:ID", "cbc:Percent", "cbc:TaxExemptionReason")] == [
        "E",
        "0",
        "Fritatt for merverdiavgift",
    ]
    # document.py's VATEX-EU-O belongs to category O (PEPPOL-EN16931-P0105): not sent with E
    assert cat.find("cbc:TaxExemptionReasonCode", NS) is None
    assert root.find("cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme", NS) is None


def test_credit_note_references_the_invoice():
    root = parse(render_ehf(credit_note()))
    assert root.tag == f"{CN}CreditNote"
    assert text(root, "cbc:CreditNoteTypeCode") == "381"
    assert root.find("cbc:DueDate", NS) is None
    ref = root.find("cac:BillingReference/cac:InvoiceDocumentReference", NS)
    assert [text(ref, "cbc:ID"), text(ref, "cbc:IssueDate")] == ["2026-0001", "2026-08-01"]
    line = root.find("cac:CreditNoteLine", NS)
    qty = line.find("cbc:CreditedQuantity", NS)
    assert (qty.text, qty.get("unitCode")) == ("1", "ANN")
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "6093.75"


def test_credit_note_due_date_goes_on_the_payment_means():
    root = parse(render_ehf(dataclasses.replace(credit_note(), due_date=dt.date(2026, 10, 15))))
    assert text(root, "cac:PaymentMeans/cbc:PaymentDueDate") == "2026-10-15"
    assert root.find("cbc:DueDate", NS) is None
    assert check(ET.tostring(root)) == []


# ---- broken documents make the right rule fire ------------------------------------------------


def test_wrong_line_extension_total_fires_br_co_10():
    xml = tamper(render_ehf(spekter_invoice()), "cac:LegalMonetaryTotal/cbc:LineExtensionAmount", "26293.00")
    assert "BR-CO-10" in rule_ids(xml)


def test_wrong_tax_total_fires_br_co_14_and_15():
    xml = tamper(render_ehf(spekter_invoice()), "cac:TaxTotal/cbc:TaxAmount", "6573.01")
    assert {"BR-CO-14", "BR-CO-15"} <= rule_ids(xml)


def test_wrong_category_tax_fires_br_co_17_and_br_s_09():
    xml = tamper(render_ehf(standard_norge_invoice()), "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount", "13643.43")
    assert {"BR-CO-17", "BR-S-09", "BR-CO-14"} <= rule_ids(xml)


def test_wrong_tax_exclusive_and_payable_fire_br_co_13_and_16():
    xml = render_ehf(spekter_invoice())
    assert "BR-CO-13" in rule_ids(tamper(xml, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", "26000.00"))
    assert "BR-CO-16" in rule_ids(tamper(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount", "32000.00"))


def test_wrong_line_net_fires_r120():
    xml = tamper(render_ehf(spekter_invoice()), "cac:InvoiceLine/cbc:LineExtensionAmount", "2892.05")
    assert {"PEPPOL-EN16931-R120", "BR-CO-10", "BR-S-08"} <= rule_ids(xml)


def test_bad_org_number_checksum_fires_common_r041():
    buyer = dataclasses.replace(KOMMUNE, org_number="987654321", peppol_id="0192:987654321")
    assert "PEPPOL-COMMON-R041" in rule_ids(render_ehf(spekter_invoice(buyer=buyer)))


def test_bad_swedish_org_number_fires_common_r049():
    buyer = dataclasses.replace(SWEDISH_BUYER, peppol_id="0007:5560360794")
    assert "PEPPOL-COMMON-R049" in rule_ids(render_ehf(document([line(1, "x", "100.00", cat="AE")], buyer=buyer)))


def test_missing_buyer_reference_and_order_reference_fires_r003():
    # The renderer refuses such a document (an access point would reject it) ...
    with pytest.raises(EhfError, match="R003"):
        render_ehf(spekter_invoice(buyer_reference="", order_reference=""))
    # ... and the checker catches it in a document that lost both.
    xml = tamper(render_ehf(spekter_invoice(order_reference="")), "cbc:BuyerReference", None)
    assert "PEPPOL-EN16931-R003" in rule_ids(xml)
    # either reference alone is enough
    assert "PEPPOL-EN16931-R003" not in rule_ids(render_ehf(spekter_invoice(buyer_reference="")))


def test_seller_without_foretaksregisteret_fires_no_r_002():
    seller = dataclasses.replace(SPEKTER, in_foretaksregisteret=False)
    assert rule_ids(render_ehf(spekter_invoice(seller=seller))) == {"NO-R-002"}


def test_malformed_norwegian_vat_id_fires_no_r_001():
    xml = render_ehf(spekter_invoice())
    path = "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID"
    assert "NO-R-001" in rule_ids(tamper(xml, path, "NO923609016"))
    assert "NO-R-001" in rule_ids(tamper(xml, path, "NO923609017MVA"))  # checksum


def test_seller_not_vat_registered_with_standard_rate_fires_br_s_02():
    seller = dataclasses.replace(SPEKTER, vat_registered=False, in_foretaksregisteret=False)
    assert "BR-S-02" in rule_ids(render_ehf(spekter_invoice(seller=seller)))


def test_reverse_charge_without_buyer_identifier_fires_br_ae_02():
    xml = render_ehf(reverse_charge_invoice())
    xml = tamper(xml, "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID", None)
    assert "BR-AE-02" in rule_ids(xml)


def test_reverse_charge_with_vat_fires_br_ae_09_and_missing_reason_fires_br_ae_10():
    xml = render_ehf(reverse_charge_invoice())
    assert "BR-AE-09" in rule_ids(tamper(xml, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount", "3000.00"))
    cat = "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
    no_reason = tamper(tamper(xml, f"{cat}/cbc:TaxExemptionReasonCode", None), f"{cat}/cbc:TaxExemptionReason", None)
    assert rule_ids(no_reason) == {"BR-AE-10"}


def test_exempt_line_with_a_rate_fires_br_e_05_and_missing_breakdown_fires_br_e_01():
    xml = render_ehf(exempt_invoice())
    assert "BR-E-05" in rule_ids(tamper(xml, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", "25"))
    assert "BR-E-01" in rule_ids(tamper(xml, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID", "S"))


def test_exemption_code_of_another_category_fires_p0105():
    xml = render_ehf(exempt_invoice())
    root = parse(xml)
    cat = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    code = ET.Element("{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}TaxExemptionReasonCode")
    code.text = "VATEX-EU-O"
    cat.insert(2, code)
    assert rule_ids(ET.tostring(root)) == {"PEPPOL-EN16931-P0105"}


def test_code_lists_fire():
    xml = render_ehf(spekter_invoice())
    assert {"BR-CL-04", "PEPPOL-EN16931-R051"} <= rule_ids(tamper(xml, "cbc:DocumentCurrencyCode", "NKR"))
    assert "BR-CL-16" in rule_ids(tamper(xml, "cac:PaymentMeans/cbc:PaymentMeansCode", "999"))
    assert "BR-CL-17" in rule_ids(tamper(xml, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID", "X"))
    assert "BR-CL-14" in rule_ids(
        tamper(xml, "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode", "XX")
    )
    assert "BR-CL-23" in rule_ids(render_ehf(document([line(1, "x", "10.00", unit="STK")])))
    root = parse(xml)
    root.find("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", NS).set("schemeID", "9999")
    assert "PEPPOL-EN16931-CL008" in rule_ids(ET.tostring(root))


def test_profile_customization_and_type_code_rules_fire():
    xml = render_ehf(spekter_invoice())
    assert "PEPPOL-EN16931-R004" in rule_ids(
        tamper(xml, "cbc:CustomizationID", "urn:www.cenbii.eu:transaction:biitrns010:ver2.0")
    )
    assert "PEPPOL-EN16931-R007" in rule_ids(tamper(xml, "cbc:ProfileID", "urn:www.cenbii.eu:profile:bii04:ver2.0"))
    assert "PEPPOL-EN16931-R001" in rule_ids(tamper(xml, "cbc:ProfileID", None))
    assert "PEPPOL-EN16931-P0100" in rule_ids(tamper(xml, "cbc:InvoiceTypeCode", "381"))


def test_missing_payment_account_fires_br_61_and_empty_element_fires_r008():
    xml = render_ehf(spekter_invoice())
    assert "BR-61" in rule_ids(tamper(xml, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID", None))
    assert "PEPPOL-EN16931-R008" in rule_ids(tamper(xml, "cbc:BuyerReference", ""))


def test_line_period_outside_the_invoice_period_fires_r110_r111():
    xml = render_ehf(spekter_invoice())
    assert "PEPPOL-EN16931-R110" in rule_ids(
        tamper(xml, "cac:InvoiceLine/cac:InvoicePeriod/cbc:StartDate", "2026-07-01")
    )
    assert "PEPPOL-EN16931-R111" in rule_ids(tamper(xml, "cac:InvoiceLine/cac:InvoicePeriod/cbc:EndDate", "2027-08-31"))


def test_line_delivered_before_the_invoice_period_widens_the_ehf_period():
    # given a quarterly invoice (17.03-16.06) that also bills support delivered on 04.02, as the
    # demo's billable support does (found by the official Peppol rules: PEPPOL-EN16931-R110)
    q = dict(start=dt.date(2025, 3, 17), end=dt.date(2025, 6, 16))
    support = line(
        2,
        "Konsulentbistand 04.02.2025",
        "8100.00",
        qty="6",
        unit="HUR",
        start=dt.date(2025, 2, 4),
        end=dt.date(2025, 2, 4),
    )
    main = line(1, "Piscator Standard, fastpris", "24000.00", unit="QAN", **q)
    doc = document([main, support], period_start=q["start"], period_end=q["end"])
    # when rendered; then the invoice period encloses every line, the line keeps its own date
    xml = render_ehf(doc)
    assert check(xml) == []
    root = parse(xml)
    assert text(root, "cac:InvoicePeriod/cbc:StartDate") == "2025-02-04"
    assert text(root, "cac:InvoicePeriod/cbc:EndDate") == "2025-06-16"
    assert root.findall("cac:InvoiceLine/cac:InvoicePeriod/cbc:StartDate", NS)[1].text == "2025-02-04"


def test_element_out_of_schema_order_is_caught():
    root = parse(render_ehf(spekter_invoice()))
    due = root.find("cbc:DueDate", NS)
    root.remove(due)
    root.append(due)  # after the lines
    assert "UBL-XSD" in rule_ids(ET.tostring(root))


def test_more_than_two_decimals_fires_br_dec():
    xml = tamper(render_ehf(spekter_invoice()), "cac:TaxTotal/cbc:TaxAmount", "6573.001")
    assert "BR-DEC" in rule_ids(xml)


# ---- what cannot be sent as EHF ---------------------------------------------------------------


def test_buyer_without_org_number_or_peppol_id_is_refused():
    buyer = dataclasses.replace(SWEDISH_BUYER, peppol_id="")
    with pytest.raises(EhfError, match="Peppol id or a Norwegian organisation number"):
        render_ehf(document([line(1, "x", "100.00", cat="AE")], buyer=buyer))


def test_invoice_without_lines_is_refused():
    doc = dataclasses.replace(spekter_invoice(), lines=())
    with pytest.raises(EhfError, match="BR-16"):
        render_ehf(doc)


def test_interest_invoice_is_category_o_without_rates_or_vat_ids():
    root = parse(render_ehf(interest_invoice()))
    cat = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert [text(cat, p) for p in ("cbc:ID", "cbc:TaxExemptionReasonCode", "cbc:TaxExemptionReason")] == [
        "O",
        "VATEX-EU-O",
        "Utenfor merverdiavgiftsområdet (not subject to VAT)",
    ]
    assert cat.find("cbc:Percent", NS) is None  # BR-48 lets O go without a rate
    assert len(root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)) == 1  # BR-O-01, BR-O-11
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "0.00"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "189.11"
    for item in root.findall("cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory", NS):
        assert text(item, "cbc:ID") == "O"
        assert item.find("cbc:Percent", NS) is None  # BR-O-05
    # BR-O-02: no VAT identifier for the seller or the buyer; Foretaksregisteret (TAX) and the org number stay
    schemes = [
        text(pts, "cac:TaxScheme/cbc:ID")
        for pts in root.findall("cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme", NS)
        + root.findall("cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme", NS)
    ]
    assert schemes == ["TAX"]
    assert text(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID") == "923609016"
    assert "12,5 %" in text(root, "cac:InvoiceLine/cac:Item/cbc:Description")


def test_category_o_mixed_with_another_category_is_refused():
    doc = interest_invoice()
    mixed = dataclasses.replace(doc, lines=(*doc.lines, line(3, "Lisens", "100.00")))
    with pytest.raises(EhfError, match="BR-O-11"):
        render_ehf(mixed)
