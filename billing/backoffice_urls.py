"""Billing in the back-office: /backoffice/<tenant_slug>/billing/..."""

from django.urls import path

from billing import views_backoffice as views

app_name = "billing_bo"

urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("invoices/new/", views.invoice_create, name="create"),
    path("invoices/<int:pk>/", views.invoice_detail, name="detail"),
    path("invoices/<int:pk>/pdf/<str:language>/", views.invoice_download, {"fmt": "pdf"}, name="pdf"),
    path("invoices/<int:pk>/ehf/", views.invoice_download, {"fmt": "ehf"}, name="ehf"),
    path("invoices/<int:pk>/issue/", views.invoice_issue, name="issue"),
    path("invoices/<int:pk>/delete/", views.invoice_delete, name="delete"),
    path("invoices/<int:pk>/credit/", views.invoice_credit, name="credit"),
    path("invoices/<int:pk>/payments/", views.payment_register, name="payment"),
    path("invoices/<int:pk>/send/", views.invoice_send, name="send"),
    path("invoices/<int:pk>/deliveries/<int:delivery_pk>/retry/", views.delivery_retry, name="retry"),
    path("run/", views.billing_run, name="run"),
    path("settings/", views.billing_settings, name="settings"),
    path("time/", views.time_entries, name="time"),
    path("time/<int:pk>/delete/", views.time_entry_delete, name="time_delete"),
]
