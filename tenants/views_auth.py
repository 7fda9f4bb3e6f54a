"""Logging in and out of a tenant's back-office or portal, and password reset by e-mail.

The two faces share these views; ``face`` ("backoffice" or "portal") picks who may log in and
which URLs and templates are used. Credentials go through ``authenticate(request=...)`` so
django-axes counts failures and locks a user name + address out (status 429, auth/locked_out.html).
Someone whose password is right but who does not belong to this face of this tenant gets the
same message as a wrong password, and the attempt counts as a failure.
"""

from __future__ import annotations

from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from tenants.forms import LoginForm, TenantPasswordResetForm
from tenants.models import Membership, PortalUser, User

FACES = ("backoffice", "portal")
BAD_LOGIN = gettext_lazy("The e-mail address or the password is wrong.")


def belongs_to_face(user: User, face: str) -> bool:
    """Is ``user`` active staff (back-office) or an active portal user (portal) of the current tenant?"""
    if face == "backoffice":
        return Membership.objects.filter(user=user, is_active=True).exists()
    return PortalUser.objects.filter(user=user, is_active=True, customer__is_active=True).exists()


def face_home(face: str, tenant) -> str:
    return reverse(f"{face}:home", kwargs={"tenant_slug": tenant.slug})


def _safe_next(request, face: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    prefix = f"/{face}/{request.tenant.slug}/"
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return face_home(face, request.tenant)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request, tenant_slug: str, face: str):
    tenant = request.tenant
    if request.user.is_authenticated and belongs_to_face(request.user, face) and request.method == "GET":
        return redirect(_safe_next(request, face))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            email = form.cleaned_data["email"].lower()
            user = auth.authenticate(request, email=email, password=form.cleaned_data["password"])
            if user is not None and belongs_to_face(user, face):
                auth.login(request, user)
                return redirect(_safe_next(request, face))
            if user is not None:
                # Right password, wrong place: say nothing more than for a wrong password, and count it.
                user_login_failed.send(sender=__name__, credentials={"email": email}, request=request)
            form.add_error(None, BAD_LOGIN)
    return render(
        request,
        f"{face}/login.html",
        {"form": form, "face": face, "next": request.GET.get("next", ""), "tenant": tenant},
        status=status,
    )


@require_POST
def logout_view(request, tenant_slug: str, face: str):
    auth.logout(request)
    messages.success(request, _("You are logged out."))
    return redirect(reverse(f"{face}:login", kwargs={"tenant_slug": tenant_slug}))


class _FaceMixin:
    """Tenant- and face-scoped templates and redirects for Django's password reset views."""

    face = "backoffice"

    def get_template_names(self):
        return [f"auth/{self.template_suffix}.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update({"face": self.face, "base_template": f"{self.face}/base_public.html"})
        return context

    def url(self, name: str, **kwargs) -> str:
        return reverse(f"{self.face}:{name}", kwargs={"tenant_slug": self.request.tenant.slug, **kwargs})


class PasswordResetView(_FaceMixin, auth_views.PasswordResetView):
    template_suffix = "password_reset_form"
    form_class = TenantPasswordResetForm
    email_template_name = "auth/email/password_reset.txt"
    subject_template_name = "auth/email/password_reset_subject.txt"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "face": self.face}

    def form_valid(self, form):
        self.extra_email_context = {"tenant": self.request.tenant, "face": self.face, "invite": False}
        return super().form_valid(form)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_success_url(self):
        return self.url("password_reset_done")


class PasswordResetDoneView(_FaceMixin, auth_views.PasswordResetDoneView):
    template_suffix = "password_reset_done"


class PasswordResetConfirmView(_FaceMixin, auth_views.PasswordResetConfirmView):
    template_suffix = "password_reset_confirm"

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # A link is only good on the face and tenant it was sent for.
        return user if user is not None and belongs_to_face(user, self.face) else None

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_success_url(self):
        return self.url("password_reset_complete")


class PasswordResetCompleteView(_FaceMixin, auth_views.PasswordResetCompleteView):
    template_suffix = "password_reset_complete"


def send_password_link(request, user: User, face: str, *, invite: bool) -> None:
    """E-mail ``user`` a link to set their password on ``face`` of the current tenant.

    The same signed, single-use link as a password reset; ``invite`` changes the wording for a new login.
    """
    form = TenantPasswordResetForm(data={"email": user.email}, face=face)
    if not form.is_valid():  # pragma: no cover - the address comes from our own user row
        return
    form.save(
        request=request,
        use_https=request.is_secure(),
        email_template_name="auth/email/password_reset.txt",
        subject_template_name="auth/email/password_reset_subject.txt",
        extra_email_context={"tenant": request.tenant, "face": face, "invite": invite},
    )
