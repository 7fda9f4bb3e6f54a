"""The collection e-mails in Bokmål and English: each kind's subject and body rendered as contracts.notify.send
renders them (under translation.override), with the context receivables.default and receivables.dunning pass.
Pure: no database."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace as NS

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from receivables.dunning import LABELS

D = Decimal
ON = dt.date(2025, 3, 10)
INVOICE = NS(
    number=10042,
    due_date=dt.date(2025, 1, 20),
    currency="NOK",
    outstanding=D("12500.00"),
    kid="0001004217",
)
OWED = NS(
    lines=(NS(invoice=INVOICE, days_past_due=49, outstanding=D("12500.00"), interest=D("211.64")),),
    currency="NOK",
    principal=D("12500.00"),
    interest=D("211.64"),
    interest_invoiced=D("150.00"),
    total=D("12861.64"),
)


def base_context() -> dict:
    customer = NS(name="Bømlo kommune")
    return {
        "contract": NS(reference="AVT-2024-0007", product=NS(name="Piscator"), customer=customer),
        "customer": customer,
        "tenant": NS(name="Fiskeridata AS"),
        "on": ON,
    }


def reminder(lang: str) -> NS:
    """receivables.dunning.reminder_context's keys: this e-mail is worded by the customer's language, not gettext."""
    return NS(
        lang=lang,
        t=LABELS[lang],
        title="Betalingspåminnelse" if lang == "nb" else "Payment reminder",
        number="10042",
        intro="INTRO",
        outstanding="NOK 12 500,00",
        interest="NOK 211,64",
        interest_claimed=True,
        fee="NOK 35,00",
        fee_explanation="FEE-EXPLANATION",
        total="NOK 12 746,64",
        pay_by="24.03.2025",
        account="1234.56.78903",
        kid="0001004217",
        separately=True,
    )


# kind, extra context, {language: (subject must contain, body must contain)}; the other language's texts must not
# appear. Amounts are localised by the template engine: 12\xa0500,00 in Bokmål, 12,500.00 in English.
CASES = {
    "payment_reminder": (
        lambda lang: {"r": reminder(lang)},
        {
            "nb": (
                ["Betalingspåminnelse: faktura 10042 – Fiskeridata AS"],
                [
                    "Til Bømlo kommune,",
                    "Purringen er vedlagt som PDF.",
                    "Betales innen: 24.03.2025",
                    "Med vennlig hilsen",
                ],
            ),
            "en": (
                ["Payment reminder: invoice 10042 – Fiskeridata AS"],
                ["Dear Bømlo kommune,", "The reminder is attached as a PDF.", "Pay by: 24.03.2025", "Best regards"],
            ),
        },
    ),
    "suspension_notice": (
        lambda lang: {
            "case": NS(),
            "owed": OWED,
            "stop_on": dt.date(2025, 3, 28),
            "business_days": 14,
            "invoice": INVOICE,
        },
        {
            "nb": (
                ["Varsel: tjenesten stenges 28.03.2025 hvis det forfalte beløpet ikke blir betalt"],
                [
                    "Hei Bømlo kommune,\n\nVi har ikke mottatt betaling for følgende forfalte fakturaer under avtale "
                    "AVT-2024-0007 (Piscator):",
                    "- Faktura 10042, forfall 20.01.2025 (for 49 dager siden): 12\xa0500,00 utestående, "
                    "påløpt rente 211,64",
                    "Påløpt forsinkelsesrente så langt: NOK 211,64.",
                    "Ubetalte rentefakturaer: NOK 150,00.",
                    "Samlet skyldig i dag: NOK 12\xa0861,64. Renten løper til betaling skjer.",
                    "alle tjenester stenges 28.03.2025 (14 virkedager fra i dag)",
                    "Bruk KID-nummeret på hver faktura",
                    "Vennlig hilsen\nFiskeridata AS",
                ],
            ),
            "en": (
                ["Notice: service stops on 28.03.2025 unless the overdue amount is paid"],
                [
                    "Dear Bømlo kommune,\n\nPayment for agreement AVT-2024-0007 (Piscator) is overdue:",
                    "- Invoice 10042, due 20.01.2025 (49 days ago): 12,500.00 outstanding, interest so far 211.64",
                    "Unpaid interest invoices: NOK 150.00.",
                    "all service stops on 28.03.2025 (14 business days from today)",
                    "Please pay with the KID on each invoice",
                    "Best regards,\nFiskeridata AS",
                ],
            ),
        },
    ),
    "suspended": (
        lambda lang: {"case": NS(), "owed": OWED, "invoice": INVOICE},
        {
            "nb": (
                ["Tjenesten er stengt for avtale AVT-2024-0007 på grunn av manglende betaling"],
                [
                    "Som varslet er tjenesten under avtale AVT-2024-0007 (Piscator) stengt fra 10.03.2025",
                    "Samlet skyldig beløp i dag, inkludert påløpt rente: NOK 12\xa0861,64.",
                    "Den eldste ubetalte fakturaen er nr. 10042 med forfall 20.01.2025.",
                    "Tjenesten åpnes igjen så snart beløpet er betalt i sin helhet.",
                ],
            ),
            "en": (
                ["Service stopped for agreement AVT-2024-0007 because of non-payment"],
                [
                    "service under agreement AVT-2024-0007 (Piscator) is stopped from 10.03.2025",
                    "Total owed today, including interest so far: NOK 12,861.64.",
                    "The oldest unpaid invoice is 10042, due 20.01.2025.",
                    "Service resumes as soon as the amount is paid in full.",
                ],
            ),
        },
    ),
    "resumed": (
        lambda lang: {"case": NS(), "was_stopped": True, "held": False},
        {
            "nb": (
                ["Tjenesten er åpnet igjen for avtale AVT-2024-0007"],
                [
                    "Hei Bømlo kommune,",
                    "Takk, det forfalte beløpet er betalt.",
                    "er åpnet igjen fra 10.03.2025, og brukerne deres har tilgang igjen.",
                ],
            ),
            "en": (
                ["Service resumed for agreement AVT-2024-0007"],
                ["Dear Bømlo kommune,", "Thank you: the overdue amount is paid.", "is resumed from 10.03.2025"],
            ),
        },
    ),
    "resumed_held_not_stopped": (
        lambda lang: {"case": NS(), "was_stopped": False, "held": True},
        {
            "nb": (
                ["Betaling mottatt for avtale AVT-2024-0007: tjenesten fortsetter"],
                [
                    "Fakturaen dere har bestridt, er satt på vent",
                    "fortsetter som normalt; varselet om stenging gjelder ikke lenger.",
                ],
            ),
            "en": (
                ["Payment received for agreement AVT-2024-0007: service continues"],
                [
                    "The disputed invoice is on hold while we look into it",
                    "continues as normal; the notice of suspension no longer applies.",
                ],
            ),
        },
    ),
    "paused_unpaid": (
        lambda lang: {"case": NS(), "invoice": INVOICE, "deletion_on": dt.date(2025, 6, 8), "days": 49},
        {
            "nb": (
                ["Kontoen deres er satt på pause på grunn av en ubetalt faktura"],
                [
                    "Kontoen deres i Piscator er satt på pause",
                    "Faktura 10042 med forfall 20.01.2025: NOK 12\xa0500,00 utestående (KID 0001004217).",
                    "Dataene deres tas vare på til 08.06.2025.",
                    "blir kontoen reaktivert straks",
                    "\nEtter 08.06.2025 slettes dataene for godt.",
                    "faktureres ingen nye abonnementsperioder",
                ],
            ),
            "en": (
                ["Your account is paused because of an unpaid invoice"],
                [
                    "Your Piscator account is paused and users have no access",
                    "Invoice 10042, due 20.01.2025: NOK 12,500.00 outstanding (KID 0001004217).",
                    "\nAfter 08.06.2025 the data is deleted permanently.",
                ],
            ),
        },
    ),
    "reactivated": (
        lambda lang: {},
        {
            "nb": (
                ["Betaling mottatt: kontoen deres er aktiv igjen"],
                [
                    "Takk for betalingen. Kontoen deres i Piscator er reaktivert fra 10.03.2025",
                    "Abonnementet faktureres igjen fra neste periode.",
                ],
            ),
            "en": (
                ["Payment received: your account is active again"],
                [
                    "Your Piscator account is reactivated from 10.03.2025",
                    "Your subscription is invoiced again from the next period.",
                ],
            ),
        },
    ),
    "material_breach": (
        lambda lang: {
            "case": NS(material_breach_on=dt.date(2025, 2, 20)),
            "invoice": INVOICE,
            "days": 49,
            "limit": 30,
            "owed": OWED,
        },
        {
            "nb": (
                ["Avtale AVT-2024-0007: betalingsmislighold utover 30 dager (vesentlig mislighold)"],
                [
                    "har vært misligholdt i mer enn 30 kalenderdager (siden 20.02.2025)",
                    "Etter avtalens vilkår er dette et vesentlig mislighold.",
                    "Den eldste ubetalte fakturaen er nr. 10042 med forfall 20.01.2025 (for 49 dager siden).",
                    "Vi ber dere betale straks",
                ],
            ),
            "en": (
                ["Agreement AVT-2024-0007: payment default beyond 30 days (material breach)"],
                [
                    "has been in default for more than 30 calendar days (since 20.02.2025)",
                    "Under the agreement's terms this is a material breach.",
                    "Please pay at once",
                ],
            ),
        },
    ),
}


def render(case: str, lang: str) -> tuple[str, str]:
    extra, _texts = CASES[case]
    kind = "resumed" if case.startswith("resumed") else case
    ctx = {**base_context(), **extra(lang)}
    with translation.override(lang):
        subject = render_to_string(f"emails/{kind}.subject.txt", ctx).strip()
        body = render_to_string(f"emails/{kind}.body.txt", ctx)
    return subject, body


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_collection_email_in_the_customers_language(case, lang):
    subject, body = render(case, lang)
    other = "en" if lang == "nb" else "nb"
    want_subject, want_body = CASES[case][1][lang]
    not_subject, not_body = CASES[case][1][other]
    for text in want_subject:
        assert text in subject
    for text in want_body:
        assert text in body
    for text in not_subject:
        assert text not in subject
    for text in not_body:
        assert text not in body
    for rendered in (subject, body):
        assert "%(" not in rendered and "{{" not in rendered and "{%" not in rendered
    assert "\n" not in subject


@pytest.mark.parametrize("case", sorted(set(CASES) - {"payment_reminder"}))
def test_bokmal_email_has_no_english_sentence_left(case):
    """Every gettext sentence of these e-mails has a Bokmål translation: none of the English words that start
    or carry their sentences is left in the Bokmål rendering."""
    subject, body = render(case, "nb")
    for english in ("Dear ", "Best regards", "Service ", "Payment ", "Your ", "invoice", "The ", "Please", "paid"):
        assert english not in subject + body, english
