"""The back-office pages: what they show, that every form saves through the services, and that
bad input is a 400 with a message per field and nothing saved."""

import re

import pytest
from django.core import mail

from tenants.models import (
    ApiKey,
    AuditEvent,
    Contact,
    Customer,
    CustomerKind,
    Membership,
    PortalUser,
    Tenant,
    Verification,
)
from tenants.permissions import Role
from tenants.services import _hash_key
from tenants.tenancy import tenant_context
from tests.factories import ContactFactory, CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
BASE = "/backoffice/alpha"


@pytest.fixture
def owner(tenant_a):
    with tenant_context(tenant_a):
        return MembershipFactory(role=Role.OWNER, user__email="owner@alpha.no").user


@pytest.fixture
def bo(client, owner):
    """A client logged in as the owner of Alpha."""
    client.force_login(owner, backend=MODEL_BACKEND)
    return client


def in_a(tenant, fn):
    with tenant_context(tenant):
        return fn()


# ---------------------------------------------------------------- dashboard


def test_dashboard_shows_real_counts(bo, tenant_a, owner):
    with tenant_context(tenant_a):
        school_owner = CustomerFactory(kind=CustomerKind.KOMMUNE, verification=Verification.VERIFIED)
        CustomerFactory(kind=CustomerKind.SCHOOL, parent=school_owner, verification=Verification.VERIFIED)
        company = CustomerFactory(kind=CustomerKind.COMPANY, verification=Verification.NOT_VERIFIED)
        CustomerFactory(kind=CustomerKind.COMPANY, verification=Verification.NOT_FOUND)
        ContactFactory(customer=company)
        ContactFactory(customer=company)
        MembershipFactory(role=Role.VIEWER)
    response = bo.get(f"{BASE}/")
    assert response.status_code == 200
    ctx = response.context
    assert ctx["customer_total"] == 4
    assert [(value, n) for _label, n, value in ctx["kinds"]] == [
        ("kommune", 1),
        ("fylkeskommune", 0),
        ("school", 1),
        ("company", 2),
        ("other", 0),
    ]
    assert ctx["contact_total"] == 2
    assert ctx["portal_user_total"] == 0
    assert ctx["staff_total"] == 2
    assert ctx["api_key_total"] == 0
    assert ctx["unverified_total"] == 2


# ---------------------------------------------------------------- customers list


@pytest.fixture
def some_customers(tenant_a):
    with tenant_context(tenant_a):
        return {
            "pavakt": CustomerFactory(name="Påvakt AS", org_number="937620187"),
            "bergen": CustomerFactory(name="Bergen kommune", kind=CustomerKind.KOMMUNE),
            "other": CustomerFactory(name="Fjord Data AS", verification=Verification.VERIFIED),
        }


def names(response):
    return [c.name for c in response.context["page"].object_list]


def test_customer_search_by_name_org_number_and_filters(bo, some_customers):
    assert names(bo.get(f"{BASE}/customers/")) == ["Bergen kommune", "Fjord Data AS", "Påvakt AS"]
    assert names(bo.get(f"{BASE}/customers/", {"q": "påvakt"})) == ["Påvakt AS"]
    assert names(bo.get(f"{BASE}/customers/", {"q": "937 620"})) == ["Påvakt AS"]
    assert names(bo.get(f"{BASE}/customers/", {"kind": "kommune"})) == ["Bergen kommune"]
    assert names(bo.get(f"{BASE}/customers/", {"verification": "verified"})) == ["Fjord Data AS"]
    # An unknown filter value is ignored, never an error page.
    assert bo.get(f"{BASE}/customers/", {"kind": "spaceship"}).status_code == 200


def test_customer_list_answers_htmx_with_just_the_results(bo, some_customers):
    response = bo.get(f"{BASE}/customers/", {"q": "fjord"}, headers={"HX-Request": "true", "HX-Target": "results"})
    html = response.content.decode()
    assert "<html" not in html
    assert "Fjord Data AS" in html
    assert "Påvakt AS" not in html


def test_customer_list_is_paginated(bo, tenant_a):
    with tenant_context(tenant_a):
        for n in range(30):
            CustomerFactory(name=f"Kunde {n:02d}")
    first = bo.get(f"{BASE}/customers/")
    assert len(first.context["page"].object_list) == 25
    second = bo.get(f"{BASE}/customers/", {"page": 2})
    assert names(second) == [f"Kunde {n}" for n in range(25, 30)]


# ---------------------------------------------------------------- customer detail, create, edit


def test_customer_detail_shows_data_registry_flags_owner_children_contacts_and_history(bo, tenant_a):
    with tenant_context(tenant_a):
        kommune = CustomerFactory(name="Bergen kommune", kind=CustomerKind.KOMMUNE)
        school = CustomerFactory(
            name="Ny skole",
            kind=CustomerKind.SCHOOL,
            parent=kommune,
            verification=Verification.VERIFIED,
            registry={"name": "NY SKOLE", "bankrupt": True, "organisation_form": "ORGL"},
        )
        ContactFactory(customer=school, name="Rektor Rasmussen")
    response = bo.get(f"{BASE}/customers/{school.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Rektor Rasmussen" in html
    assert f"{BASE}/customers/{kommune.pk}/" in html  # link to the owner
    assert '<li class="badge badge--danger">Konkurs</li>' in html  # Norwegian is the default language
    owner_page = bo.get(f"{BASE}/customers/{kommune.pk}/")
    assert [c.name for c in owner_page.context["children"]] == ["Ny skole"]


def test_create_customer_verified_in_bronnoysund(bo, tenant_a, owner, brreg_fake):
    response = bo.post(
        f"{BASE}/customers/new/",
        {
            "org_number": "937 620 187",
            "name": "Påvakt AS",
            "kind": "company",
            "country": "NO",
            "vat_treatment": "no_25",
            "is_active": "on",
            "invoice_email": "faktura@pavakt.no",
        },
    )
    with tenant_context(tenant_a):
        customer = Customer.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"{BASE}/customers/{customer.pk}/"
        assert (customer.org_number, customer.name, customer.verification) == ("937620187", "Påvakt AS", "verified")
        event = AuditEvent.objects.get(action="customer.create")
        assert (event.actor_user_id, event.object_id) == (owner.pk, str(customer.pk))


def test_create_customer_bad_input_gives_a_message_per_field_and_saves_nothing(bo, tenant_a, brreg_fake):
    response = bo.post(
        f"{BASE}/customers/new/",
        {
            "org_number": "937620188",
            "name": "",
            "kind": "spaceship",
            "country": "NO",
            "vat_treatment": "no_25",
            "invoice_email": "not-mail",
            "peppol_endpoint": "9908:123",
        },
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"org_number", "name", "kind", "invoice_email", "peppol_endpoint"}
    html = response.content.decode()
    assert 'aria-describedby="id_name_error"' in html
    assert 'id="id_name_error"' in html
    assert in_a(tenant_a, Customer.objects.count) == 0


def test_create_customer_with_an_unknown_org_number_is_refused(bo, tenant_a, brreg_fake):
    response = bo.post(
        f"{BASE}/customers/new/",
        {"org_number": "937620195", "name": "Nobody AS", "kind": "company", "country": "NO", "vat_treatment": "no_25"},
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["org_number"]
    assert in_a(tenant_a, Customer.objects.count) == 0


def test_create_customer_while_the_registry_is_down_saves_it_not_verified(bo, tenant_a, brreg_fake):
    brreg_fake.set_down("brreg")
    response = bo.post(
        f"{BASE}/customers/new/",
        {"org_number": "937620187", "name": "Påvakt AS", "kind": "company", "country": "NO", "vat_treatment": "no_25"},
        follow=True,
    )
    assert response.status_code == 200
    assert in_a(tenant_a, lambda: Customer.objects.get().verification) == Verification.NOT_VERIFIED
    assert [m.level_tag for m in response.context["messages"]] == ["success", "warning"]


def test_the_school_rule_from_the_service_shows_on_the_parent_field(bo, tenant_a, brreg_fake):
    response = bo.post(
        f"{BASE}/customers/new/",
        {"org_number": "937620187", "name": "Skole", "kind": "school", "country": "NO", "vat_treatment": "no_25"},
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["parent"]


def test_lookup_fills_the_form_from_bronnoysund(bo, brreg_fake):
    response = bo.get(
        f"{BASE}/customers/lookup/", {"org_number": "937620187", "name": ""}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'value="PÅVAKT AS"' in html
    assert response.context["form"].initial["kind"] == "company"
    assert response.context["lookup"]["level"] == "success"
    assert 'hx-swap-oob="innerHTML"' in html


def test_lookup_of_an_unknown_number_and_with_the_registry_down(bo, brreg_fake):
    unknown = bo.get(f"{BASE}/customers/lookup/", {"org_number": "937620195", "name": "Typed"})
    assert unknown.context["lookup"]["level"] == "error"
    assert "937620195" in unknown.context["lookup"]["message"]
    assert unknown.context["form"].initial["name"] == "Typed"  # what was typed is kept
    brreg_fake.set_down("brreg")
    down = bo.get(f"{BASE}/customers/lookup/", {"org_number": "937620187"})
    assert down.context["lookup"]["level"] == "warning"
    assert "<html" in down.content.decode()  # without htmx: the whole page


def test_edit_customer_and_bad_input_changes_nothing(bo, tenant_a, brreg_fake):
    with tenant_context(tenant_a):
        customer = CustomerFactory(name="Gammelt navn AS", org_number="937620187")
    data = {
        "org_number": "937620187",
        "name": "Nytt navn AS",
        "kind": "company",
        "country": "NO",
        "vat_treatment": "no_25",
        "is_active": "on",
        "city": "Bergen",
    }
    assert bo.get(f"{BASE}/customers/{customer.pk}/edit/").context["form"].initial["name"] == "Gammelt navn AS"
    response = bo.post(f"{BASE}/customers/{customer.pk}/edit/", data)
    assert response.status_code == 302
    assert in_a(tenant_a, lambda: Customer.objects.values_list("name", "city").get()) == ("Nytt navn AS", "Bergen")
    response = bo.post(f"{BASE}/customers/{customer.pk}/edit/", {**data, "name": "", "country": "NORGE"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "country"}
    assert in_a(tenant_a, lambda: Customer.objects.get().name) == "Nytt navn AS"


def test_delete_customer(bo, tenant_a):
    with tenant_context(tenant_a):
        customer = CustomerFactory()
    assert bo.get(f"{BASE}/customers/{customer.pk}/delete/").status_code == 200
    response = bo.post(f"{BASE}/customers/{customer.pk}/delete/")
    assert response["Location"] == f"{BASE}/customers/"
    assert in_a(tenant_a, Customer.objects.count) == 0


def test_a_kommune_owning_schools_cannot_be_deleted(bo, tenant_a):
    with tenant_context(tenant_a):
        kommune = CustomerFactory(kind=CustomerKind.KOMMUNE)
        CustomerFactory(kind=CustomerKind.SCHOOL, parent=kommune)
    response = bo.post(f"{BASE}/customers/{kommune.pk}/delete/")
    assert response.status_code == 400
    assert in_a(tenant_a, Customer.objects.count) == 2


# ---------------------------------------------------------------- contacts and portal logins


def test_contact_create_edit_delete(bo, tenant_a):
    with tenant_context(tenant_a):
        customer = CustomerFactory()
    response = bo.post(
        f"{BASE}/customers/{customer.pk}/contacts/new/",
        {
            "name": "Kari Nordmann",
            "title": "Rektor",
            "email": "kari@skole.no",
            "phone": "+47 900 00 000",
            "role": "dpa_signer",
        },
    )
    assert response["Location"] == f"{BASE}/customers/{customer.pk}/"
    contact = in_a(tenant_a, Contact.objects.get)
    assert (contact.name, contact.role, contact.customer_id) == ("Kari Nordmann", "dpa_signer", customer.pk)
    response = bo.post(
        f"{BASE}/contacts/{contact.pk}/edit/", {"name": "Kari Nordmann", "email": "kari@ny.no", "role": "orderer"}
    )
    assert response.status_code == 302
    assert in_a(tenant_a, lambda: Contact.objects.values_list("email", "role").get()) == ("kari@ny.no", "orderer")
    bo.post(f"{BASE}/contacts/{contact.pk}/delete/")
    assert in_a(tenant_a, Contact.objects.count) == 0


def test_contact_bad_input(bo, tenant_a):
    with tenant_context(tenant_a):
        contact = ContactFactory(name="Ola")
    response = bo.post(f"{BASE}/customers/{contact.customer_id}/contacts/new/", {"name": "", "email": "x", "role": "?"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "email", "role"}
    response = bo.post(f"{BASE}/contacts/{contact.pk}/edit/", {"name": "", "role": "orderer"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name"}
    assert in_a(tenant_a, lambda: list(Contact.objects.values_list("name", flat=True))) == ["Ola"]


def test_give_a_contact_a_portal_login_sends_a_password_link(bo, client, tenant_a):
    with tenant_context(tenant_a):
        contact = ContactFactory(name="Kari Nordmann", email="kari@kunde.no")
    url = f"{BASE}/customers/{contact.customer_id}/portal-users/new/"
    assert bo.get(url, {"contact": contact.pk}).context["form"].initial == {
        "email": "kari@kunde.no",
        "full_name": "Kari Nordmann",
    }
    response = bo.post(url, {"email": "kari@kunde.no", "full_name": "Kari Nordmann"})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        portal_user = PortalUser.objects.select_related("user").get()
        assert (portal_user.customer_id, portal_user.user.email) == (contact.customer_id, "kari@kunde.no")
        assert not portal_user.user.has_usable_password()
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/portal/alpha/password-reset/\S+/)", mail.outbox[0].body).group(1)
    bo.logout()
    set_password_url = bo.get(link)["Location"]
    new_password = "kari-sitt-passord-1"
    bo.post(set_password_url, {"new_password1": new_password, "new_password2": new_password})
    response = bo.post("/portal/alpha/login/", {"email": "kari@kunde.no", "password": new_password})
    assert response["Location"] == "/portal/alpha/"


def test_portal_login_bad_input(bo, tenant_a):
    with tenant_context(tenant_a):
        customer = CustomerFactory()
    response = bo.post(f"{BASE}/customers/{customer.pk}/portal-users/new/", {"email": "nope"})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["email"]
    assert in_a(tenant_a, PortalUser.objects.count) == 0
    assert mail.outbox == []


def test_turn_off_a_portal_login(bo, tenant_a):
    with tenant_context(tenant_a):
        customer = CustomerFactory()
    bo.post(f"{BASE}/customers/{customer.pk}/portal-users/new/", {"email": "p@kunde.no"})
    pk = in_a(tenant_a, lambda: PortalUser.objects.get().pk)
    assert bo.post(f"{BASE}/portal-users/{pk}/deactivate/").status_code == 302
    assert in_a(tenant_a, lambda: PortalUser.objects.get().is_active) is False


# ---------------------------------------------------------------- staff and roles


def test_staff_page_lists_staff_and_the_permission_table(bo, tenant_a):
    response = bo.get(f"{BASE}/staff/")
    assert response.status_code == 200
    rows = response.context["permission_rows"]
    held_by_code = {code: held for code, _description, held in rows}
    # Columns in Role order: owner, admin, finance, sales, support, viewer.
    assert held_by_code["audit.view"] == [True, True, True, False, False, False]
    assert held_by_code["customer.edit"] == [True, True, False, True, True, False]
    assert [m.user.email for m, _form in response.context["rows"]] == ["owner@alpha.no"]


def test_add_change_role_and_remove_staff(bo, tenant_a):
    response = bo.post(f"{BASE}/staff/add/", {"email": "Ny@Alpha.no", "full_name": "Ny Person", "role": "sales"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1  # a new person gets a link to choose a password
    assert "/backoffice/alpha/password-reset/" in mail.outbox[0].body
    membership = in_a(tenant_a, lambda: Membership.objects.get(user__email="ny@alpha.no"))
    assert membership.role == "sales"
    response = bo.post(f"{BASE}/staff/{membership.pk}/role/", {f"m{membership.pk}-role": "finance"})
    assert response.status_code == 302
    assert in_a(tenant_a, lambda: Membership.objects.get(pk=membership.pk).role) == "finance"
    assert bo.post(f"{BASE}/staff/{membership.pk}/remove/").status_code == 302
    assert in_a(tenant_a, lambda: Membership.objects.filter(pk=membership.pk).exists()) is False


def test_staff_bad_input(bo, tenant_a, owner):
    response = bo.post(f"{BASE}/staff/add/", {"email": "nope", "role": "emperor"})
    assert response.status_code == 400
    assert set(response.context["add_form"].errors) == {"email", "role"}
    response = bo.post(f"{BASE}/staff/add/", {"email": "owner@alpha.no", "role": "viewer"})
    assert response.status_code == 400
    assert list(response.context["add_form"].errors) == ["email"]
    mine = in_a(tenant_a, lambda: Membership.objects.get(user=owner))
    response = bo.post(f"{BASE}/staff/{mine.pk}/role/", {f"m{mine.pk}-role": "emperor"})
    assert response.status_code == 400
    # The last owner cannot step down.
    response = bo.post(f"{BASE}/staff/{mine.pk}/role/", {f"m{mine.pk}-role": "viewer"})
    assert response.status_code == 400
    assert response.context["row_errors"][mine.pk]
    assert in_a(tenant_a, lambda: list(Membership.objects.values_list("role", flat=True))) == ["owner"]


def test_an_admin_cannot_make_someone_owner(client, tenant_a):
    with tenant_context(tenant_a):
        admin = MembershipFactory(role=Role.ADMIN).user
    client.force_login(admin, backend=MODEL_BACKEND)
    response = client.post(f"{BASE}/staff/add/", {"email": "boss@alpha.no", "role": "owner"})
    assert response.status_code == 403
    assert in_a(tenant_a, lambda: Membership.objects.filter(user__email="boss@alpha.no").exists()) is False


# ---------------------------------------------------------------- API keys


def test_api_key_is_shown_once_stored_hashed_and_revocable(bo, tenant_a, owner):
    response = bo.post(f"{BASE}/api-keys/", {"name": "Regnskap", "scope": "read_write"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw_key = response.context["raw_key"]
    assert raw_key.startswith("avt_alpha_")
    assert raw_key in response.content.decode()
    key = in_a(tenant_a, ApiKey.objects.get)
    assert (key.name, key.scope, key.key_hash, key.created_by_id) == (
        "Regnskap",
        "read_write",
        _hash_key(raw_key),
        owner.pk,
    )
    listing = bo.get(f"{BASE}/api-keys/").content.decode()
    assert key.prefix in listing
    assert raw_key not in listing
    assert bo.post(f"{BASE}/api-keys/{key.pk}/revoke/").status_code == 302
    assert in_a(tenant_a, lambda: ApiKey.objects.get().revoked_at) is not None


def test_api_key_bad_input(bo, tenant_a):
    response = bo.post(f"{BASE}/api-keys/", {"name": "", "scope": "everything"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "scope"}
    response = bo.post(f"{BASE}/api-keys/", {"name": "   ", "scope": "read"})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["name"]
    assert in_a(tenant_a, ApiKey.objects.count) == 0


# ---------------------------------------------------------------- audit log and vendor profile


def test_audit_log_filters_and_shows_old_and_new_values(bo, tenant_a, brreg_fake):
    with tenant_context(tenant_a):
        customer = CustomerFactory(name="Før AS", org_number="937620187")
    bo.post(
        f"{BASE}/customers/{customer.pk}/edit/",
        {
            "org_number": "937620187",
            "name": "Etter AS",
            "kind": "company",
            "country": "NO",
            "vat_treatment": "no_25",
            "is_active": "on",
        },
    )
    bo.post(f"{BASE}/api-keys/", {"name": "Nøkkel", "scope": "read"})
    response = bo.get(f"{BASE}/audit/", {"object_type": "customer"})
    events = list(response.context["page"].object_list)
    assert [e.action for e in events] == ["customer.update"]
    assert events[0].changes["name"] == ["Før AS", "Etter AS"]
    html = response.content.decode()
    assert "<del>Før AS</del>" in html
    assert "<ins>Etter AS</ins>" in html
    by_actor = bo.get(f"{BASE}/audit/", {"actor": "owner@alpha"}).context["page"].object_list
    assert sorted(e.action for e in by_actor) == ["api_key.create", "customer.update"]
    assert bo.get(f"{BASE}/audit/", {"object_type": "nonsense"}).status_code == 400


def test_vendor_profile_edit_and_bad_input(bo, tenant_a):
    data = {
        "name": "Alpha Nye AS",
        "org_number": "937620187",
        "mva_registered": "on",
        "address_line": "Gata 1",
        "postal_code": "0150",
        "city": "Oslo",
        "country": "NO",
        "bank_account": "86011117947",
        "peppol_id": "0192:937620187",
        "payment_terms_days": "14",
        "currency": "NOK",
        "email": "post@alpha.no",
    }
    assert bo.post(f"{BASE}/settings/", data).status_code == 302
    tenant = Tenant.objects.get(slug="alpha")
    assert (tenant.name, tenant.payment_terms_days, tenant.peppol_id) == ("Alpha Nye AS", 14, "0192:937620187")
    response = bo.post(f"{BASE}/settings/", {**data, "name": "", "bank_account": "12345678901", "org_number": "1"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "bank_account", "org_number"}
    assert Tenant.objects.get(slug="alpha").name == "Alpha Nye AS"


def test_home_lists_vendors_with_links_to_both_faces(client, two_tenants):
    response = client.get("/")
    html = response.content.decode()
    assert [t.slug for t in response.context["vendors"]] == ["alpha", "beta"]
    for slug in ("alpha", "beta"):
        assert f'href="/backoffice/{slug}/login/"' in html
        assert f'href="/portal/{slug}/login/"' in html
    assert '<html lang="nb">' in html


def test_the_language_switch_turns_the_pages_english(bo):
    response = bo.post("/i18n/setlang/", {"language": "en", "next": f"{BASE}/customers/"})
    assert response["Location"] == f"{BASE}/customers/"
    html = bo.get(f"{BASE}/customers/").content.decode()
    assert '<html lang="en">' in html
    assert "New customer" in html
    bo.post("/i18n/setlang/", {"language": "nb", "next": "/"})
    assert "Ny kunde" in bo.get(f"{BASE}/customers/").content.decode()


def test_dates_and_numbers_use_norwegian_formats(bo, tenant_a):
    import datetime as dt

    from django.template import Context, Template
    from django.utils import translation

    with tenant_context(tenant_a):
        AuditEvent.objects.create(
            at=dt.datetime(2026, 11, 24, 13, 5, tzinfo=dt.UTC),
            actor_kind="job",
            actor_label="job nightly",
            action="customer.verify",
            object_type="customer",
            object_id="1",
        )
    html = bo.get(f"{BASE}/audit/").content.decode()
    assert ">24.11.2026 14:05</time>" in html  # Europe/Oslo, d.m.Y H:i
    with translation.override("nb"):
        rendered = Template("{% load humanize %}{{ n|intcomma }} {{ d }}").render(Context({"n": 1234, "d": 1234.5}))
    assert rendered == "1\xa0234 1\xa0234,5"
