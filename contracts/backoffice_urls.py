"""Contracts in the back-office: /backoffice/<tenant_slug>/contracts/..."""

from django.urls import path

from contracts import views_backoffice as views

app_name = "contracts_bo"

urlpatterns = [
    path("", views.contract_list, name="list"),
    path("new/", views.contract_create, name="create"),
    path("from-quote/", views.contract_from_quote, name="from_quote"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/pdf/", views.contract_pdf, name="pdf"),
    path("<int:pk>/send/", views.contract_send, name="send"),
    path("<int:pk>/sign-paper/", views.contract_sign_paper, name="sign_paper"),
    path("<int:pk>/dpa/", views.dpa_record, name="dpa"),
    path("<int:pk>/onboarding/", views.onboarding_tick, name="onboarding_tick"),
    path("<int:pk>/notice/", views.contract_notice, name="notice"),
    path("<int:pk>/extend/", views.trial_extend, name="trial_extend"),
    path("<int:pk>/convert/", views.trial_convert, name="trial_convert"),
    path("<int:pk>/reactivate/", views.contract_reactivate, name="reactivate"),
    path("<int:pk>/amend/", views.contract_amend, name="amend"),
    path("customers/<int:customer_pk>/messages/", views.customer_messages, name="customer_messages"),
]
