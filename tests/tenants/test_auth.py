"""Logging into the back-office and portal: throttling, membership checks, password reset, roles."""

import re

import pytest
from django.core import mail

from tenants.models import Customer, PortalUser
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.factories import CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def staff(tenant, role=Role.OWNER, email=None):
    with tenant_context(tenant):
        return MembershipFactory(role=role, user__email=email or f"{role}@{tenant.slug}.no").user


def portal_login(tenant, customer, email):
    user = UserFactory(email=email)
    with tenant_context(tenant):
        PortalUser.objects.create(customer=customer, user=user)
    return user


def login(client, slug, email, password=PASSWORD, face="backoffice"):
    return client.post(f"/{face}/{slug}/login/", {"email": email, "password": password})


def test_staff_logs_in_and_lands_on_the_dashboard(client, tenant_a):
    staff(tenant_a, email="eva@alpha.no")
    response = login(client, "alpha", "eva@alpha.no")
    assert response.status_code == 302
    assert response["Location"] == "/backoffice/alpha/"
    assert client.get("/backoffice/alpha/").status_code == 200


def test_login_follows_next_only_inside_the_same_face_and_tenant(client, tenant_a):
    staff(tenant_a, email="eva@alpha.no")
    data = {"email": "eva@alpha.no", "password": PASSWORD}
    response = client.post("/backoffice/alpha/login/?next=/backoffice/alpha/customers/", data)
    assert response["Location"] == "/backoffice/alpha/customers/"
    client.logout()
    response = client.post("/backoffice/alpha/login/?next=https://evil.example/", data)
    assert response["Location"] == "/backoffice/alpha/"


def test_wrong_password_fails_with_the_generic_message(client, tenant_a):
    staff(tenant_a, email="eva@alpha.no")
    response = login(client, "alpha", "eva@alpha.no", password="wrong-password-1")
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["E-postadressen eller passordet er feil."]
    assert "_auth_user_id" not in client.session


def test_staff_of_another_tenant_gets_the_same_message_as_a_wrong_password(client, two_tenants):
    staff(two_tenants["beta"]["tenant"], email="bob@beta.no")
    response = login(client, "alpha", "bob@beta.no")
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["E-postadressen eller passordet er feil."]
    assert "_auth_user_id" not in client.session


def test_a_portal_user_cannot_log_into_the_back_office_and_staff_not_into_the_portal(client, two_tenants):
    alpha = two_tenants["alpha"]
    portal_login(alpha["tenant"], alpha["customer"], "kari@kunde.no")
    staff(alpha["tenant"], email="eva@alpha.no")
    assert login(client, "alpha", "kari@kunde.no").status_code == 400
    assert login(client, "alpha", "eva@alpha.no", face="portal").status_code == 400
    assert login(client, "alpha", "kari@kunde.no", face="portal")["Location"] == "/portal/alpha/"


def test_bad_login_input_gives_a_message_per_field(client, tenant_a):
    response = client.post("/backoffice/alpha/login/", {"email": "not-an-address", "password": ""})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "password"}


def test_five_failures_lock_the_user_out_for_this_address(client, tenant_a):
    staff(tenant_a, email="eva@alpha.no")
    for _attempt in range(4):
        assert login(client, "alpha", "eva@alpha.no", password="wrong-password-1").status_code == 400
    response = login(client, "alpha", "eva@alpha.no", password="wrong-password-1")
    assert response.status_code == 429
    assert "auth/locked_out.html" in [t.name for t in response.templates]
    # Now even the right password is refused.
    response = login(client, "alpha", "eva@alpha.no")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_right_password_in_the_wrong_tenant_counts_as_a_failure(client, two_tenants):
    staff(two_tenants["beta"]["tenant"], email="bob@beta.no")
    for _attempt in range(4):
        assert login(client, "alpha", "bob@beta.no").status_code == 400
    assert login(client, "alpha", "bob@beta.no").status_code == 429


def test_logout_is_a_post(client, tenant_a):
    user = staff(tenant_a)
    client.force_login(user, backend=MODEL_BACKEND)
    assert client.get("/backoffice/alpha/logout/").status_code == 405
    response = client.post("/backoffice/alpha/logout/")
    assert response["Location"] == "/backoffice/alpha/login/"
    assert client.get("/backoffice/alpha/")["Location"].startswith("/backoffice/alpha/login/")


def _reset_link(message, face, slug):
    match = re.search(rf"http://testserver(/{face}/{slug}/password-reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.mark.parametrize("face", ["backoffice", "portal"])
def test_password_reset_mails_a_tenant_scoped_link_that_sets_a_new_password(client, two_tenants, face):
    alpha = two_tenants["alpha"]
    if face == "backoffice":
        staff(alpha["tenant"], email="eva@alpha.no")
    else:
        portal_login(alpha["tenant"], alpha["customer"], "eva@alpha.no")

    response = client.post(f"/{face}/alpha/password-reset/", {"email": "eva@alpha.no"})
    assert response["Location"] == f"/{face}/alpha/password-reset/sent/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["eva@alpha.no"]
    assert "Alpha AS" in mail.outbox[0].subject
    link = _reset_link(mail.outbox[0], face, "alpha")

    response = client.get(link)
    assert response.status_code == 302  # to the token-less set-password URL
    form_url = response["Location"]
    new_password = "a-brand-new-secret-2026"
    bad = client.post(form_url, {"new_password1": new_password, "new_password2": "something-else-2026"})
    assert bad.status_code == 400
    assert "new_password2" in bad.context["form"].errors
    response = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert response["Location"] == f"/{face}/alpha/password-reset/done/"

    assert login(client, "alpha", "eva@alpha.no", password=PASSWORD, face=face).status_code == 400
    assert login(client, "alpha", "eva@alpha.no", password=new_password, face=face).status_code == 302


def test_password_reset_sends_nothing_to_people_outside_this_tenant(client, two_tenants):
    staff(two_tenants["beta"]["tenant"], email="bob@beta.no")
    response = client.post("/backoffice/alpha/password-reset/", {"email": "bob@beta.no"})
    assert response.status_code == 302  # same answer as for a member: nothing given away
    assert mail.outbox == []


def test_a_reset_link_does_not_work_on_another_tenant(client, two_tenants):
    staff(two_tenants["alpha"]["tenant"], email="eva@alpha.no")
    client.post("/backoffice/alpha/password-reset/", {"email": "eva@alpha.no"})
    link = _reset_link(mail.outbox[0], "backoffice", "alpha").replace("/alpha/", "/beta/")
    response = client.get(link)
    assert response.status_code == 200
    assert response.context["validlink"] is False


def test_password_reset_with_a_bad_address_is_a_400(client, tenant_a):
    response = client.post("/backoffice/alpha/password-reset/", {"email": "nope"})
    assert response.status_code == 400
    assert "email" in response.context["form"].errors


# ---------------------------------------------------------------- roles


def test_not_logged_in_goes_to_this_tenants_login(client, tenant_a):
    response = client.get("/backoffice/alpha/customers/")
    assert response.status_code == 302
    assert response["Location"] == "/backoffice/alpha/login/?next=/backoffice/alpha/customers/"
    response = client.get("/portal/alpha/contacts/")
    assert response["Location"] == "/portal/alpha/login/?next=/portal/alpha/contacts/"


def test_a_viewer_can_read_customers_but_not_create_one(client, tenant_a, brreg_fake):
    client.force_login(staff(tenant_a, Role.VIEWER), backend=MODEL_BACKEND)
    assert client.get("/backoffice/alpha/customers/").status_code == 200
    assert client.get("/backoffice/alpha/customers/new/").status_code == 403
    response = client.post(
        "/backoffice/alpha/customers/new/", {"org_number": "937620187", "name": "Påvakt AS", "kind": "company"}
    )
    assert response.status_code == 403
    with tenant_context(tenant_a):
        assert Customer.objects.count() == 0


def test_sales_can_edit_customers_but_not_manage_staff(client, tenant_a):
    client.force_login(staff(tenant_a, Role.SALES), backend=MODEL_BACKEND)
    assert client.get("/backoffice/alpha/customers/new/").status_code == 200
    assert client.get("/backoffice/alpha/staff/").status_code == 403
    response = client.post("/backoffice/alpha/staff/add/", {"email": "new@alpha.no", "role": "owner"})
    assert response.status_code == 403
    assert client.get("/backoffice/alpha/api-keys/").status_code == 403


def test_finance_reads_the_audit_log_and_support_does_not(client, tenant_a):
    client.force_login(staff(tenant_a, Role.FINANCE), backend=MODEL_BACKEND)
    assert client.get("/backoffice/alpha/audit/").status_code == 200
    client.force_login(staff(tenant_a, Role.SUPPORT), backend=MODEL_BACKEND)
    assert client.get("/backoffice/alpha/audit/").status_code == 403


def test_navigation_shows_only_what_the_role_may_open(client, tenant_a):
    client.force_login(staff(tenant_a, Role.VIEWER), backend=MODEL_BACKEND)
    html = client.get("/backoffice/alpha/").content.decode()
    assert "/backoffice/alpha/customers/" in html
    assert "/backoffice/alpha/staff/" not in html
    assert "/backoffice/alpha/audit/" not in html
    client.force_login(staff(tenant_a, Role.OWNER), backend=MODEL_BACKEND)
    html = client.get("/backoffice/alpha/").content.decode()
    assert "/backoffice/alpha/staff/" in html
    assert "/backoffice/alpha/audit/" in html


def test_an_inactive_membership_is_treated_as_not_staff(client, tenant_a):
    user = staff(tenant_a, Role.OWNER)
    with tenant_context(tenant_a):
        user.memberships.update(is_active=False)
    client.force_login(user, backend=MODEL_BACKEND)
    assert client.get("/backoffice/alpha/").status_code == 404


def test_customer_created_by_a_factory_is_unrelated_to_logins(tenant_a):
    # Guard for the fixtures above: portal_login must attach to the given customer only.
    with tenant_context(tenant_a):
        customer = CustomerFactory()
    user = portal_login(tenant_a, customer, "x@kunde.no")
    with tenant_context(tenant_a):
        assert list(PortalUser.objects.values_list("customer_id", "user_id")) == [(customer.pk, user.pk)]
