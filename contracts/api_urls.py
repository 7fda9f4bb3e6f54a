"""``/api/v1/``: the contracts endpoints (see contracts/api.py and docs/contracts-api.md).

Included before the tenants API, whose catch-all answers any path not matched here.
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from contracts import api
from contracts.entitlements_api import EntitlementLookupView, EntitlementView

app_name = "contracts_api"

router = SimpleRouter()
router.trailing_slash = "/?"  # with and without a trailing slash, like the rest of the API
router.register("contracts", api.ContractViewSet, basename="contract")
router.register("dpas", api.DpaViewSet, basename="dpa")
router.register("messages", api.MessageViewSet, basename="message")

urlpatterns = [
    re_path(r"^trials/?$", api.TrialView.as_view(), name="trials"),
    re_path(r"^entitlements/?$", EntitlementLookupView.as_view(), name="entitlements"),
    re_path(
        r"^entitlements/(?P<customer_id>[0-9]{1,18})/?$",
        EntitlementView.as_view(),
        name="entitlement",
    ),
    *router.urls,
]
