"""CPI indexation in the back-office: /backoffice/<tenant_slug>/indexation/..."""

from django.urls import path

from indexation import views_backoffice as views

app_name = "indexation_bo"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/approve/", views.proposals_approve_all, name="approve_all"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/approve/", views.proposal_approve, name="approve"),
    path("proposals/<int:pk>/reject/", views.proposal_reject, name="reject"),
    path("proposals/<int:pk>/letter/<str:language>/", views.proposal_letter, name="letter"),
    path("index-values/", views.index_values, name="values"),
    path("index-values/<int:pk>/delete/", views.index_value_delete, name="value_delete"),
    path("contracts/<int:pk>/price-history/", views.contract_history, name="history"),
    path("contracts/<int:pk>/increase/", views.increase_request, name="increase"),
]
