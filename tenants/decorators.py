"""Access to the back-office and the portal of the tenant named in the URL.

Both faces answer 404 to someone who is logged in but does not belong to this tenant (the same
answer as for a vendor that does not exist); only a missing login leads to the login page.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from tenants.models import Membership, PortalUser
from tenants.permissions import has_permission


def forbidden(request, message: str = ""):
    """The back-office's 403 page."""
    return render(
        request,
        "backoffice/forbidden.html",
        {"message": message or _("Your role does not allow this.")},
        status=403,
    )


def staff_required(permission: str | None = None):
    """Let through active staff of ``request.tenant`` holding ``permission``; sets ``request.membership``.

    Not logged in → that tenant's back-office login; not staff here → 404; role lacks it → 403.
    """
    if permission is not None:
        has_permission(None, permission)  # unknown codes fail at import time, not on a request

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            tenant = request.tenant
            if not request.user.is_authenticated:
                login_url = reverse("backoffice:login", kwargs={"tenant_slug": tenant.slug})
                return redirect_to_login(request.get_full_path(), login_url)
            membership = Membership.objects.select_related("user").filter(user=request.user, is_active=True).first()
            if membership is None:
                raise Http404("Not staff of this vendor")
            request.membership = membership
            if permission is not None and not has_permission(membership.role, permission):
                return forbidden(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def portal_required(view):
    """Let through an active portal user of ``request.tenant``; sets ``request.portal_user``, ``request.customer``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        tenant = request.tenant
        if not request.user.is_authenticated:
            login_url = reverse("portal:login", kwargs={"tenant_slug": tenant.slug})
            return redirect_to_login(request.get_full_path(), login_url)
        portal_user = (
            PortalUser.objects.select_related("customer", "user")
            .filter(user=request.user, is_active=True, customer__is_active=True)
            .first()
        )
        if portal_user is None:
            raise Http404("Not a portal user of this vendor")
        request.portal_user = portal_user
        request.customer = portal_user.customer
        return view(request, *args, **kwargs)

    return wrapper
