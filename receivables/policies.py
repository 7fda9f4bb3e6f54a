"""Which collection rules apply: the contract's own, else its plan's, else the tenant's default, else the
built-in rules (:data:`BUILT_IN`), never saved. One place, used by the reminder, interest and default jobs
and every face that explains them.
"""

from __future__ import annotations

from decimal import Decimal

from contracts.models import Contract
from receivables.models import CollectionPolicy, DefaultAction, InterestConvention, InterestInvoicing, SuspendConfirm

# The usual Norwegian practice for business customers (see receivables.rules): a reminder 14 days after the
# due date with the reminder fee allowed on its date, then the written reminder with 14 days to pay
# (inkassoloven § 9), then a final notice. Simple statutory interest, invoiced when the invoice is paid.
DEFAULT_STEPS = [
    {"kind": "reminder", "after_days": 14, "days_to_pay": 14, "fee": "reminder"},
    {"kind": "warning", "after_days": 1, "days_to_pay": 14, "fee": "none"},
    {"kind": "final", "after_days": 1, "days_to_pay": 14, "fee": "none"},
]


def built_in() -> CollectionPolicy:
    """The rules for a tenant that has set none (an unsaved policy)."""
    return CollectionPolicy(
        name="Standard",
        interest=InterestConvention.SIMPLE,
        interest_invoicing=InterestInvoicing.ON_PAYMENT,
        interest_minimum=Decimal("0.00"),
        dunning_steps=list(DEFAULT_STEPS),
        default_action=DefaultAction.NONE,
        default_after_days=45,
        suspend_notice_business_days=14,
        suspend_confirm=SuspendConfirm.STAFF,
        material_breach_days=None,
    )


class PolicyCache:
    """The policies of the current tenant, read once (a job over many contracts asks many times)."""

    def __init__(self):
        policies = list(CollectionPolicy.objects.all())
        self.by_id = {p.pk: p for p in policies}
        self.by_plan = {p.plan_id: p for p in policies if p.plan_id is not None}
        self.default = next((p for p in policies if p.plan_id is None), None) or built_in()

    def for_contract(self, contract: Contract | None) -> CollectionPolicy:
        if contract is None:
            return self.default
        if contract.collection_policy_id:
            return self.by_id[contract.collection_policy_id]
        return self.by_plan.get(contract.plan_id, self.default)

    def for_invoice(self, invoice) -> CollectionPolicy:
        return self.for_contract(invoice.contract if invoice.contract_id else None)


def policy_for(contract: Contract | None) -> CollectionPolicy:
    """The rules that apply to ``contract`` (``None``: an invoice without a contract — the tenant's)."""
    return PolicyCache().for_contract(contract)


def policy_for_invoice(invoice) -> CollectionPolicy:
    return PolicyCache().for_invoice(invoice)
