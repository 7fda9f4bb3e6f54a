import datetime as dt
from decimal import Decimal as D

import pytest

from indexation import services
from indexation.models import IndexationProposal, PriceAdjustment
from tenants.tenancy import tenant_context
from tests.billing.test_services import piscator_contract
from tests.contracts.conftest import plan_for
from tests.indexation.conftest import policy

pytestmark = pytest.mark.django_db
d = dt.date


def test_piscator_first_anniversary(kpi, tenant_a):
    with tenant_context(tenant_a):
        plan = plan_for("piscator")
        policy("piscator", plan)
        contract = piscator_contract(plan, received=d(2024, 3, 4))
        print(contract.start_date, contract.signed_on, contract.state)
        report = services.indexation_run(as_of=contract.start_date.replace(year=2025))
        print(report.summary())
        p = IndexationProposal.objects.get()
        print(p.status, p.explanation_nb, p.old_amount, p.new_amount)
        assert PriceAdjustment.objects.count() == 1
