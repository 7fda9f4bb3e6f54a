"""The customer's portal: its own organisation and contacts; edits go through the services."""

import pytest

from tenants.models import AuditEvent, Contact, Customer, PortalUser
from tenants.tenancy import tenant_context
from tests.factories import ContactFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
BASE = "/portal/alpha"


@pytest.fixture
def customer(tenant_a):
    with tenant_context(tenant_a):
        return CustomerFactory(
            name="Bergen kommune",
            org_number="937620187",
            address_line="Rådhusgaten 10",
            postal_code="5014",
            city="Bergen",
            invoice_reference="Ref 123",
            invoice_email="faktura@bergen.kommune.no",
            peppol_endpoint="0192:937620187",
        )


@pytest.fixture
def kari(tenant_a, customer):
    user = UserFactory(email="kari@bergen.kommune.no", full_name="Kari Nordmann")
    with tenant_context(tenant_a):
        PortalUser.objects.create(customer=customer, user=user)
    return user


@pytest.fixture
def pc(client, kari):
    client.force_login(kari, backend=MODEL_BACKEND)
    return client


def test_portal_user_logs_in_and_sees_their_organisation(client, kari, customer):
    response = client.post(f"{BASE}/login/", {"email": "kari@bergen.kommune.no", "password": "correct-horse-battery"})
    assert response["Location"] == f"{BASE}/"
    response = client.get(f"{BASE}/")
    html = response.content.decode()
    assert response.context["customer"] == customer
    for text in (
        "Bergen kommune",
        "937 620 187",
        "Rådhusgaten 10",
        "Ref 123",
        "faktura@bergen.kommune.no",
        "0192:937620187",
    ):
        assert text in html


def test_invoice_details_change_only_those_fields_and_are_audited(pc, tenant_a, kari, customer):
    response = pc.post(
        f"{BASE}/invoicing/",
        {
            "address_line": "Postboks 7700",
            "postal_code": "5020",
            "city": "Bergen",
            "invoice_reference": "4411",
            "invoice_email": "ehf@bergen.kommune.no",
            "name": "Hacked",
            "org_number": "000000000",
        },
    )
    assert response["Location"] == f"{BASE}/"
    with tenant_context(tenant_a):
        saved = Customer.objects.get(pk=customer.pk)
        assert (saved.name, saved.org_number, saved.address_line, saved.invoice_reference, saved.invoice_email) == (
            "Bergen kommune",
            "937620187",
            "Postboks 7700",
            "4411",
            "ehf@bergen.kommune.no",
        )
        event = AuditEvent.objects.get(action="customer.update")
        assert event.actor_user_id == kari.pk
        assert event.changes["invoice_reference"] == ["Ref 123", "4411"]


def test_invoice_details_bad_input(pc, tenant_a, customer):
    response = pc.post(f"{BASE}/invoicing/", {"invoice_email": "not-an-address", "postal_code": "x" * 11})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"invoice_email", "postal_code"}
    with tenant_context(tenant_a):
        assert Customer.objects.get(pk=customer.pk).invoice_email == "faktura@bergen.kommune.no"


def test_contacts_add_edit_remove(pc, tenant_a, customer):
    response = pc.post(
        f"{BASE}/contacts/new/", {"name": "Per Rektor", "email": "per@skole.no", "role": "school_contact"}
    )
    assert response["Location"] == f"{BASE}/contacts/"
    with tenant_context(tenant_a):
        contact = Contact.objects.get()
        assert (contact.customer_id, contact.name, contact.role) == (customer.pk, "Per Rektor", "school_contact")
    assert [c.name for c in pc.get(f"{BASE}/contacts/").context["contacts"]] == ["Per Rektor"]
    pc.post(f"{BASE}/contacts/{contact.pk}/edit/", {"name": "Per Rektor", "phone": "55 00 00 00", "role": "orderer"})
    with tenant_context(tenant_a):
        assert Contact.objects.values_list("phone", "role").get() == ("55 00 00 00", "orderer")
    assert pc.get(f"{BASE}/contacts/{contact.pk}/delete/").status_code == 200
    pc.post(f"{BASE}/contacts/{contact.pk}/delete/")
    with tenant_context(tenant_a):
        assert Contact.objects.count() == 0


def test_contact_bad_input(pc, tenant_a, customer):
    response = pc.post(f"{BASE}/contacts/new/", {"name": "", "email": "nope", "role": "king"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "email", "role"}
    with tenant_context(tenant_a):
        contact = ContactFactory(customer=customer, name="Ola")
    response = pc.post(f"{BASE}/contacts/{contact.pk}/edit/", {"name": "", "role": "orderer"})
    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert list(Contact.objects.values_list("name", flat=True)) == ["Ola"]


def test_a_turned_off_portal_login_gets_404(pc, tenant_a, kari):
    with tenant_context(tenant_a):
        PortalUser.objects.filter(user=kari).update(is_active=False)
    assert pc.get(f"{BASE}/").status_code == 404


def test_staff_of_the_vendor_is_not_a_portal_user(client, tenant_a):
    from tests.factories import MembershipFactory

    with tenant_context(tenant_a):
        user = MembershipFactory().user
    client.force_login(user, backend=MODEL_BACKEND)
    assert client.get(f"{BASE}/").status_code == 404
