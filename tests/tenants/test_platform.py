"""Platform wiring: settings from the environment, migrations, checks, Celery tenant reset."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.test.utils import override_settings

from tenants import tenancy
from tenants.checks import check_role_is_not_privileged, check_secret_key_is_set

pytestmark = pytest.mark.django_db


def test_defaults_are_norwegian_and_oslo():
    assert settings.LANGUAGE_CODE == "nb"
    assert [code for code, _name in settings.LANGUAGES] == ["nb", "en"]
    assert settings.TIME_ZONE == "Europe/Oslo"
    assert settings.USE_TZ is True
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_the_application_role_passes_the_rls_check():
    assert check_role_is_not_privileged(None) == []


def test_development_secret_key_is_refused_for_deploy():
    with override_settings(SECRET_KEY="insecure-development-key-x"):
        assert [e.id for e in check_secret_key_is_set(None)] == ["tenants.E002"]
    with override_settings(SECRET_KEY="a-real-secret-from-the-environment-0123456789"):
        assert check_secret_key_is_set(None) == []


def test_system_checks_pass():
    assert [str(m) for m in run_checks(include_deployment_checks=False)] == []


def test_settings_come_from_the_environment():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
        "from django.conf import settings as s; "
        "print(s.SECRET_KEY, s.SECRET_KEY_FALLBACKS, s.ALLOWED_HOSTS, s.DEBUG, s.BRREG_BASE_URL)"
    )
    env = {
        "SECRET_KEY": "new-key",
        "SECRET_KEY_FALLBACKS": "old-key-1,old-key-2",
        "ALLOWED_HOSTS": "avtale.example",
        "DEBUG": "1",
        "BRREG_BASE_URL": "http://fake/brreg",
        "DATABASE_URL": "postgres://u@localhost/x",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "new-key ['old-key-1', 'old-key-2'] ['avtale.example'] True http://fake/brreg"


def test_a_celery_task_never_leaves_a_tenant_behind(tenant_a):
    from celery.signals import task_postrun

    tenancy.activate(tenant_a)
    task_postrun.send(sender=None, task_id="x", task=None)
    assert tenancy.current_tenant() is None
    assert tenancy.db_tenant_setting() == ""


def test_every_periodic_job_is_a_registered_task():
    from config.beat import BEAT_SCHEDULE
    from config.celery import app

    app.loader.import_default_modules()
    assert {entry["task"] for entry in BEAT_SCHEDULE.values()} <= set(app.tasks)
    assert {entry["task"] for entry in BEAT_SCHEDULE.values()} == {
        "tenants.tasks.customers_reverify_all",
        "contracts.tasks.run_all_jobs",
        "billing.tasks.billing_run",
        "billing.tasks.deliver_invoices",
        "billing.tasks.deliveries_send_due",
        "billing.tasks.invoices_mark_overdue",
        "pricing.tasks.index_fetch_task",
        "indexation.tasks.indexation_run",
        "receivables.tasks.collections_run",
    }
