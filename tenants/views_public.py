from django.shortcuts import render

from tenants.models import Tenant


def home(request):
    """The platform's front page: which vendors run on Avtale, with links to their back-office and portal."""
    return render(request, "home.html", {"vendors": Tenant.objects.filter(is_active=True).order_by("name")})
