"""Payment default (issue 11, item 4): Piscator's notice, suspension and material breach (RULES §4), DigiReq's
pause at 45 days past due with reactivation on payment and the 90-day deletion timeline (RULES §5), against
PostgreSQL: receivables.default, the payment hook in billing.services.payment_register, the contract jobs and
the billing run's paused-period rule."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from billing import bank, run, services
from billing.models import Invoice, InvoiceKind, InvoiceStatus
from billing.numbering import kid_for
from contracts import jobs, lifecycle
from contracts.entitlements import entitlements_for
from contracts.models import Contract, ContractEvent, Message
from fakes.bank import Credit, camt054
from receivables import default
from receivables.models import CollectionPolicy, DefaultCase, DefaultStatus, InvoiceHold, SuspendConfirm
from receivables.presets import PRESETS
from tenants.audit import Actor
from tenants.tenancy import tenant_context
from tests.billing.test_services import digireq_contract
from tests.contracts.conftest import plan_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
d = dt.date
D = Decimal
ACTOR = Actor.system("test")
_refs = itertools.count(1)
_numbers = itertools.count(30001)


def policy(plan, preset: str, **overrides) -> CollectionPolicy:
    return CollectionPolicy.objects.create(plan=plan, **{**PRESETS[preset], **overrides})


def contract_for(plan, name="Rederi AS", state=lifecycle.ACTIVE) -> Contract:
    return Contract.objects.create(
        reference=f"D-{next(_refs):05d}",
        customer=CustomerFactory(name=name),
        product=plan.product,
        plan=plan,
        state=state,
        interval="month",
        start_date=d(2025, 1, 1),
        renewal_term_months=12,
        term_end=d(2027, 1, 1),
    )


def invoice_for(contract, due: dt.date, total="10000.00", *, purpose="", status=InvoiceStatus.SENT) -> Invoice:
    number = next(_numbers)
    return Invoice.objects.create(
        customer=contract.customer,
        contract=contract,
        kind=InvoiceKind.INVOICE,
        status=status,
        series="invoice",
        number=number,
        kid=kid_for(number),
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        period_start=None if purpose else due - dt.timedelta(days=30),
        supplementary=bool(purpose),
        total=D(total),
        net=D(total),
        purpose=purpose,
    )


def messages(contract, kind=None) -> list[Message]:
    qs = Message.objects.filter(contract=contract).order_by("on", "id")
    return list(qs.filter(kind=kind) if kind else qs)


def state_of(contract) -> str:
    return Contract.objects.get(pk=contract.pk).state


def case_of(contract) -> DefaultCase:
    return DefaultCase.objects.get(contract=contract)


def pay(invoice, amount=None, on=None):
    invoice = Invoice.objects.get(pk=invoice.pk)
    return services.payment_register(
        actor=ACTOR, invoice=invoice, amount=amount if amount is not None else invoice.outstanding, paid_on=on
    )


@pytest.fixture
def piscator(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("piscator")
        yield {"plan": plan, "policy": policy(plan, "piscator")}


@pytest.fixture
def digireq(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        yield {"plan": plan, "policy": policy(plan, "digireq")}


# ---------------------------------------------------------------- Piscator: notice, stop, breach


def test_days_past_due_is_on_minus_the_due_date(tenant_a):
    with tenant_context(tenant_a):
        invoice = Invoice(due_date=d(2026, 1, 1))
    assert default.days_past_due(invoice, d(2026, 1, 1)) == 0
    assert default.days_past_due(invoice, d(2026, 1, 2)) == 1
    assert default.days_past_due(invoice, d(2026, 2, 15)) == 45


def test_piscator_notice_at_14_days_with_the_stop_date_14_business_days_later_across_easter(piscator):
    contract = contract_for(piscator["plan"])
    invoice = invoice_for(contract, due=d(2026, 3, 12))
    assert default.default_run(on=d(2026, 3, 25)).notices == []  # 13 days past due
    result = default.default_run(on=d(2026, 3, 26))  # 14 days past due, a Thursday
    assert result.notices == [contract.reference]
    case = case_of(contract)
    assert (case.status, case.invoice, case.opened_on, case.notice_sent_on) == (
        DefaultStatus.NOTICE,
        invoice,
        d(2026, 3, 26),
        d(2026, 3, 26),
    )
    assert case.past_due_since == d(2026, 3, 13)
    # 14 business days from 26.03.2026: skærtorsdag 2.4, langfredag 3.4 and 2. påskedag 6.4 do not count
    # (without them it would be 15.04).
    assert case.stop_on == d(2026, 4, 20)
    (notice,) = messages(contract, "suspension_notice")
    assert "20.04.2026" in notice.body and "20.04.2026" in notice.subject
    # The amount owed with interest so far: 10 000.00 × 12 % × 14 / 365 = 46.03.
    body = notice.body.replace("\xa0", " ")  # nb: 10 000,00
    assert "NOK 10 000,00" in body and "NOK 46,03" in body and "NOK 10 046,03" in body
    assert state_of(contract) == lifecycle.ACTIVE  # service runs until the stop date
    assert entitlements_for(contract.customer, today=d(2026, 3, 27)).access is True


def test_piscator_stop_across_christmas(piscator):
    contract = contract_for(piscator["plan"])
    invoice_for(contract, due=d(2025, 12, 5))
    default.default_run(on=d(2025, 12, 19))  # a Friday
    # 22, 23, 24, 29, 30, 31 December, 2, 5, 6, 7, 8, 9, 12, 13 January: 1. and 2. juledag and 1. nyttårsdag do
    # not count (24 December is an ordinary business day).
    assert case_of(contract).stop_on == d(2026, 1, 13)


def test_piscator_suspends_automatically_on_the_stop_date_and_a_payment_resumes_at_once(piscator):
    contract = contract_for(piscator["plan"])
    invoice = invoice_for(contract, due=d(2026, 3, 12))
    default.default_run(on=d(2026, 3, 26))
    assert default.default_run(on=d(2026, 4, 17)).suspended == []
    result = default.default_run(on=d(2026, 4, 20))
    assert result.suspended == [contract.reference]
    assert state_of(contract) == lifecycle.SUSPENDED
    case = case_of(contract)
    assert (case.status, case.suspended_on) == (DefaultStatus.SUSPENDED, d(2026, 4, 20))
    assert len(messages(contract, "suspended")) == 1
    got = entitlements_for(contract.customer, today=d(2026, 4, 21))
    assert (got.access, got.status) == (False, "suspended")
    assert got.reason.en == f"Suspended: invoice {invoice.number} unpaid since 2026-03-12"
    ContractEvent.objects.get(contract=contract, event="suspend", on=d(2026, 4, 20))

    pay(invoice, on=d(2026, 4, 22))
    assert state_of(contract) == lifecycle.ACTIVE
    case.refresh_from_db()
    assert (case.status, case.closed_on, case.closed_reason) == (DefaultStatus.CLOSED, d(2026, 4, 22), "paid")
    assert entitlements_for(contract.customer, today=d(2026, 4, 22)).access is True
    (resumed,) = messages(contract, "resumed")
    assert "22.04.2026" in resumed.body
    assert default.default_run(on=d(2026, 4, 23)).changed == 0


def test_piscator_staff_confirm_the_suspension(piscator):
    CollectionPolicy.objects.filter(pk=piscator["policy"].pk).update(suspend_confirm=SuspendConfirm.STAFF)
    contract = contract_for(piscator["plan"])
    invoice_for(contract, due=d(2026, 3, 12))
    default.default_run(on=d(2026, 3, 26))
    case = case_of(contract)
    with pytest.raises(ValidationError):
        default.default_case_suspend(actor=ACTOR, case=case, on=d(2026, 4, 17))  # before the date in the notice
    assert default.default_run(on=d(2026, 4, 20)).awaiting == [contract.reference]
    case.refresh_from_db()
    assert case.status == DefaultStatus.AWAITING_CONFIRMATION
    assert state_of(contract) == lifecycle.ACTIVE  # nothing happens without staff
    assert default.default_run(on=d(2026, 4, 21)).changed == 0
    default.default_case_suspend(actor=ACTOR, case=case, on=d(2026, 4, 21))
    case.refresh_from_db()
    assert (case.status, case.suspended_on) == (DefaultStatus.SUSPENDED, d(2026, 4, 21))
    assert state_of(contract) == lifecycle.SUSPENDED
    assert len(messages(contract, "suspended")) == 1


def test_material_breach_is_flagged_once_at_31_days_past_due_not_30(piscator):
    contract = contract_for(piscator["plan"])
    invoice_for(contract, due=d(2026, 3, 2))
    default.default_run(on=d(2026, 3, 16))
    assert default.default_run(on=d(2026, 4, 1)).material_breaches == []  # 30 days past due
    assert case_of(contract).material_breach_on is None
    assert default.default_run(on=d(2026, 4, 2)).material_breaches == [contract.reference]  # 31 days
    assert case_of(contract).material_breach_on == d(2026, 4, 2)
    (flag,) = messages(contract, "material_breach")
    assert contract.customer.invoice_email in flag.recipients
    assert "utover 30 dager" in flag.subject and "02.04.2026" in flag.body  # a Norwegian customer: Bokmål
    assert default.default_run(on=d(2026, 4, 3)).material_breaches == []
    assert len(messages(contract, "material_breach")) == 1


def test_suspension_lasts_until_the_interest_invoice_is_paid_too(piscator):
    contract = contract_for(piscator["plan"])
    invoice = invoice_for(contract, due=d(2026, 3, 12))
    default.default_run(on=d(2026, 3, 26))
    default.default_run(on=d(2026, 4, 20))
    interest = invoice_for(contract, due=d(2026, 5, 6), total="150.00", purpose="interest")
    pay(invoice, on=d(2026, 4, 22))
    assert state_of(contract) == lifecycle.SUSPENDED  # "until paid in full incl. interest"
    pay(interest, on=d(2026, 4, 24))
    assert state_of(contract) == lifecycle.ACTIVE
    assert case_of(contract).closed_reason == "paid"


def test_an_unpaid_interest_invoice_alone_opens_no_case(piscator):
    contract = contract_for(piscator["plan"])
    invoice_for(contract, due=d(2026, 1, 5), total="150.00", purpose="interest")
    assert default.default_run(on=d(2026, 3, 1)).notices == []
    assert not DefaultCase.objects.exists()


def test_staff_close_a_case_for_a_payment_plan_and_the_same_invoices_open_no_new_one(piscator):
    contract = contract_for(piscator["plan"])
    invoice_for(contract, due=d(2026, 3, 12))
    default.default_run(on=d(2026, 3, 26))
    default.default_run(on=d(2026, 4, 20))
    case = case_of(contract)
    with pytest.raises(ValidationError):
        default.default_case_close(actor=ACTOR, case=case, on=d(2026, 4, 21), reason=" ")
    default.default_case_close(actor=ACTOR, case=case, on=d(2026, 4, 21), reason="Avtalt nedbetalingsplan")
    assert state_of(contract) == lifecycle.ACTIVE
    assert default.default_run(on=d(2026, 4, 22)).notices == []
    later = invoice_for(contract, due=d(2026, 5, 1))
    result = default.default_run(on=d(2026, 5, 15))
    assert result.notices == [contract.reference]
    assert DefaultCase.objects.exclude(status="closed").get().invoice == later


# ---------------------------------------------------------------- DigiReq: pause at 45 days


def test_digireq_pauses_at_exactly_45_days_past_due_not_44(digireq):
    contract = contract_for(digireq["plan"], "Kunde AS")
    invoice = invoice_for(contract, due=d(2026, 3, 1), total="2812.50")
    result = default.default_run(on=d(2026, 4, 14))  # 44 days past due
    assert (result.paused, state_of(contract)) == ([], lifecycle.ACTIVE)
    assert entitlements_for(contract.customer, today=d(2026, 4, 14)).access is True
    result = default.default_run(on=d(2026, 4, 15))  # 45 days
    assert result.paused == [contract.reference]
    contract.refresh_from_db()
    assert (contract.state, contract.paused_on, contract.pause_reason, contract.deletion_due_on) == (
        lifecycle.PAUSED,
        d(2026, 4, 15),
        "unpaid",
        d(2026, 7, 14),
    )
    case = case_of(contract)
    assert (case.action, case.status, case.paused_on, case.invoice) == ("pause", "paused", d(2026, 4, 15), invoice)
    (notice,) = messages(contract, "paused_unpaid")
    assert "14.07.2026" in notice.body and str(invoice.number) in notice.body
    got = entitlements_for(contract.customer, today=d(2026, 4, 15))
    assert (got.access, got.status, got.until) == (False, "paused", d(2026, 7, 14))
    assert got.reason.en == (f"Paused: invoice {invoice.number} unpaid since 2026-03-01; data deleted on 2026-07-14")


def test_a_partial_payment_does_not_lift_the_pause_and_the_rest_reactivates_at_once(digireq):
    contract = contract_for(digireq["plan"], "Kunde AS")
    invoice = invoice_for(contract, due=d(2026, 3, 1), total="2812.50")
    default.default_run(on=d(2026, 4, 15))
    pay(invoice, amount=D("1000.00"), on=d(2026, 4, 20))
    assert state_of(contract) == lifecycle.PAUSED
    assert case_of(contract).status == DefaultStatus.PAUSED
    pay(invoice, on=d(2026, 4, 22))
    contract.refresh_from_db()
    assert (contract.state, contract.paused_on, contract.pause_reason, contract.deletion_due_on) == (
        lifecycle.ACTIVE,
        None,
        "",
        None,
    )
    assert (case_of(contract).status, case_of(contract).closed_reason) == ("closed", "paid")
    ContractEvent.objects.get(contract=contract, event="reactivate", on=d(2026, 4, 22))
    got = entitlements_for(contract.customer, today=d(2026, 4, 22))
    assert (got.access, got.status) == (True, "active")
    assert len(messages(contract, "reactivated")) == 1
    assert default.default_run(on=d(2026, 4, 22)).changed == 0  # nothing pauses it again


def test_a_bank_file_payment_reactivates_a_paused_account(digireq):
    contract = contract_for(digireq["plan"], "Kunde AS")
    invoice = invoice_for(contract, due=d(2026, 3, 1), total="2812.50")
    default.default_run(on=d(2026, 4, 15))
    data = camt054(
        account="86011117947",
        owner="Alpha AS",
        day=d(2026, 4, 21),
        credits=[Credit(D("2812.50"), invoice.kid, d(2026, 4, 21), "Kunde AS", "BANKREF-1")],
    )
    imported = bank.bank_file_import(actor=ACTOR, data=data, file_name="camt.xml", on=d(2026, 4, 21))
    assert imported.bank_import.payments == 1
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
    assert state_of(contract) == lifecycle.ACTIVE
    assert entitlements_for(contract.customer, today=d(2026, 4, 21)).access is True
    assert case_of(contract).closed_on == d(2026, 4, 21)


def test_the_deletion_timeline_is_kept_when_nothing_is_paid(digireq):
    contract = contract_for(digireq["plan"], "Kunde AS")
    invoice_for(contract, due=d(2026, 3, 1), total="2812.50")
    paused = d(2026, 4, 15)
    default.default_run(on=paused)
    sent = {}
    day = paused
    while day <= paused + dt.timedelta(days=91):
        default.default_run(on=day)
        jobs.pause_notices(day)
        jobs.delete_due(day)
        day += dt.timedelta(days=1)
    for message in messages(contract):
        sent.setdefault(message.kind, []).append(message.on)
    assert "trial_paused" not in sent
    assert sent["paused_unpaid"] == [paused]
    assert sent["deletion_60_days_left"] == [paused + dt.timedelta(days=30)]
    assert sent["deletion_30_days_left"] == [paused + dt.timedelta(days=60)]
    assert sent["deletion_7_days_left"] == [paused + dt.timedelta(days=83)]
    assert sent["data_deleted"] == [d(2026, 7, 14)]
    contract.refresh_from_db()
    assert (contract.state, contract.deleted_on) == (lifecycle.DELETED, d(2026, 7, 14))
    assert (case_of(contract).status, case_of(contract).closed_reason) == ("closed", "deleted")


def test_the_pause_job_sends_the_unpaid_notice_once_if_the_run_did_not(digireq):
    contract = contract_for(digireq["plan"], "Kunde AS")
    invoice_for(contract, due=d(2026, 3, 1), total="2812.50")
    default.default_run(on=d(2026, 4, 15))
    Message.objects.filter(contract=contract).delete()  # as if the run's notice had been lost
    assert jobs.pause_notices(d(2026, 4, 16)) == 1
    assert jobs.pause_notices(d(2026, 4, 16)) == 0
    assert [m.kind for m in messages(contract)] == ["paused_unpaid"]


def test_a_hold_prevents_the_pause(digireq):
    contract = contract_for(digireq["plan"], "Kunde AS")
    invoice = invoice_for(contract, due=d(2026, 3, 1), total="2812.50")
    hold = InvoiceHold.objects.create(invoice=invoice, reason="Bestridt", held_on=d(2026, 4, 1), held_by="test")
    assert default.default_run(on=d(2026, 4, 15)).paused == []
    assert state_of(contract) == lifecycle.ACTIVE
    assert default.at_risk(d(2026, 4, 15)) == []
    InvoiceHold.objects.filter(pk=hold.pk).update(released_on=d(2026, 4, 20))
    assert default.default_run(on=d(2026, 4, 20)).paused == [contract.reference]


def test_the_run_is_idempotent_and_the_dry_run_writes_nothing(digireq, piscator):
    paused = contract_for(digireq["plan"], "Kunde AS")
    invoice_for(paused, due=d(2026, 3, 1))
    noticed = contract_for(piscator["plan"])
    invoice_for(noticed, due=d(2026, 4, 1))
    on = d(2026, 4, 15)
    dry = default.default_run(on=on, dry_run=True)
    assert (dry.paused, dry.notices, dry.dry_run) == ([paused.reference], [noticed.reference], True)
    assert not DefaultCase.objects.exists() and not Message.objects.exists()
    assert state_of(paused) == lifecycle.ACTIVE
    assert not ContractEvent.objects.filter(event="pause").exists()
    first = default.default_run(on=on)
    assert (first.paused, first.notices) == ([paused.reference], [noticed.reference])
    count = Message.objects.count()
    second = default.default_run(on=on)
    assert second.changed == 0 and second.errors == []
    assert Message.objects.count() == count and DefaultCase.objects.count() == 2


def test_a_contract_that_fails_is_reported_and_the_others_go_on(digireq, monkeypatch):
    bad = contract_for(digireq["plan"], "Feil AS")
    invoice_for(bad, due=d(2026, 3, 1))
    good = contract_for(digireq["plan"], "Kunde AS")
    invoice_for(good, due=d(2026, 3, 1))
    original = default._pause

    def pause(contract, oldest, **kwargs):
        if contract.pk == bad.pk:
            raise RuntimeError("boom")
        return original(contract, oldest, **kwargs)

    monkeypatch.setattr(default, "_pause", pause)
    result = default.default_run(on=d(2026, 4, 15))
    assert result.paused == [good.reference] and "boom" in result.errors[0]
    assert state_of(bad) == lifecycle.ACTIVE and state_of(good) == lifecycle.PAUSED
    monkeypatch.setattr(default, "_pause", original)
    assert default.default_run(on=d(2026, 4, 16)).paused == [bad.reference]  # a rerun picks it up


def test_customers_at_risk_with_the_date_of_the_next_step(digireq, piscator):
    pausing = contract_for(digireq["plan"], "Kunde AS")
    invoice_for(pausing, due=d(2026, 3, 1))
    noticed = contract_for(piscator["plan"])
    invoice_for(noticed, due=d(2026, 3, 12))
    default.default_run(on=d(2026, 3, 26))
    rows = {r.contract.pk: r for r in default.at_risk(d(2026, 3, 26))}
    assert (rows[pausing.pk].action, rows[pausing.pk].action_on, rows[pausing.pk].days_past_due) == (
        "pause",
        d(2026, 4, 15),
        25,
    )
    assert rows[pausing.pk].case is None
    assert (rows[noticed.pk].action, rows[noticed.pk].action_on) == ("suspend", d(2026, 4, 20))
    assert rows[noticed.pk].case == case_of(noticed)


def test_tenant_isolation(digireq, tenant_a, tenant_b):
    contract = contract_for(digireq["plan"], "Kunde AS")
    invoice_for(contract, due=d(2026, 3, 1))
    default.default_run(on=d(2026, 4, 15))
    assert DefaultCase.objects.count() == 1
    with tenant_context(tenant_b):
        assert DefaultCase.objects.count() == 0
        assert default.at_risk(d(2026, 4, 15)) == []
        result = default.default_run(on=d(2026, 4, 16))
        assert result.contracts_seen == 0 and result.changed == 0


def test_the_command(digireq, tenant_a, capsys):
    contract = contract_for(digireq["plan"], "Kunde AS")
    invoice_for(contract, due=d(2026, 3, 1))
    call_command("default_run", "--as-of", "2026-04-15", "--tenant", "alpha", "--dry-run")
    assert "would do" in capsys.readouterr().out and state_of(contract) == lifecycle.ACTIVE
    call_command("default_run", "--as-of", "2026-04-15", "--tenant", "alpha")
    assert "1 paused" in capsys.readouterr().out and state_of(contract) == lifecycle.PAUSED
    with pytest.raises(CommandError):
        call_command("default_run", "--as-of", "2026-04-15", "--tenant", "nobody")


# ---------------------------------------------------------------- billing while paused


def test_no_invoice_for_periods_that_began_while_paused_and_billing_resumes_after_reactivation(tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("digireq")
        policy(plan, "digireq")
        contract = digireq_contract(plan, "month")  # monthly from 2026-01-19
        for day in (d(2026, 1, 19), d(2026, 2, 19), d(2026, 3, 19)):
            assert run.run_tenant(day).invoices == 1
        first = Invoice.objects.order_by("period_start").first()
        pause_on = first.due_date + dt.timedelta(days=45)
        default.default_run(on=pause_on)
        assert state_of(contract) == lifecycle.PAUSED
        assert run.run_tenant(d(2026, 4, 19)).invoices == 0  # paused: not billed
        reactivate_on = d(2026, 5, 5)
        for invoice in Invoice.objects.filter(contract=contract):
            pay(invoice, on=reactivate_on)
        assert state_of(contract) == lifecycle.ACTIVE
        # The period from 19.04 began while paused: never invoiced, also not when the run catches up.
        assert run.run_tenant(reactivate_on).invoices == 0
        assert run.run_tenant(d(2026, 5, 18)).invoices == 0
        assert run.run_tenant(d(2026, 5, 19)).invoices == 1
        starts = list(
            Invoice.objects.filter(contract=contract).order_by("period_start").values_list("period_start", flat=True)
        )
        assert starts == [d(2026, 1, 19), d(2026, 2, 19), d(2026, 3, 19), d(2026, 5, 19)]
