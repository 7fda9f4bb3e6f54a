"""``/api/v1/``: the REST API (see tenants/api.py and docs/api.md).

Paths work with and without a trailing slash. Any other path under ``/api/v1/`` is a 404 in the
API's error format.
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from config.api import not_found
from tenants import api

app_name = "api"

router = SimpleRouter()
router.trailing_slash = "/?"  # the constructor only knows "/" or ""
router.register("customers", api.CustomerViewSet, basename="customer")
router.register(r"customers/(?P<customer_id>[^/]+)/contacts", api.CustomerContactViewSet, basename="customer-contact")
router.register("contacts", api.ContactViewSet, basename="contact")
router.register("audit-events", api.AuditEventViewSet, basename="audit-event")
router.register("api-keys", api.ApiKeyViewSet, basename="api-key")

urlpatterns = [
    re_path(r"^tenant/?$", api.TenantProfileView.as_view(), name="tenant"),
    re_path(r"^registry/(?P<org_number>[^/]+)/?$", api.RegistryLookupView.as_view(), name="registry-lookup"),
    *router.urls,
    re_path(r"", not_found, name="not-found"),
]
