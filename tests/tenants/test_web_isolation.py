"""Isolation in the back-office and portal, tried the way an attacker would: another tenant's
URLs and ids answer 404 (the same as "does not exist") and nothing changes."""

import pytest

from tenants import tenancy
from tenants.audit import Actor
from tenants.models import ApiKey, Contact, Customer, Membership, PortalUser
from tenants.permissions import Role
from tenants.services import api_key_create
from tenants.tenancy import tenant_context
from tests.factories import ContactFactory, CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def world(two_tenants):
    """Two tenants, each with an owner, a portal user, a second customer, an API key and a staff member."""
    for slug, data in two_tenants.items():
        with tenant_context(data["tenant"]):
            data["owner"] = MembershipFactory(role=Role.OWNER, user__email=f"owner@{slug}.no").user
            data["colleague"] = MembershipFactory(role=Role.VIEWER, user__email=f"viewer@{slug}.no")
            data["portal_user"] = UserFactory(email=f"portal@{slug}.no")
            PortalUser.objects.create(customer=data["customer"], user=data["portal_user"])
            data["other_customer"] = CustomerFactory(name=f"Other customer of {slug}")
            data["other_contact"] = ContactFactory(customer=data["other_customer"], name=f"Other contact of {slug}")
            data["key"], _raw = api_key_create(actor=Actor.system(), name=f"key of {slug}")
            data["other_portal_user"] = PortalUser.objects.create(
                customer=data["other_customer"], user=UserFactory(email=f"other-portal@{slug}.no")
            )
    return two_tenants


def snapshot(tenant):
    with tenant_context(tenant):
        return {
            "customers": sorted(Customer.objects.values_list("pk", "name", "city")),
            "contacts": sorted(Contact.objects.values_list("pk", "name", "email")),
            "memberships": sorted(Membership.objects.values_list("pk", "role")),
            "keys": sorted(ApiKey.objects.values_list("pk", "revoked_at")),
            "portal_users": sorted(PortalUser.objects.values_list("pk", "is_active")),
        }


def test_a_staff_session_of_alpha_gets_404_for_every_beta_url(client, world):
    b = world["beta"]
    client.force_login(world["alpha"]["owner"], backend=MODEL_BACKEND)
    for path in [
        "",
        "customers/",
        "customers/new/",
        f"customers/{b['customer'].pk}/",
        "staff/",
        "api-keys/",
        "audit/",
        "settings/",
        f"contacts/{b['contact'].pk}/edit/",
    ]:
        assert client.get(f"/backoffice/beta/{path}").status_code == 404, path


def test_alpha_urls_with_beta_ids_are_404_and_change_nothing(client, world, brreg_fake):
    a, b = world["alpha"], world["beta"]
    before = snapshot(b["tenant"])
    client.force_login(a["owner"], backend=MODEL_BACKEND)
    customer, contact = b["customer"].pk, b["contact"].pk
    base = "/backoffice/alpha"
    gets = [
        f"customers/{customer}/",
        f"customers/{customer}/edit/",
        f"customers/{customer}/delete/",
        f"customers/{customer}/contacts/new/",
        f"customers/{customer}/portal-users/new/",
        f"contacts/{contact}/edit/",
        f"contacts/{contact}/delete/",
        f"customers/lookup/?customer={customer}&org_number=937620187",
    ]
    for path in gets:
        assert client.get(f"{base}/{path}").status_code == 404, path
    customer_data = {
        "org_number": "937620187",
        "name": "Stolen",
        "kind": "company",
        "country": "NO",
        "vat_treatment": "no_25",
        "city": "Hacked",
    }
    posts = [
        (f"customers/{customer}/edit/", customer_data),
        (f"customers/{customer}/delete/", {}),
        (f"customers/{customer}/verify/", {}),
        (f"customers/{customer}/contacts/new/", {"name": "Spy", "role": "other"}),
        (f"customers/{customer}/portal-users/new/", {"email": "spy@alpha.no"}),
        (f"contacts/{contact}/edit/", {"name": "Stolen", "email": "spy@alpha.no", "role": "other"}),
        (f"contacts/{contact}/delete/", {}),
        (f"portal-users/{b['other_portal_user'].pk}/deactivate/", {}),
        (f"staff/{b['colleague'].pk}/role/", {f"m{b['colleague'].pk}-role": "owner"}),
        (f"staff/{b['colleague'].pk}/remove/", {}),
        (f"api-keys/{b['key'].pk}/revoke/", {}),
    ]
    for path, data in posts:
        assert client.post(f"{base}/{path}", data).status_code == 404, path
    assert snapshot(b["tenant"]) == before


def test_alpha_lists_show_none_of_betas_objects(client, world):
    client.force_login(world["alpha"]["owner"], backend=MODEL_BACKEND)
    for path in ["customers/", "", "staff/", "api-keys/", "audit/", f"customers/{world['alpha']['customer'].pk}/"]:
        html = client.get(f"/backoffice/alpha/{path}").content.decode()
        for needle in ("of beta", "@beta.no"):
            assert needle not in html, (path, needle)


def test_a_portal_user_sees_only_their_own_customer(client, world):
    a = world["alpha"]
    client.force_login(a["portal_user"], backend=MODEL_BACKEND)
    html = client.get("/portal/alpha/").content.decode()
    assert "Customer of alpha" in html
    assert "Other customer of alpha" not in html
    contacts = client.get("/portal/alpha/contacts/").context["contacts"]
    assert [c.name for c in contacts] == ["Contact of alpha"]
    before = snapshot(a["tenant"])
    other = a["other_contact"].pk
    assert client.get(f"/portal/alpha/contacts/{other}/edit/").status_code == 404
    assert client.get(f"/portal/alpha/contacts/{other}/delete/").status_code == 404
    assert client.post(f"/portal/alpha/contacts/{other}/edit/", {"name": "X", "role": "other"}).status_code == 404
    assert client.post(f"/portal/alpha/contacts/{other}/delete/").status_code == 404
    assert snapshot(a["tenant"]) == before


def test_a_portal_user_of_alpha_cannot_use_betas_portal_or_either_back_office(client, world):
    a, b = world["alpha"], world["beta"]
    client.force_login(a["portal_user"], backend=MODEL_BACKEND)
    before = snapshot(b["tenant"])
    assert client.get("/portal/beta/").status_code == 404
    assert client.get("/portal/beta/contacts/").status_code == 404
    assert client.get(f"/portal/beta/contacts/{b['contact'].pk}/edit/").status_code == 404
    assert client.post(f"/portal/beta/contacts/{b['contact'].pk}/delete/").status_code == 404
    assert client.get(f"/portal/alpha/contacts/{b['contact'].pk}/edit/").status_code == 404
    assert client.get("/backoffice/alpha/").status_code == 404
    assert client.get("/backoffice/beta/").status_code == 404
    assert snapshot(b["tenant"]) == before


def test_an_unknown_vendor_is_404_like_a_foreign_one(client, world):
    client.force_login(world["alpha"]["owner"], backend=MODEL_BACKEND)
    assert client.get("/backoffice/nosuchvendor/").status_code == 404
    assert client.get("/portal/nosuchvendor/login/").status_code == 404


def test_after_a_request_the_connection_carries_no_tenant(client, world):
    client.force_login(world["alpha"]["owner"], backend=MODEL_BACKEND)
    assert client.get("/backoffice/alpha/customers/").status_code == 200
    assert tenancy.db_tenant_setting() == ""
    assert tenancy.current_tenant() is None
    client.force_login(world["alpha"]["portal_user"], backend=MODEL_BACKEND)
    assert client.get("/portal/alpha/").status_code == 200
    assert tenancy.db_tenant_setting() == ""
    assert client.get("/backoffice/beta/customers/").status_code == 404
    assert tenancy.db_tenant_setting() == ""
    assert tenancy.current_tenant() is None
