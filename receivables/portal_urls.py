"""Payments in the customer portal: /portal/<tenant_slug>/payments/..."""

from django.urls import path

from receivables import views_portal as views

app_name = "receivables_portal"

urlpatterns = [
    path("", views.payments, name="payments"),
    path("reminders/<int:pk>/pdf/", views.reminder_pdf, name="reminder_pdf"),
]
