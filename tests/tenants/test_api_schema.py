"""The OpenAPI 3 schema and the docs page."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_schema_is_served_as_openapi_3(db):
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Avtale API"


def test_schema_has_the_api_paths_and_methods(db):
    paths = yaml.safe_load(APIClient().get("/api/schema/").content)["paths"]
    expected = {
        "/api/v1/tenant/": {"get", "patch"},
        "/api/v1/customers/": {"get", "post"},
        "/api/v1/customers/{id}/": {"get", "put", "patch", "delete"},
        "/api/v1/customers/{id}/verify/": {"post"},
        "/api/v1/customers/{customer_id}/contacts/": {"get", "post"},
        "/api/v1/contacts/": {"get"},
        "/api/v1/contacts/{id}/": {"get", "put", "patch", "delete"},
        "/api/v1/registry/{org_number}/": {"get"},
        "/api/v1/audit-events/": {"get"},
        "/api/v1/audit-events/{id}/": {"get"},
        "/api/v1/api-keys/": {"get"},
        "/api/v1/api-keys/{id}/": {"get"},
        "/api/v1/quotes/": {"get", "post"},
        "/api/v1/quotes/{id}/": {"get"},
        "/api/v1/plans/": {"get", "post"},
        "/api/v1/plans/{id}/": {"get"},
        "/api/v1/plans/{plan_id}/versions/": {"get", "post"},
        "/api/v1/plan-versions/": {"get"},
        "/api/v1/plan-versions/{id}/": {"get"},
        "/api/v1/plan-versions/{id}/export/": {"get"},
        "/api/v1/plan-versions/import/": {"post"},
        "/api/v1/products/": {"get", "post"},
        "/api/v1/products/{id}/": {"get", "put", "patch", "delete"},
        "/api/v1/products/{product_id}/addons/": {"get", "post"},
        "/api/v1/products/{product_id}/addons/{id}/": {"get", "put", "patch", "delete"},
        "/api/v1/hourly-services/": {"get", "post"},
        "/api/v1/hourly-services/{id}/": {"get", "put", "patch", "delete"},
        "/api/v1/standard-categories/": {"get", "post"},
        "/api/v1/standard-categories/{id}/": {"get", "put", "patch", "delete"},
        "/api/v1/standards/": {"get"},
        "/api/v1/standards/{id}/": {"get"},
        "/api/v1/standards/import/": {"post"},
        "/api/v1/contracts/": {"get", "post"},
        "/api/v1/contracts/from-quote/": {"post"},
        "/api/v1/contracts/{id}/": {"get"},
        "/api/v1/contracts/{id}/amendments/": {"get", "post"},
        "/api/v1/contracts/{id}/notice-preview/": {"get"},
        "/api/v1/contracts/{id}/notice/": {"post"},
        "/api/v1/contracts/{id}/onboarding/feide_activated/": {"post"},
        "/api/v1/contracts/{id}/reactivate/": {"post"},
        "/api/v1/contracts/{id}/send/": {"post"},
        "/api/v1/contracts/{id}/sign/": {"post"},
        "/api/v1/contracts/{id}/trial/convert/": {"post"},
        "/api/v1/contracts/{id}/trial/extend/": {"post"},
        "/api/v1/dpas/": {"get", "post"},
        "/api/v1/dpas/{id}/": {"get"},
        "/api/v1/messages/": {"get"},
        "/api/v1/messages/{id}/": {"get"},
        "/api/v1/trials/": {"post"},
        "/api/v1/entitlements/": {"get"},
        "/api/v1/entitlements/{customer_id}/": {"get"},
        "/api/v1/index-series/": {"get"},
        "/api/v1/index-series/{code}/": {"get"},
        "/api/v1/index-series/{code}/values/": {"get", "post"},
        "/api/v1/index-series/{code}/values/{month}/": {"delete"},
        "/api/v1/indexation-policies/": {"get", "post"},
        "/api/v1/indexation-policies/{id}/": {"get", "patch"},
        "/api/v1/indexation-proposals/": {"get", "post"},
        "/api/v1/indexation-proposals/{id}/": {"get"},
        "/api/v1/indexation-proposals/{id}/approve/": {"post"},
        "/api/v1/indexation-proposals/{id}/reject/": {"post"},
        "/api/v1/indexation-proposals/approve-all/": {"post"},
        "/api/v1/contracts/{id}/price-history/": {"get"},
        "/api/v1/indexation-runs/": {"post"},
        "/api/v1/invoices/": {"get", "post"},
        "/api/v1/invoices/{id}/": {"get", "delete"},
        "/api/v1/invoices/{id}/issue/": {"post"},
        "/api/v1/invoices/{id}/credit/": {"post"},
        "/api/v1/invoices/{id}/payments/": {"post"},
        "/api/v1/invoices/{id}/send/": {"post"},
        "/api/v1/invoices/{id}/pdf/": {"get"},
        "/api/v1/invoices/{id}/ehf/": {"get"},
        "/api/v1/credit-notes/": {"get"},
        "/api/v1/credit-notes/{id}/": {"get"},
        "/api/v1/invoice-lines/": {"get"},
        "/api/v1/invoice-lines/{id}/": {"get"},
        "/api/v1/payments/": {"get"},
        "/api/v1/payments/{id}/": {"get"},
        "/api/v1/time-entries/": {"get", "post"},
        "/api/v1/time-entries/{id}/": {"get", "delete"},
        "/api/v1/billing-runs/": {"get", "post"},
        "/api/v1/billing-runs/{id}/": {"get"},
        "/api/v1/billing-runs/preview/": {"post"},
        "/api/v1/billing-settings/": {"get", "patch"},
        "/api/v1/collections/overview/": {"get"},
        "/api/v1/collections/overdue/": {"get"},
        "/api/v1/collections/at-risk/": {"get"},
        "/api/v1/customers/{id}/ledger/": {"get"},
        "/api/v1/reminders/": {"get"},
        "/api/v1/reminders/{id}/": {"get"},
        "/api/v1/reminders/{id}/pdf/": {"get"},
        "/api/v1/invoice-holds/": {"get", "post"},
        "/api/v1/invoice-holds/{id}/": {"get"},
        "/api/v1/invoice-holds/{id}/release/": {"post"},
        "/api/v1/interest-charges/": {"get"},
        "/api/v1/interest-charges/{id}/": {"get"},
        "/api/v1/bank-imports/": {"get", "post"},
        "/api/v1/bank-imports/{id}/": {"get"},
        "/api/v1/incoming-payments/": {"get"},
        "/api/v1/incoming-payments/{id}/": {"get"},
        "/api/v1/incoming-payments/{id}/match/": {"post"},
        "/api/v1/incoming-payments/{id}/resolve/": {"post"},
        "/api/v1/default-cases/": {"get"},
        "/api/v1/default-cases/{id}/": {"get"},
        "/api/v1/default-cases/{id}/suspend/": {"post"},
        "/api/v1/default-cases/{id}/close/": {"post"},
        "/api/v1/collection-policies/": {"get", "post"},
        "/api/v1/collection-policies/{id}/": {"get", "put", "patch"},
        "/api/v1/collection-policies/{id}/assign/": {"post"},
        "/api/v1/collection-policies/unassign/": {"post"},
    }
    assert {path: set(ops) - {"parameters"} for path, ops in paths.items()} == expected


def test_schema_documents_bearer_auth_and_the_error_format(db):
    document = yaml.safe_load(APIClient().get("/api/schema/").content)
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    create = document["paths"]["/api/v1/customers/"]["post"]
    assert create["security"] == [{"ApiKey": []}]
    assert set(create["responses"]) == {"201", "400", "401", "403", "409", "422", "429"}
    error_ref = {"$ref": "#/components/schemas/Error"}
    assert create["responses"]["400"]["content"]["application/json"]["schema"] == error_ref
    detail = document["paths"]["/api/v1/customers/{id}/"]
    assert set(detail["get"]["responses"]) == {"200", "401", "404", "429"}
    assert set(detail["delete"]["responses"]) == {"204", "400", "401", "403", "404", "429"}
    registry = document["paths"]["/api/v1/registry/{org_number}/"]["get"]
    assert set(registry["responses"]) == {"200", "400", "401", "404", "429", "503"}
    error = document["components"]["schemas"]["ErrorDetail"]["properties"]
    assert set(error) == {"status", "code", "message", "fields"}


def test_schema_lists_customer_filters(db):
    document = yaml.safe_load(APIClient().get("/api/schema/").content)
    params = {p["name"] for p in document["paths"]["/api/v1/customers/"]["get"]["parameters"]}
    assert params >= {
        "kind",
        "parent",
        "org_number",
        "verification",
        "is_active",
        "vat_treatment",
        "search",
        "ordering",
        "page",
        "page_size",
    }


def test_schema_documents_the_quote_endpoint(db):
    document = yaml.safe_load(APIClient().get("/api/schema/").content)
    create = document["paths"]["/api/v1/quotes/"]["post"]
    assert set(create["responses"]) == {"200", "201", "400", "401", "403", "409", "422", "429"}
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    plans = {example["value"]["plan"] for example in examples.values()}
    assert plans == {"spekter-2020", "digireq-2026", "standard-norge-abonnement", "piscator-standard", "identum-eadm"}
    upload = document["paths"]["/api/v1/standards/import/"]["post"]["requestBody"]["content"]
    assert set(upload) == {"text/csv", "multipart/form-data"}


def test_every_post_documents_the_idempotency_key_header(db):
    paths = yaml.safe_load(APIClient().get("/api/schema/").content)["paths"]
    posts = {path: ops["post"] for path, ops in paths.items() if "post" in ops}
    assert len(posts) >= 30
    for path, operation in posts.items():
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        assert [h["name"] for h in headers] == ["Idempotency-Key"], path
        assert headers[0]["required"] is False
        assert headers[0]["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}
        assert "Idempotent-Replayed" in headers[0]["description"]
        assert {"409", "422"} <= set(operation["responses"]), path
        assert (
            operation["responses"]["409"]["content"]["application/json"]["examples"]["Error"]["value"]["error"]["code"]
            == "idempotency_in_progress"
        )
    for path, ops in paths.items():
        for method in set(ops) - {"post", "parameters"}:
            assert all(p["in"] != "header" for p in ops[method].get("parameters", [])), (path, method)


def test_schema_documents_the_billing_endpoints(db):
    document = yaml.safe_load(APIClient().get("/api/schema/").content)
    paths = document["paths"]
    params = {p["name"] for p in paths["/api/v1/invoices/"]["get"]["parameters"]}
    assert params >= {
        "status",
        "kind",
        "customer",
        "contract",
        "period_from",
        "period_to",
        "overdue",
        "issued_from",
        "issued_to",
        "number",
        "page",
        "page_size",
    }
    assert {p["name"] for p in paths["/api/v1/time-entries/"]["get"]["parameters"]} >= {"contract", "billed"}
    assert {p["name"] for p in paths["/api/v1/payments/"]["get"]["parameters"]} >= {"invoice", "paid_from", "paid_to"}
    assert set(paths["/api/v1/invoices/{id}/pdf/"]["get"]["responses"]["200"]["content"]) == {"application/pdf"}
    assert set(paths["/api/v1/invoices/{id}/ehf/"]["get"]["responses"]["200"]["content"]) == {"application/xml"}
    assert set(paths["/api/v1/billing-runs/"]["post"]["responses"]) >= {"202", "400", "403"}
    credit = paths["/api/v1/invoices/{id}/credit/"]["post"]["requestBody"]["content"]["application/json"]
    assert {e["value"].get("net_amount") for e in credit["examples"].values()} == {None, "1000.00"}
    schemas = document["components"]["schemas"]
    assert schemas["InvoiceKindEnum"]["enum"] == ["invoice", "credit_note"]
    assert "overdue" in schemas["InvoiceStatusEnum"]["enum"]


def test_schema_generates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert out.getvalue().startswith("openapi: 3")


def test_docs_page(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert b"/api/schema/" in response.content
