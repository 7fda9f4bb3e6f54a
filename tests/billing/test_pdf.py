"""The invoice and credit-note PDF (billing/pdf.py): built from plain InvoiceDocuments, no database.

The PDF's text is read back with ``pdftotext -layout`` (poppler-utils); whitespace (including the no-break
spaces in amounts such as 26 292,00) is collapsed to single spaces before comparing.
"""

import dataclasses
import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
from decimal import Decimal

import pytest

from billing.document import DocumentLine, InvoiceDocument, Party, kid_mod10, vat_breakdown
from billing.pdf import pdf_sha256, render_invoice_html, render_invoice_pdf

D = Decimal

SELLER = Party(
    "Spekter Læremidler AS",
    "937620187",
    address_line="Postboks 123 Sentrum",
    postal_code="0102",
    city="Oslo",
    vat_registered=True,
    in_foretaksregisteret=True,
    bank_account="86011117947",
    email="faktura@spekter.no",
)
BUYER = Party("Bergen kommune", "964338531", address_line="Postboks 7700", postal_code="5020", city="Bergen")
SCHOOLS = [
    ("Nordnes skole", 87, "1–100", "2892.00"),
    ("Sandviken skole", 240, "201–300", "4875.00"),
    ("Bergen katedralskole", 1100, "1001–1250", "18525.00"),
]


def spekter_lines(category="S", rate="25"):
    return tuple(
        DocumentLine(
            i + 1,
            f"Spekter – {name}",
            f"{name}: {pupils} elever, bånd {band} elever: {amount} kr per år",
            f"{name}: {pupils} pupils, band {band} pupils: NOK {amount} per year",
            D(1),
            "ANN",
            D(amount),
            D(amount),
            category,
            D(rate),
            dt.date(2026, 3, 15),
            dt.date(2027, 3, 14),
        )
        for i, (name, pupils, band, amount) in enumerate(SCHOOLS)
    )


def spekter_invoice(**changes):
    lines = changes.pop("lines", None) or spekter_lines()
    doc = InvoiceDocument(
        kind="invoice",
        number="10001",
        issue_date=dt.date(2026, 3, 20),
        due_date=dt.date(2026, 4, 19),
        currency="NOK",
        seller=SELLER,
        buyer=BUYER,
        buyer_reference="Oppvekst, ressursnr. 4011",
        kid=kid_mod10("0000100012"),
        lines=lines,
        period_start=dt.date(2026, 3, 15),
        period_end=dt.date(2027, 3, 14),
        order_reference="SPK-2026-0007",
        payment_terms="30 dager netto",
        vat_breakdown=vat_breakdown(lines),
    )
    return dataclasses.replace(doc, **changes)


def spekter_credit_note():
    return spekter_invoice(
        kind="credit_note",
        number="10002",
        issue_date=dt.date(2026, 4, 2),
        due_date=None,
        credited_number="10001",
        credited_issue_date=dt.date(2026, 3, 20),
    )


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:  # bin/setup --browser installs poppler-utils
        if os.environ.get("CI"):
            pytest.fail("CI must have pdftotext (poppler-utils): bin/setup --browser installs it")
        pytest.skip("pdftotext (poppler-utils) is not installed; run bin/setup --browser")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return squash(out.stdout.decode("utf-8"))


def html_text(html: str) -> str:
    import html as html_lib

    body = html.split("<body>", 1)[1]
    return squash(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_the_spekter_invoice_pdf_shows_everything_rules_10_asks_for():
    # given the Spekter first invoice: schools of 87, 240 and 1100 pupils
    doc = spekter_invoice()
    assert doc.kid == "00001000124"
    # when it is rendered
    pdf = render_invoice_pdf(doc)
    # then it is a PDF ...
    assert pdf[:4] == b"%PDF"
    text = pdf_text(pdf)
    # ... titled FAKTURA, with the seller's org number, MVA and Foretaksregisteret, account and KID
    assert "FAKTURA" in text
    assert "Org.nr. 937 620 187 MVA" in text
    assert "Foretaksregisteret" in text
    assert "Postboks 123 Sentrum" in text and "0102 Oslo" in text
    assert "8601 11 17947" in text
    assert "00001000124" in text
    # the buyer, their org number and reference; the number, dates, contract and period
    assert "Bergen kommune" in text and "Org.nr. 964 338 531" in text
    assert "Deres ref. Oppvekst, ressursnr. 4011" in text
    assert "Fakturanr. 10001" in text
    assert "Fakturadato 20.03.2026" in text
    assert "Forfallsdato 19.04.2026" in text
    assert "Avtale SPK-2026-0007" in text
    assert "Periode 15.03.2026–14.03.2027" in text
    # each line with its explanation and amount
    assert "Nordnes skole: 87 elever, bånd 1–100 elever: 2892.00 kr per år" in text
    assert "Sandviken skole: 240 elever, bånd 201–300 elever: 4875.00 kr per år" in text
    assert "Bergen katedralskole: 1100 elever, bånd 1001–1250 elever: 18525.00 kr per år" in text
    assert "18 525,00" in text
    # net, VAT and total, Norwegian formatting
    assert "Sum eks. mva. 26 292,00" in text
    assert "Mva. 25 % 6 573,00" in text
    assert "Å betale (NOK) 32 865,00" in text
    # the payment box and the page footer
    assert "BETALES TIL KONTO" in text and "BETALES INNEN" in text
    assert "32 865,00 NOK" in text
    assert "Side 1 av 1" in text


def test_the_html_carries_the_explanations_and_sums_before_weasyprint():
    text = html_text(render_invoice_html(spekter_invoice()))
    for _name, pupils, band, amount in SCHOOLS:
        assert f"{pupils} elever, bånd {band} elever: {amount} kr per år" in text
    assert "Sum eks. mva. 26 292,00" in text
    assert "Org.nr. 937 620 187 MVA Foretaksregisteret" in text


def test_a_seller_not_registered_for_vat_nor_in_foretaksregisteret_says_neither():
    seller = dataclasses.replace(SELLER, vat_registered=False, in_foretaksregisteret=False)
    lines = spekter_lines("E", "0")
    text = pdf_text(render_invoice_pdf(spekter_invoice(seller=seller, lines=lines, vat_breakdown=vat_breakdown(lines))))
    assert "Org.nr. 937 620 187" in text
    assert "MVA" not in text
    assert "Foretaksregisteret" not in text
    # exempt: no VAT, and the document says why
    assert "Fritatt for merverdiavgift." in text
    assert "Å betale (NOK) 26 292,00" in text


def test_reverse_charge_to_a_buyer_abroad_is_worded_and_carries_no_vat():
    buyer = Party("Skolverket", "", country="SE", address_line="Box 1", postal_code="10620", city="Stockholm")
    lines = spekter_lines("AE", "0")
    doc = spekter_invoice(buyer=buyer, lines=lines, vat_breakdown=vat_breakdown(lines))
    text = pdf_text(render_invoice_pdf(doc))
    assert "Omvendt avgiftsplikt: kjøper beregner og innberetter merverdiavgiften (reverse charge)." in text
    assert "SE" in text and "10620 Stockholm" in text
    assert "Sum eks. mva. 26 292,00" in text
    assert "Omvendt avgiftsplikt 0,00" in text
    assert "Å betale (NOK) 26 292,00" in text


def test_a_credit_note_says_what_it_credits_and_asks_for_no_payment():
    pdf = render_invoice_pdf(spekter_credit_note())
    assert pdf[:4] == b"%PDF"
    text = pdf_text(pdf)
    assert "KREDITNOTA" in text
    assert "Kreditnotanr. 10002" in text
    assert "Krediterer faktura nr. 10001 av 20.03.2026." in text
    assert "Kreditert beløp (NOK) 32 865,00" in text
    assert "Beløpet godskrives og skal ikke betales." in text
    assert "Forfallsdato" not in text
    assert "BETALES TIL KONTO" not in text
    # the seller's identity is on the credit note too
    assert "Org.nr. 937 620 187 MVA" in text and "Foretaksregisteret" in text


def test_english_invoice_and_credit_note():
    text = pdf_text(render_invoice_pdf(spekter_invoice(), lang="en"))
    assert "INVOICE" in text
    assert "Org. no. 937 620 187 MVA" in text and "Foretaksregisteret" in text
    assert "Invoice date 20 Mar 2026" in text
    assert "Due date 19 Apr 2026" in text
    assert "Your ref. Oppvekst, ressursnr. 4011" in text
    assert "Nordnes skole: 87 pupils, band 1–100 pupils: NOK 2892.00 per year" in text
    assert "1 year" in text
    assert "Total excl. VAT 26,292.00" in text
    assert "VAT 25% 6,573.00" in text
    assert "Amount due (NOK) 32,865.00" in text
    assert "8601 11 17947" in text and "00001000124" in text
    assert "Page 1 of 1" in text
    credit = pdf_text(render_invoice_pdf(spekter_credit_note(), lang="en"))
    assert "CREDIT NOTE" in credit
    assert "Credits invoice no. 10001 of 20 Mar 2026." in credit
    assert "Amount credited (NOK) 32,865.00" in credit


def test_a_long_invoice_is_numbered_page_by_page():
    lines = tuple(
        DocumentLine(
            n,
            f"Timer konsulent {n}",
            f"{n} × 1 800,00 kr per time",
            f"{n} × NOK 1,800.00 per hour",
            D(n),
            "HUR",
            D("1800.00"),
            D("1800.00") * n,
            "S",
            D(25),
        )
        for n in range(1, 61)
    )
    text = pdf_text(render_invoice_pdf(spekter_invoice(lines=lines, vat_breakdown=vat_breakdown(lines))))
    pages = sorted(set(re.findall(r"Side (\d+) av (\d+)", text)))
    total = pages[-1][1]
    assert int(total) >= 2
    assert pages == [(str(i), total) for i in range(1, int(total) + 1)]
    # sum of 1..60 hours × 1 800 = 1 830 × 1 800 = 3 294 000,00 net; VAT 823 500,00
    assert "Sum eks. mva. 3 294 000,00" in text
    assert "Mva. 25 % 823 500,00" in text
    assert "Å betale (NOK) 4 117 500,00" in text


def test_pdf_sha256_is_the_hex_digest_and_the_rendering_is_repeatable():
    assert pdf_sha256(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    first = render_invoice_pdf(spekter_invoice())
    again = render_invoice_pdf(spekter_invoice())
    other = render_invoice_pdf(spekter_invoice(kid=kid_mod10("0000100020")))
    assert pdf_sha256(first) == pdf_sha256(again) == hashlib.sha256(first).hexdigest()
    assert pdf_sha256(other) != pdf_sha256(first)
