from django.urls import path

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
]
