"""Forms for contract pages in the back-office and the portal, the order form and the trial sign-up.

Forms parse and check the shape of input; ``contracts.services`` (and ``tenants.services``) decide
and write. Errors from a service go back on the form with ``tenants.forms.apply_errors``.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contracts import lifecycle
from contracts.services import TERM_PRESETS
from pricing.models import Plan, Quote
from tenants.forms import OrgNumberField
from tenants.models import Customer

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PRESET_CHOICES = [(code, code) for code in TERM_PRESETS]
MAX_SCHOOLS = 30


def date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=DATE_WIDGET, **kwargs)


class ContractFilterForm(forms.Form):
    """The contract list's search and filters (GET); anything unknown is ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    state = forms.ChoiceField(label=_("State"), required=False)
    soon = forms.ChoiceField(
        label=_("Dates"),
        required=False,
        choices=[
            ("", _("Any")),
            ("ends", _("Ends within 90 days")),
            ("notice", _("Last day for notice within 60 days")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from contracts.documents import state_label

        self.fields["state"].choices = [("", _("All states")), *((s, state_label(s)) for s in lifecycle.STATES)]
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Reference, customer or organisation number")}
        )


# ---------------------------------------------------------------- what a contract is priced on


def parse_schools(text: str) -> list[dict]:
    """Lines of "School name; pupils" (a comma or tab also separates) → [{"name", "pupils"}]."""
    schools = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = re.match(r"^(.*?)[;,\t]\s*(\d+)\s*$", line)
        if not match or not match.group(1).strip():
            raise ValidationError(
                _("Line %(n)d: write the school's name, a semicolon and the number of pupils (“Hundvåg skole; 240”).")
                % {"n": number}
            )
        schools.append({"name": match.group(1).strip(), "pupils": int(match.group(2))})
    return schools


def schools_text(schools: list[dict]) -> str:
    return "\n".join(f"{s.get('name')}; {s.get('pupils')}" for s in schools or [])


def parse_codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,;]+", text or "") if code]


class PricedOnForm(forms.Form):
    """What a contract is priced on: schools and pupils, active users, standards and concurrent users."""

    schools = forms.CharField(
        label=_("Schools and pupils"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One school per line: name; pupils."),
    )
    active_users = forms.IntegerField(label=_("Active users"), required=False, min_value=1, max_value=1_000_000)
    standards = forms.CharField(
        label=_("Standards"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Catalogue codes, separated by spaces or commas."),
    )
    concurrent_users = forms.IntegerField(label=_("Concurrent users"), required=False, min_value=1, max_value=10_000)

    def clean_schools(self):
        return parse_schools(self.cleaned_data.get("schools", ""))

    def clean_standards(self):
        return parse_codes(self.cleaned_data.get("standards", ""))

    def priced_on(self) -> dict:
        data = self.cleaned_data
        request: dict = {}
        if data.get("schools"):
            request["schools"] = data["schools"]
        if data.get("active_users"):
            request["quantities"] = {"active_users": data["active_users"]}
        if data.get("standards"):
            request["standards"] = [{"code": code} for code in data["standards"]]
        if data.get("concurrent_users"):
            request["concurrent_users"] = data["concurrent_users"]
        return request

    @staticmethod
    def initial_from(request: dict) -> dict:
        return {
            "schools": schools_text(request.get("schools") or []),
            "active_users": (request.get("quantities") or {}).get("active_users"),
            "standards": " ".join(str(s.get("code") or "") for s in request.get("standards") or []),
            "concurrent_users": request.get("concurrent_users"),
        }


class TermsChoiceForm(forms.Form):
    preset = forms.ChoiceField(
        label=_("Terms"),
        choices=PRESET_CHOICES,
        help_text=_("The vendor's standard terms: term, renewal, notice, start rule, acceptance, DPA."),
    )
    agreed_start = date_field(
        _("Agreed start"), required=False, help_text=_("Only for terms that start on an agreed date.")
    )

    def terms_data(self) -> dict:
        data = dict(TERM_PRESETS[self.cleaned_data["preset"]])
        if self.cleaned_data.get("agreed_start"):
            data["agreed_start"] = self.cleaned_data["agreed_start"]
        return data


class ContractFromQuoteForm(TermsChoiceForm):
    quote = forms.ModelChoiceField(label=_("Saved quote"), queryset=Quote.unscoped.none())
    field_order = ["quote", "preset", "agreed_start"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        quotes = Quote.objects.filter(status="saved", customer__isnull=False).select_related("customer")
        self.fields["quote"].queryset = quotes.order_by("-id")
        self.fields["quote"].label_from_instance = lambda q: f"#{q.pk} · {q.customer.name} · {q.quoted_on}"


class ContractCreateForm(TermsChoiceForm, PricedOnForm):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.unscoped.none())
    plan = forms.ModelChoiceField(label=_("Price plan"), queryset=Plan.unscoped.none())
    interval = forms.ChoiceField(
        label=_("Billing interval"),
        choices=[("year", _("Yearly")), ("quarter", _("Quarterly")), ("month", _("Monthly"))],
    )
    field_order = [
        "customer",
        "plan",
        "interval",
        "preset",
        "agreed_start",
        "schools",
        "active_users",
        "standards",
        "concurrent_users",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(is_active=True).order_by("name")
        self.fields["plan"].queryset = Plan.objects.filter(is_active=True).select_related("product").order_by("code")
        self.fields["plan"].label_from_instance = lambda p: f"{p.name} ({p.code})"


# ---------------------------------------------------------------- signing, DPA, notice, trials, amendments


class PaperSignatureForm(forms.Form):
    name = forms.CharField(label=_("Signed by (name)"), max_length=200)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    signed_on = date_field(_("Signed on"))
    received_on = date_field(_("Signed copy received"), help_text=_("A term that starts on receipt starts this day."))
    paper_copy = forms.FileField(label=_("Scanned signed copy (PDF)"))

    def clean_paper_copy(self):
        upload = self.cleaned_data["paper_copy"]
        if upload.size > 20 * 1024 * 1024:
            raise ValidationError(_("The file is larger than 20 MB."))
        head = upload.read(5)
        upload.seek(0)
        if head[:4] != b"%PDF":
            raise ValidationError(_("Upload the signed copy as a PDF file."))
        return upload

    def clean(self):
        data = super().clean()
        if data.get("signed_on") and data.get("received_on") and data["received_on"] < data["signed_on"]:
            self.add_error("received_on", _("The copy cannot be received before it was signed."))
        return data


class DpaForm(forms.Form):
    signer_name = forms.CharField(label=_("Signed by (name)"), max_length=200)
    signer_title = forms.CharField(label=_("Title"), max_length=200, required=False)
    signed_on = date_field(_("Signed on"))


class PortalDpaForm(forms.Form):
    signer_name = forms.CharField(label=_("Your name"), max_length=200)
    signer_title = forms.CharField(label=_("Your title"), max_length=200)
    confirm = forms.BooleanField(
        label=_("I sign the data processing agreement on behalf of our organisation, for all our schools.")
    )


class PortalSignForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    title = forms.CharField(label=_("Your title"), max_length=200)
    confirm = forms.BooleanField(label=_("I have read the contract and sign it on behalf of our organisation."))
    document = forms.CharField(widget=forms.HiddenInput, max_length=64)


class NoticeForm(forms.Form):
    received_on = date_field(_("Notice received on"))


class ConvertForm(forms.Form):
    interval = forms.ChoiceField(
        label=_("Payment"),
        choices=[("month", _("Monthly, cancel any time")), ("year", _("Annual, 12 months' binding"))],
        widget=forms.RadioSelect,
    )
    active_users = forms.IntegerField(label=_("Number of active users"), min_value=1, max_value=100_000)


class AmendForm(PricedOnForm):
    effective_from = date_field(_("Effective from"))
    reason = forms.CharField(label=_("Reason"), max_length=200)
    field_order = ["effective_from", "reason", "schools", "active_users", "standards", "concurrent_users"]

    def changes(self, current: dict) -> dict:
        """Only what differs from the current request (the service merges it)."""
        new = self.priced_on()
        changes = {}
        for key in ("schools", "quantities", "standards", "concurrent_users"):
            old_value = current.get(key)
            new_value = new.get(key)
            if key == "schools" and new_value is not None:
                # Keep each school's customer link when the name is unchanged.
                by_name = {s.get("name"): s for s in current.get("schools") or []}
                new_value = [{**by_name.get(s["name"], {}), **s} for s in new_value]
            if (new_value or None) != (old_value or None):
                changes[key] = new_value if new_value is not None else ([] if key != "concurrent_users" else None)
        return changes


# ---------------------------------------------------------------- ordering and sign-up (portal)


class OrderForm(forms.Form):
    """The Spekter order form: owner, invoicing, who orders."""

    owner_org_number = OrgNumberField(label=_("Organisation number of the kommune or fylkeskommune"))
    owner_name = forms.CharField(label=_("Kommune or fylkeskommune"), max_length=200)
    bill_to = forms.ChoiceField(
        label=_("Who receives the invoice"),
        choices=[("owner", _("The kommune or fylkeskommune")), ("school", _("The school (one school only)"))],
        initial="owner",
        widget=forms.RadioSelect,
    )
    address_line = forms.CharField(label=_("Invoice address"), max_length=200)
    postal_code = forms.RegexField(
        label=_("Postal code"), regex=r"^\d{4}$", error_messages={"invalid": _("Four digits.")}
    )
    city = forms.CharField(label=_("City"), max_length=100)
    invoice_reference = forms.CharField(label=_("Invoice reference"), max_length=100)
    orderer_name = forms.CharField(label=_("Orderer's name"), max_length=200)
    orderer_title = forms.CharField(label=_("Orderer's title"), max_length=200)
    orderer_email = forms.EmailField(label=_("Orderer's e-mail"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["orderer_name"].widget.attrs["autocomplete"] = "name"
        self.fields["orderer_email"].widget.attrs["autocomplete"] = "email"
        self.fields["postal_code"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "postal-code"})
        self.fields["address_line"].widget.attrs["autocomplete"] = "street-address"


class SchoolForm(forms.Form):
    name = forms.CharField(label=_("School name"), max_length=200)
    org_number = OrgNumberField(label=_("School's organisation number"))
    pupils = forms.IntegerField(label=_("Pupils"), min_value=1, max_value=100_000)
    contact_name = forms.CharField(label=_("Contact person at the school"), max_length=200)
    contact_title = forms.CharField(label=_("Contact person's title"), max_length=200)
    contact_email = forms.EmailField(label=_("Contact person's e-mail"), required=False)


class BaseSchoolFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        numbers = [f.cleaned_data.get("org_number") for f in self.forms if f.cleaned_data]
        if not numbers:
            raise ValidationError(_("Add at least one school."))
        if len(set(numbers)) != len(numbers):
            raise ValidationError(_("The same school is listed twice."))


SchoolFormSet = forms.formset_factory(
    SchoolForm,
    formset=BaseSchoolFormSet,
    extra=0,
    min_num=1,
    max_num=MAX_SCHOOLS,
    validate_min=True,
    validate_max=True,
    absolute_max=MAX_SCHOOLS,
)


class SignupForm(forms.Form):
    org_number = OrgNumberField(
        label=_("Organisation number"), help_text=_("We check it in Brønnøysund (Enhetsregisteret).")
    )
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your e-mail"), help_text=_("We send a link to choose your password here."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
