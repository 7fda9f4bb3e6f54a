"""Forms for the indexation pages: they parse and check the shape of input; ``indexation.services`` and
``pricing.index_services`` decide and write. A service's ``ValidationError`` goes back on the form with
``tenants.forms.apply_errors``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contracts.forms import date_field
from indexation.models import ProposalStatus
from indexation.selectors import series_label
from pricing.models import IndexationPolicy, IndexSeries


def _decimal_text(value: str) -> str:
    """ "3,5" / "3 500,5" → "3.5" / "3500.5"."""
    return (value or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")


class PolicyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ProposalFilterForm(forms.Form):
    """The proposal list's filters (GET); anything unknown is ignored."""

    q = forms.CharField(label=_("Contract or customer"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)
    policy = PolicyChoiceField(label=_("Policy"), queryset=None, required=False, empty_label=_("All policies"))
    effective_on = date_field(_("Takes effect"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            ("", _("All statuses")),
            ("open", _("Open (waiting or awaiting approval)")),
            *ProposalStatus.choices,
        ]
        self.fields["policy"].queryset = IndexationPolicy.objects.order_by("code")
        self.fields["q"].widget.attrs.update({"placeholder": _("Reference, name or organisation number")})

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"],
            "policy": data["policy"],
            "effective_on": data["effective_on"],
            "q": data["q"],
        }


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is rejected"),
        max_length=300,
        help_text=_('Kept in the audit log, e.g. "Agreed with the customer to keep the price this year".'),
        widget=forms.TextInput,
    )


class ApproveAllForm(forms.Form):
    policy = forms.ModelChoiceField(queryset=None)
    effective_on = forms.DateField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].queryset = IndexationPolicy.objects.all()


class SeriesChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("%(label)s, SSB table %(table)s") % {"label": series_label(obj), "table": obj.table}


class IndexValueForm(forms.Form):
    """A month's index entered by hand. Month and value are handed to the service as typed, so its message
    says what is wrong with them."""

    series = SeriesChoiceField(label=_("Index series"), queryset=None, empty_label=None)
    month = forms.CharField(
        label=_("Month"),
        max_length=10,
        help_text=_("The month the index is for, e.g. 2025-10."),
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2025-10"}),
    )
    value = forms.CharField(
        label=_("Index value"),
        max_length=20,
        help_text=_("As SSB publishes it, e.g. 138,4."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("Where the value comes from"),
        max_length=300,
        help_text=_("E.g. SSB's press release of 10 November 2025. Kept in the audit log."),
    )

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        series = IndexSeries.objects.order_by("index_code", "-base_year")
        if today is not None:  # only series SSB had published by then
            series = series.filter(Q(published_from__isnull=True) | Q(published_from__lte=today))
        self.fields["series"].queryset = series


class IncreaseForm(forms.Form):
    percent = forms.CharField(
        label=_("Increase (per cent)"),
        max_length=10,
        help_text=_("The whole increase, e.g. 9 for 9 %; it replaces the index change on that date."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    effective_on = date_field(_("Takes effect"))

    def clean_percent(self):
        text = _decimal_text(self.cleaned_data["percent"])
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise forms.ValidationError(_("Give the increase as a number, e.g. 9 or 7,5.")) from exc
        if not value.is_finite():
            raise forms.ValidationError(_("Give the increase as a number, e.g. 9 or 7,5."))
        return value
