"""API authentication: ``Authorization: Bearer avt_<tenant>_<prefix>_<secret>``.

The key names its tenant; the tenant is activated (code and database) before the key itself is
looked up, so the key table is read under row-level security like everything else. Unknown,
malformed, revoked and other tenants' keys all get the same 401.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from tenants import services, tenancy
from tenants.models import Tenant


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Bearer API key. Activates the key's tenant for the rest of the request (cleared by TenantMiddleware)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _sep, raw_key = header.partition(" ")
        if scheme.lower() != "bearer" or not raw_key.strip():
            raise exceptions.AuthenticationFailed(_("Send the key as 'Authorization: Bearer <key>'."))
        raw_key = raw_key.strip()
        parsed = services.parse_api_key(raw_key)
        tenant = Tenant.objects.filter(slug=parsed[0], is_active=True).first() if parsed else None
        if tenant is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        tenancy.activate(tenant)
        key = services.api_key_check(raw_key)
        if key is None:
            tenancy.deactivate()
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        request._request.tenant = tenant
        request._request.api_key = key
        return (ApiPrincipal(key), key)

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) for a missing or bad key, with this WWW-Authenticate header.
        return f'{self.keyword} realm="api"'


class ApiPrincipal:
    """The ``request.user`` of an API call: the key, not a person."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, key):
        self.key = key
        self.pk = None

    def __str__(self):
        return f"API key {self.key.name}"


class HasApiKeyScope(permissions.BasePermission):
    """Any valid key may read; only a read-write key may change anything."""

    message = _("This API key is read-only; create a read-write key to make changes.")

    def has_permission(self, request, view):
        key = getattr(request, "auth", None)
        if key is None:
            raise exceptions.NotAuthenticated(_("Send an API key: 'Authorization: Bearer <key>'."))
        if request.method in permissions.SAFE_METHODS:
            return True
        return key.can_write


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request, view):
        key = getattr(request, "auth", None)
        ident = f"key-{key.pk}" if key is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents :class:`ApiKeyAuthentication` in the OpenAPI schema as HTTP Bearer."""

    target_class = "tenants.api_auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "avt_<tenant slug>_<prefix>_<secret>",
            "description": (
                "An API key created in the back-office (API keys) or with `manage.py create_api_key`. "
                "Send `Authorization: Bearer <key>`. The key decides the tenant. Read keys may only read; "
                "read-write keys may also change data."
            ),
        }
