"""PostgreSQL refuses changing or deleting an issued invoice or credit note, or its lines (RULES §10).

Once ``status`` is not ``draft``, an UPDATE may only change the columns in
``billing.models.MUTABLE_AFTER_ISSUE`` (and never back to draft); DELETE is refused. Lines of an issued
invoice cannot be inserted, updated or deleted. (TRUNCATE, used only by test teardown, is not a row event.)
"""

from django.db import migrations

SQL = r"""
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

CREATE TRIGGER billing_invoice_immutable
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_immutable();

CREATE OR REPLACE FUNCTION billing_invoiceline_immutable() RETURNS trigger AS $$
DECLARE
    parent_status text;
    parent_id bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        parent_id := OLD.invoice_id;
    ELSE
        parent_id := NEW.invoice_id;
    END IF;
    SELECT status INTO parent_status FROM billing_invoice WHERE id = parent_id;
    IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN
        RAISE EXCEPTION 'the lines of issued invoice % cannot be changed', parent_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.invoice_id <> NEW.invoice_id THEN
        SELECT status INTO parent_status FROM billing_invoice WHERE id = OLD.invoice_id;
        IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN
            RAISE EXCEPTION 'the lines of issued invoice % cannot be changed', OLD.invoice_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoiceline_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_immutable();
"""

REVERSE = """
DROP TRIGGER IF EXISTS billing_invoiceline_immutable ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoiceline_immutable();
DROP TRIGGER IF EXISTS billing_invoice_immutable ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
