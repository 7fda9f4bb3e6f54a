"""Forms for the back-office and the portal.

Forms only parse and check the shape of input; the services in ``tenants.services`` decide and
write. ``apply_errors`` puts a service's ``ValidationError`` back on the form, field by field.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from tenants import services
from tenants.models import (
    OWNER_KINDS,
    ActorKind,
    ApiKeyScope,
    AuditEvent,
    Contact,
    Customer,
    CustomerKind,
    Membership,
    PortalUser,
    Tenant,
    User,
    Verification,
)
from tenants.permissions import Role
from tenants.validation import normalise_org_number, validate_org_number


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Attach a service's errors to the form: per field where the form has it, else to the whole form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class ModelFieldsForm(forms.Form):
    """A plain form whose fields (labels, choices, validators) come from a model's fields."""

    model: type | None = None
    field_names: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        generated = fields_for_model(self.model, fields=self.field_names)
        for name in self.field_names:
            if name not in self.fields:
                formfield = generated[name]
                # Form fields do not carry the model field's validators (ModelForm runs them in
                # full_clean); copy them, so every field's message comes back in one round.
                extra = [v for v in self.model._meta.get_field(name).validators if v not in formfield.validators]
                formfield.validators = [*formfield.validators, *extra]
                self.fields[name] = formfield
        self.order_fields(self.field_names)

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.field_names}


class OrgNumberField(forms.CharField):
    """Nine digits, spaces allowed while typing ("937 620 187"); cleaned to the compact form."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("label", _("Organisation number"))
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})

    def clean(self, value):
        value = normalise_org_number(super().clean(value))
        if value:
            validate_org_number(value)
        return value


class CustomerForm(ModelFieldsForm):
    model = Customer
    field_names = services.CUSTOMER_FIELDS

    org_number = OrgNumberField(
        required=False,
        help_text=_("Nine digits. Use the button to fill in name and address from Brønnøysund."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        parent.queryset = Customer.objects.filter(kind__in=OWNER_KINDS).order_by("name")
        parent.help_text = _("Only for schools and other units owned by a kommune or fylkeskommune.")
        self.fields["country"].help_text = _("Two letters, e.g. NO, SE, DK.")
        self.fields["peppol_endpoint"].help_text = _("0192: followed by the organisation number, if they receive EHF.")
        self.fields["name"].widget.attrs["autocomplete"] = "organization"
        self.fields["invoice_email"].widget.attrs["autocomplete"] = "email"
        self.fields["postal_code"].widget.attrs.update({"autocomplete": "postal-code", "inputmode": "numeric"})

    def clean_country(self):
        return (self.cleaned_data.get("country") or "").upper()


class PortalInvoiceForm(ModelFieldsForm):
    """What a customer may change about itself in the portal: where and how to send invoices."""

    model = Customer
    field_names = ("address_line", "postal_code", "city", "invoice_reference", "invoice_email")


class ContactForm(ModelFieldsForm):
    model = Contact
    field_names = ("name", "title", "email", "phone", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})


class TenantForm(ModelFieldsForm):
    model = Tenant
    field_names = services.TENANT_FIELDS

    org_number = OrgNumberField()


class PortalUserForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    full_name = forms.CharField(label=_("Name"), max_length=200, required=False)


class StaffAddForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    full_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What will use the key, e.g. “Accounting system”.")
    )
    scope = forms.ChoiceField(label=_("Scope"), choices=ApiKeyScope.choices, initial=ApiKeyScope.READ)


class CustomerFilterForm(forms.Form):
    """The customers list's search and filters (GET); anything unknown is ignored, never an error page."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *CustomerKind.choices])
    verification = forms.ChoiceField(
        label=_("Registry check"), required=False, choices=[("", _("All")), *Verification.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": _("Name or organisation number")})


class AuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=200)
    actor_kind = forms.ChoiceField(label=_("Actor kind"), required=False, choices=[("", _("All")), *ActorKind.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = AuditEvent.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
        self.fields["object_type"].choices = [("", _("All")), *((t, t) for t in types)]
        self.fields["actor"].widget.attrs["placeholder"] = _("E-mail or key name")


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TenantPasswordResetForm(PasswordResetForm):
    """Password reset limited to the people of one face of one tenant.

    Users without a usable password are included: that is how a new portal user or staff member
    sets their first password (the link in the invitation is a reset link).
    """

    face = "backoffice"

    def __init__(self, *args, face: str = "backoffice", **kwargs):
        super().__init__(*args, **kwargs)
        self.face = face
        self.fields["email"].widget.attrs["autocomplete"] = "email"

    def get_users(self, email):
        email = (email or "").strip().lower()
        if self.face == "backoffice":
            user_ids = Membership.objects.filter(is_active=True, user__email__iexact=email).values("user_id")
        else:
            user_ids = PortalUser.objects.filter(
                is_active=True, customer__is_active=True, user__email__iexact=email
            ).values("user_id")
        return User.objects.filter(pk__in=user_ids, is_active=True)
