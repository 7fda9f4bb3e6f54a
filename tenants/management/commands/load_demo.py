"""Load the five seed vendors as tenants with their data, and replay the jobs (idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from demo.loader import load
from demo.vendors import DEMO_PASSWORD
from tenants.jobs import parse_as_of


class Command(BaseCommand):
    help = "Load the demo tenants, staff, customers and API keys; replay the jobs up to --as-of (default today)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="business date to replay up to (YYYY-MM-DD)")
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the logins")

    def handle(self, *args, **options):
        as_of = parse_as_of(options["as_of"])
        summary = load(as_of)
        created = ", ".join(f"{n} {what}" for what, n in summary.created.items()) or "nothing new (already loaded)"
        self.stdout.write(self.style.SUCCESS(f"Demo loaded as of {as_of.isoformat()}: {created}."))
        if options["quiet_logins"]:
            return
        base = settings.BASE_URL.rstrip("/")
        w = self.stdout.write
        w("")
        w(f"All demo passwords: {DEMO_PASSWORD}")
        w(f"Platform operator (Django admin): {base}/operator/  {summary.operator}")
        w(f"API docs: {base}/api/docs/   (send 'Authorization: Bearer <key>')")
        for t in summary.tenants:
            w("")
            w(f"== {t['name']}")
            w(f"   back-office: {base}/backoffice/{t['slug']}/")
            for role, email in t["staff"]:
                w(f"      {role:<8} {email}")
            w(f"   portal:      {base}/portal/{t['slug']}/")
            for login in t["portal"]:
                w(f"      {login}")
            w(f"   API key:     {t['api_key']}")
