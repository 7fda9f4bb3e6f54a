"""The Celery app. Periodic jobs are declared in one place: ``config/beat.py``."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("avtale")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _beat_schedule():
    from config.beat import BEAT_SCHEDULE

    return BEAT_SCHEDULE


app.conf.beat_schedule = _beat_schedule()


@task_prerun.connect(weak=False)
@task_postrun.connect(weak=False)
def _clear_tenant(**_kwargs):
    """A worker's connection outlives its tasks: no task starts or ends with a tenant set."""
    from tenants import tenancy

    tenancy.deactivate()
