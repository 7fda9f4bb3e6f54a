"""Invoices and credit notes in the customer portal: /portal/<tenant_slug>/invoices/..."""

from django.urls import path

from billing import views_portal as views

app_name = "billing_portal"

urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/pdf/<str:language>/", views.invoice_download, {"fmt": "pdf"}, name="pdf"),
    path("<int:pk>/ehf/", views.invoice_download, {"fmt": "ehf"}, name="ehf"),
]
