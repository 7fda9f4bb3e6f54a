"""The tenant's invoicing choices (credit notes' own series, KID method): the service, the back-office page
and the API. The credit-note series can change only before the first credit note, so no series breaks."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from billing import services
from billing.models import BillingSettings, Invoice, InvoiceKind
from tenants.audit import Actor
from tenants.models import ApiKeyScope, AuditEvent
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.billing.test_pages import BO, EN, login, spekter  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def credit(invoice):
    return services.credit_note_create(actor=ACTOR, invoice=invoice, on=dt.date(2026, 3, 25), reason="Feil")


def test_credit_notes_take_their_own_series_and_mod11_after_the_choice(spekter):  # noqa: F811
    tenant, invoice = spekter["tenant"], spekter["invoice"]
    with tenant_context(tenant):
        chosen = services.billing_settings_update(actor=ACTOR, credit_notes_own_series=True, kid_method="mod11")
        assert (chosen.credit_notes_own_series, chosen.kid_method) == (True, "mod11")
        note = credit(invoice)
        assert (note.series, note.number) == ("credit_note", 1)
        event = AuditEvent.objects.get(action="billing_settings.update")
        assert event.changes["credit_notes_own_series"] == [None, True]


def test_the_series_cannot_change_once_a_credit_note_is_issued_and_nothing_is_written(spekter):  # noqa: F811
    tenant = spekter["tenant"]
    with tenant_context(tenant):
        credit(spekter["invoice"])
        with pytest.raises(ValidationError) as error:
            services.billing_settings_update(actor=ACTOR, credit_notes_own_series=True, kid_method="mod11")
        assert set(error.value.message_dict) == {"credit_notes_own_series"}
        assert not BillingSettings.objects.exists()
        # The KID method alone can still change: it applies to invoices issued from now on.
        assert services.billing_settings_update(actor=ACTOR, kid_method="mod11").kid_method == "mod11"
        with pytest.raises(ValidationError) as error:
            services.billing_settings_update(actor=ACTOR, kid_method="luhn")
        assert set(error.value.message_dict) == {"kid_method"}


def test_the_page_shows_and_saves_the_choice_for_an_admin_only(client, spekter):  # noqa: F811
    tenant = spekter["tenant"]
    login(client, tenant, Role.FINANCE)
    page = client.get(f"{BO}/settings/", **EN)
    assert page.status_code == 200 and "Invoicing settings" in page.content.decode()
    assert 'name="kid_method"' not in page.content.decode()  # finance sees the choice, cannot change it
    assert client.post(f"{BO}/settings/", {"kid_method": "mod11"}).status_code == 403
    client.logout()
    login(client, tenant, Role.ADMIN)
    saved = client.post(f"{BO}/settings/", {"credit_notes_own_series": "on", "kid_method": "mod11"})
    assert saved.status_code == 302
    with tenant_context(tenant):
        assert BillingSettings.objects.values_list("credit_notes_own_series", "kid_method").get() == (True, "mod11")
        credit(spekter["invoice"])
    refused = client.post(f"{BO}/settings/", {"kid_method": "mod11"}, **EN)  # back to the invoice series
    assert refused.status_code == 400
    assert "Credit notes have been issued in the current series" in refused.content.decode()
    with tenant_context(tenant):
        assert BillingSettings.objects.get().credit_notes_own_series is True


def test_the_api_reads_and_changes_the_settings(spekter):  # noqa: F811
    tenant = spekter["tenant"]
    _key, raw = make_key(tenant)
    api = client_for(raw)
    assert api.get(f"{API}/billing-settings").json() == {
        "credit_notes_own_series": False,
        "kid_method": "mod10",
        "payment_terms_days": 30,
    }
    changed = api.patch(f"{API}/billing-settings", {"kid_method": "mod11"}, format="json")
    assert changed.status_code == 200 and changed.json()["kid_method"] == "mod11"
    for body, field in (({"kid_method": "luhn"}, "kid_method"), ({"colour": "red"}, "colour")):
        bad = api.patch(f"{API}/billing-settings", body, format="json")
        assert bad.status_code == 400 and field in error_of(bad)["fields"], bad.json()
    with tenant_context(tenant):
        credit(spekter["invoice"])
        assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1
    late = api.patch(f"{API}/billing-settings", {"credit_notes_own_series": True}, format="json")
    assert late.status_code == 400 and "credit_notes_own_series" in error_of(late)["fields"]
    _read, read_raw = make_key(tenant, scope=ApiKeyScope.READ)
    read_only = client_for(read_raw).patch(f"{API}/billing-settings", {"kid_method": "mod10"}, format="json")
    assert read_only.status_code == 403


def test_another_tenants_settings_are_not_touched(spekter, tenant_b):  # noqa: F811
    _key, raw = make_key(tenant_b)
    assert client_for(raw).patch(f"{API}/billing-settings", {"kid_method": "mod11"}, format="json").status_code == 200
    with tenant_context(spekter["tenant"]):
        assert not BillingSettings.objects.exists()
    with tenant_context(tenant_b):
        assert BillingSettings.objects.get().kid_method == "mod11"
