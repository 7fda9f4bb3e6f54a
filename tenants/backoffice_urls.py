from django.urls import path

from catalog import views as catalog_views
from pricing import views as pricing_views
from tenants import views_auth
from tenants import views_backoffice as views

app_name = "backoffice"
FACE = {"face": "backoffice"}

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("login/", views_auth.login_view, FACE, name="login"),
    path("logout/", views_auth.logout_view, FACE, name="logout"),
    path("password-reset/", views_auth.PasswordResetView.as_view(face="backoffice"), name="password_reset"),
    path(
        "password-reset/sent/", views_auth.PasswordResetDoneView.as_view(face="backoffice"), name="password_reset_done"
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views_auth.PasswordResetConfirmView.as_view(face="backoffice"),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views_auth.PasswordResetCompleteView.as_view(face="backoffice"),
        name="password_reset_complete",
    ),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/lookup/", views.customer_lookup, name="customer_lookup"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/verify/", views.customer_verify, name="customer_verify"),
    path("customers/<int:pk>/delete/", views.customer_delete, name="customer_delete"),
    path("customers/<int:customer_pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("customers/<int:customer_pk>/portal-users/new/", views.portal_user_create, name="portal_user_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("portal-users/<int:pk>/deactivate/", views.portal_user_deactivate, name="portal_user_deactivate"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/add/", views.staff_add, name="staff_add"),
    path("staff/<int:pk>/role/", views.staff_set_role, name="staff_set_role"),
    path("staff/<int:pk>/remove/", views.staff_remove, name="staff_remove"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("audit/", views.audit_log, name="audit_log"),
    path("settings/", views.tenant_edit, name="tenant_edit"),
    # catalogue (issue 3)
    path("catalog/", catalog_views.catalog_overview, name="catalog"),
    path("catalog/products/new/", catalog_views.product_create, name="product_create"),
    path("catalog/products/<int:pk>/edit/", catalog_views.product_edit, name="product_edit"),
    path("catalog/products/<int:product_pk>/addons/new/", catalog_views.addon_create, name="addon_create"),
    path("catalog/addons/<int:pk>/edit/", catalog_views.addon_edit, name="addon_edit"),
    path("catalog/hourly/new/", catalog_views.hourly_create, name="hourly_create"),
    path("catalog/hourly/<int:pk>/edit/", catalog_views.hourly_edit, name="hourly_edit"),
    path("catalog/categories/new/", catalog_views.category_create, name="category_create"),
    path("catalog/categories/<int:pk>/edit/", catalog_views.category_edit, name="category_edit"),
    path("catalog/standards/", catalog_views.standard_list, name="standard_list"),
    path("catalog/standards/import/", catalog_views.standards_import, name="standards_import"),
    # plans, calculator and quotes (issue 3)
    path("plans/", pricing_views.plan_list, name="plan_list"),
    path("plans/import/", pricing_views.version_import, name="version_import"),
    path("plans/<int:pk>/", pricing_views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/versions/new/", pricing_views.version_create, name="version_create"),
    path("plans/versions/<int:pk>/", pricing_views.version_detail, name="version_detail"),
    path("plans/versions/<int:pk>/export/", pricing_views.version_export, name="version_export"),
    path("calculator/", pricing_views.calculator, name="quote_calculator"),
    path("quotes/", pricing_views.quote_list, name="quote_list"),
    path("quotes/<int:pk>/", pricing_views.quote_detail, name="quote_detail"),
]
