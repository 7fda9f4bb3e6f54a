"""The issued-invoice guard compares rows, not their JSON: a copy of the new row with the columns that may
change (``billing.models.MUTABLE_AFTER_ISSUE``) set back to the old values must equal the old row. The same
rule as 0002's, without building a JSON document of every row updated (a bank file of 100 000 payments
updates 100 000 invoices, each carrying its stored document)."""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION billing_invoice_immutable() RETURNS trigger AS $$
DECLARE
    kept billing_invoice;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'issued invoice % cannot be deleted; credit it instead', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' THEN
        IF NEW.status = 'draft' THEN
            RAISE EXCEPTION 'issued invoice % cannot go back to draft', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        kept := NEW;
        kept.status := OLD.status;
        kept.sent_at := OLD.sent_at;
        kept.paid_amount := OLD.paid_amount;
        kept.credited_amount := OLD.credited_amount;
        IF kept IS DISTINCT FROM OLD THEN
            RAISE EXCEPTION 'issued invoice % cannot be changed; issue a credit note', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

REVERSE = r"""
CREATE OR REPLACE FUNCTION billing_invoice_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'issued invoice % cannot be deleted; credit it instead', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' THEN
        IF NEW.status = 'draft' THEN
            RAISE EXCEPTION 'issued invoice % cannot go back to draft', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF (to_jsonb(NEW) - 'status' - 'sent_at' - 'paid_amount' - 'credited_amount')
           IS DISTINCT FROM (to_jsonb(OLD) - 'status' - 'sent_at' - 'paid_amount' - 'credited_amount') THEN
            RAISE EXCEPTION 'issued invoice % cannot be changed; issue a credit note', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0007_invoice_purpose")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
