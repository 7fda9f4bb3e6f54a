"""Tenant isolation in PostgreSQL itself: row-level security, fail closed, no carry-over."""

import pytest
from django.db import connection

from tenants import tenancy
from tenants.models import Contact, Customer, Tenant
from tenants.rls import tenant_owned_tables
from tenants.tenancy import NoTenantError, tenant_context

pytestmark = pytest.mark.django_db


def raw(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def test_application_role_is_neither_superuser_nor_bypassrls():
    assert raw("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user") == [(False, False)]


def test_every_table_with_a_tenant_column_has_forced_rls():
    tables_with_tenant = {
        row[0]
        for row in raw(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'tenant_id'"
        )
    }
    assert tables_with_tenant == set(tenant_owned_tables())
    flags = raw(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)",
        [list(tables_with_tenant)],
    )
    assert sorted(flags) == sorted((t, True, True) for t in tables_with_tenant)


def test_raw_sql_in_a_tenant_context_sees_only_that_tenants_rows(two_tenants):
    a, b = two_tenants["alpha"], two_tenants["beta"]
    with tenant_context(a["tenant"]):
        names = [r[0] for r in raw("SELECT name FROM tenants_customer")]
        assert names == ["Customer of alpha"]
        assert raw("SELECT count(*) FROM tenants_contact WHERE id = %s", [b["contact"].pk]) == [(0,)]
        # Even naming B's tenant explicitly returns nothing.
        assert raw("SELECT count(*) FROM tenants_customer WHERE tenant_id = %s", [b["tenant"].pk]) == [(0,)]


def test_raw_sql_cannot_write_into_another_tenant(two_tenants):
    a, b = two_tenants["alpha"], two_tenants["beta"]
    with tenant_context(a["tenant"]):
        assert raw("UPDATE tenants_customer SET name = 'stolen' WHERE id = %s RETURNING id", [b["customer"].pk]) == []
        with pytest.raises(Exception, match="row-level security"):
            with connection.cursor() as cursor:
                from django.db import transaction

                with transaction.atomic():
                    cursor.execute(
                        "INSERT INTO tenants_contact (tenant_id, customer_id, name, title, email, phone, role, "
                        "created_at) VALUES (%s, %s, 'x', '', '', '', 'other', now())",
                        [b["tenant"].pk, b["customer"].pk],
                    )
    with tenant_context(b["tenant"]):
        assert Customer.objects.get(pk=b["customer"].pk).name == "Customer of beta"


def test_without_a_tenant_tables_return_nothing_and_the_orm_refuses(two_tenants):
    assert tenancy.db_tenant_setting() == ""
    assert raw("SELECT count(*) FROM tenants_customer") == [(0,)]
    assert raw("SELECT count(*) FROM tenants_contact") == [(0,)]
    with pytest.raises(NoTenantError):
        list(Customer.objects.all())
    # The explicit unscoped manager is still held back by PostgreSQL.
    assert Customer.unscoped.count() == 0
    assert Tenant.objects.count() == 2


def test_orm_filters_in_code_too(two_tenants):
    a = two_tenants["alpha"]
    with tenant_context(a["tenant"]):
        assert list(Customer.objects.values_list("name", flat=True)) == ["Customer of alpha"]
        assert list(Contact.objects.values_list("name", flat=True)) == ["Contact of alpha"]
        assert Customer.objects.filter(pk=two_tenants["beta"]["customer"].pk).count() == 0


def test_context_is_restored_and_nested_contexts_unwind(two_tenants):
    a, b = two_tenants["alpha"]["tenant"], two_tenants["beta"]["tenant"]
    with tenant_context(a):
        with tenant_context(b):
            assert tenancy.db_tenant_setting() == str(b.pk)
        assert tenancy.db_tenant_setting() == str(a.pk)
        assert tenancy.current_tenant() == a
    assert tenancy.db_tenant_setting() == ""
    assert tenancy.current_tenant() is None


def test_context_is_cleared_when_the_block_raises(two_tenants):
    a = two_tenants["alpha"]["tenant"]
    with pytest.raises(ZeroDivisionError), tenant_context(a):
        1 / 0  # noqa: B018
    assert tenancy.db_tenant_setting() == ""
    assert raw("SELECT count(*) FROM tenants_customer") == [(0,)]


def test_new_rows_take_the_current_tenant_and_fail_without_one(two_tenants):
    a = two_tenants["alpha"]
    with tenant_context(a["tenant"]):
        contact = Contact.objects.create(customer=a["customer"], name="Ny")
        assert contact.tenant_id == a["tenant"].pk
    with pytest.raises(NoTenantError):
        Contact(customer=a["customer"], name="Orphan")
