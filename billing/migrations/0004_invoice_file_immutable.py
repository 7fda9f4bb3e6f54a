"""PostgreSQL refuses changing or deleting a stored invoice document (PDF or EHF): what was sent stays
what was sent, and its SHA-256 keeps meaning something."""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION billing_invoicefile_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stored invoice document % cannot be changed or deleted', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoicefile_immutable
    BEFORE UPDATE OR DELETE ON billing_invoicefile
    FOR EACH ROW EXECUTE FUNCTION billing_invoicefile_immutable();
"""

REVERSE = """
DROP TRIGGER IF EXISTS billing_invoicefile_immutable ON billing_invoicefile;
DROP FUNCTION IF EXISTS billing_invoicefile_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_outbox_files_time_charges")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
