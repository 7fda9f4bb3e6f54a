from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self):
        from tenants import checks, rls  # noqa: F401  (registers system checks)

        post_migrate.connect(rls.on_post_migrate, sender=self)
