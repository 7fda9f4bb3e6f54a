"""Database connection settings.

With ``DATABASE_URL`` set, the application connects with it: that role must be neither
superuser nor BYPASSRLS (``manage.py db_init`` creates it; a system check refuses anything else),
so PostgreSQL's row-level security applies to every query the application makes.

Without ``DATABASE_URL`` an embedded PostgreSQL 16 (the ``pgserver`` wheel) starts in
``var/pgdata`` inside the project, and the same unprivileged role and database are created in it.
The embedded server's superuser is only used for that bootstrap.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import dj_database_url

APP_ROLE = "avtale_app"
APP_DATABASE = "avtale"


IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def bootstrap_sql(role: str, password: str | None, database: str) -> list[str]:
    """SQL (run as a superuser) that creates the unprivileged application role and its database.

    Identifiers are checked against a strict pattern first: they are our own settings, never user input.
    """
    for name in (role, database):
        if not IDENTIFIER.match(name):
            raise ValueError(f"Not a plain PostgreSQL identifier: {name!r}")
    if password and "'" in password:
        raise ValueError("The database password may not contain a quote")
    pw = f" PASSWORD '{password}'" if password else ""
    return [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB NOCREATEROLE{pw}; END IF; END $$;",
        f"ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS CREATEDB;",
        f"SELECT 1 FROM pg_database WHERE datname = '{database}'",  # noqa: S608
    ]


def _embedded(base_dir: Path) -> dict:
    runtime = base_dir / "var" / "run"
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import pgserver  # imported here: only needed without DATABASE_URL

    data_dir = Path(os.environ.get("AVTALE_PGDATA", base_dir / "var" / "pgdata"))
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir)
    for statement in bootstrap_sql(APP_ROLE, None, APP_DATABASE)[:2]:
        server.psql(statement)
    exists = server.psql(bootstrap_sql(APP_ROLE, None, APP_DATABASE)[2])
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_ROLE}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": APP_DATABASE,
        "USER": APP_ROLE,
        "HOST": str(data_dir),
        "PORT": "",
    }


def database_settings(base_dir: Path) -> dict:
    url = os.environ.get("DATABASE_URL")
    config = dj_database_url.parse(url) if url else _embedded(base_dir)
    config.update(
        {
            "ENGINE": "django.db.backends.postgresql",
            "CONN_MAX_AGE": int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
            "ATOMIC_REQUESTS": False,
            "OPTIONS": {**config.get("OPTIONS", {}), "options": "-c timezone=UTC"},
            # Lets several test runs share one server (each xdist worker adds its own suffix).
            "TEST": {"NAME": os.environ.get("AVTALE_TEST_DB") or None},
        }
    )
    return config
