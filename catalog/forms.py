"""Forms for the catalogue pages. They parse and check shape; ``catalog.services`` decides and writes."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import AddOn, HourlyService, Product, StandardCategory
from catalog.services import ADDON_FIELDS, CATEGORY_FIELDS, HOURLY_FIELDS, PRODUCT_FIELDS
from tenants.forms import ModelFieldsForm


class _Localized(ModelFieldsForm):
    """Decimal fields read and show Norwegian numbers (1 800,00) as well as 1800.00."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DecimalField):
                field.localize = True
                field.widget.is_localized = True
                field.widget.attrs.setdefault("inputmode", "decimal")


class ProductForm(_Localized):
    model = Product
    field_names = PRODUCT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("Letters, digits and hyphens; plans refer to the product by it.")
        self.fields["description"].widget.attrs["rows"] = 3


class AddOnForm(_Localized):
    model = AddOn
    field_names = ADDON_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("The code of the add-on component in the product's price plans.")
        self.fields["description"].widget.attrs["rows"] = 3


class HourlyServiceForm(_Localized):
    model = HourlyService
    field_names = HOURLY_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hourly_rate"].help_text = _("NOK per hour, before VAT.")
        self.fields["travel_share"].help_text = _("Share of the hourly rate billed for travel time: 0.5 is 50 %.")


class CategoryForm(_Localized):
    model = StandardCategory
    field_names = CATEGORY_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("The category number used in the catalogue and the CSV file, e.g. 5.")
        self.fields["users_one_level_higher"].help_text = _(
            "The multiplier M is taken one level higher than the number of concurrent users."
        )
        self.fields["building_blocks"].help_text = _(
            "Standards are bought in blocks of 25 at the category's average price."
        )
        self.fields["yearly_prices_fetched"].help_text = _("Catalogue prices are fetched anew every year.")


class StandardFilterForm(forms.Form):
    """The standards list's search and filters (GET); anything unknown is ignored."""

    WITHDRAWN_CHOICES = [("", _("All")), ("current", _("Current only")), ("withdrawn", _("Withdrawn only"))]

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    category = forms.ChoiceField(label=_("Category"), required=False)
    withdrawn = forms.ChoiceField(label=_("Withdrawn"), required=False, choices=WITHDRAWN_CHOICES)
    year = forms.IntegerField(label=_("Prices per 1 January"), required=False, min_value=2000, max_value=2100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            ("", _("All categories")),
            *((c.code, f"{c.code} {c.name}") for c in StandardCategory.objects.order_by("code")),
        ]
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": _("Document or title")})


class StandardsImportForm(forms.Form):
    year = forms.IntegerField(
        label=_("Prices per 1 January of"),
        min_value=2000,
        max_value=2100,
        initial=lambda: timezone.localdate().year,
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, comma separated, with the header code,title,category,price,withdrawn_on "
            "(withdrawn_on may be empty; dates as YYYY-MM-DD)."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        raw = upload.read()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(_("The file is not UTF-8 text; save it as CSV (UTF-8).")) from exc
