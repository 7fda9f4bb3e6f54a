"""``/api/v1/``: the collections endpoints (see receivables/api.py and docs/collections-api.md).

Included before the tenants API, whose catch-all answers any path not matched here. ``customers/{id}/ledger``
lives here: the tenants router has no pattern that matches it.
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from receivables import api

app_name = "receivables_api"

router = SimpleRouter()
router.trailing_slash = "/?"  # with and without a trailing slash, like the rest of the API
router.register("collections/overdue", api.OverdueViewSet, basename="collections-overdue")
router.register("collections/at-risk", api.AtRiskViewSet, basename="collections-at-risk")
router.register("reminders", api.ReminderViewSet, basename="reminder")
router.register("invoice-holds", api.InvoiceHoldViewSet, basename="invoice-hold")
router.register("interest-charges", api.InterestChargeViewSet, basename="interest-charge")
router.register("bank-imports", api.BankImportViewSet, basename="bank-import")
router.register("incoming-payments", api.IncomingPaymentViewSet, basename="incoming-payment")
router.register("default-cases", api.DefaultCaseViewSet, basename="default-case")
router.register("collection-policies", api.CollectionPolicyViewSet, basename="collection-policy")

urlpatterns = [
    re_path(r"^collections/overview/?$", api.CollectionsOverviewView.as_view(), name="collections-overview"),
    re_path(r"^customers/(?P<pk>[^/]+)/ledger/?$", api.CustomerLedgerView.as_view(), name="customer-ledger"),
    *router.urls,
]
