"""The five vendors' collection rules, as their documents say (RULES §4, §5, §8) or, where they are silent,
as a Norwegian vendor of their kind would choose. Used by the demo and as examples for new tenants.

- Piscator (SSA-L): interest compounded on 31 December, invoiced when the late invoice is paid; in default
  14 days after the due date a notice that service stops in 14 business days unless paid in full with
  interest, then suspension; default beyond 30 days is a material breach.
- DigiReq: statutory interest invoiced monthly; an invoice unpaid 45 days after its due date pauses the
  account (data kept 90 days).
- Spekter: schools and municipalities: reminders without fees, interest shown but not invoiced.
- Standard Norge, Identum: the usual reminders with the statutory fee, interest invoiced on payment.
"""

from __future__ import annotations

from decimal import Decimal

from receivables.models import DefaultAction, InterestConvention, InterestInvoicing, SuspendConfirm
from receivables.policies import DEFAULT_STEPS

NO_FEE_STEPS = [{**step, "fee": "none"} for step in DEFAULT_STEPS]

PRESETS: dict[str, dict] = {
    "spekter": {
        "name": "Skoler og kommuner",
        "interest": InterestConvention.SIMPLE,
        "interest_invoicing": InterestInvoicing.NEVER,
        "dunning_steps": NO_FEE_STEPS,
    },
    "standard-norge": {
        "name": "Standardlisenser",
        "interest": InterestConvention.SIMPLE,
        "interest_invoicing": InterestInvoicing.ON_PAYMENT,
        "interest_minimum": Decimal("50.00"),
        "dunning_steps": DEFAULT_STEPS,
    },
    "piscator": {
        "name": "SSA-L",
        "interest": InterestConvention.SSAL,
        "interest_invoicing": InterestInvoicing.ON_PAYMENT,
        "dunning_steps": DEFAULT_STEPS,
        "default_action": DefaultAction.SUSPEND,
        "default_after_days": 14,
        "suspend_notice_business_days": 14,
        "suspend_confirm": SuspendConfirm.AUTOMATIC,
        "material_breach_days": 30,
    },
    "digireq": {
        "name": "DigiReq abonnement",
        "interest": InterestConvention.SIMPLE,
        "interest_invoicing": InterestInvoicing.MONTHLY,
        "interest_minimum": Decimal("25.00"),
        "dunning_steps": [
            {"kind": "reminder", "after_days": 14, "days_to_pay": 14, "fee": "reminder"},
            {"kind": "warning", "after_days": 1, "days_to_pay": 14, "fee": "none"},
        ],
        "default_action": DefaultAction.PAUSE,
        "default_after_days": 45,
    },
    "identum": {
        "name": "Identum eAdm",
        "interest": InterestConvention.SIMPLE,
        "interest_invoicing": InterestInvoicing.ON_PAYMENT,
        "interest_minimum": Decimal("50.00"),
        "dunning_steps": DEFAULT_STEPS,
    },
}
