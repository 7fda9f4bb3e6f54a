from django.urls import path

from pricing import views as pricing_views
from tenants import views_auth
from tenants import views_portal as views

app_name = "portal"
FACE = {"face": "portal"}

urlpatterns = [
    path("", views.profile, name="home"),
    path("login/", views_auth.login_view, FACE, name="login"),
    path("logout/", views_auth.logout_view, FACE, name="logout"),
    path("password-reset/", views_auth.PasswordResetView.as_view(face="portal"), name="password_reset"),
    path("password-reset/sent/", views_auth.PasswordResetDoneView.as_view(face="portal"), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views_auth.PasswordResetConfirmView.as_view(face="portal"),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views_auth.PasswordResetCompleteView.as_view(face="portal"),
        name="password_reset_complete",
    ),
    path("invoicing/", views.invoice_edit, name="invoice_edit"),
    path("contacts/", views.contact_list, name="contacts"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("prices/", pricing_views.portal_calculator, name="prices"),
    path("quotes/", pricing_views.portal_quote_list, name="quote_list"),
    path("quotes/<int:pk>/", pricing_views.portal_quote_detail, name="quote_detail"),
]
