"""Sets the current tenant for back-office and portal URLs (``<tenant_slug>`` in the path).

The API sets it in ``ApiKeyAuthentication``. Whatever set it, it is cleared when the response
is done, so a connection kept for the next request carries no tenant (fail closed).
"""

from django.http import Http404

from tenants import tenancy
from tenants.models import Tenant


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        try:
            return self.get_response(request)
        finally:
            tenancy.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("tenant_slug")
        if slug is None:
            return None
        tenant = Tenant.objects.filter(slug=slug, is_active=True).first()
        if tenant is None:
            raise Http404("No such vendor")
        request.tenant = tenant
        tenancy.activate(tenant)
        return None
