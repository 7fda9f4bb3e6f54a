"""Contract services against PostgreSQL: the acceptance cases, the DPA gate, notice, renewal, trials,
amendments, and bad input that changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import translation

from contracts import jobs, lifecycle, services
from contracts.models import Contract, ContractEvent, Message, PricedOn, TerminationNotice
from tenants.models import AuditEvent, Contact
from tenants.tenancy import tenant_context
from tests.contracts.conftest import ACTOR, SHA, signed_at, spekter_priced_on, verified_company
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
d = dt.date


CREATED_ON = d(2026, 3, 1)
RECEIVED_ON = d(2026, 3, 15)


def spekter_contract(ctx, school_index=None, on=CREATED_ON):
    customer = ctx["kommune"] if school_index is None else ctx["schools"][school_index]
    return services.contract_create(
        actor=ACTOR,
        customer=customer,
        plan=ctx["plan"],
        interval="year",
        on=on,
        priced_on=spekter_priced_on(ctx["schools"]),
        terms_data=services.TERM_PRESETS["spekter"],
    )


def sign(contract, received=RECEIVED_ON):
    return services.contract_sign(
        actor=ACTOR,
        contract=contract,
        name="Kari Nordmann",
        title="Rektor",
        signed_at=signed_at(min(received, d(2026, 3, 14))),
        received_on=received,
        document_sha256=SHA,
    )


def test_spekter_term_from_receipt_waits_for_the_dpa_then_starts(spekter):
    with tenant_context(spekter["tenant"]):
        contract = spekter_contract(spekter)
        assert contract.reference == "AVT-2026-0001"
        contract = sign(services.contract_send(actor=ACTOR, contract=contract, on=d(2026, 3, 2)))
        assert contract.state == lifecycle.AWAITING_DPA
        assert contract.has_access is False
        services.dpa_sign(actor=ACTOR, controller=spekter["kommune"], signed_on=d(2026, 3, 20), signer_name="Ordfører")
        contract.refresh_from_db()
        assert contract.state == lifecycle.ACTIVE
        assert (contract.start_date, contract.term_end, contract.notice_deadline) == (
            d(2026, 3, 15),
            d(2027, 3, 15),
            d(2026, 12, 14),
        )
        assert [(code, day) for code, day in services.onboarding_checklist(contract)] == [
            ("contract_signed", d(2026, 3, 15)),
            ("dpa_signed", d(2026, 3, 20)),
            ("feide_activated", None),
        ]


def test_a_dpa_on_file_covers_every_school_of_the_owner(spekter):
    with tenant_context(spekter["tenant"]):
        services.dpa_sign(actor=ACTOR, controller=spekter["kommune"], signed_on=d(2026, 1, 10), signer_name="X")
        contract = sign(spekter_contract(spekter, school_index=1))
        assert contract.state == lifecycle.ACTIVE


def test_a_dpa_signed_by_a_school_is_refused(spekter):
    with tenant_context(spekter["tenant"]), translation.override("en"):
        with pytest.raises(ValidationError) as err:
            services.dpa_sign(
                actor=ACTOR, controller=spekter["schools"][0], signed_on=d(2026, 3, 20), signer_name="Rektor"
            )
        assert "signed by the school owner" in err.value.message_dict["controller"][0]
        assert "Stavanger kommune" in err.value.message_dict["controller"][0]


def test_signing_twice_is_refused_and_changes_nothing(spekter):
    with tenant_context(spekter["tenant"]):
        contract = sign(spekter_contract(spekter))
        events = ContractEvent.objects.count()
        with pytest.raises(ValidationError):
            sign(contract, received=d(2026, 4, 1))
        contract.refresh_from_db()
        assert contract.received_on == d(2026, 3, 15)
        assert ContractEvent.objects.count() == events


def active_spekter(ctx):
    services.dpa_sign(actor=ACTOR, controller=ctx["kommune"], signed_on=d(2026, 1, 1), signer_name="X")
    return sign(spekter_contract(ctx))


def test_late_notice_says_when_it_takes_effect_and_ends_the_next_term(spekter):
    with tenant_context(spekter["tenant"]):
        contract = active_spekter(spekter)
        preview = services.notice_preview(contract, d(2026, 12, 20))
        assert (preview.late, preview.ends_on) == (True, d(2028, 3, 15))
        notice = services.notice_give(actor=ACTOR, contract=contract, given_by="customer", received_on=d(2026, 12, 20))
        assert (notice.late, notice.ends_on, notice.deadline) == (True, d(2028, 3, 15), d(2026, 12, 14))
        contract.refresh_from_db()
        assert contract.state == lifecycle.NOTICE_GIVEN
        # The renewal job does not end it early; the end job ends it on the effective date.
        assert jobs.run_all(d(2027, 3, 15))["end"] == 0
        assert jobs.run_all(d(2028, 3, 15))["end"] == 1
        contract.refresh_from_db()
        assert (contract.state, contract.ended_on) == (lifecycle.ENDED, d(2028, 3, 15))


def test_notice_on_an_ended_contract_is_refused(spekter):
    with tenant_context(spekter["tenant"]), translation.override("en"):
        contract = active_spekter(spekter)
        services.notice_give(actor=ACTOR, contract=contract, given_by="vendor", received_on=d(2026, 6, 1))
        jobs.end_due(d(2027, 3, 15))
        before = TerminationNotice.objects.count()
        with pytest.raises(ValidationError) as err:
            services.notice_give(actor=ACTOR, contract=contract, given_by="customer", received_on=d(2027, 4, 1))
        assert err.value.message_dict["state"] == [
            "A contract that is 'ended' cannot give notice; nothing more can happen to it."
        ]
        assert TerminationNotice.objects.count() == before


def test_renewal_job_is_idempotent_and_keeps_the_day(spekter):
    with tenant_context(spekter["tenant"]):
        contract = active_spekter(spekter)
        assert jobs.renew_due(d(2027, 3, 15)) == 1
        assert jobs.renew_due(d(2027, 3, 15)) == 0
        contract.refresh_from_db()
        assert (contract.term_end, contract.notice_deadline, contract.term_index) == (
            d(2028, 3, 15),
            d(2027, 12, 14),
            1,
        )
        assert Message.objects.filter(kind="renewed").count() == 1


def test_notice_reminder_goes_once_to_customer_and_staff(spekter):
    with tenant_context(spekter["tenant"]):
        spekter["tenant"].email = "salg@vendor.example"
        spekter["tenant"].save()
        ContactFactory(customer=spekter["kommune"], role="orderer", email="bestiller@kommune.example")
        active_spekter(spekter)
        assert jobs.notice_reminders(d(2026, 11, 14)) == 1
        assert jobs.notice_reminders(d(2026, 11, 15)) == 0
        message = Message.objects.get(kind="notice_reminder")
        assert "bestiller@kommune.example" in message.recipients and "salg@vendor.example" in message.recipients
        assert "14. desember 2026" in message.body or "2026-12-14" in message.body or "14.12.2026" in message.body


def test_piscator_start_acceptance_and_ordinary_operation(tenant_a):
    from tests.contracts.conftest import plan_for
    from tests.factories import CustomerFactory

    with tenant_context(tenant_a):
        plan = plan_for("piscator")
        contract = services.contract_create(
            actor=ACTOR,
            customer=CustomerFactory(),
            plan=plan,
            interval="quarter",
            priced_on={},
            terms_data=services.TERM_PRESETS["piscator"],
            on=d(2026, 2, 1),
        )
        contract = services.contract_sign(
            actor=ACTOR,
            contract=contract,
            name="A",
            title="CEO",
            signed_at=signed_at(d(2026, 2, 2)),
            received_on=d(2026, 2, 2),
            document_sha256=SHA,
        )
        assert (contract.state, contract.start_date, contract.acceptance_ends_on, contract.ordinary_from) == (
            lifecycle.ACCEPTANCE,
            d(2026, 2, 16),
            d(2026, 3, 2),
            d(2026, 3, 2),
        )
        assert (contract.term_end, contract.notice_deadline) == (d(2027, 2, 16), d(2026, 8, 15))
        assert jobs.accept_due(d(2026, 3, 1)) == 0
        assert jobs.accept_due(d(2026, 3, 2)) == 1
        contract.refresh_from_db()
        assert contract.state == lifecycle.ACTIVE


# ---------------------------------------------------------------- trials


def test_trial_never_confirmed_is_paused_notified_and_deleted(digireq, django_capture_on_commit_callbacks):
    with tenant_context(digireq["tenant"]), django_capture_on_commit_callbacks(execute=True):
        customer = verified_company()
        ContactFactory(customer=customer, role="orderer")
        contract = services.trial_start(actor=ACTOR, customer=customer, plan=digireq["plan"], on=d(2026, 1, 5))
        assert contract.trial_ends_on == d(2026, 1, 19)
        assert jobs.run_all(d(2026, 1, 18))["trials_pause"] == 0
        result = jobs.run_all(d(2026, 1, 19))
        assert (result["trials_pause"], result["pause_notices"]) == (1, 1)
        for day, kind in (
            (d(2026, 2, 18), "deletion_60_days_left"),
            (d(2026, 3, 20), "deletion_30_days_left"),
            (d(2026, 4, 12), "deletion_7_days_left"),
        ):
            assert jobs.run_all(day - dt.timedelta(days=1))["pause_notices"] == 0
            assert jobs.run_all(day)["pause_notices"] == 1
            assert Message.objects.filter(kind=kind).get().on == day
        assert jobs.run_all(d(2026, 4, 18))["paused_delete"] == 0
        assert jobs.run_all(d(2026, 4, 19))["paused_delete"] == 1
        contract.refresh_from_db()
        assert (contract.state, contract.deleted_on) == (lifecycle.DELETED, d(2026, 4, 19))
        assert Contact.objects.filter(customer=customer).count() == 0
        assert PricedOn.objects.filter(contract=contract).count() == 0
        assert AuditEvent.objects.filter(action="contract.delete_data").count() == 1
        assert jobs.run_all(d(2026, 4, 20)) == dict.fromkeys(jobs.ORDER, 0)
    # Each notice was e-mailed once its job's transaction committed: pause, 60, 30, 7 days left, deletion.
    assert len(mail.outbox) == 5
    assert all(customer.invoice_email in m.to for m in mail.outbox)


def test_three_extensions_then_a_fourth_refused(digireq):
    with tenant_context(digireq["tenant"]):
        contract = services.trial_start(
            actor=ACTOR, customer=verified_company(), plan=digireq["plan"], on=d(2026, 1, 5)
        )
        for _ in range(3):
            contract = services.trial_extend(actor=ACTOR, contract=contract, on=d(2026, 1, 10))
        assert contract.trial_ends_on == d(2026, 2, 9)
        with pytest.raises(ValidationError):
            services.trial_extend(actor=ACTOR, contract=contract, on=d(2026, 1, 11))
        contract.refresh_from_db()
        assert contract.trial_extensions == 3


@pytest.mark.parametrize("flag", ["bankrupt", "under_liquidation", "deleted"])
def test_a_trial_is_refused_for_a_bankrupt_dissolved_or_deleted_organisation(digireq, flag):
    with tenant_context(digireq["tenant"]), translation.override("en"):
        with pytest.raises(ValidationError) as err:
            services.trial_start(
                actor=ACTOR, customer=verified_company(**{flag: True}), plan=digireq["plan"], on=d(2026, 1, 5)
            )
        assert "cannot be started" in err.value.message_dict["org_number"][0]
        assert Contract.objects.count() == 0


def test_one_trial_per_organisation(digireq):
    with tenant_context(digireq["tenant"]):
        customer = verified_company()
        services.trial_start(actor=ACTOR, customer=customer, plan=digireq["plan"], on=d(2026, 1, 5))
        with pytest.raises(ValidationError):
            services.trial_start(actor=ACTOR, customer=customer, plan=digireq["plan"], on=d(2026, 3, 5))
        assert Contract.objects.count() == 1


def test_converted_annual_and_monthly_cancellation(digireq):
    with tenant_context(digireq["tenant"]):
        annual = services.trial_start(
            actor=ACTOR, customer=verified_company("A AS"), plan=digireq["plan"], on=d(2026, 1, 5)
        )
        annual = services.trial_convert(
            actor=ACTOR,
            contract=annual,
            interval="year",
            priced_on={"quantities": {"active_users": 30}},
            on=d(2026, 1, 19),
        )
        assert (annual.state, annual.term_end, annual.notice_deadline) == (
            lifecycle.ACTIVE,
            d(2027, 1, 19),
            d(2026, 12, 19),
        )
        assert annual.priced_on.get().price_effect["net"] == "22950.00"
        monthly = services.trial_start(
            actor=ACTOR, customer=verified_company("M AS"), plan=digireq["plan"], on=d(2026, 1, 5)
        )
        monthly = services.trial_convert(
            actor=ACTOR,
            contract=monthly,
            interval="month",
            priced_on={"quantities": {"active_users": 30}},
            on=d(2026, 1, 19),
        )
        notice = services.notice_give(actor=ACTOR, contract=monthly, given_by="customer", received_on=d(2026, 2, 3))
        assert (notice.late, notice.ends_on - dt.timedelta(days=1)) == (False, d(2026, 2, 18))


# ---------------------------------------------------------------- amendments


def test_amendment_before_the_start_is_refused(spekter):
    with tenant_context(spekter["tenant"]):
        contract = active_spekter(spekter)
        with pytest.raises(ValidationError) as err:
            services.amendment_create(
                actor=ACTOR,
                contract=contract,
                effective_from=d(2026, 3, 1),
                changes={"schools": []},
                reason="x",
                on=d(2026, 3, 1),
            )
        assert "effective_from" in err.value.message_dict
        assert contract.priced_on.count() == 1


def test_amendment_keeps_history_and_prices_the_change(spekter):
    with tenant_context(spekter["tenant"]):
        contract = active_spekter(spekter)
        schools = spekter_priced_on(spekter["schools"])["schools"]
        schools[0]["pupils"] = 150  # 87 → 150: band 1–100 → 101–200
        row = services.amendment_create(
            actor=ACTOR,
            contract=contract,
            effective_from=d(2026, 8, 1),
            changes={"schools": schools},
            reason="Elevtall",
            on=d(2026, 8, 1),
        )
        assert Decimal(row.price_effect["delta_net"]) == Decimal("423.00")  # 3 315 − 2 892
        assert contract.priced_on.count() == 2


def test_standard_norge_addition_is_priced_for_the_remaining_quarters(tenant_a):
    from catalog import services as catalog_services
    from tests.contracts.conftest import plan_for
    from tests.factories import CustomerFactory

    with tenant_context(tenant_a):
        plan = plan_for("standard-norge")
        for code in ("1", "2"):
            catalog_services.category_save(actor=ACTOR, data={"code": code, "name_nb": code, "name_en": code})
        rows = "\n".join(f"NS {i},T,1,1200" for i in range(30))
        catalog_services.standards_import_csv(actor=ACTOR, text="code,title,category,price\n" + rows, year=2026)
        held = [{"code": f"NS {i}"} for i in range(25)]
        contract = services.contract_create(
            actor=ACTOR,
            customer=CustomerFactory(),
            plan=plan,
            interval="year",
            on=d(2026, 1, 1),
            priced_on={"standards": held, "concurrent_users": 7},
            terms_data=services.TERM_PRESETS["standard-norge"],
        )
        sign(contract, received=d(2026, 1, 1))
        added = held + [{"code": f"NS {i}"} for i in range(25, 30)]
        row = services.amendment_create(
            actor=ACTOR,
            contract=contract,
            effective_from=d(2026, 8, 10),
            changes={"standards": added},
            reason="5 nye",
            on=d(2026, 8, 10),
        )
        # 5 × 1 200 = 6 000 × (1 − 0.40: 30 standards after) × 4 × 0.45 = 6 480 per year; Q3–Q4 → 2/4 = 3 240
        assert row.price_effect["addition"]["total"] == "3240.00"
