import pytest
from django.utils import translation

from tenants.tenancy import tenant_context
from tests.factories import ContactFactory, CustomerFactory, TenantFactory

pytest_plugins = ["tests.fixtures_fakes"]


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Throttle counters must not leak between tests (or test runs) through a shared Redis.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def _default_language():
    """A request with Accept-Language: en must not leave English active for the next test."""
    yield
    translation.activate("nb")


@pytest.fixture
def tenant_a(db):
    return TenantFactory(slug="alpha", name="Alpha AS")


@pytest.fixture
def tenant_b(db):
    return TenantFactory(slug="beta", name="Beta AS")


@pytest.fixture
def two_tenants(tenant_a, tenant_b):
    """Two tenants, each with a customer and a contact."""
    data = {}
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            customer = CustomerFactory(name=f"Customer of {tenant.slug}")
            contact = ContactFactory(customer=customer, name=f"Contact of {tenant.slug}")
        data[tenant.slug] = {"tenant": tenant, "customer": customer, "contact": contact}
    return data
