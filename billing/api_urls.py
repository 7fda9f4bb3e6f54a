"""``/api/v1/``: the billing endpoints (see billing/api.py and docs/billing-api.md).

Included before the tenants API, whose catch-all answers any path not matched here.
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from billing import api

app_name = "billing_api"

router = SimpleRouter()
router.trailing_slash = "/?"  # with and without a trailing slash, like the rest of the API
router.register("invoices", api.InvoiceViewSet, basename="invoice")
router.register("credit-notes", api.CreditNoteViewSet, basename="credit-note")
router.register("invoice-lines", api.InvoiceLineViewSet, basename="invoice-line")
router.register("payments", api.PaymentViewSet, basename="payment")
router.register("time-entries", api.TimeEntryViewSet, basename="time-entry")
router.register("billing-runs", api.BillingRunViewSet, basename="billing-run")

urlpatterns = [
    re_path(r"^billing-settings/?$", api.BillingSettingsView.as_view(), name="billing-settings"),
    *router.urls,
]
