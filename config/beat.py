"""Every periodic job, in one place. Each task takes an ``as_of`` date; beat passes none, so today."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "customers-reverify-nightly": {
        "task": "tenants.tasks.customers_reverify_all",
        "schedule": crontab(hour=2, minute=30),
    },
    "indexation-nightly": {
        # before the contract jobs and the billing run, so the day's new prices are in before invoicing
        "task": "indexation.tasks.indexation_run",
        "schedule": crontab(hour=0, minute=45),
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
    "invoices-deliver-nightly": {
        # after the billing run: the night's invoices go out as EHF or PDF by e-mail
        "task": "billing.tasks.deliver_invoices",
        "schedule": crontab(hour=3, minute=30),
    },
    "deliveries-retry": {
        # failed deliveries come due again 5 min, 30 min, 2 h and 12 h after a failure
        "task": "billing.tasks.deliveries_send_due",
        "schedule": crontab(minute="*/5"),
    },
    "invoices-overdue-nightly": {
        "task": "billing.tasks.invoices_mark_overdue",
        "schedule": crontab(hour=3, minute=45),
    },
    "collections-nightly": {
        # after the overdue job: payment defaults (lifted by last night's payments, or acted on), reminders,
        # then interest invoices (delivered by the next delivery run or the retry loop)
        "task": "receivables.tasks.collections_run",
        "schedule": crontab(hour=4, minute=0),
    },
    "index-fetch-monthly": {
        # SSB publishes KPI for a month around the 10th of the next; the 11th at 09:00 (Oslo) is after that
        "task": "pricing.tasks.index_fetch_task",
        "schedule": crontab(day_of_month=11, hour=9, minute=0),
    },
}
