"""Template helpers for accessible forms and small formatting bits."""

from __future__ import annotations

from django import forms, template
from django.utils.translation import gettext as _

register = template.Library()


@register.inclusion_tag("includes/field.html")
def field(bound_field, **attrs):
    """A labelled field: help text and errors linked by ``aria-describedby``, ``aria-invalid`` when wrong."""
    widget_id = bound_field.auto_id or f"id_{bound_field.html_name}"
    help_id, error_id = f"{widget_id}_help", f"{widget_id}_error"
    described = []
    if bound_field.help_text:
        described.append(help_id)
    if bound_field.errors:
        described.append(error_id)
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if bound_field.field.required and not isinstance(bound_field.field.widget, forms.CheckboxInput):
        attrs["required"] = True
    return {
        "field": bound_field,
        "widget": bound_field.as_widget(attrs=attrs),
        "help_id": help_id,
        "error_id": error_id,
        "is_checkbox": isinstance(bound_field.field.widget, forms.CheckboxInput),
        "required_label": _("required"),
    }


@register.filter
def old_new(values):
    """An audit change ``[old, new]`` as two display strings ("—" for nothing)."""
    try:
        old, new = values
    except (TypeError, ValueError):
        return ("—", str(values))

    def show(value):
        if value in (None, ""):
            return "—"
        if value is True:
            return _("yes")
        if value is False:
            return _("no")
        return str(value)

    return (show(old), show(new))


@register.simple_tag(takes_context=True)
def page_url(context, number):
    query = context.get("query", "")
    return f"?{query}&page={number}" if query else f"?page={number}"


SECTIONS = (
    ("customer", "customers"),
    ("contact", "customers"),
    ("portal_user", "customers"),
    ("staff", "staff"),
    ("api_key", "api_keys"),
    ("audit", "audit"),
    ("tenant_edit", "settings"),
    ("home", "home"),
    # catalogue, plans and quotes (catalog/views.py, pricing/views.py)
    ("catalog", "catalog"),
    ("product", "catalog"),
    ("addon", "catalog"),
    ("hourly", "catalog"),
    ("category", "catalog"),
    ("standard", "catalog"),
    ("plan", "plans"),
    ("version", "plans"),
    ("quote_calculator", "calculator"),
    ("quote", "quotes"),
)
PORTAL_SECTIONS = (
    ("contact", "contacts"),
    ("invoice", "home"),
    ("home", "home"),
    ("prices", "prices"),
    ("quote", "quotes"),
)


@register.filter
def section(url_name, face="backoffice"):
    """Which navigation entry a URL name belongs to (for ``aria-current``)."""
    for prefix, name in PORTAL_SECTIONS if face == "portal" else SECTIONS:
        if (url_name or "").startswith(prefix):
            return name
    return ""
