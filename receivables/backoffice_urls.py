"""Collections in the back-office: /backoffice/<tenant_slug>/collections/..."""

from django.urls import path

from receivables import views_backoffice as views

app_name = "receivables_bo"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("customers/<int:customer_pk>/", views.customer_ledger, name="ledger"),
    path("invoices/<int:invoice_pk>/hold/", views.hold_create, name="hold"),
    path("holds/<int:pk>/release/", views.hold_release, name="release"),
    path("reminders/<int:pk>/pdf/", views.reminder_pdf, name="reminder_pdf"),
    path("bank/", views.bank_import, name="bank"),
    path("bank/<int:pk>/", views.bank_import_detail, name="bank_detail"),
    path("unmatched/", views.unmatched, name="unmatched"),
    path("unmatched/<int:pk>/match/", views.incoming_match, name="match"),
    path("unmatched/<int:pk>/resolve/", views.incoming_resolve, name="resolve"),
    path("defaults/", views.default_cases, name="defaults"),
    path("defaults/<int:pk>/suspend/", views.default_suspend, name="suspend"),
    path("defaults/<int:pk>/close/", views.default_close, name="close"),
    path("contracts/<int:contract_pk>/rules/", views.contract_policy, name="contract_policy"),
]
