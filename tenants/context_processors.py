"""Template context for both faces: the tenant, who is acting, and what their role allows."""

from django.conf import settings

from tenants.permissions import PERMISSIONS, has_permission


def tenancy(request):
    tenant = getattr(request, "tenant", None)
    membership = getattr(request, "membership", None)
    role = membership.role if membership else None
    # ``can.customer_edit`` in templates ⇔ has_permission(role, "customer.edit"): the one table decides.
    can = {code.replace(".", "_"): bool(role) and has_permission(role, code) for code in PERMISSIONS}
    return {
        "tenant": tenant,
        "membership": membership,
        "can": can,
        "portal_user": getattr(request, "portal_user", None),
        "customer_self": getattr(request, "customer", None),
        "languages": settings.LANGUAGES,
    }
