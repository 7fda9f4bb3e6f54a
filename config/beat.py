"""Every periodic job, in one place. Each task takes an ``as_of`` date; beat passes none, so today."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "customers-reverify-nightly": {
        "task": "tenants.tasks.customers_reverify_all",
        "schedule": crontab(hour=2, minute=30),
    },
    "contracts-nightly": {
        "task": "contracts.tasks.run_all_jobs",
        "schedule": crontab(hour=1, minute=15),
    },
    "billing-run-nightly": {
        # after the contract jobs, so renewals and ends of the day are in before invoicing
        "task": "billing.tasks.billing_run",
        "schedule": crontab(hour=3, minute=0),
    },
}
