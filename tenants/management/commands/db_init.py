"""Create the application's database role and database on a real PostgreSQL server.

    DATABASE_URL=postgres://avtale_app:secret@127.0.0.1:5432/avtale \
        python manage.py db_init --admin-url postgres://postgres@127.0.0.1:5432/postgres

The role (user of DATABASE_URL) is created NOSUPERUSER NOBYPASSRLS, so row-level security applies
to it; CREATEDB lets the test runner create its test databases. Idempotent.
"""

import os

import dj_database_url
import psycopg
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql

from config.database import bootstrap_sql


class Command(BaseCommand):
    help = "Create the unprivileged application role and database (run once per server; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--admin-url", default=os.environ.get("DATABASE_ADMIN_URL"))

    def handle(self, *args, **options):
        admin_url = options["admin_url"]
        app_url = os.environ.get("DATABASE_URL")
        if not admin_url or not app_url:
            raise CommandError("Set DATABASE_URL (the app's role) and --admin-url / DATABASE_ADMIN_URL (a superuser).")
        app = dj_database_url.parse(app_url)
        role, password, database = app["USER"], app.get("PASSWORD") or None, app["NAME"]
        try:
            statements = bootstrap_sql(role, password, database)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(statements[0])
            conn.execute(statements[1])
            if conn.execute(statements[2]).fetchone() is None:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(role))
                )
                self.stdout.write(f"Created database {database}")
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(role))
            )
        self.stdout.write(
            self.style.SUCCESS(f"Role {role} (no superuser, no BYPASSRLS) and database {database} ready.")
        )
