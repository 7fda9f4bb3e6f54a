"""An amendment (a PricedOn row) is charged at most once: the billing run's idempotency for charges."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_invoice_file_immutable"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.UniqueConstraint(fields=("priced_on",), name="charge_once_per_amendment"),
        ),
    ]
