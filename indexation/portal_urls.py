"""Price changes in the customer portal: /portal/<tenant_slug>/price-changes/..."""

from django.urls import path

from indexation import views_portal as views

app_name = "indexation_portal"

urlpatterns = [
    path("", views.price_changes, name="list"),
    path("<int:pk>/letter/", views.letter, name="letter"),
    path("<int:pk>/terminate/", views.terminate, name="terminate"),
]
