"""Invoice documents: median milliseconds per PDF, and EHF documents per second.

    .venv/bin/python bench/pdf.py [--renders 50] [--ehf-seconds 3]

Each render is a realistic invoice of 3 to 10 lines (the count cycles, so the median covers the
range): Spekter schools priced by band, a few hours of consulting and travel, with Norwegian
explanations, seller with MVA and Foretaksregisteret, KID and account. The first render, which
loads fonts and WeasyPrint, is reported separately and not counted in the median. The EHF part runs
only when ``billing/ehf.py`` has ``render_ehf``. Nothing touches the database.
Target (issue 5): median ≤ 150 ms per invoice PDF on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BANDS = [
    (87, "1–100", "2892.00"),
    (240, "201–300", "4875.00"),
    (1100, "1001–1250", "18525.00"),
    (455, "401–500", "7995.00"),
]


def invoice(n_lines: int, number: int):
    from billing.document import DocumentLine, InvoiceDocument, Party, kid_mod10, vat_breakdown

    seller = Party(
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
    buyer = Party("Bergen kommune", "964338531", address_line="Postboks 7700", postal_code="5020", city="Bergen")
    lines = []
    for i in range(n_lines):
        if i < n_lines - 2:
            pupils, band, amount = BANDS[i % len(BANDS)]
            lines.append(
                DocumentLine(
                    i + 1,
                    f"Spekter – skole {i + 1}",
                    f"Skole {i + 1}: {pupils} elever, bånd {band} elever: {amount} kr per år",
                    f"School {i + 1}: {pupils} pupils, band {band} pupils: NOK {amount} per year",
                    Decimal(1),
                    "ANN",
                    Decimal(amount),
                    Decimal(amount),
                    "S",
                    Decimal(25),
                    dt.date(2026, 3, 15),
                    dt.date(2027, 3, 14),
                )
            )
        else:
            hours, price, what = (
                (Decimal(3), Decimal("1800.00"), "Konsulent")
                if i == n_lines - 2
                else (
                    Decimal(2),
                    Decimal("900.00"),
                    "Reisetid (50 %)",
                )
            )
            lines.append(
                DocumentLine(
                    i + 1,
                    what,
                    f"{hours} timer × {price} kr",
                    f"{hours} hours × NOK {price}",
                    hours,
                    "HUR",
                    price,
                    hours * price,
                    "S",
                    Decimal(25),
                )
            )
    lines = tuple(lines)
    return InvoiceDocument(
        kind="invoice",
        number=str(10000 + number),
        issue_date=dt.date(2026, 3, 20),
        due_date=dt.date(2026, 4, 19),
        currency="NOK",
        seller=seller,
        buyer=buyer,
        buyer_reference="Oppvekst, ressursnr. 4011",
        kid=kid_mod10(f"{10000 + number:010d}"),
        lines=lines,
        period_start=dt.date(2026, 3, 15),
        period_end=dt.date(2027, 3, 14),
        order_reference="SPK-2026-0007",
        payment_terms="30 dager netto",
        vat_breakdown=vat_breakdown(lines),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=50, help="PDF renders to time (default 50)")
    parser.add_argument("--ehf-seconds", type=float, default=3.0, help="how long to render EHF (default 3 s)")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from billing.pdf import render_invoice_pdf

    docs = [invoice(3 + i % 8, i) for i in range(args.renders)]
    started = time.perf_counter()
    first = render_invoice_pdf(invoice(6, 9999))
    cold_ms = (time.perf_counter() - started) * 1000
    times = []
    sizes = []
    for doc in docs:
        t0 = time.perf_counter()
        pdf = render_invoice_pdf(doc)
        times.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(pdf))
    assert first[:4] == b"%PDF"
    median = statistics.median(times)
    p90 = statistics.quantiles(times, n=10)[-1] if len(times) >= 2 else times[0]
    print(f"PDF: {args.renders} invoices of 3–10 lines")
    print(f"  first (cold) render       {cold_ms:8.1f} ms")
    print(f"  median per invoice PDF    {median:8.1f} ms   (target ≤ 150 ms: {'met' if median <= 150 else 'NOT met'})")
    print(f"  p90 / max                 {p90:8.1f} / {max(times):.1f} ms")
    print(f"  median size               {statistics.median(sizes) / 1024:8.1f} KiB")

    try:
        from billing.ehf import render_ehf
    except ImportError:
        print("EHF: billing/ehf.py has no render_ehf yet; skipped")
        return
    try:
        render_ehf(docs[0])
    except Exception as exc:  # billing/ehf.py is someone else's work in progress; report, don't crash
        print(f"EHF: render_ehf failed on a 3-line invoice: {type(exc).__name__}: {exc}")
        return
    count = 0
    t0 = time.perf_counter()
    deadline = t0 + args.ehf_seconds
    while time.perf_counter() < deadline:
        render_ehf(docs[count % len(docs)])
        count += 1
    elapsed = time.perf_counter() - t0
    print(f"EHF: {count} documents in {elapsed:.2f} s = {count / elapsed:,.0f} documents per second")


if __name__ == "__main__":
    main()
