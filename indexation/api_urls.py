"""``/api/v1/``: the indexation endpoints (see indexation/api.py and docs/indexation-api.md).

Included after the contracts and billing APIs and before the tenants API, whose catch-all answers any path not
matched here. ``contracts/{id}/price-history`` lives here: the contracts router has no pattern that matches it.
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from indexation import api

app_name = "indexation_api"

router = SimpleRouter()
router.trailing_slash = "/?"  # with and without a trailing slash, like the rest of the API
router.register("index-series", api.IndexSeriesViewSet, basename="index-series")
router.register("indexation-policies", api.IndexationPolicyViewSet, basename="indexation-policy")
router.register("indexation-proposals", api.IndexationProposalViewSet, basename="indexation-proposal")

urlpatterns = [
    re_path(
        r"^contracts/(?P<pk>[^/]+)/price-history/?$",
        api.ContractPriceHistoryView.as_view(),
        name="contract-price-history",
    ),
    re_path(r"^indexation-runs/?$", api.IndexationRunView.as_view(), name="indexation-runs"),
    *router.urls,
]
