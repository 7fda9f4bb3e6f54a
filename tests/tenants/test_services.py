"""Service functions of tenants/: validation before writing, audit rows, staff rules, API keys.

Org numbers used with the Brønnøysund fake are recorded in fakes/brreg/units.json.
"""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from tenants import services
from tenants.audit import Actor
from tenants.models import (
    ActorKind,
    ApiKey,
    AuditEvent,
    Contact,
    Customer,
    CustomerKind,
    Membership,
    PortalUser,
    User,
    VatTreatment,
    Verification,
)
from tenants.permissions import Role
from tenants.tenancy import activate, deactivate, tenant_context
from tests.factories import CustomerFactory, MembershipFactory, UserFactory

STAVANGER_KOMMUNE = "944387234"
HUNDVAG_SKOLE = "924195932"
FJORDBYGG = "994142607"
FJELLBYGG_BANKRUPT = "949762726"
NOT_REGISTERED = "937620195"


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English (the msgids); Bokmål is the site default."""
    with translation.override("en"):
        yield


@pytest.fixture
def in_a(tenant_a):
    """Run the test as tenant A."""
    with tenant_context(tenant_a):
        yield tenant_a


@pytest.fixture
def owner(in_a):
    return MembershipFactory(role=Role.OWNER, user=UserFactory(email="eier@alpha.example")).user


@pytest.fixture
def actor(owner):
    return Actor.for_user(owner)


def _kommune_data(**overrides):
    data = {
        "org_number": "944 387 234",
        "name": "Stavanger kommune",
        "kind": CustomerKind.KOMMUNE,
        "address_line": "Postboks 8001",
        "postal_code": "4068",
        "city": "Stavanger",
        "invoice_reference": "Oppvekst 4011",
        "invoice_email": "fakturamottak@stavanger.kommune.example",
        "peppol_endpoint": "0192:944387234",
    }
    data.update(overrides)
    return data


def _counts():
    return Customer.objects.count(), AuditEvent.objects.count()


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict


# ---------------------------------------------------------------- customer_create


def test_create_verified_in_the_registry(brreg_fake, actor, owner):
    # when a kommune is created with its org number as people write it
    customer = services.customer_create(actor=actor, data=_kommune_data())
    # then it is verified and the registry's answer is kept with it
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.org_number == STAVANGER_KOMMUNE
    assert stored.verification == Verification.VERIFIED
    assert stored.verified_at is not None
    assert stored.registry["name"] == "STAVANGER KOMMUNE"
    assert stored.registry["organisation_form"] == "KOMM"
    assert stored.registry["suggested_kind"] == "kommune"
    assert stored.registry["is_active"] is True
    # and one audit row says who created it, with the new values
    event = AuditEvent.objects.get(action="customer.create")
    assert (event.actor_kind, event.actor_user, event.actor_label) == (ActorKind.USER, owner, "eier@alpha.example")
    assert (event.object_type, event.object_id) == ("customer", str(customer.pk))
    assert event.changes["name"] == [None, "Stavanger kommune"]
    assert event.changes["org_number"] == [None, STAVANGER_KOMMUNE]
    assert event.changes["verification"] == [None, "verified"]


def test_create_unknown_org_number_is_refused_and_nothing_written(brreg_fake, actor):
    before = _counts()
    with pytest.raises(ValidationError) as caught:
        services.customer_create(actor=actor, data=_kommune_data(org_number=NOT_REGISTERED, peppol_endpoint=""))
    errors = _field_errors(caught.value)
    assert list(errors) == ["org_number"]
    assert errors["org_number"] == [
        f"{NOT_REGISTERED} is not registered in Brønnøysund (Enhetsregisteret). Check the number."
    ]
    assert _counts() == before


def test_create_invalid_org_number_is_refused_before_asking_the_registry(brreg_fake, actor):
    before = _counts()
    asked = len(brreg_fake.state.requests)
    with pytest.raises(ValidationError) as caught:
        services.customer_create(actor=actor, data=_kommune_data(org_number="937620188", peppol_endpoint=""))
    assert list(_field_errors(caught.value)) == ["org_number"]
    assert len(brreg_fake.state.requests) == asked
    assert _counts() == before


def test_create_with_the_registry_down_saves_unverified(brreg_fake, actor):
    brreg_fake.set_down("brreg")
    customer = services.customer_create(actor=actor, data=_kommune_data())
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.verification == Verification.NOT_VERIFIED
    assert stored.registry == {"error": "Brønnøysund answered HTTP 503"}
    assert AuditEvent.objects.filter(action="customer.create", object_id=str(customer.pk)).count() == 1


def test_create_without_verification(actor):
    # verify=False (e.g. an import) does not ask the registry; the autouse fixture points it nowhere
    customer = services.customer_create(actor=actor, data=_kommune_data(), verify=False)
    assert Customer.objects.get(pk=customer.pk).verification == Verification.NOT_VERIFIED


def test_create_a_school_under_its_kommune(brreg_fake, actor):
    kommune = services.customer_create(actor=actor, data=_kommune_data())
    school = services.customer_create(
        actor=actor,
        data={
            "org_number": HUNDVAG_SKOLE,
            "name": "Hundvåg skole",
            "kind": CustomerKind.SCHOOL,
            "parent": kommune,
            "invoice_email": "fakturamottak@stavanger.kommune.example",
        },
    )
    assert school.parent == kommune
    assert school.registry["is_sub_unit"] is True
    assert school.registry["parent_org_number"] == STAVANGER_KOMMUNE
    assert list(kommune.children.all()) == [school]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"name": "Hundvåg skole", "kind": CustomerKind.SCHOOL, "org_number": HUNDVAG_SKOLE},
            "parent",
            "A school needs its owner (kommune or fylkeskommune).",
        ),
        (
            {"name": "Uten nummer AS", "kind": CustomerKind.COMPANY, "org_number": ""},
            "org_number",
            "A Norwegian organisation needs its organisation number.",
        ),
        (
            {"name": "Fjordbygg", "org_number": FJORDBYGG, "vat_treatment": VatTreatment.REVERSE_CHARGE},
            "vat_treatment",
            "Reverse charge is for customers abroad; choose Norwegian VAT or exempt.",
        ),
        (
            {"name": "Göta Byggkonsult AB", "org_number": "", "country": "SE", "vat_treatment": VatTreatment.NORWAY},
            "vat_treatment",
            "A customer abroad gets no Norwegian VAT: choose reverse charge or exempt.",
        ),
        (
            {"name": "", "org_number": FJORDBYGG},
            "name",
            "This field cannot be blank.",
        ),
        (
            {"name": "Fjordbygg", "org_number": FJORDBYGG, "peppol_endpoint": "9908:994142607"},
            "peppol_endpoint",
            "9908:994142607 is not a Norwegian Peppol id: write 0192: followed by a valid organisation number.",
        ),
        (
            {"name": "Fjordbygg", "org_number": FJORDBYGG, "invoice_email": "faktura(at)fjordbygg"},
            "invoice_email",
            "Enter a valid email address.",
        ),
        (
            {"name": "Fjordbygg", "org_number": FJORDBYGG, "verification": "verified"},
            "verification",
            "This field cannot be set here.",
        ),
    ],
)
def test_create_refuses_bad_input_with_a_message_per_field(brreg_fake, actor, data, field, message):
    before = _counts()
    with pytest.raises(ValidationError) as caught:
        services.customer_create(actor=actor, data=data)
    assert _field_errors(caught.value)[field] == [message]
    assert _counts() == before


def test_a_company_cannot_own_a_school(brreg_fake, actor):
    company = services.customer_create(actor=actor, data={"name": "Fjordbygg Rådgivning AS", "org_number": FJORDBYGG})
    before = _counts()
    with pytest.raises(ValidationError) as caught:
        services.customer_create(
            actor=actor,
            data={"name": "Hundvåg skole", "kind": CustomerKind.SCHOOL, "org_number": HUNDVAG_SKOLE, "parent": company},
        )
    assert _field_errors(caught.value) == {"parent": ["The owner must be a kommune or a fylkeskommune."]}
    assert _counts() == before


def test_a_foreign_customer_needs_no_org_number(actor):
    customer = services.customer_create(
        actor=actor,
        data={
            "name": "Göta Byggkonsult AB",
            "country": "SE",
            "vat_treatment": VatTreatment.REVERSE_CHARGE,
            "address_line": "Lilla Bommen 5",
            "postal_code": "411 04",
            "city": "Göteborg",
        },
    )
    assert Customer.objects.get(pk=customer.pk).verification == Verification.NOT_APPLICABLE


def test_duplicate_org_number_in_the_same_tenant_is_refused(brreg_fake, actor):
    services.customer_create(actor=actor, data=_kommune_data())
    before = _counts()
    with pytest.raises(ValidationError) as caught:
        services.customer_create(actor=actor, data=_kommune_data(name="Stavanger kommune (igjen)"))
    assert _field_errors(caught.value) == {"org_number": ["A customer with this organisation number already exists."]}
    assert _counts() == before


def test_the_same_org_number_in_another_tenant_is_allowed(brreg_fake, actor, tenant_b):
    first = services.customer_create(actor=actor, data=_kommune_data())
    with tenant_context(tenant_b):
        second = services.customer_create(actor=Actor.system("test"), data=_kommune_data())
        assert second.tenant_id == tenant_b.pk
        assert Customer.objects.count() == 1
    assert first.pk != second.pk
    assert Customer.objects.count() == 1


# ---------------------------------------------------------------- customer_update


def test_update_records_old_and_new_values(actor, owner):
    customer = CustomerFactory(name="Kunde Gammel AS", city="Oslo")
    customer = services.customer_update(
        actor=actor, customer=customer, data={"name": "Kunde Ny AS", "city": "Bergen"}, verify=False
    )
    event = AuditEvent.objects.get(action="customer.update")
    assert event.changes == {"name": ["Kunde Gammel AS", "Kunde Ny AS"], "city": ["Oslo", "Bergen"]}
    assert event.actor_user == owner
    assert event.object_id == str(customer.pk)
    assert Customer.objects.get(pk=customer.pk).name == "Kunde Ny AS"


def test_update_of_one_field_audits_only_that_field(brreg_fake, actor):
    customer = services.customer_create(actor=actor, data=_kommune_data())
    asked = len(brreg_fake.state.requests)
    services.customer_update(actor=actor, customer=customer, data={"invoice_reference": "Oppvekst 4012"})
    event = AuditEvent.objects.get(action="customer.update")
    assert event.changes == {"invoice_reference": ["Oppvekst 4011", "Oppvekst 4012"]}
    # the org number did not change: the registry is not asked again
    assert len(brreg_fake.state.requests) == asked


def test_update_with_bad_input_writes_nothing(actor):
    customer = CustomerFactory(name="Kunde AS")
    before = _counts()
    with pytest.raises(ValidationError) as caught:
        services.customer_update(actor=actor, customer=customer, data={"name": "", "invoice_email": "nope"})
    assert set(_field_errors(caught.value)) == {"name", "invoice_email"}
    assert _counts() == before
    assert Customer.objects.get(pk=customer.pk).name == "Kunde AS"


def test_update_by_an_api_key_names_the_key(actor):
    key, _raw = services.api_key_create(actor=actor, name="ERP", scope="read_write")
    customer = CustomerFactory(name="Kunde AS")
    services.customer_update(actor=Actor.for_api_key(key), customer=customer, data={"name": "Kunde 2 AS"})
    event = AuditEvent.objects.get(action="customer.update")
    assert (event.actor_kind, event.actor_api_key, event.actor_user) == (ActorKind.API_KEY, key, None)
    assert event.actor_label == f"API key ERP ({key.prefix})"


# ---------------------------------------------------------------- contacts


def test_contact_create_update_delete_are_audited(actor):
    customer = CustomerFactory()
    contact = services.contact_create(
        actor=actor,
        customer=customer,
        data={"name": "Randi Østebø", "title": "Rektor", "email": "randi@skole.example", "role": "school_contact"},
    )
    services.contact_update(actor=actor, contact=contact, data={"title": "Avdelingsleder"})
    contact_id = str(contact.pk)
    services.contact_delete(actor=actor, contact=contact)

    assert Contact.objects.filter(pk=contact_id).exists() is False
    events = {e.action: e for e in AuditEvent.objects.filter(object_type="contact", object_id=contact_id)}
    assert set(events) == {"contact.create", "contact.update", "contact.delete"}
    assert events["contact.create"].changes["name"] == [None, "Randi Østebø"]
    assert events["contact.create"].changes["customer"] == [None, customer.pk]
    assert events["contact.update"].changes == {"title": ["Rektor", "Avdelingsleder"]}
    assert events["contact.delete"].changes["email"] == ["randi@skole.example", None]


def test_contact_with_bad_input_is_refused(actor):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as caught:
        services.contact_create(actor=actor, customer=customer, data={"name": "", "email": "x", "role": "boss"})
    assert set(_field_errors(caught.value)) == {"name", "email", "role"}
    assert Contact.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="contact").count() == 0


# ---------------------------------------------------------------- staff and roles


def test_owner_adds_staff(actor):
    membership = services.staff_add(actor=actor, email="Ny.Person@Alpha.example", role=Role.SALES, full_name="Ny")
    assert membership.user.email == "ny.person@alpha.example"
    assert membership.role == Role.SALES
    event = AuditEvent.objects.get(action="staff.add")
    assert event.changes["role"] == [None, "sales"]


def test_staff_add_refuses_an_unknown_role_and_a_second_membership(actor, owner):
    with pytest.raises(ValidationError) as caught:
        services.staff_add(actor=actor, email="x@alpha.example", role="king")
    assert list(_field_errors(caught.value)) == ["role"]
    with pytest.raises(ValidationError) as caught:
        services.staff_add(actor=actor, email=owner.email, role=Role.VIEWER)
    assert _field_errors(caught.value) == {"email": ["eier@alpha.example is already on the staff."]}


def test_only_an_owner_makes_owners(in_a, owner):
    admin = MembershipFactory(role=Role.ADMIN).user
    with pytest.raises(PermissionDenied):
        services.staff_add(actor=Actor.for_user(admin), email="ny@alpha.example", role=Role.OWNER)
    viewer = MembershipFactory(role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.membership_set_role(actor=Actor.for_user(admin), membership=viewer, role=Role.OWNER)
    assert Membership.objects.filter(role=Role.OWNER).count() == 1
    # an owner may
    services.membership_set_role(actor=Actor.for_user(owner), membership=viewer, role=Role.OWNER)
    assert Membership.objects.get(pk=viewer.pk).role == Role.OWNER


def test_an_admin_cannot_demote_or_remove_an_owner(in_a, owner):
    admin = MembershipFactory(role=Role.ADMIN).user
    second_owner = MembershipFactory(role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        services.membership_set_role(actor=Actor.for_user(admin), membership=second_owner, role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.membership_remove(actor=Actor.for_user(admin), membership=second_owner)
    assert Membership.objects.get(pk=second_owner.pk).role == Role.OWNER


def test_an_admin_changes_other_roles(in_a):
    admin = MembershipFactory(role=Role.ADMIN).user
    sales = MembershipFactory(role=Role.SALES)
    services.membership_set_role(actor=Actor.for_user(admin), membership=sales, role=Role.SUPPORT)
    assert AuditEvent.objects.get(action="staff.role").changes == {"role": ["sales", "support"]}


def test_the_last_owner_cannot_be_demoted_or_removed(actor, owner):
    membership = Membership.objects.get(user=owner)
    message = "The last owner cannot be removed or demoted; make someone else owner first."
    with pytest.raises(ValidationError) as caught:
        services.membership_set_role(actor=actor, membership=membership, role=Role.ADMIN)
    assert caught.value.messages == [message]
    with pytest.raises(ValidationError) as caught:
        services.membership_remove(actor=actor, membership=membership)
    assert caught.value.messages == [message]
    assert Membership.objects.get(pk=membership.pk).role == Role.OWNER
    assert AuditEvent.objects.filter(object_type="membership").count() == 0


def test_an_inactive_second_owner_does_not_count(actor, owner):
    MembershipFactory(role=Role.OWNER, is_active=False)
    with pytest.raises(ValidationError):
        services.membership_remove(actor=actor, membership=Membership.objects.get(user=owner))


def test_with_two_owners_one_can_step_down(actor, owner):
    MembershipFactory(role=Role.OWNER)
    membership = services.membership_set_role(
        actor=actor, membership=Membership.objects.get(user=owner), role=Role.ADMIN
    )
    assert membership.role == Role.ADMIN
    assert AuditEvent.objects.get(action="staff.role").changes == {"role": ["owner", "admin"]}


def test_membership_remove_is_audited(actor):
    member = MembershipFactory(role=Role.SUPPORT)
    services.membership_remove(actor=actor, membership=member)
    assert Membership.objects.filter(pk=member.pk).exists() is False
    event = AuditEvent.objects.get(action="staff.remove")
    assert event.changes["role"] == ["support", None]


# ---------------------------------------------------------------- API keys


def test_api_key_is_shown_once_and_stored_hashed(actor, in_a):
    key, raw = services.api_key_create(actor=actor, name="  Fiken  ", scope="read")
    assert key.name == "Fiken"
    assert raw.startswith(f"avt_{in_a.slug}_{key.prefix}_")
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.key_hash, stored.prefix, stored.name}
    event = AuditEvent.objects.get(action="api_key.create")
    assert "key_hash" not in event.changes
    assert raw not in str(event.changes)


def test_api_key_check_accepts_the_key_and_records_use(actor):
    key, raw = services.api_key_create(actor=actor, name="ERP", scope="read_write")
    assert key.last_used_at is None
    checked = services.api_key_check(raw)
    assert checked == key
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


@pytest.mark.parametrize("mangle", [lambda raw: raw + "x", lambda raw: raw[:-1], lambda raw: "", lambda raw: "avt_x"])
def test_api_key_check_rejects_a_wrong_key(actor, mangle):
    _key, raw = services.api_key_create(actor=actor, name="ERP")
    assert services.api_key_check(mangle(raw)) is None


def test_a_revoked_key_is_rejected(actor):
    key, raw = services.api_key_create(actor=actor, name="ERP")
    services.api_key_revoke(actor=actor, key=key)
    assert services.api_key_check(raw) is None
    assert AuditEvent.objects.get(action="api_key.revoke").changes["revoked_at"][0] is None


def test_several_keys_are_active_at_once(actor):
    old_key, old_raw = services.api_key_create(actor=actor, name="ERP 2025")
    new_key, new_raw = services.api_key_create(actor=actor, name="ERP 2026")
    assert services.api_key_check(old_raw) == old_key
    assert services.api_key_check(new_raw) == new_key


def test_another_tenants_key_is_rejected(actor, tenant_b):
    _key, raw_a = services.api_key_create(actor=actor, name="ERP")
    deactivate()
    activate(tenant_b)
    try:
        assert services.api_key_check(raw_a) is None
    finally:
        deactivate()


def test_api_key_needs_a_name_and_a_known_scope(actor):
    with pytest.raises(ValidationError) as caught:
        services.api_key_create(actor=actor, name="  ")
    assert list(_field_errors(caught.value)) == ["name"]
    with pytest.raises(ValidationError) as caught:
        services.api_key_create(actor=actor, name="ERP", scope="admin")
    assert list(_field_errors(caught.value)) == ["scope"]
    assert ApiKey.objects.count() == 0


# ---------------------------------------------------------------- portal users


def test_portal_user_create(actor):
    customer = CustomerFactory(name="Stavanger kommune")
    portal_user = services.portal_user_create(
        actor=actor,
        customer=customer,
        email="Marianne.Tjelta@Stavanger.example",
        full_name="Marianne Tjelta",
        password="et-langt-passord-2026",
    )
    assert portal_user.customer == customer
    user = User.objects.get(email="marianne.tjelta@stavanger.example")
    assert user.check_password("et-langt-passord-2026")
    assert user.full_name == "Marianne Tjelta"
    assert AuditEvent.objects.get(action="portal_user.create").changes["customer"] == [None, customer.pk]
    with pytest.raises(ValidationError) as caught:
        services.portal_user_create(actor=actor, customer=customer, email="marianne.tjelta@stavanger.example")
    assert list(_field_errors(caught.value)) == ["email"]
    assert PortalUser.objects.count() == 1


def test_portal_user_deactivate(actor):
    portal_user = services.portal_user_create(actor=actor, customer=CustomerFactory(), email="p@kunde.example")
    services.portal_user_deactivate(actor=actor, portal_user=portal_user)
    assert PortalUser.objects.get(pk=portal_user.pk).is_active is False
    assert AuditEvent.objects.get(action="portal_user.deactivate").changes == {"is_active": [True, False]}


# ---------------------------------------------------------------- customer_verify through the task


def test_customer_verify_through_the_task(brreg_fake, tenant_a):
    # given a customer saved while the registry said nothing, whose company has since gone bankrupt
    with tenant_context(tenant_a):
        customer = CustomerFactory(name="Fjellbygg Prosjekt AS", org_number=FJELLBYGG_BANKRUPT)
        assert customer.verification == Verification.NOT_VERIFIED
    # when the re-verification task runs for the tenant (eagerly, outside any tenant)
    from tenants.tasks import customers_reverify

    result = customers_reverify.apply(args=[tenant_a.pk, "2026-11-24"]).get()
    # then the customer is verified and the registry's bankruptcy is recorded, by the job
    assert result == {"verified": 1}
    with tenant_context(tenant_a):
        stored = Customer.objects.get(pk=customer.pk)
        assert stored.verification == Verification.VERIFIED
        assert stored.registry["bankrupt"] is True
        assert stored.registry["bankrupt_on"] == "2026-10-02"
        assert stored.registry["is_active"] is False
        event = AuditEvent.objects.get(action="customer.verify")
        assert (event.actor_kind, event.actor_label) == (ActorKind.JOB, "job customers_reverify 2026-11-24")
        assert event.changes["verification"] == ["not_verified", "verified"]


def test_customer_verify_marks_unknown_numbers_not_found(brreg_fake, actor):
    customer = CustomerFactory(org_number=NOT_REGISTERED)
    services.customer_verify(actor=actor, customer=customer)
    assert Customer.objects.get(pk=customer.pk).verification == Verification.NOT_FOUND


# ---------------------------------------------------------------- the owner chain stays one level deep


def test_a_kommune_has_no_owner(actor):
    fylke = CustomerFactory(name="Rogaland fylkeskommune", kind=CustomerKind.FYLKESKOMMUNE)
    before = _counts()
    with pytest.raises(ValidationError) as caught:
        services.customer_create(actor=actor, data=_kommune_data(parent=fylke), verify=False)
    assert _field_errors(caught.value) == {"parent": ["A kommune or fylkeskommune has no owner; leave this empty."]}
    assert _counts() == before


def test_two_kommuner_cannot_own_each_other(actor):
    # given kommune B, and kommune A owned by nobody
    kommune_a = CustomerFactory(name="A kommune", kind=CustomerKind.KOMMUNE)
    kommune_b = CustomerFactory(name="B kommune", kind=CustomerKind.KOMMUNE)
    # when A is given B as owner, then it is refused (and so no cycle B → A → B can be built)
    with pytest.raises(ValidationError) as caught:
        services.customer_update(actor=actor, customer=kommune_a, data={"parent": kommune_b}, verify=False)
    assert list(_field_errors(caught.value)) == ["parent"]
    assert Customer.objects.get(pk=kommune_a.pk).parent_id is None


def test_an_owner_of_schools_cannot_become_a_company(actor):
    kommune = CustomerFactory(name="Stavanger kommune", kind=CustomerKind.KOMMUNE)
    school = CustomerFactory(name="Hundvåg skole", kind=CustomerKind.SCHOOL, parent=kommune)
    with pytest.raises(ValidationError) as caught:
        services.customer_update(actor=actor, customer=kommune, data={"kind": CustomerKind.COMPANY}, verify=False)
    assert _field_errors(caught.value) == {
        "kind": ["This customer owns schools or other customers; it must stay a kommune or fylkeskommune."]
    }
    assert Customer.objects.get(pk=kommune.pk).kind == CustomerKind.KOMMUNE
    assert Customer.objects.get(pk=school.pk).parent == kommune
    # a kommune may become a fylkeskommune (still an owner)
    services.customer_update(actor=actor, customer=kommune, data={"kind": CustomerKind.FYLKESKOMMUNE}, verify=False)
    assert Customer.objects.get(pk=kommune.pk).kind == CustomerKind.FYLKESKOMMUNE


# ---------------------------------------------------------------- the demo's customers pass the same services


def test_every_demo_customer_passes_the_services(brreg_fake, db):
    """demo/customers.json, loaded through the demo loader (and so the services), verified by the fake."""
    import json
    from pathlib import Path

    from demo.loader import CUSTOMERS_FILE, DemoSummary, load_customers
    from tests.factories import TenantFactory

    demo = json.loads(Path(CUSTOMERS_FILE).read_text(encoding="utf-8"))["tenants"]
    assert sorted(demo) == ["digireq", "identum", "piscator", "spekter", "standard-norge"]
    for slug, rows in demo.items():
        tenant = TenantFactory(slug=slug)
        summary = DemoSummary()
        with tenant_context(tenant):
            portal = load_customers(rows, summary)
            assert Customer.objects.count() == len(rows), slug
            assert len(portal) == sum(len(row["portal_users"]) for row in rows) >= 1
            for row in rows:
                customer = Customer.objects.get(name=row["name"])
                expected = Verification.VERIFIED if row["org_number"] else Verification.NOT_APPLICABLE
                assert customer.verification == expected, row["key"]
                assert customer.kind == row["kind"], row["key"]
                if row["org_number"]:
                    assert customer.registry["suggested_kind"] == row["kind"], row["key"]
                    assert customer.registry["is_active"] is True, row["key"]
                if row["parent"]:
                    assert customer.parent.org_number == next(
                        r["org_number"] for r in rows if r["key"] == row["parent"]
                    )
            assert Contact.objects.count() == sum(len(row["contacts"]) for row in rows)
            # a second load changes nothing
            load_customers(rows, DemoSummary())
            assert Customer.objects.count() == len(rows)
        assert summary.created["customers"] == len(rows)
    # Spekter's schools span the price bands (RULES §2), e.g. 87, 240 and 1100 pupils in one kommune
    pupils = sorted(row["pupils"] for row in demo["spekter"] if row["kind"] == "school")
    assert {87, 240, 1100} <= set(pupils)
    assert pupils[0] <= 100 < 2000 < pupils[-1]
