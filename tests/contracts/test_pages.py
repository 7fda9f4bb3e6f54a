"""Contract pages in the back-office and the portal, the order form and the trial sign-up: what they show,
that every form goes through the services, isolation (404), and bad input → 400 with nothing changed."""

import datetime as dt
import hashlib
import re

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from contracts import lifecycle, services
from contracts.models import (
    Contract,
    ContractDocument,
    DataProcessingAgreement,
    Message,
    OnboardingStep,
    PricedOn,
    Signature,
    TerminationNotice,
)
from pricing.models import Quote
from tenants.models import Contact, Customer, CustomerKind, PortalUser
from tenants.permissions import Role
from tenants.tenancy import tenant_context
from tests.contracts.conftest import ACTOR, SHA, plan_for, signed_at, spekter_priced_on, verified_company
from tests.factories import CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
d = dt.date
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
BO = "/backoffice/alpha/contracts"
PORTAL = "/portal/alpha"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def at(day: dt.date):
    """Travel to noon (Oslo) on ``day``: "today" for the views."""
    return time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0))), tick=False)


def staff(tenant, role):
    with tenant_context(tenant):
        return MembershipFactory(role=role, user__email=f"{role}@{tenant.slug}.no").user


def portal_login(client, tenant, customer, email):
    with tenant_context(tenant):
        user = UserFactory(email=email, full_name=email.split("@")[0].title())
        PortalUser.objects.create(customer=customer, user=user)
    client.force_login(user, backend=MODEL_BACKEND)
    return user


def in_tenant(tenant, fn):
    with tenant_context(tenant):
        return fn()


CREATED_ON = d(2026, 3, 1)
SIGNED_UP = d(2026, 1, 5)


def draft(ctx, customer=None, on=CREATED_ON):
    with tenant_context(ctx["tenant"]):
        return services.contract_create(
            actor=ACTOR,
            customer=customer or ctx["schools"][0],
            plan=ctx["plan"],
            interval="year",
            on=on,
            priced_on=spekter_priced_on(ctx["schools"]),
            terms_data=services.TERM_PRESETS["spekter"],
        )


def active(ctx):
    """A Spekter contract of the kommune received 2026-03-15, DPA on file: active."""
    contract = draft(ctx, customer=ctx["kommune"])
    with tenant_context(ctx["tenant"]):
        services.dpa_sign(actor=ACTOR, controller=ctx["kommune"], signed_on=d(2026, 1, 1), signer_name="Ordfører")
        return services.contract_sign(
            actor=ACTOR,
            contract=contract,
            name="Kari",
            title="Rektor",
            signed_at=signed_at(d(2026, 3, 15)),
            received_on=d(2026, 3, 15),
            document_sha256=SHA,
        )


# ---------------------------------------------------------------- back-office: pages per role


@pytest.mark.parametrize("role", [Role.OWNER, Role.SALES, Role.VIEWER, Role.FINANCE])
def test_every_role_sees_the_list_and_the_detail(client, spekter, role):
    contract = active(spekter)
    client.force_login(staff(spekter["tenant"], role), backend=MODEL_BACKEND)
    listing = client.get(f"{BO}/", **EN)
    assert listing.status_code == 200
    assert contract.reference in listing.content.decode()
    page = client.get(f"{BO}/{contract.pk}/", **EN)
    html = page.content.decode()
    assert page.status_code == 200
    # Exclusive ends shown as the last day: the term 2026-03-15 → 2027-03-15 runs to and including 2027-03-14.
    assert "2027-03-14" in html and "2026-12-14" in html
    assert ("Give notice" in html) is (role in (Role.OWNER, Role.SALES))


def test_a_viewer_cannot_send_or_give_notice(client, spekter):
    contract = draft(spekter)
    client.force_login(staff(spekter["tenant"], Role.VIEWER), backend=MODEL_BACKEND)
    assert client.post(f"{BO}/{contract.pk}/send/").status_code == 403
    assert client.get(f"{BO}/{contract.pk}/notice/").status_code == 403
    assert in_tenant(spekter["tenant"], lambda: Contract.objects.get().state) == lifecycle.DRAFT


def test_filters_state_notice_soon_and_search(client, spekter):
    running = active(spekter)
    waiting = draft(spekter, customer=spekter["schools"][1])
    client.force_login(staff(spekter["tenant"], Role.OWNER), backend=MODEL_BACKEND)
    with at(d(2026, 11, 1)):  # the last day for notice (2026-12-14) is 43 days away
        soon = client.get(f"{BO}/?soon=notice", **EN).content.decode()
    assert running.reference in soon and waiting.reference not in soon
    drafts = client.get(f"{BO}/?state=draft", **EN).content.decode()
    assert waiting.reference in drafts and running.reference not in drafts
    found = client.get(f"{BO}/?q=Skole+2", **EN).content.decode()
    assert waiting.reference in found and running.reference not in found
    assert client.get(f"{BO}/?state=nonsense&soon=x", **EN).status_code == 200


def test_another_tenants_contract_is_not_found(client, spekter, tenant_b):
    with tenant_context(tenant_b):
        plan = plan_for("spekter", code="b")
        customer = CustomerFactory(kind=CustomerKind.KOMMUNE)
        theirs = services.contract_create(
            actor=ACTOR,
            customer=customer,
            plan=plan,
            interval="year",
            on=d(2026, 3, 1),
            priced_on={"schools": [{"name": "X", "pupils": 10}]},
            terms_data=services.TERM_PRESETS["spekter"],
        )
    client.force_login(staff(spekter["tenant"], Role.OWNER), backend=MODEL_BACKEND)
    for path in ("", "pdf/", "notice/", "amend/", "sign-paper/"):
        assert client.get(f"{BO}/{theirs.pk}/{path}").status_code == 404, path
    assert client.post(f"{BO}/{theirs.pk}/send/").status_code == 404
    assert in_tenant(tenant_b, lambda: Contract.objects.get().state) == lifecycle.DRAFT


# ---------------------------------------------------------------- back-office: create, send, sign on paper


def test_create_from_a_saved_quote(client, spekter):
    from pricing import services as pricing_services

    with tenant_context(spekter["tenant"]):
        quote = pricing_services.quote_save(
            actor=ACTOR,
            request={
                "plan": "spekter-2020",
                "customer": spekter["kommune"].pk,
                **spekter_priced_on(spekter["schools"]),
            },
            on=d(2026, 3, 1),
        )
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    response = client.post(f"{BO}/from-quote/", {"quote": quote.pk, "preset": "spekter"})
    assert response.status_code == 302
    with tenant_context(spekter["tenant"]):
        contract = Contract.objects.get()
        assert (contract.customer, contract.quote, contract.dpa_required) == (spekter["kommune"], quote, True)
        assert Quote.objects.get().status == "accepted"
    assert response["Location"] == f"{BO}/{contract.pk}/"


def test_create_from_scratch_with_bad_input_is_400_and_saves_nothing(client, spekter):
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    response = client.post(
        f"{BO}/new/",
        {"customer": "999999", "plan": spekter["plan"].pk, "interval": "year", "preset": "nope", "schools": "Skole"},
        **EN,
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"customer", "preset", "schools"}
    assert errors["schools"] == [
        "Line 1: write the school's name, a semicolon and the number of pupils (“Hundvåg skole; 240”)."
    ]
    assert in_tenant(spekter["tenant"], Contract.objects.count) == 0


def test_create_from_scratch(client, spekter):
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    response = client.post(
        f"{BO}/new/",
        {
            "customer": spekter["kommune"].pk,
            "plan": spekter["plan"].pk,
            "interval": "year",
            "preset": "spekter",
            "schools": "Tasta skole; 320\nBuøy skole; 95",
        },
    )
    assert response.status_code == 302
    with tenant_context(spekter["tenant"]):
        priced = PricedOn.objects.get()
        assert priced.request == {
            "schools": [{"name": "Tasta skole", "pupils": 320}, {"name": "Buøy skole", "pupils": 95}]
        }
        assert priced.price_effect["net"] == "9327.00"  # 6 435 + 2 892


def test_send_renders_and_stores_the_pdf(client, spekter):
    contract = draft(spekter)
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    assert client.post(f"{BO}/{contract.pk}/send/").status_code == 302
    with tenant_context(spekter["tenant"]):
        document = ContractDocument.objects.get()
        assert Contract.objects.get().state == lifecycle.SENT
    pdf = client.get(f"{BO}/{contract.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content[:4] == b"%PDF"
    assert hashlib.sha256(pdf.content).hexdigest() == document.sha256
    # Sending twice is refused: 400, nothing changed.
    again = client.post(f"{BO}/{contract.pk}/send/", **EN)
    assert again.status_code == 400
    assert "cannot send for signature" in again.content.decode()
    assert in_tenant(spekter["tenant"], ContractDocument.objects.count) == 1


def test_record_a_signed_paper_copy(client, spekter):
    contract = draft(spekter, customer=spekter["kommune"])
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    upload = SimpleUploadedFile("signed.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    response = client.post(
        f"{BO}/{contract.pk}/sign-paper/",
        {
            "name": "Ola Ordfører",
            "title": "Ordfører",
            "signed_on": "2026-03-12",
            "received_on": "2026-03-15",
            "paper_copy": upload,
        },
    )
    assert response.status_code == 302
    with tenant_context(spekter["tenant"]):
        signature = Signature.objects.get()
        contract.refresh_from_db()
        assert (signature.method, signature.received_on, signature.name) == ("paper", d(2026, 3, 15), "Ola Ordfører")
        assert signature.document_sha256 == ContractDocument.objects.get().sha256
        assert contract.state == lifecycle.AWAITING_DPA


def test_a_paper_copy_that_is_not_a_pdf_is_400_and_nothing_signed(client, spekter):
    contract = draft(spekter)
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    upload = SimpleUploadedFile("signed.txt", b"hello", content_type="text/plain")
    response = client.post(
        f"{BO}/{contract.pk}/sign-paper/",
        {"name": "", "signed_on": "2026-03-16", "received_on": "2026-03-15", "paper_copy": upload},
        **EN,
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["paper_copy"] == ["Upload the signed copy as a PDF file."]
    assert errors["name"] == ["This field is required."]
    assert in_tenant(spekter["tenant"], Signature.objects.count) == 0


def test_staff_record_the_dpa_and_tick_feide(client, spekter):
    contract = draft(spekter)
    with tenant_context(spekter["tenant"]):
        services.contract_sign(
            actor=ACTOR,
            contract=contract,
            name="R",
            title="",
            signed_at=signed_at(d(2026, 3, 15)),
            received_on=d(2026, 3, 15),
            document_sha256=SHA,
        )
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    response = client.post(f"{BO}/{contract.pk}/dpa/", {"signer_name": "Ordfører", "signed_on": "2026-03-20"})
    assert response.status_code == 302
    assert client.post(f"{BO}/{contract.pk}/onboarding/", {"code": "feide_activated"}).status_code == 302
    assert client.post(f"{BO}/{contract.pk}/onboarding/", {"code": "contract_signed"}).status_code == 400
    with tenant_context(spekter["tenant"]):
        contract.refresh_from_db()
        assert DataProcessingAgreement.objects.get().controller == spekter["kommune"]
        assert contract.state == lifecycle.ACTIVE
        assert [(c, day) for c, day in services.onboarding_checklist(contract)] == [
            ("contract_signed", d(2026, 3, 15)),
            ("dpa_signed", d(2026, 3, 20)),
            ("feide_activated", timezone.localdate()),
        ]


# ---------------------------------------------------------------- notice with a preview step


def test_vendor_notice_preview_names_the_late_date_then_confirms(client, spekter):
    contract = active(spekter)
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    preview = client.post(f"{BO}/{contract.pk}/notice/", {"received_on": "2026-12-20", "action": "preview"}, **EN)
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "This notice is late." in html
    assert "The last day for notice was 2026-12-14" in html
    assert "The agreement runs to and including 2028-03-14." in html
    assert in_tenant(spekter["tenant"], TerminationNotice.objects.count) == 0  # nothing given yet
    confirmed = client.post(f"{BO}/{contract.pk}/notice/", {"received_on": "2026-12-20", "action": "confirm"})
    assert confirmed.status_code == 302
    with tenant_context(spekter["tenant"]):
        notice = TerminationNotice.objects.get()
        assert (notice.given_by, notice.late, notice.ends_on) == ("vendor", True, d(2028, 3, 15))
        assert Contract.objects.get().state == lifecycle.NOTICE_GIVEN
        assert Message.objects.get().kind == "notice_confirmed"


def test_notice_preview_in_norwegian_shows_the_norwegian_date(client, spekter):
    contract = active(spekter)
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    html = client.post(
        f"{BO}/{contract.pk}/notice/", {"received_on": "20.12.2026", "action": "preview"}, HTTP_ACCEPT_LANGUAGE="nb"
    ).content.decode()
    assert "14.03.2028" in html and "14.12.2026" in html


def test_notice_on_an_ended_contract_is_400_and_nothing_changes(client, spekter):
    contract = active(spekter)
    with tenant_context(spekter["tenant"]):
        services.notice_give(actor=ACTOR, contract=contract, given_by="vendor", received_on=d(2026, 6, 1))
        services.contract_end_due(actor=ACTOR, contract=contract, on=d(2027, 3, 15))
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    response = client.post(f"{BO}/{contract.pk}/notice/", {"received_on": "2027-04-01", "action": "confirm"}, **EN)
    assert response.status_code == 400
    assert "A contract that is &#x27;ended&#x27; cannot give notice" in response.content.decode()
    assert in_tenant(spekter["tenant"], TerminationNotice.objects.count) == 1


# ---------------------------------------------------------------- trials and amendments (back-office)


def trial(digireq, name="Trial AS", on=SIGNED_UP):
    with tenant_context(digireq["tenant"]):
        return services.trial_start(actor=ACTOR, customer=verified_company(name), plan=digireq["plan"], on=on)


def test_a_fourth_extension_is_400_and_changes_nothing(client, digireq):
    contract = trial(digireq)
    client.force_login(staff(digireq["tenant"], Role.SUPPORT), backend=MODEL_BACKEND)
    for _ in range(3):
        assert client.post(f"{BO}/{contract.pk}/extend/").status_code == 302
    response = client.post(f"{BO}/{contract.pk}/extend/", **EN)
    assert response.status_code == 400
    assert "at most 3 times" in response.content.decode()
    with tenant_context(digireq["tenant"]):
        contract.refresh_from_db()
        assert (contract.trial_extensions, contract.trial_ends_on) == (3, d(2026, 2, 9))


def test_staff_convert_a_trial_to_annual(client, digireq):
    contract = trial(digireq)
    client.force_login(staff(digireq["tenant"], Role.SALES), backend=MODEL_BACKEND)
    with at(d(2026, 1, 19)):
        response = client.post(f"{BO}/{contract.pk}/convert/", {"interval": "year", "active_users": 12})
    assert response.status_code == 302
    with tenant_context(digireq["tenant"]):
        contract.refresh_from_db()
        assert (contract.state, contract.interval, contract.term_end, contract.notice_deadline) == (
            lifecycle.ACTIVE,
            "year",
            d(2027, 1, 19),
            d(2026, 12, 19),
        )


def test_an_amendment_before_the_start_is_400_and_nothing_changes(client, spekter):
    contract = active(spekter)
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    data = {
        "effective_from": "2026-03-01",
        "reason": "more pupils",
        "schools": "Skole 1; 120\nSkole 2; 240\nSkole 3; 1100",
    }
    response = client.post(f"{BO}/{contract.pk}/amend/", data, **EN)
    assert response.status_code == 400
    assert response.context["form"].errors["effective_from"] == [
        "An amendment cannot take effect before the contract starts (2026-03-15)."
    ]
    assert in_tenant(spekter["tenant"], PricedOn.objects.count) == 1


def test_an_amendment_keeps_history_and_shows_the_price_effect(client, spekter):
    contract = active(spekter)
    client.force_login(staff(spekter["tenant"], Role.SALES), backend=MODEL_BACKEND)
    data = {
        "effective_from": "2026-08-01",
        "reason": "more pupils",
        "schools": "Skole 1; 120\nSkole 2; 240\nSkole 3; 1100",
    }
    assert client.post(f"{BO}/{contract.pk}/amend/", data).status_code == 302
    with tenant_context(spekter["tenant"]):
        row = PricedOn.objects.get(effective_from=d(2026, 8, 1))
        # Skole 1 moves from band 1–100 (2 892) to 101–200 (3 315): +423 a year.
        assert row.price_effect["delta_net"] == "423.00"
        assert row.request["schools"][0] == {"name": "Skole 1", "customer": spekter["schools"][0].pk, "pupils": 120}
        assert PricedOn.objects.count() == 2


# ---------------------------------------------------------------- portal: sign, DPA, notice


def sent(ctx, customer):
    contract = draft(ctx, customer=customer)
    with tenant_context(ctx["tenant"]):
        from contracts import documents

        services.contract_send(actor=ACTOR, contract=contract, on=d(2026, 3, 2))
        documents.store_contract_document(contract)
    return contract


def test_customer_signs_in_the_portal_with_name_title_ip_and_the_documents_sha(client, spekter):
    contract = sent(spekter, spekter["schools"][0])
    portal_login(client, spekter["tenant"], spekter["schools"][0], "rektor@skole1.no")
    sha = in_tenant(spekter["tenant"], lambda: ContractDocument.objects.get().sha256)
    page = client.get(f"{PORTAL}/contracts/{contract.pk}/sign/")
    assert page.status_code == 200 and sha in page.content.decode()
    with at(d(2026, 3, 15)):
        response = client.post(
            f"{PORTAL}/contracts/{contract.pk}/sign/",
            {"name": "Rita Rektor", "title": "Rektor", "confirm": "on", "document": sha},
            REMOTE_ADDR="203.0.113.7",
        )
    assert response.status_code == 302
    with tenant_context(spekter["tenant"]):
        signature = Signature.objects.get()
        assert (signature.name, signature.title, signature.ip_address, signature.method) == (
            "Rita Rektor",
            "Rektor",
            "203.0.113.7",
            "portal",
        )
        assert signature.document_sha256 == sha
        assert signature.received_on == d(2026, 3, 15)
        assert Contract.objects.get().state == lifecycle.AWAITING_DPA
    # Signing twice: 400, nothing changes.
    again = client.post(
        f"{PORTAL}/contracts/{contract.pk}/sign/",
        {"name": "Rita Rektor", "title": "Rektor", "confirm": "on", "document": sha},
        **EN,
    )
    assert again.status_code == 400
    assert in_tenant(spekter["tenant"], Signature.objects.count) == 1


def test_signing_without_name_or_confirmation_is_400(client, spekter):
    contract = sent(spekter, spekter["schools"][0])
    portal_login(client, spekter["tenant"], spekter["schools"][0], "rektor@skole1.no")
    response = client.post(f"{PORTAL}/contracts/{contract.pk}/sign/", {"name": "", "title": "", "document": "x"}, **EN)
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"name", "title", "confirm"}
    assert in_tenant(spekter["tenant"], Signature.objects.count) == 0


def test_a_school_cannot_sign_the_dpa_and_is_told_the_owner_must(client, spekter):
    portal_login(client, spekter["tenant"], spekter["schools"][0], "rektor@skole1.no")
    page = client.get(f"{PORTAL}/contracts/dpa/", **EN).content.decode()
    assert "signed by the school owner, Stavanger kommune, not by the school" in page
    response = client.post(
        f"{PORTAL}/contracts/dpa/", {"signer_name": "Rektor", "signer_title": "R", "confirm": "on"}, **EN
    )
    assert response.status_code == 400
    assert "ask Stavanger kommune to sign it" in response.content.decode()
    assert in_tenant(spekter["tenant"], DataProcessingAgreement.objects.count) == 0


def test_the_owner_signs_the_dpa_and_its_schools_contract_starts(client, spekter):
    contract = sent(spekter, spekter["schools"][0])
    with tenant_context(spekter["tenant"]):
        services.contract_sign(
            actor=ACTOR,
            contract=contract,
            name="R",
            title="",
            signed_at=signed_at(d(2026, 3, 15)),
            received_on=d(2026, 3, 15),
            document_sha256=SHA,
        )
    portal_login(client, spekter["tenant"], spekter["kommune"], "ordforer@stavanger.no")
    listing = client.get(f"{PORTAL}/contracts/", **EN).content.decode()
    assert contract.reference in listing  # the owner sees its schools' contracts
    with at(d(2026, 3, 20)):
        response = client.post(
            f"{PORTAL}/contracts/dpa/", {"signer_name": "Ola", "signer_title": "Ordfører", "confirm": "on"}
        )
    assert response.status_code == 302
    with tenant_context(spekter["tenant"]):
        contract.refresh_from_db()
        assert contract.state == lifecycle.ACTIVE
        assert OnboardingStep.objects.get(contract=contract, code="dpa_signed").done_on == d(2026, 3, 20)


def test_customer_late_notice_preview_says_the_date_then_confirms(client, spekter):
    contract = active(spekter)
    with at(d(2026, 12, 20)):
        portal_login(client, spekter["tenant"], spekter["kommune"], "ordforer@stavanger.no")
        page = client.get(f"{PORTAL}/contracts/{contract.pk}/notice/", HTTP_ACCEPT_LANGUAGE="nb")
        assert page.status_code == 200
        assert "14.03.2028" in page.content.decode()
        assert in_tenant(spekter["tenant"], TerminationNotice.objects.count) == 0
        response = client.post(f"{PORTAL}/contracts/{contract.pk}/notice/", {"action": "confirm"})
    assert response.status_code == 302
    with tenant_context(spekter["tenant"]):
        notice = TerminationNotice.objects.get()
        assert (notice.given_by, notice.received_on, notice.ends_on, notice.late) == (
            "customer",
            d(2026, 12, 20),
            d(2028, 3, 15),
            True,
        )
    history = client.get(f"{PORTAL}/contracts/messages/", **EN).content.decode()
    assert "notice" in history.lower() and contract.reference in history


def test_portal_isolation_other_customers_contract_is_not_found(client, spekter):
    contract = sent(spekter, spekter["schools"][1])
    portal_login(client, spekter["tenant"], spekter["schools"][0], "rektor@skole1.no")
    for path in ("", "pdf/", "sign/", "notice/"):
        assert client.get(f"{PORTAL}/contracts/{contract.pk}/{path}").status_code == 404, path
    response = client.post(f"{PORTAL}/contracts/{contract.pk}/sign/", {"name": "X", "title": "Y", "confirm": "on"})
    assert response.status_code == 404
    assert in_tenant(spekter["tenant"], Signature.objects.count) == 0


def test_drafts_are_not_shown_in_the_portal(client, spekter):
    contract = draft(spekter, customer=spekter["schools"][0])
    portal_login(client, spekter["tenant"], spekter["schools"][0], "rektor@skole1.no")
    assert client.get(f"{PORTAL}/contracts/{contract.pk}/").status_code == 404


# ---------------------------------------------------------------- portal: trials


def test_customer_converts_a_trial_seeing_the_engines_price(client, digireq):
    contract = trial(digireq)
    with tenant_context(digireq["tenant"]):
        customer = Contract.objects.get().customer
    portal_login(client, digireq["tenant"], customer, "eier@trial.no")
    with at(d(2026, 1, 19)):
        priced = client.post(
            f"{PORTAL}/contracts/{contract.pk}/convert/", {"interval": "month", "active_users": 12, "action": "price"}
        )
        assert priced.status_code == 200
        # 12 active users: volume tier 11–50 at 75 kr → 900 kr a month.
        assert priced.context["price"]["net"] == "900.00"
        assert in_tenant(digireq["tenant"], lambda: Contract.objects.get().state) == lifecycle.TRIAL
        confirmed = client.post(
            f"{PORTAL}/contracts/{contract.pk}/convert/", {"interval": "month", "active_users": 12, "action": "confirm"}
        )
    assert confirmed.status_code == 302
    with tenant_context(digireq["tenant"]):
        contract.refresh_from_db()
        assert (contract.state, contract.interval, contract.start_date) == (lifecycle.ACTIVE, "month", d(2026, 1, 19))


def test_customer_reactivates_a_paused_account(client, digireq):
    contract = trial(digireq)
    with tenant_context(digireq["tenant"]):
        services.contract_pause_due(actor=ACTOR, contract=contract, on=d(2026, 1, 19))
        customer = Contract.objects.get().customer
    portal_login(client, digireq["tenant"], customer, "eier@trial.no")
    with at(d(2026, 2, 1)):
        assert client.post(f"{PORTAL}/contracts/{contract.pk}/reactivate/").status_code == 302
    assert in_tenant(digireq["tenant"], lambda: Contract.objects.get().state) == lifecycle.ACTIVE


# ---------------------------------------------------------------- sign-up (trial) with Brønnøysund


def test_signup_verifies_the_org_number_and_starts_a_trial_with_a_portal_login(client, digireq, brreg_fake):
    with at(d(2026, 1, 5)):
        response = client.post(
            f"{PORTAL}/signup/", {"org_number": "937 620 187", "full_name": "Pål Påvakt", "email": "pal@pavakt.no"}
        )
    assert response.status_code == 302
    with tenant_context(digireq["tenant"]):
        contract = Contract.objects.get()
        assert (contract.customer.name, contract.customer.verification) == ("PÅVAKT AS", "verified")
        assert (contract.state, contract.trial_ends_on) == (lifecycle.TRIAL, d(2026, 1, 19))
        assert PortalUser.objects.get().user.email == "pal@pavakt.no"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["pal@pavakt.no"]
    assert re.search(r"/portal/alpha/password-reset/[^/]+/[^/]+/", mail.outbox[0].body)
    # A second trial for the same organisation: 400, nothing more.
    again = client.post(
        f"{PORTAL}/signup/", {"org_number": "937620187", "full_name": "Per", "email": "per@pavakt.no"}, **EN
    )
    assert again.status_code == 400
    assert again.context["form"].errors["org_number"] == [
        "PÅVAKT AS has already had a trial; one trial per organisation."
    ]
    with tenant_context(digireq["tenant"]):
        assert (Contract.objects.count(), PortalUser.objects.count()) == (1, 1)


@pytest.mark.parametrize(
    ("org_number", "why"),
    [
        ("949762726", "bankrupt (konkurs)"),
        ("918251081", "deleted from Enhetsregisteret"),
        ("971176393", "being wound up"),
    ],
)
def test_signup_refuses_bankrupt_dissolved_or_deleted_organisations_saying_why(
    client, digireq, brreg_fake, org_number, why
):
    response = client.post(f"{PORTAL}/signup/", {"org_number": org_number, "full_name": "X", "email": "x@x.no"}, **EN)
    assert response.status_code == 400
    message = response.context["form"].errors["org_number"][0]
    assert why in message and "a trial cannot be started" in message
    with tenant_context(digireq["tenant"]):
        assert (Customer.objects.count(), Contract.objects.count(), PortalUser.objects.count()) == (0, 0, 0)


def test_signup_with_a_bad_org_number_is_400(client, digireq):
    response = client.post(f"{PORTAL}/signup/", {"org_number": "937620188", "full_name": "", "email": "nope"}, **EN)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"org_number", "full_name", "email"}


# ---------------------------------------------------------------- ordering (the Spekter order form)


def order_data(**overrides):
    data = {
        "owner_name": "Stavanger kommune",
        "owner_org_number": "944387234",
        "bill_to": "owner",
        "address_line": "Postboks 8001",
        "postal_code": "4068",
        "city": "Stavanger",
        "invoice_reference": "Oppvekst 4410",
        "orderer_name": "Olav Innkjøp",
        "orderer_title": "Innkjøpssjef",
        "orderer_email": "olav@stavanger.kommune.no",
        "school-TOTAL_FORMS": "2",
        "school-INITIAL_FORMS": "0",
        "school-MIN_NUM_FORMS": "1",
        "school-MAX_NUM_FORMS": "30",
        "school-0-name": "Hundvåg skole",
        "school-0-org_number": "924195932",
        "school-0-pupils": "240",
        "school-0-contact_name": "Rita Rektor",
        "school-0-contact_title": "Rektor",
        "school-1-name": "Buøy skole",
        "school-1-org_number": "934605756",
        "school-1-pupils": "95",
        "school-1-contact_name": "Ivar Inspektør",
        "school-1-contact_title": "Inspektør",
    }
    data.update(overrides)
    return data


@pytest.fixture
def spekter_vendor(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("spekter")
    return {"tenant": tenant_a, "plan": plan}


def test_an_anonymous_order_for_two_schools_creates_customers_contacts_a_login_and_a_draft(
    client, spekter_vendor, brreg_fake
):
    assert client.get(f"{PORTAL}/order/").status_code == 200
    with at(d(2026, 3, 1)):
        response = client.post(f"{PORTAL}/order/", order_data())
    assert response.status_code == 302, response.context and response.context["form"].errors
    with tenant_context(spekter_vendor["tenant"]):
        kommune = Customer.objects.get(org_number="944387234")
        schools = list(Customer.objects.filter(kind=CustomerKind.SCHOOL).order_by("name"))
        assert (kommune.kind, kommune.invoice_reference, kommune.verification) == (
            "kommune",
            "Oppvekst 4410",
            "verified",
        )
        assert [(s.name, s.parent_id) for s in schools] == [("Buøy skole", kommune.pk), ("Hundvåg skole", kommune.pk)]
        contract = Contract.objects.get()
        assert (contract.customer, contract.state, contract.dpa_required) == (kommune, lifecycle.DRAFT, True)
        assert contract.priced_on.get().request["schools"] == [
            {"name": "Hundvåg skole", "customer": schools[1].pk, "pupils": 240},
            {"name": "Buøy skole", "customer": schools[0].pk, "pupils": 95},
        ]
        contacts = sorted(Contact.objects.values_list("customer__name", "name", "title", "role"))
        assert contacts == [
            ("Buøy skole", "Ivar Inspektør", "Inspektør", "school_contact"),
            ("Hundvåg skole", "Rita Rektor", "Rektor", "school_contact"),
            ("Stavanger kommune", "Olav Innkjøp", "Innkjøpssjef", "orderer"),
        ]
        assert PortalUser.objects.get().customer == kommune
    assert mail.outbox[0].to == ["olav@stavanger.kommune.no"]


def test_an_order_with_bad_input_is_400_with_messages_per_field_and_saves_nothing(client, spekter_vendor, brreg_fake):
    data = order_data(**{"school-1-org_number": "924195932", "postal_code": "40", "orderer_email": "x"})
    response = client.post(f"{PORTAL}/order/", data, **EN)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"postal_code", "orderer_email"}
    assert response.context["formset"].non_form_errors() == ["The same school is listed twice."]
    # A school that Brønnøysund lists under another owner, and an owner that is not a kommune.
    data = order_data(**{"school-1-org_number": "919391952", "owner_org_number": "937620187", "owner_name": "Påvakt"})
    response = client.post(f"{PORTAL}/order/", data, **EN)
    assert response.status_code == 400
    assert response.context["form"].errors["owner_org_number"] == [
        "PÅVAKT AS is not a kommune or fylkeskommune according to Brønnøysund."
    ]
    assert response.context["formset"].forms[1].errors["org_number"] == [
        "Brønnøysund lists GANDDAL SKOLE under 944875530, not under 937620187."
    ]
    with tenant_context(spekter_vendor["tenant"]):
        assert (Customer.objects.count(), Contract.objects.count(), Contact.objects.count()) == (0, 0, 0)


def test_add_another_school_adds_a_row_without_saving(client, spekter_vendor):
    response = client.post(f"{PORTAL}/order/", {**order_data(), "action": "add_school"})
    assert response.status_code == 200
    assert len(response.context["formset"].forms) == 3


def test_a_logged_in_user_orders_for_their_own_kommune_only(client, spekter_vendor, brreg_fake):
    with tenant_context(spekter_vendor["tenant"]):
        other = CustomerFactory(name="Sandnes kommune", kind=CustomerKind.KOMMUNE, org_number="944875530")
    portal_login(client, spekter_vendor["tenant"], other, "post@sandnes.kommune.no")
    response = client.post(f"{PORTAL}/order/", order_data(), **EN)
    assert response.status_code == 400
    assert "You are logged in for Sandnes kommune" in response.context["form"].errors["owner_org_number"][0]
    with tenant_context(spekter_vendor["tenant"]):
        assert Contract.objects.count() == 0
