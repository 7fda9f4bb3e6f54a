"""Contracts in the customer portal, the order form and the trial sign-up: /portal/<tenant_slug>/..."""

from django.urls import path

from contracts import views_portal as views

app_name = "contracts_portal"

urlpatterns = [
    path("contracts/", views.contract_list, name="list"),
    path("contracts/dpa/", views.dpa_sign, name="dpa"),
    path("contracts/messages/", views.message_list, name="messages"),
    path("contracts/<int:pk>/", views.contract_detail, name="detail"),
    path("contracts/<int:pk>/pdf/", views.contract_pdf, name="pdf"),
    path("contracts/<int:pk>/sign/", views.contract_sign, name="sign"),
    path("contracts/<int:pk>/notice/", views.contract_notice, name="notice"),
    path("contracts/<int:pk>/convert/", views.trial_convert, name="convert"),
    path("contracts/<int:pk>/reactivate/", views.contract_reactivate, name="reactivate"),
    path("order/", views.order, name="order"),
    path("order/sent/", views.order_done, name="order_done"),
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup_done"),
]
