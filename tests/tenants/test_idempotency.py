"""Idempotency-Key on every POST of the API (tenants/idempotency.py, hooked in TenantAPIView.dispatch)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from billing import services as billing_services
from billing.models import Invoice, Payment
from contracts.models import DataProcessingAgreement
from tenants.audit import Actor
from tenants.idempotency import fingerprint
from tenants.models import ApiKey, AuditEvent, CustomerKind, IdempotencyRecord
from tenants.tenancy import tenant_context
from tests.api_helpers import API, client_for, error_of, make_key
from tests.factories import CustomerFactory, TenantFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
d = dt.date


@pytest.fixture
def setup(tenant_a):
    with tenant_context(tenant_a):
        customer = CustomerFactory(name="Stavanger kommune", kind=CustomerKind.KOMMUNE)
        draft = billing_services.invoice_manual_draft_create(
            actor=ACTOR, customer=customer, lines=[{"description": "Kurs", "unit_price": "1000.00"}]
        )
        invoice = billing_services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 3, 20))
    key, raw = make_key(tenant_a)
    _other, other_raw = make_key(tenant_a, name="Other")
    return {
        "tenant": tenant_a,
        "customer": customer,
        "invoice": invoice,
        "key": key,
        "api": client_for(raw),
        "other": client_for(other_raw),
    }


def post(client, path, body, key=None):
    headers = {"Idempotency-Key": key} if key is not None else None
    return client.post(f"{API}{path}", body, format="json", headers=headers)


def count(tenant, model, **filters) -> int:
    with tenant_context(tenant):
        return model.objects.filter(**filters).count()


def draft_body(s) -> dict:
    return {"customer": s["customer"].pk, "lines": [{"description": "Kurs", "unit_price": "4500.00"}]}


def test_a_replay_returns_the_first_response_and_creates_one_invoice(setup):
    s = setup
    first = post(s["api"], "/invoices", draft_body(s), key="k-1")
    assert first.status_code == 201, first.json()
    assert "Idempotent-Replayed" not in first
    audit_rows = count(s["tenant"], AuditEvent)
    second = post(s["api"], "/invoices", draft_body(s), key="k-1")
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second["Content-Type"] == "application/json"
    assert second.content == first.content
    assert count(s["tenant"], Invoice, status="draft") == 1
    assert count(s["tenant"], AuditEvent) == audit_rows  # nothing was done again
    # Without the header (or with a new key) it is a new request.
    assert post(s["api"], "/invoices", draft_body(s), key="k-2").json()["id"] != first.json()["id"]
    assert post(s["api"], "/invoices", draft_body(s)).status_code == 201
    assert count(s["tenant"], Invoice, status="draft") == 3
    with tenant_context(s["tenant"]):
        record = IdempotencyRecord.objects.get(key="k-1")
    assert (record.api_key_id, record.method, record.path, record.status_code) == (
        s["key"].pk,
        "POST",
        "/api/v1/invoices",
        201,
    )
    assert len(record.fingerprint) == 64


def test_a_replayed_payment_and_credit_note_are_made_once(setup):
    s = setup
    path = f"/invoices/{s['invoice'].pk}"
    pay = {"amount": "100.00", "paid_on": "2026-03-25"}
    responses = [post(s["api"], f"{path}/payments", pay, key="pay-1") for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.content for r in responses}) == 1
    assert count(s["tenant"], Payment) == 1
    credit = {"reason": "Rabatt", "net_amount": "100.00"}
    notes = [post(s["api"], f"{path}/credit", credit, key="credit-1") for _ in range(2)]
    assert [r.status_code for r in notes] == [201, 201]
    assert notes[0].json() == notes[1].json()
    assert count(s["tenant"], Invoice, kind="credit_note") == 1
    with tenant_context(s["tenant"]):
        invoice = Invoice.objects.get(pk=s["invoice"].pk)
    assert (str(invoice.paid_amount), str(invoice.credited_amount)) == ("100.00", "125.00")


def test_the_same_key_with_another_request_is_422_and_does_nothing(setup):
    s = setup
    assert post(s["api"], "/invoices", draft_body(s), key="k").status_code == 201
    before = count(s["tenant"], Invoice)
    other_body = {**draft_body(s), "reason": "Annen"}
    for path, body in (("/invoices", other_body), (f"/invoices/{s['invoice'].pk}/credit", {"reason": "x"})):
        refused = post(s["api"], path, body, key="k")
        assert refused.status_code == 422
        error = error_of(refused)
        assert error["code"] == "idempotency_key_reused"
        assert "different request" in error["message"]
    assert count(s["tenant"], Invoice) == before


def test_keys_are_per_api_key(setup):
    s = setup
    first = post(s["api"], "/invoices", draft_body(s), key="shared")
    second = post(s["other"], "/invoices", draft_body(s), key="shared")
    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second
    assert first.json()["id"] != second.json()["id"]


def test_a_bad_request_is_kept_and_replayed_too(setup):
    s = setup
    bad = {"customer": s["customer"].pk, "lines": []}
    first = post(s["api"], "/invoices", bad, key="bad")
    assert first.status_code == 400
    second = post(s["api"], "/invoices", bad, key="bad")
    assert (second.status_code, second["Idempotent-Replayed"], second.content) == (400, "true", first.content)


def test_a_bad_header_is_a_400(setup):
    s = setup
    for key in ("", "   ", "x" * 256):
        refused = post(s["api"], "/invoices", draft_body(s), key=key)
        assert refused.status_code == 400, key
        assert list(error_of(refused)["fields"]) == ["Idempotency-Key"]
    assert post(s["api"], "/invoices", draft_body(s), key="x" * 255).status_code == 201
    assert count(s["tenant"], Invoice, status="draft") == 1


def test_a_read_only_key_is_refused_before_anything_is_recorded(setup):
    _ro, raw = make_key(setup["tenant"], "read", name="ro")
    assert post(client_for(raw), "/invoices", draft_body(setup), key="ro-1").status_code == 403
    assert count(setup["tenant"], IdempotencyRecord) == 0


def test_a_5xx_is_not_kept_and_the_retry_does_the_work(setup, monkeypatch):
    s = setup

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(billing_services, "invoice_manual_draft_create", broken)
    s["api"].raise_request_exception = False
    failed = post(s["api"], "/invoices", draft_body(s), key="retry-me")
    assert failed.status_code == 500
    with tenant_context(s["tenant"]):
        assert IdempotencyRecord.objects.get(key="retry-me").status_code is None
    monkeypatch.undo()
    retried = post(s["api"], "/invoices", draft_body(s), key="retry-me")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert post(s["api"], "/invoices", draft_body(s), key="retry-me")["Idempotent-Replayed"] == "true"
    assert count(s["tenant"], Invoice, status="draft") == 1


def test_keys_expire_after_24_hours(setup):
    s = setup
    first = post(s["api"], "/invoices", draft_body(s), key="old")
    with tenant_context(s["tenant"]):
        IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - dt.timedelta(hours=25))
        IdempotencyRecord.objects.create(
            api_key=s["key"], key="older", fingerprint="0" * 64, method="POST", path="/x", created_at=timezone.now()
        )
    second = post(s["api"], "/invoices", draft_body(s), key="old")
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert second.json()["id"] != first.json()["id"]
    with tenant_context(s["tenant"]):
        assert IdempotencyRecord.objects.filter(key="old").count() == 1  # replaced
        IdempotencyRecord.objects.filter(key="older").update(created_at=timezone.now() - dt.timedelta(hours=30))
        assert IdempotencyRecord.objects.purge_expired() == 1
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["old"]


def test_it_works_on_a_contracts_endpoint(setup):
    s = setup
    body = {"controller": s["customer"].pk, "signed_on": "2026-01-10", "signer_name": "Ordfører"}
    first = post(s["api"], "/dpas", body, key="dpa-1")
    second = post(s["api"], "/dpas", body, key="dpa-1")
    assert (first.status_code, second.status_code, second["Idempotent-Replayed"]) == (201, 201, "true")
    assert second.content == first.content
    assert count(s["tenant"], DataProcessingAgreement) == 1


def test_records_are_the_tenants_own(setup, tenant_b):
    post(setup["api"], "/invoices", draft_body(setup), key="mine")
    with tenant_context(tenant_b):
        assert IdempotencyRecord.objects.count() == 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tenants_idempotencyrecord")
            assert cursor.fetchone() == (0,)


def test_the_fingerprint_covers_method_path_and_body():
    base = fingerprint("POST", "/api/v1/invoices", b"{}")
    assert base == fingerprint("post", "/api/v1/invoices", b"{}")
    assert (
        len({base, fingerprint("POST", "/api/v1/invoice", b"{}"), fingerprint("POST", "/api/v1/invoices", b"{ }")}) == 3
    )


# ---------------------------------------------------------------- a real concurrent repeat


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_repeat_while_the_first_runs_is_409_then_replays(monkeypatch):
    tenant = TenantFactory(slug="gamma")
    with tenant_context(tenant):
        customer = CustomerFactory()
        draft = billing_services.invoice_manual_draft_create(
            actor=ACTOR, customer=customer, lines=[{"description": "Kurs", "unit_price": "1000.00"}]
        )
        invoice = billing_services.invoice_issue(actor=ACTOR, invoice=draft, on=d(2026, 3, 20))
    _key, raw = make_key(tenant)
    started, release = threading.Event(), threading.Event()
    original = billing_services.payment_register

    def slow_payment(**kwargs):
        started.set()
        assert release.wait(timeout=20)
        return original(**kwargs)

    monkeypatch.setattr(billing_services, "payment_register", slow_payment)
    path, body = f"/invoices/{invoice.pk}/payments", {"amount": "100.00", "paid_on": "2026-03-25"}
    results = {}

    def first():
        try:
            results["first"] = post(client_for(raw), path, body, key="pay")
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert started.wait(timeout=20)
        repeat = post(client_for(raw), path, body, key="pay")
        assert repeat.status_code == 409
        assert error_of(repeat)["code"] == "idempotency_in_progress"
    finally:
        release.set()
        thread.join(timeout=30)
    assert results["first"].status_code == 201
    replay = post(client_for(raw), path, body, key="pay")
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    assert replay.content == results["first"].content
    with tenant_context(tenant):
        assert Payment.objects.count() == 1
        assert ApiKey.objects.count() == 1
