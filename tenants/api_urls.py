"""``/api/v1/``: the REST API (see tenants/api.py and docs/api.md).

Paths work with and without a trailing slash. Any other path under ``/api/v1/`` is a 404 in the
API's error format.
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from catalog import api as catalog_api
from config.api import not_found
from pricing import api as pricing_api
from tenants import api

app_name = "api"

router = SimpleRouter()
router.trailing_slash = "/?"  # the constructor only knows "/" or ""
router.register("customers", api.CustomerViewSet, basename="customer")
router.register(r"customers/(?P<customer_id>[^/]+)/contacts", api.CustomerContactViewSet, basename="customer-contact")
router.register("contacts", api.ContactViewSet, basename="contact")
router.register("audit-events", api.AuditEventViewSet, basename="audit-event")
router.register("api-keys", api.ApiKeyViewSet, basename="api-key")

# The catalogue and pricing endpoints (issue 3): a router of their own, the same base viewset.
catalog_router = SimpleRouter()
catalog_router.trailing_slash = "/?"
catalog_router.register("quotes", pricing_api.QuoteViewSet, basename="quote")
catalog_router.register("plans", pricing_api.PlanViewSet, basename="plan")
catalog_router.register(
    r"plans/(?P<plan_id>[^/]+)/versions", pricing_api.PlanVersionNestedViewSet, basename="plan-version-nested"
)
catalog_router.register("plan-versions", pricing_api.PlanVersionViewSet, basename="plan-version")
catalog_router.register("products", catalog_api.ProductViewSet, basename="product")
catalog_router.register(
    r"products/(?P<product_id>[^/]+)/addons", catalog_api.ProductAddOnViewSet, basename="product-addon"
)
catalog_router.register("hourly-services", catalog_api.HourlyServiceViewSet, basename="hourly-service")
catalog_router.register("standard-categories", catalog_api.StandardCategoryViewSet, basename="standard-category")
catalog_router.register("standards", catalog_api.StandardViewSet, basename="standard")

urlpatterns = [
    re_path(r"^tenant/?$", api.TenantProfileView.as_view(), name="tenant"),
    re_path(r"^registry/(?P<org_number>[^/]+)/?$", api.RegistryLookupView.as_view(), name="registry-lookup"),
    *router.urls,
    *catalog_router.urls,
    re_path(r"", not_found, name="not-found"),
]
