"""``/api/v1/``: the contracts endpoints (see contracts/api.py and docs/contracts-api.md).

Included before the tenants API, whose catch-all answers any path not matched here.
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from contracts import api

app_name = "contracts_api"

router = SimpleRouter()
router.trailing_slash = "/?"  # with and without a trailing slash, like the rest of the API
router.register("contracts", api.ContractViewSet, basename="contract")
router.register("dpas", api.DpaViewSet, basename="dpa")
router.register("messages", api.MessageViewSet, basename="message")

urlpatterns = [
    re_path(r"^trials/?$", api.TrialView.as_view(), name="trials"),
    *router.urls,
]
