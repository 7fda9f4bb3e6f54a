from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from tenants import views_public

urlpatterns = [
    path("", views_public.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("operator/", admin.site.urls),
    path("api/v1/", include("contracts.api_urls")),  # before tenants: its catch-all answers unknown paths
    path("api/v1/", include("billing.api_urls")),  # before tenants, like contracts
    path("api/v1/", include("indexation.api_urls")),  # before tenants, like contracts
    path("api/v1/", include("receivables.api_urls")),  # before tenants, like contracts
    path("api/v1/", include("tenants.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    path("backoffice/<slug:tenant_slug>/contracts/", include("contracts.backoffice_urls")),
    path("backoffice/<slug:tenant_slug>/billing/", include("billing.backoffice_urls")),
    path("backoffice/<slug:tenant_slug>/indexation/", include("indexation.backoffice_urls")),
    path("backoffice/<slug:tenant_slug>/collections/", include("receivables.backoffice_urls")),
    path("backoffice/<slug:tenant_slug>/", include("tenants.backoffice_urls")),
    path("portal/<slug:tenant_slug>/", include("tenants.portal_urls")),
    path("portal/<slug:tenant_slug>/", include("contracts.portal_urls")),
    path("portal/<slug:tenant_slug>/invoices/", include("billing.portal_urls")),
    path("portal/<slug:tenant_slug>/price-changes/", include("indexation.portal_urls")),
    path("portal/<slug:tenant_slug>/payments/", include("receivables.portal_urls")),
]
