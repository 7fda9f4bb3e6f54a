"""``manage.py create_api_key --tenant <slug> --name <name> [--scope read|read_write]``: print a new key.

The key is shown once (only its hash is stored). It is made by the same service as in the
back-office, inside the tenant's context, and audited as the system actor.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants import services
from tenants.audit import Actor
from tenants.models import ApiKeyScope, Tenant
from tenants.tenancy import tenant_context


class Command(BaseCommand):
    help = "Create an API key for a tenant and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. the system that will use it.")
        parser.add_argument(
            "--scope", default=ApiKeyScope.READ, choices=ApiKeyScope.values, help="read (default) or read_write."
        )

    def handle(self, *args, tenant: str, name: str, scope: str, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        try:
            with tenant_context(found):
                key, raw_key = services.api_key_create(
                    actor=Actor.system("manage.py create_api_key"), name=name, scope=scope
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"API key {key.name!r} ({key.scope}) for {found.name} ({found.slug}), prefix {key.prefix}:")
        self.stdout.write(raw_key)
        self.stdout.write("Store it now: it is not shown again. Send it as 'Authorization: Bearer <key>'.")
