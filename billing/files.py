"""The stored documents of an issued invoice or credit note: PDF (per language) and EHF, each rendered
once from the document as issued and kept with its SHA-256 (PostgreSQL refuses changing them).

Rendering is lazy (on the first download or delivery), so the billing run does not pay 100 ms of
WeasyPrint per invoice. A draft is rendered as a preview every time and never stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing.ehf import EhfError, render_ehf
from billing.models import FileFormat, Invoice, InvoiceFile, InvoiceKind
from billing.pdf import render_invoice_pdf
from billing.services import invoice_document

LANGUAGES = ("nb", "en")


@dataclass(frozen=True)
class RenderedFile:
    content: bytes
    sha256: str
    filename: str
    content_type: str
    stored: bool  # False for a draft's preview


def filename_for(invoice: Invoice, fmt: str, language: str = "nb") -> str:
    word = (
        ("kreditnota" if language == "nb" else "credit-note")
        if invoice.kind == InvoiceKind.CREDIT_NOTE
        else ("faktura" if language == "nb" else "invoice")
    )
    number = invoice.number if invoice.number is not None else ("utkast" if language == "nb" else "draft")
    return f"{word}-{number}.{'xml' if fmt == FileFormat.EHF else 'pdf'}"


def _render(invoice: Invoice, fmt: str, language: str) -> bytes:
    document = invoice_document(invoice)
    if fmt == FileFormat.PDF:
        return render_invoice_pdf(document, language)
    try:
        return render_ehf(document)
    except EhfError as error:
        raise ValidationError({"format": str(error)}) from error


def invoice_file(*, invoice: Invoice, fmt: str, language: str = "nb") -> RenderedFile:
    """The invoice's PDF (in ``language``) or EHF: stored on first use for an issued invoice.

    Raises ``ValidationError`` for an unknown format or language, or an EHF the buyer cannot have
    (e.g. no org number or Peppol id).
    """
    if fmt not in FileFormat.values:
        raise ValidationError({"format": _("Choose pdf or ehf.")})
    if fmt == FileFormat.PDF and language not in LANGUAGES:
        raise ValidationError({"language": _("Choose nb or en.")})
    lang_key = language if fmt == FileFormat.PDF else ""
    content_type = "application/pdf" if fmt == FileFormat.PDF else "application/xml"
    name = filename_for(invoice, fmt, language)
    if not invoice.is_issued:
        content = _render(invoice, fmt, language)
        return RenderedFile(content, hashlib.sha256(content).hexdigest(), name, content_type, stored=False)
    row = InvoiceFile.objects.filter(invoice=invoice, format=fmt, language=lang_key).first()
    if row is None:
        content = _render(invoice, fmt, language)
        try:
            with transaction.atomic():
                row = InvoiceFile.objects.create(
                    invoice=invoice,
                    format=fmt,
                    language=lang_key,
                    content=content,
                    sha256=hashlib.sha256(content).hexdigest(),
                )
        except IntegrityError:  # stored meanwhile by a concurrent request: that one is the document
            row = InvoiceFile.objects.get(invoice=invoice, format=fmt, language=lang_key)
    return RenderedFile(bytes(row.content), row.sha256, name, content_type, stored=True)
