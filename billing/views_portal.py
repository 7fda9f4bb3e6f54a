"""Invoices and credit notes in the customer portal: the logged-in customer's own (and, for a kommune or
fylkeskommune, its schools', as the contract pages scope them), never drafts. Anything else is 404."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from billing import selectors, services
from billing.files import invoice_file
from billing.models import Invoice
from tenants.decorators import portal_required

PER_PAGE = 25


def _invoice(request, pk) -> Invoice:
    return get_object_or_404(
        selectors.portal_invoices(request.customer)
        .select_related("customer__parent", "contract")
        .prefetch_related("lines", "credit_notes"),
        pk=pk,
    )


@portal_required
def invoice_list(request, tenant_slug):
    queryset = selectors.portal_invoices(request.customer)
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/billing/invoice_list.html", {"page": page, "query": ""})


@portal_required
def invoice_detail(request, tenant_slug, pk):
    invoice = _invoice(request, pk)
    context = {
        "invoice": invoice,
        "document": services.invoice_document(invoice),
        "lines": list(invoice.lines.all()),
        "credit_notes": [n for n in invoice.credit_notes.all() if n.status != "draft"],
    }
    return render(request, "portal/billing/invoice_detail.html", context)


@portal_required
def invoice_download(request, tenant_slug, pk, fmt, language="nb"):
    invoice = get_object_or_404(selectors.portal_invoices(request.customer), pk=pk)
    try:
        rendered = invoice_file(invoice=invoice, fmt=fmt, language=language)
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from exc
    response = HttpResponse(rendered.content, content_type=rendered.content_type)
    response["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
    response["X-Content-SHA256"] = rendered.sha256
    return response
