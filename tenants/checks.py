"""System checks: the application's database role must be subject to row-level security."""

from django.core.checks import Error, Tags, register
from django.db import connection


@register(Tags.database, deploy=True)
def check_role_is_not_privileged(app_configs, **kwargs):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        superuser, bypass = cursor.fetchone()
    if superuser or bypass:
        return [
            Error(
                "The application connects as a PostgreSQL superuser or BYPASSRLS role, so row-level "
                "security would not apply.",
                hint="Point DATABASE_URL at the role created by `manage.py db_init`.",
                id="tenants.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_secret_key_is_set(app_configs, **kwargs):
    from django.conf import settings

    if settings.SECRET_KEY.startswith("insecure-development-key"):
        return [
            Error(
                "SECRET_KEY is the development default.",
                hint="Set SECRET_KEY in the environment (and SECRET_KEY_FALLBACKS while rotating).",
                id="tenants.E002",
            )
        ]
    return []
