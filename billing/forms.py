"""Forms for the billing pages: they parse and check the shape of input; ``billing.services`` decide and
write. A service's ``ValidationError`` goes back on the form with ``tenants.forms.apply_errors``.

Amounts are typed as text ("1 000,50" or "1000.50") and handed to the services as a plain decimal string,
so the service's message says what is wrong with the number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import InvoiceKind, InvoiceStatus, KidMethod
from catalog.models import HourlyService
from contracts import lifecycle
from contracts.forms import DATE_WIDGET, date_field
from contracts.models import Contract
from tenants.models import Customer

MAX_LINES = 100


def clean_amount_text(value: str) -> str:
    """ "1 000,50" → "1000.50" (spaces, non-breaking spaces and a decimal comma allowed)."""
    return (value or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")


class AmountField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value):
        return clean_amount_text(super().clean(value))


def status_label(status: str) -> str:
    from billing.templatetags.billing_ui import status_name

    return status_name(status)


class InvoiceFilterForm(forms.Form):
    """The invoice list's filters (GET); anything unknown is ignored."""

    number = forms.IntegerField(label=_("Invoice number"), required=False, min_value=1)
    customer = forms.CharField(label=_("Customer"), required=False, max_length=200)
    customer_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Status"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    period_from = date_field(_("Period from"), required=False)
    period_to = date_field(_("Period to"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from billing.templatetags.billing_ui import kind_name

        self.fields["status"].choices = [("", _("All statuses")), *((s, status_label(s)) for s in InvoiceStatus.values)]
        self.fields["kind"].choices = [
            ("", _("Invoices and credit notes")),
            *((k, kind_name(k)) for k in InvoiceKind.values),
        ]
        self.fields["customer"].widget.attrs.update({"placeholder": _("Name or organisation number")})
        self.fields["number"].widget.attrs.update({"inputmode": "numeric"})

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"],
            "kind": data["kind"],
            "customer": data["customer"].strip(),
            "customer_id": data["customer_id"],
            "period_from": data["period_from"],
            "period_to": data["period_to"],
            "overdue": data["overdue"],
            "number": data["number"],
        }


class CreditForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("What to credit"),
        choices=[("full", _("The whole invoice")), ("partial", _("A net amount (before VAT)"))],
        widget=forms.RadioSelect,
        initial="full",
    )
    net_amount = AmountField(
        label=_("Net amount to credit"),
        required=False,
        help_text=_("Before VAT; VAT is added at the invoice's rate. Only for a partial credit."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, help_text=_("Shown on the credit note."))

    def clean(self):
        data = super().clean()
        if data.get("mode") == "partial" and not data.get("net_amount"):
            self.add_error("net_amount", _("Give the net amount to credit, e.g. 1000.00."))
        return data

    def service_amount(self):
        return self.cleaned_data["net_amount"] if self.cleaned_data["mode"] == "partial" else None


class PaymentForm(forms.Form):
    amount = AmountField(label=_("Amount paid"))
    paid_on = date_field(_("Paid on"))
    reference = forms.CharField(label=_("Payment reference"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "payment")
        super().__init__(*args, **kwargs)


class BillingRunForm(forms.Form):
    as_of = date_field(_("Invoice date"), help_text=_("Everything due on or before this date is invoiced."))


class ManualInvoiceForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None)
    contract = forms.ModelChoiceField(
        label=_("Contract (optional)"),
        queryset=None,
        required=False,
        help_text=_("Shown as the order reference on the invoice."),
    )
    buyer_reference = forms.CharField(
        label=_("Buyer reference"),
        required=False,
        max_length=100,
        help_text=_("Empty: the customer's invoice reference."),
    )
    reason = forms.CharField(label=_("Note on the invoice"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(is_active=True).only("pk", "name").order_by("name")
        self.fields["contract"].queryset = (
            Contract.objects.exclude(state__in=[lifecycle.DRAFT, lifecycle.CANCELLED])
            .select_related("customer")
            .order_by("reference")
        )
        self.fields["contract"].label_from_instance = lambda c: f"{c.reference} · {c.customer.name}"


@dataclass
class LineRow:
    index: int
    values: dict
    errors: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return not any(self.values.values())


class InvoiceLineRows:
    """The manual invoice's lines as rows with add/remove (like the quote pages' school rows)."""

    FIELDS = ("description", "quantity", "unit_price")

    def __init__(self, data=None):
        self.rows: list[LineRow] = []
        self.errors: list[str] = []
        if data is not None:
            try:
                count = int(data.get("line-count", 0))
            except (TypeError, ValueError):
                count = 0
            self.rows = [
                LineRow(j, {n: (data.get(f"line-{j}-{n}") or "").strip() for n in self.FIELDS})
                for j in range(min(max(count, 0), MAX_LINES))
            ]
        if not self.rows:
            self.rows = [LineRow(0, {"description": "", "quantity": "1", "unit_price": ""})]

    def apply(self, action: str) -> bool:
        verb, _sep, target = action.partition(":")
        if verb == "add" and len(self.rows) < MAX_LINES:
            self.rows.append(LineRow(len(self.rows), {"description": "", "quantity": "1", "unit_price": ""}))
            return True
        if verb == "remove" and target.isdigit():
            kept = [r for r in self.rows if r.index != int(target)]
            for j, row in enumerate(kept):
                row.index = j
            self.rows = kept or [LineRow(0, {"description": "", "quantity": "1", "unit_price": ""})]
            return True
        return False

    def service_lines(self) -> tuple[list[dict], list[int]]:
        """(lines for ``invoice_manual_draft_create``, the UI row of each line); blank rows skipped."""
        lines, rows = [], []
        for row in self.rows:
            if row.blank or (not row.values["description"] and not row.values["unit_price"]):
                continue
            lines.append(
                {
                    "description": row.values["description"],
                    "quantity": clean_amount_text(row.values["quantity"]) or "1",
                    "unit_price": clean_amount_text(row.values["unit_price"]),
                }
            )
            rows.append(row.index)
        return lines, rows


class TimeEntryForm(forms.Form):
    contract = forms.ModelChoiceField(label=_("Contract"), queryset=None)
    service = forms.ModelChoiceField(label=_("Hourly service"), queryset=None)
    worked_on = date_field(_("Date"))
    description = forms.CharField(label=_("What was done"), max_length=300)
    hours = AmountField(label=_("Hours"), required=False, help_text=_("e.g. 1,5"))
    travel_hours = AmountField(label=_("Travel hours"), required=False, help_text=_("Billed at the travel share."))
    expenses = AmountField(label=_("Expenses (NOK)"), required=False, help_text=_("At cost, before VAT."))
    expenses_description = forms.CharField(label=_("Expenses, what"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = (
            Contract.objects.filter(state__in=lifecycle.OPEN).select_related("customer").order_by("reference")
        )
        self.fields["contract"].label_from_instance = lambda c: f"{c.reference} · {c.customer.name}"
        self.fields["service"].queryset = HourlyService.objects.filter(is_active=True).order_by("code")


class TimeEntryFilterForm(forms.Form):
    contract = forms.ModelChoiceField(label=_("Contract"), queryset=None, required=False)
    billed = forms.ChoiceField(
        label=_("Billed"),
        required=False,
        choices=[("", _("All")), ("no", _("Not yet invoiced")), ("yes", _("Invoiced"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = (
            Contract.objects.filter(pk__in=_contracts_with_time()).select_related("customer").order_by("reference")
        )
        self.fields["contract"].label_from_instance = lambda c: f"{c.reference} · {c.customer.name}"
        self.fields["contract"].empty_label = _("All contracts")


def _contracts_with_time():
    from billing.models import TimeEntry

    return TimeEntry.objects.values("contract_id")


__all__ = [
    "DATE_WIDGET",
    "AmountField",
    "BillingRunForm",
    "CreditForm",
    "InvoiceFilterForm",
    "InvoiceLineRows",
    "ManualInvoiceForm",
    "PaymentForm",
    "TimeEntryFilterForm",
    "TimeEntryForm",
]


class BillingSettingsForm(forms.Form):
    credit_notes_own_series = forms.BooleanField(
        label=_("Credit notes in their own number series"),
        required=False,
        help_text=_(
            "Off: credit notes take the next number in the invoice series. Chosen before the first credit note."
        ),
    )
    kid_method = forms.ChoiceField(
        label=_("KID check digit"),
        choices=KidMethod.choices,
        help_text=_("For invoices issued from now on; the bank agreement says which one the vendor uses."),
    )
