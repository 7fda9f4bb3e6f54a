"""Indexation tables under row-level security: another tenant's policies, proposals, price adjustments,
events and hand-entered index values are invisible and unwritable, in the ORM and in raw SQL."""

import datetime as dt

import pytest
from django.db import connection, transaction

from indexation import services
from indexation.models import IndexationEvent, IndexationProposal, PriceAdjustment
from pricing.index_services import index_value_enter
from pricing.models import IndexationPolicy, IndexValueOverride
from tenants.audit import Actor
from tenants.tenancy import tenant_context
from tests.billing.test_services import piscator_contract
from tests.contracts.conftest import plan_for
from tests.indexation.conftest import policy

pytestmark = pytest.mark.django_db
d = dt.date
TABLES = (
    "pricing_indexationpolicy",
    "pricing_indexvalueoverride",
    "indexation_indexationproposal",
    "indexation_priceadjustment",
    "indexation_indexationevent",
)


def raw(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def test_another_tenants_indexation_rows_are_out_of_reach(kpi, tenant_a, tenant_b):
    with tenant_context(tenant_b):
        plan = plan_for("piscator")
        policy("piscator", plan)
        piscator_contract(plan, received=d(2024, 3, 4))
        services.indexation_run(as_of=d(2025, 3, 18))
        index_value_enter(
            actor=Actor.system("b"), series="kpi-services-wages-2015", month="2025-09", value="133.0",
            note="B's figure", today=d(2025, 11, 20),
        )  # fmt: skip
        theirs = {t: raw(f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}  # noqa: S608 - our own names
        assert all(n >= 1 for n in theirs.values()), theirs
        proposal = IndexationProposal.objects.get()
    with tenant_context(tenant_a):
        for table in TABLES:
            assert raw(f"SELECT count(*) FROM {table}") == [(0,)], table  # noqa: S608
        assert (
            raw("UPDATE indexation_indexationproposal SET factor = 2 WHERE id = %s RETURNING id", [proposal.pk]) == []
        )
        assert raw("DELETE FROM indexation_priceadjustment RETURNING id") == []
        with pytest.raises(Exception, match="row-level security"), transaction.atomic():
            raw(
                "INSERT INTO indexation_indexationevent (tenant_id, kind, proposal_id, payload, occurred_on, "
                "created_at) VALUES (%s, 'x', %s, '{}', now(), now())",
                [tenant_b.pk, proposal.pk],
            )
        for model in (IndexationPolicy, IndexValueOverride, IndexationProposal, PriceAdjustment, IndexationEvent):
            assert model.objects.count() == 0
        with pytest.raises(IndexationProposal.DoesNotExist):
            services.proposal_approve(actor=Actor.system("a"), proposal=proposal, on=d(2025, 3, 19))
    with tenant_context(tenant_b):
        assert IndexationProposal.objects.get().factor != 2
