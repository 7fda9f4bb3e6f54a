from tenants.permissions import has_permission


def tenancy(request):
    tenant = getattr(request, "tenant", None)
    membership = getattr(request, "membership", None)
    role = membership.role if membership else None

    class _Perms:
        def __getitem__(self, code):
            return has_permission(role, code.replace("_", ".", 1)) if role else False

        def __contains__(self, code):
            return self[code]

    return {
        "tenant": tenant,
        "membership": membership,
        "perms_for": _Perms(),
        "portal_user": getattr(request, "portal_user", None),
    }
