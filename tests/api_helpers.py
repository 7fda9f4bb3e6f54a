"""Helpers for API tests: keys made through the service, clients that send them."""

from __future__ import annotations

from rest_framework.test import APIClient

from tenants import services
from tenants.audit import Actor
from tenants.models import ApiKeyScope
from tenants.tenancy import tenant_context

API = "/api/v1"


def make_key(tenant, scope: str = ApiKeyScope.READ_WRITE, name: str = "Integration") -> tuple:
    """(ApiKey, raw key) for ``tenant``, created the way the back-office does it."""
    with tenant_context(tenant):
        return services.api_key_create(actor=Actor.system("test"), name=name, scope=scope)


def client_for(raw_key: str | None, language: str = "en") -> APIClient:
    """A client sending ``raw_key``; messages in English (Norwegian is the default without the header)."""
    client = APIClient()
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    if raw_key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {raw_key}"
    client.credentials(**headers)
    return client


def error_of(response) -> dict:
    """The ``error`` object of an API error response (asserting it has the one format)."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"status", "code", "message", "fields"}, body
    assert body["error"]["status"] == response.status_code
    return body["error"]
