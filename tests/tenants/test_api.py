"""The REST API under /api/v1: happy paths with exact values, audit rows, bad input, errors."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from tenants import tenancy
from tenants.models import ApiKey, ApiKeyScope, AuditEvent, Contact, Customer, CustomerKind, Tenant, Verification
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

PAAVAKT = "937620187"  # PÅVAKT AS in the recorded registry
STAVANGER = "944387234"  # STAVANGER KOMMUNE
HUNDVAAG = "924195932"  # HUNDVÅG SKOLE, sub-unit of Stavanger kommune
UNKNOWN = "937620195"  # valid check digit, not in the registry


@pytest.fixture
def key(tenant_a):
    return make_key(tenant_a, ApiKeyScope.READ_WRITE, name="ERP")


@pytest.fixture
def api(key):
    return client_for(key[1])


def in_a(tenant, fn):
    with tenant_context(tenant):
        return fn()


def audit_rows(tenant, **filters):
    with tenant_context(tenant):
        return list(AuditEvent.objects.filter(**filters).order_by("id"))


def data_audit_rows(tenant):
    """Audit rows about anything but the test's own API key."""
    with tenant_context(tenant):
        return list(AuditEvent.objects.exclude(action="api_key.create"))


# ---------------------------------------------------------------- tenant profile


def test_get_tenant_profile(api, tenant_a):
    response = api.get(f"{API}/tenant")
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "alpha"
    assert body["name"] == "Alpha AS"
    assert body["org_number"] == tenant_a.org_number
    assert (
        body["org_number_display"] == f"{tenant_a.org_number[:3]} {tenant_a.org_number[3:6]} {tenant_a.org_number[6:]}"
    )
    assert body["vat_number"] == f"NO{tenant_a.org_number}MVA"
    assert body["payment_terms_days"] == 30
    assert body["currency"] == "NOK"


def test_patch_tenant_profile_is_audited_with_the_key(api, key, tenant_a):
    response = api.patch(f"{API}/tenant", {"payment_terms_days": 14, "city": "Bodø"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["payment_terms_days"] == 14
    tenant_a.refresh_from_db()
    assert (tenant_a.payment_terms_days, tenant_a.city) == (14, "Bodø")
    [event] = audit_rows(tenant_a, action="tenant.update")
    assert event.actor_kind == "api_key"
    assert event.actor_api_key_id == key[0].pk
    assert event.actor_label == f"API key ERP ({key[0].prefix})"
    assert event.changes == {"city": ["", "Bodø"], "payment_terms_days": [30, 14]}


def test_patch_tenant_bad_input_changes_nothing(api, tenant_a):
    response = api.patch(
        f"{API}/tenant",
        {"payment_terms_days": "fourteen", "bank_account": "12345678901", "email": "nope", "slug": "x"},
        format="json",
    )
    assert response.status_code == 400
    fields = error_of(response)["fields"]
    assert set(fields) == {"payment_terms_days", "bank_account", "email", "slug"}
    assert fields["payment_terms_days"] == ["A valid integer is required."]
    assert fields["slug"] == ["Unknown field; it cannot be set here."]
    tenant_a.refresh_from_db()
    assert tenant_a.payment_terms_days == 30
    assert data_audit_rows(tenant_a) == []


def test_messages_are_norwegian_without_accept_language(key, tenant_a):
    response = client_for(key[1], language="").patch(f"{API}/tenant", {"payment_terms_days": "x"}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"payment_terms_days": ["En gyldig heltall er nødvendig."]}


def test_patch_tenant_invalid_org_number_from_the_service(api, tenant_a):
    before = tenant_a.org_number
    response = api.patch(f"{API}/tenant", {"org_number": "937620188"}, format="json")
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["org_number"]
    assert "937620188 is not a valid organisation number" in error_of(response)["fields"]["org_number"][0]
    tenant_a.refresh_from_db()
    assert tenant_a.org_number == before


# ---------------------------------------------------------------- customers: create


def test_create_customer_verified_in_brreg(api, key, tenant_a, brreg_fake):
    response = api.post(
        f"{API}/customers/",
        {"org_number": "937 620 187", "name": "Påvakt AS", "kind": "company", "invoice_email": "faktura@pavakt.no"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["org_number"] == PAAVAKT
    assert body["org_number_display"] == "937 620 187"
    assert body["name"] == "Påvakt AS"
    assert body["verification"] == "verified"
    assert body["verified_at"] is not None
    assert body["registry"] == {
        "name": "PÅVAKT AS",
        "organisation_form": "AS",
        "registered_in_mva": True,
        "registered_in_foretaksregisteret": True,
        "bankrupt": False,
        "under_liquidation": False,
        "under_forced_liquidation": False,
        "deleted": False,
        "is_active": True,
    }
    assert body["parent"] is None
    assert body["children"] == []
    assert body["url"] == f"http://testserver{API}/customers/{body['id']}"
    assert body["contacts_url"] == f"http://testserver{API}/customers/{body['id']}/contacts"
    customer = in_a(tenant_a, lambda: Customer.objects.get(pk=body["id"]))
    assert customer.tenant_id == tenant_a.pk
    [event] = audit_rows(tenant_a, action="customer.create")
    assert (event.actor_kind, event.actor_api_key_id, event.object_id) == ("api_key", key[0].pk, str(customer.pk))
    assert event.changes["name"] == [None, "Påvakt AS"]


def test_create_school_with_parent(api, tenant_a, brreg_fake):
    kommune = api.post(
        f"{API}/customers/", {"org_number": STAVANGER, "name": "Stavanger kommune", "kind": "kommune"}, format="json"
    )
    assert kommune.status_code == 201, kommune.json()
    kommune_id = kommune.json()["id"]
    school = api.post(
        f"{API}/customers/",
        {"org_number": HUNDVAAG, "name": "Hundvåg skole", "kind": "school", "parent": kommune_id},
        format="json",
    )
    assert school.status_code == 201, school.json()
    assert school.json()["parent"] == kommune_id
    assert api.get(f"{API}/customers/{kommune_id}").json()["children"] == [school.json()["id"]]


def test_create_unknown_org_number_is_refused_on_that_field(api, tenant_a, brreg_fake):
    response = api.post(f"{API}/customers/", {"org_number": UNKNOWN, "name": "Ukjent AS"}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "org_number": [f"{UNKNOWN} is not registered in Brønnøysund (Enhetsregisteret). Check the number."]
    }
    assert in_a(tenant_a, Customer.objects.count) == 0
    assert data_audit_rows(tenant_a) == []


def test_create_while_registry_is_down_saves_not_verified(api, tenant_a, brreg_fake):
    brreg_fake.set_down("brreg")
    response = api.post(f"{API}/customers/", {"org_number": PAAVAKT, "name": "Påvakt AS"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["verification"] == "not_verified"
    assert response.json()["registry"] is None
    assert in_a(tenant_a, lambda: Customer.objects.get().verification) == Verification.NOT_VERIFIED


# ---------------------------------------------------------------- customers: read, list, filter


@pytest.fixture
def customers(tenant_a):
    with tenant_context(tenant_a):
        kommune = CustomerFactory(name="Stavanger kommune", org_number=STAVANGER, kind=CustomerKind.KOMMUNE)
        school = CustomerFactory(name="Hundvåg skole", org_number=HUNDVAAG, kind=CustomerKind.SCHOOL, parent=kommune)
        company = CustomerFactory(
            name="Påvakt AS", org_number=PAAVAKT, verification=Verification.VERIFIED, vat_treatment="exempt"
        )
        inactive = CustomerFactory(name="Avviklet AS", is_active=False)
    return {"kommune": kommune, "school": school, "company": company, "inactive": inactive}


def names(response):
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["results"]]


def test_list_customers_paginated_in_name_order(api, customers):
    first = api.get(f"{API}/customers/", {"page_size": 3})
    assert first.json()["count"] == 4
    assert names(first) == ["Avviklet AS", "Hundvåg skole", "Påvakt AS"]
    assert first.json()["next"] == f"http://testserver{API}/customers/?page=2&page_size=3"
    second = api.get(first.json()["next"])
    assert names(second) == ["Stavanger kommune"]
    assert second.json()["next"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "school"}, ["Hundvåg skole"]),
        ({"kind": "kommune"}, ["Stavanger kommune"]),
        ({"has_parent": "true"}, ["Hundvåg skole"]),
        ({"org_number": "937 620 187"}, ["Påvakt AS"]),
        ({"verification": "verified"}, ["Påvakt AS"]),
        ({"is_active": "false"}, ["Avviklet AS"]),
        ({"vat_treatment": "exempt"}, ["Påvakt AS"]),
        ({"search": "skole"}, ["Hundvåg skole"]),
        ({"search": "944387"}, ["Stavanger kommune"]),
        ({"ordering": "-name"}, ["Stavanger kommune", "Påvakt AS", "Hundvåg skole", "Avviklet AS"]),
    ],
)
def test_filter_customers(api, customers, params, expected):
    assert names(api.get(f"{API}/customers/", params)) == expected


def test_filter_customers_by_parent(api, customers):
    assert names(api.get(f"{API}/customers/", {"parent": customers["kommune"].pk})) == ["Hundvåg skole"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "bank"}, "kind"),
        ({"parent": "abc"}, "parent"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "9"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "100000"}, "page_size"),
        ({"verification": "maybe"}, "verification"),
    ],
)
def test_bad_list_parameters_are_400_on_that_parameter(api, customers, params, field):
    response = api.get(f"{API}/customers/", params)
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == [field]


def test_page_past_the_end_says_which_is_last(api, customers):
    response = api.get(f"{API}/customers/", {"page": 9, "page_size": 3})
    assert error_of(response)["fields"] == {"page": ["Page 9 does not exist; the last page is 2."]}


def test_retrieve_customer(api, customers):
    school = customers["school"]
    response = api.get(f"{API}/customers/{school.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["kind"], body["parent"]) == (
        school.pk,
        "Hundvåg skole",
        "school",
        customers["kommune"].pk,
    )
    assert body["org_number_display"] == "924 195 932"
    assert body["verification"] == "not_verified"
    # With and without a trailing slash.
    assert api.get(f"{API}/customers/{school.pk}/").json()["id"] == school.pk


def test_unknown_customer_id_is_404(api, customers):
    for path in ("999999", "abc", "99999999999999999999"):
        response = api.get(f"{API}/customers/{path}")
        assert response.status_code == 404, path
        assert error_of(response)["message"] == "Not found."


# ---------------------------------------------------------------- customers: change, verify, delete


def test_patch_customer_is_audited(api, key, tenant_a, customers):
    company = customers["company"]
    response = api.patch(f"{API}/customers/{company.pk}", {"invoice_email": "ny@pavakt.no"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["invoice_email"] == "ny@pavakt.no"
    assert in_a(tenant_a, lambda: Customer.objects.get(pk=company.pk).invoice_email) == "ny@pavakt.no"
    [event] = audit_rows(tenant_a, action="customer.update")
    assert event.actor_api_key_id == key[0].pk
    assert event.changes == {"invoice_email": [company.invoice_email, "ny@pavakt.no"]}


def test_put_customer_replaces_fields(api, tenant_a, customers):
    company = customers["company"]
    response = api.put(
        f"{API}/customers/{company.pk}",
        {"org_number": PAAVAKT, "name": "Påvakt AS (ny)", "kind": "company", "city": "Bodø", "postal_code": "8006"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    company = in_a(tenant_a, lambda: Customer.objects.get(pk=company.pk))
    assert (company.name, company.city, company.postal_code) == ("Påvakt AS (ny)", "Bodø", "8006")


def test_put_customer_without_name_is_400(api, tenant_a, customers):
    company = customers["company"]
    response = api.put(f"{API}/customers/{company.pk}", {"city": "Bodø"}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"name": ["This field is required."]}
    assert in_a(tenant_a, lambda: Customer.objects.get(pk=company.pk).city) == "Oslo"


def test_verify_customer_rechecks_brreg(api, key, tenant_a, customers, brreg_fake):
    kommune = customers["kommune"]
    response = api.post(f"{API}/customers/{kommune.pk}/verify")
    assert response.status_code == 200, response.json()
    assert response.json()["verification"] == "verified"
    assert response.json()["registry"]["name"] == "STAVANGER KOMMUNE"
    assert response.json()["registry"]["organisation_form"] == "KOMM"
    [event] = audit_rows(tenant_a, action="customer.verify")
    assert event.actor_api_key_id == key[0].pk
    assert event.changes["verification"] == ["not_verified", "verified"]


def test_verify_unknown_number_records_not_found(api, tenant_a, customers, brreg_fake):
    inactive = customers["inactive"]  # a made-up number the registry does not know
    response = api.post(f"{API}/customers/{inactive.pk}/verify/")
    assert response.status_code == 200
    assert response.json()["verification"] == "not_found"


def test_delete_customer(api, key, tenant_a, customers):
    company = customers["company"]
    response = api.delete(f"{API}/customers/{company.pk}")
    assert response.status_code == 204
    assert in_a(tenant_a, lambda: Customer.objects.filter(pk=company.pk).exists()) is False
    [event] = audit_rows(tenant_a, action="customer.delete")
    assert (event.actor_api_key_id, event.object_id) == (key[0].pk, str(company.pk))


def test_delete_kommune_that_owns_schools_is_400(api, tenant_a, customers):
    kommune = customers["kommune"]
    response = api.delete(f"{API}/customers/{kommune.pk}")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "non_field_errors": ["This customer owns other customers (schools); move or delete them first."]
    }
    assert in_a(tenant_a, lambda: Customer.objects.filter(pk=kommune.pk).exists()) is True


# ---------------------------------------------------------------- customers: bad input


def customer_count(tenant):
    return in_a(tenant, Customer.objects.count)


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"name": "X AS", "org_number": "937620188"}, {"org_number"}),
        ({"name": "X AS", "org_number": PAAVAKT, "invoice_email": "not-an-email"}, {"invoice_email"}),
        ({"name": "X AS", "org_number": PAAVAKT, "kind": "bank"}, {"kind"}),
        ({"name": "X AS", "org_number": PAAVAKT, "vat_treatment": 25}, {"vat_treatment"}),
        ({"name": "X AS", "org_number": PAAVAKT, "is_active": "perhaps"}, {"is_active"}),
        ({"name": "X AS", "org_number": PAAVAKT, "peppol_endpoint": "9908:937620187"}, {"peppol_endpoint"}),
        ({"name": "X AS", "org_number": PAAVAKT, "verification": "verified"}, {"verification"}),
        ({"name": "X AS", "org_number": PAAVAKT, "colour": "blue"}, {"colour"}),
        ({"name": "X AS", "org_number": PAAVAKT, "parent": "abc"}, {"parent"}),
        ({"name": "X AS", "org_number": PAAVAKT, "parent": 99999999}, {"parent"}),
        ({"name": "", "org_number": ""}, {"name"}),
        ({"name": "X AS"}, {"org_number"}),  # a Norwegian customer needs its number (service rule)
        ({"name": "Skole", "org_number": HUNDVAAG, "kind": "school"}, {"parent"}),
        ({"name": "X AS", "org_number": PAAVAKT, "vat_treatment": "reverse_charge"}, {"vat_treatment"}),
        ({"name": None, "org_number": True}, {"name", "org_number"}),
        ({"name": "X" * 201, "org_number": PAAVAKT}, {"name"}),
        ({"org_number": PAAVAKT}, {"name"}),
        ([{"name": "X AS"}], {"non_field_errors"}),
    ],
)
def test_create_customer_bad_input(api, tenant_a, brreg_fake, payload, fields):
    response = api.post(f"{API}/customers/", payload, format="json")
    assert response.status_code == 400, response.json()
    error = error_of(response)
    assert set(error["fields"]) == fields
    assert all(messages and all(isinstance(m, str) and m for m in messages) for messages in error["fields"].values())
    assert customer_count(tenant_a) == 0
    assert data_audit_rows(tenant_a) == []


def test_parent_that_is_not_a_kommune_is_refused(api, tenant_a, customers, brreg_fake):
    response = api.post(
        f"{API}/customers/",
        {"name": "Skole", "org_number": "977557135", "kind": "school", "parent": customers["company"].pk},
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"parent": ["The owner must be a kommune or a fylkeskommune."]}
    assert customer_count(tenant_a) == 4


def test_duplicate_org_number_is_400(api, tenant_a, customers, brreg_fake):
    response = api.post(f"{API}/customers/", {"name": "Påvakt igjen", "org_number": PAAVAKT}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"org_number": ["A customer with this organisation number already exists."]}
    assert customer_count(tenant_a) == 4


def test_patch_customer_bad_input_changes_nothing(api, tenant_a, customers):
    company = customers["company"]
    response = api.patch(
        f"{API}/customers/{company.pk}",
        {"invoice_email": "x", "kind": "bank", "country": "Norway"},
        format="json",
    )
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"invoice_email", "kind", "country"}
    fresh = in_a(tenant_a, lambda: Customer.objects.get(pk=company.pk))
    assert (fresh.invoice_email, fresh.kind, fresh.country) == (company.invoice_email, "company", "NO")
    assert data_audit_rows(tenant_a) == []


def test_non_json_body_is_400(api, tenant_a):
    response = api.generic("POST", f"{API}/customers/", "{name: oops", content_type="application/json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "parse_error"
    assert error["message"].startswith("JSON parse error")
    assert list(error["fields"]) == ["non_field_errors"]
    assert customer_count(tenant_a) == 0


def test_form_encoded_body_is_415(api, tenant_a):
    response = api.post(f"{API}/customers/", {"name": "X AS"})  # multipart, not JSON
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert customer_count(tenant_a) == 0


# ---------------------------------------------------------------- contacts


def test_customer_contacts_list_and_create(api, key, tenant_a, customers):
    school = customers["school"]
    with tenant_context(tenant_a):
        ContactFactory(customer=school, name="Rektor Rød")
        ContactFactory(customer=customers["company"], name="Someone Else")
    listed = api.get(f"{API}/customers/{school.pk}/contacts/")
    assert names(listed) == ["Rektor Rød"]
    created = api.post(
        f"{API}/customers/{school.pk}/contacts",
        {"name": "Anne Faktura", "email": "anne@skole.no", "role": "invoice_contact", "phone": "+47 912 34 567"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["customer"], body["name"], body["email"], body["role"], body["phone"]) == (
        school.pk,
        "Anne Faktura",
        "anne@skole.no",
        "invoice_contact",
        "+47 912 34 567",
    )
    assert body["url"] == f"http://testserver{API}/contacts/{body['id']}"
    assert names(api.get(f"{API}/customers/{school.pk}/contacts/")) == ["Anne Faktura", "Rektor Rød"]
    [event] = audit_rows(tenant_a, action="contact.create")
    assert (event.actor_api_key_id, event.object_id) == (key[0].pk, str(body["id"]))


def test_contacts_list_filter_retrieve_patch_delete(api, key, tenant_a, customers):
    with tenant_context(tenant_a):
        one = ContactFactory(customer=customers["school"], name="Rektor Rød", role="school_contact")
        ContactFactory(customer=customers["company"], name="Ola Innkjøp", role="orderer")
    assert names(api.get(f"{API}/contacts/")) == ["Ola Innkjøp", "Rektor Rød"]
    assert names(api.get(f"{API}/contacts/", {"customer": customers["school"].pk})) == ["Rektor Rød"]
    assert names(api.get(f"{API}/contacts/", {"role": "orderer"})) == ["Ola Innkjøp"]
    assert api.get(f"{API}/contacts/{one.pk}").json()["name"] == "Rektor Rød"

    patched = api.patch(f"{API}/contacts/{one.pk}", {"title": "Rektor", "role": "dpa_signer"}, format="json")
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["title"], patched.json()["role"]) == ("Rektor", "dpa_signer")
    [event] = audit_rows(tenant_a, action="contact.update")
    assert event.changes == {"role": ["school_contact", "dpa_signer"], "title": ["", "Rektor"]}

    put = api.put(f"{API}/contacts/{one.pk}", {"name": "Rektor Blå"}, format="json")
    assert put.status_code == 200
    assert put.json()["name"] == "Rektor Blå"

    deleted = api.delete(f"{API}/contacts/{one.pk}")
    assert deleted.status_code == 204
    assert in_a(tenant_a, lambda: Contact.objects.filter(pk=one.pk).exists()) is False
    assert [e.action for e in audit_rows(tenant_a, object_type="contact")] == [
        "contact.update",
        "contact.update",
        "contact.delete",
    ]


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"name": "Kari", "email": "kari(at)skole.no"}, {"email"}),
        ({"name": "Kari", "role": "boss"}, {"role"}),
        ({"name": ""}, {"name"}),
        ({"email": "kari@skole.no"}, {"name"}),
        ({"name": "Kari", "customer": 1}, {"customer"}),
        ({"name": "Kari", "phone": "1" * 31}, {"phone"}),
        ({"name": ["Kari"]}, {"name"}),
    ],
)
def test_create_contact_bad_input(api, tenant_a, customers, payload, fields):
    response = api.post(f"{API}/customers/{customers['school'].pk}/contacts/", payload, format="json")
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == fields
    assert in_a(tenant_a, Contact.objects.count) == 0


def test_patch_contact_bad_input_changes_nothing(api, tenant_a, customers):
    with tenant_context(tenant_a):
        contact = ContactFactory(customer=customers["school"], name="Rektor Rød", email="rr@skole.no")
    response = api.patch(f"{API}/contacts/{contact.pk}", {"email": "nope", "role": "boss"}, format="json")
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"email", "role"}
    assert in_a(tenant_a, lambda: Contact.objects.get(pk=contact.pk).email) == "rr@skole.no"


# ---------------------------------------------------------------- Brønnøysund lookup


def test_registry_lookup(api, brreg_fake):
    response = api.get(f"{API}/registry/937 620 187")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["org_number"], body["org_number_display"], body["name"]) == (PAAVAKT, "937 620 187", "PÅVAKT AS")
    assert (body["organisation_form"], body["suggested_kind"], body["is_active"]) == ("AS", "company", True)


def test_registry_lookup_of_a_school_suggests_its_owner(api, brreg_fake):
    body = api.get(f"{API}/registry/{HUNDVAAG}").json()
    assert (body["is_sub_unit"], body["parent_org_number"], body["suggested_kind"]) == (True, STAVANGER, "school")


def test_registry_lookup_invalid_number_is_400(api, brreg_fake):
    response = api.get(f"{API}/registry/937620188")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "org_number": ["937620188 is not a valid organisation number: it must be 9 digits with a correct check digit."]
    }


def test_registry_lookup_unknown_is_404_with_message(api, brreg_fake):
    response = api.get(f"{API}/registry/{UNKNOWN}")
    assert response.status_code == 404
    assert error_of(response)["message"] == (
        "937 620 195 is not registered in Brønnøysund (Enhetsregisteret). Check the number."
    )


def test_registry_lookup_when_registry_down_is_503(api, brreg_fake):
    brreg_fake.set_down("brreg")
    response = api.get(f"{API}/registry/{PAAVAKT}")
    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "registry_unavailable"
    assert error["message"] == "Brønnøysund (Enhetsregisteret) is not answering right now; try again shortly."


# ---------------------------------------------------------------- audit log and API keys


def test_audit_events_list_and_filters(api, key, tenant_a, customers):
    company = customers["company"]
    api.patch(f"{API}/customers/{company.pk}", {"city": "Bodø"}, format="json")
    api.patch(f"{API}/tenant", {"city": "Bodø"}, format="json")
    all_events = api.get(f"{API}/audit-events/").json()
    # Newest first; the key's creation was recorded by the system actor.
    assert [e["action"] for e in all_events["results"]] == ["tenant.update", "customer.update", "api_key.create"]
    by_object = api.get(f"{API}/audit-events/", {"object_type": "customer", "object_id": company.pk}).json()
    [event] = by_object["results"]
    assert event["actor_kind"] == "api_key"
    assert event["actor_api_key"] == key[0].pk
    assert event["changes"] == {"city": ["Oslo", "Bodø"]}
    by_actor = api.get(f"{API}/audit-events/", {"actor_kind": "system"}).json()
    assert [e["action"] for e in by_actor["results"]] == ["api_key.create"]
    # Tomorrow in Oslo, as the filter reads dates (between 23:00 and 24:00 UTC, UTC's tomorrow is Oslo's today).
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert api.get(f"{API}/audit-events/", {"since": tomorrow}).json()["count"] == 0
    assert api.get(f"{API}/audit-events/", {"until": tomorrow}).json()["count"] == 3
    bad = api.get(f"{API}/audit-events/", {"since": "last tuesday"})
    assert bad.status_code == 400
    assert list(error_of(bad)["fields"]) == ["since"]


def test_api_keys_list_never_shows_the_hash(api, key, tenant_a):
    other, _raw = make_key(tenant_a, ApiKeyScope.READ, name="BI")
    response = api.get(f"{API}/api-keys/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["name"], r["prefix"], r["scope"], r["is_active"]) for r in rows] == [
        ("BI", other.prefix, "read", True),
        ("ERP", key[0].prefix, "read_write", True),
    ]
    assert set(rows[0]) == {"id", "name", "prefix", "scope", "created_at", "last_used_at", "revoked_at", "is_active"}
    assert rows[1]["last_used_at"] is not None  # this very key, just used
    assert key[0].key_hash not in response.content.decode()


def test_api_keys_are_read_only_over_the_api(api, key):
    response = api.post(f"{API}/api-keys/", {"name": "x"}, format="json")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert api.delete(f"{API}/api-keys/{key[0].pk}").status_code == 405


# ---------------------------------------------------------------- errors in general


def test_unknown_api_path_is_404_in_the_error_format(api):
    response = api.get(f"{API}/dunning-letters/")  # not an endpoint (reminders/ is one since issue 11)
    assert response.status_code == 404
    assert error_of(response) == {"status": 404, "code": "not_found", "message": "No such API endpoint.", "fields": {}}


def test_missing_key_is_401_with_bearer_challenge(db):
    response = client_for(None).get(f"{API}/customers/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "not_authenticated"


def test_api_request_leaves_no_tenant_on_the_connection(api, customers):
    assert api.get(f"{API}/customers/").status_code == 200
    assert tenancy.current_tenant() is None
    assert tenancy.db_tenant_setting() == ""


# ---------------------------------------------------------------- create_api_key command


def test_create_api_key_command_prints_a_working_key(tenant_a, customers):
    out = io.StringIO()
    call_command("create_api_key", "--tenant", "alpha", "--name", "Økonomisystem", "--scope", "read", stdout=out)
    lines = out.getvalue().splitlines()
    raw_key = next(line for line in lines if line.startswith("avt_alpha_"))
    with tenant_context(tenant_a):
        key = ApiKey.objects.get(name="Økonomisystem")
        assert key.scope == "read"
        [event] = AuditEvent.objects.filter(action="api_key.create")
        assert (event.actor_kind, event.actor_label) == ("system", "manage.py create_api_key")
    client = client_for(raw_key)
    assert names(client.get(f"{API}/customers/", {"kind": "kommune"})) == ["Stavanger kommune"]
    assert client.patch(f"{API}/tenant", {"city": "Bodø"}, format="json").status_code == 403
    assert tenancy.db_tenant_setting() == ""


def test_create_api_key_command_refuses_unknown_tenant_and_bad_scope(tenant_a):
    with pytest.raises(CommandError, match="No tenant with slug 'nope'"):
        call_command("create_api_key", "--tenant", "nope", "--name", "x")
    with pytest.raises(CommandError):
        call_command("create_api_key", "--tenant", "alpha", "--name", "x", "--scope", "admin")
    with translation.override("en"), pytest.raises(CommandError, match="Give the key a name"):
        call_command("create_api_key", "--tenant", "alpha", "--name", "  ")
    assert Tenant.objects.count() == 1
    assert in_a(tenant_a, ApiKey.objects.count) == 0
