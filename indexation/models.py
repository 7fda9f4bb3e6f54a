"""CPI indexation as it happens: proposals (what a price becomes, previewed, approved, applied) and the
price adjustments they leave on contracts. The rules are pure (:mod:`pricing.indexation`); series,
values and policies are pricing data (:mod:`pricing.models`); services here are the only writers.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract
from pricing.models import IndexationPolicy, IndexSeries, Plan, PlanVersion
from tenants.models import TenantOwned


class ProposalStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for the index")
    PROPOSED = "proposed", _("Awaiting approval")
    APPROVED = "approved", _("Approved, takes effect on its date")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn (contract ended first)")


OPEN_STATUSES = (ProposalStatus.WAITING, ProposalStatus.PROPOSED, ProposalStatus.APPROVED)


class IndexationProposal(TenantOwned):
    """One indexation on one date of one thing: a contract's price, a plan's list, or the catalogue.

    Created by the job (or by staff, for an increase above the index), waiting while an index month is
    missing, then proposed with its preview; approved by staff or automatically as the policy says; on
    its effective date applied as a new price version (never by editing history). Unique per target and
    date, so two jobs at once make one proposal, and approving twice makes one price.
    """

    policy = models.ForeignKey(IndexationPolicy, on_delete=models.PROTECT, related_name="proposals")
    scope = models.CharField(max_length=12)  # contract | list | catalogue (the policy's, kept as it was)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, null=True, blank=True, related_name="indexations")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="indexations")
    effective_on = models.DateField(_("takes effect"))
    status = models.CharField(_("status"), max_length=10, choices=ProposalStatus.choices)

    # Inputs, recorded as used: which series, which base, which months and values.
    series = models.ForeignKey(IndexSeries, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    base = models.CharField(max_length=20, blank=True)
    reference_month = models.DateField(null=True, blank=True)
    new_month = models.DateField(null=True, blank=True)
    reference_value = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    new_value = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    index_factor = models.DecimalField(max_digits=12, decimal_places=8, null=True, blank=True)
    requested_factor = models.DecimalField(max_digits=12, decimal_places=8, null=True, blank=True)
    factor = models.DecimalField(_("factor"), max_digits=12, decimal_places=8, null=True, blank=True)
    capped = models.BooleanField(default=False)
    above_cap = models.BooleanField(default=False)
    kept = models.BooleanField(default=False)
    rounding = models.DecimalField(max_digits=3, decimal_places=2, default="0.01")

    # The preview: the yearly price before and after (contract: its period price × periods a year;
    # list and catalogue: the sum over what they index), and how many customers it touches.
    old_amount = models.DecimalField(_("yearly price before"), max_digits=16, decimal_places=2, null=True, blank=True)
    new_amount = models.DecimalField(_("yearly price after"), max_digits=16, decimal_places=2, null=True, blank=True)
    customers_affected = models.PositiveIntegerField(default=0)

    notice_by = models.DateField(_("customer told by"), null=True, blank=True)
    notice_sent_on = models.DateField(_("notice sent"), null=True, blank=True)
    may_terminate = models.BooleanField(_("customer may terminate"), default=False)
    late_notice = models.BooleanField(default=False)
    explanation_nb = models.TextField(blank=True)
    explanation_en = models.TextField(blank=True)
    waiting_nb = models.CharField(max_length=300, blank=True)
    waiting_en = models.CharField(max_length=300, blank=True)

    decided_by = models.CharField(max_length=200, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    applied_on = models.DateField(null=True, blank=True)
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_on = models.DateField()  # the job's as-of date
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-effective_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "contract", "effective_on"], condition=Q(contract__isnull=False),
                name="indexation_one_per_contract_date",
            ),
            models.UniqueConstraint(
                fields=["tenant", "policy", "effective_on"], condition=Q(contract__isnull=True),
                name="indexation_one_per_policy_date",
            ),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["tenant", "status", "effective_on"], name="indexation_tenant_status"),
            models.Index(fields=["tenant", "policy", "effective_on"], name="indexation_tenant_policy"),
        ]

    def __str__(self) -> str:
        what = self.contract.reference if self.contract_id else self.policy.name
        return f"{what} {self.effective_on.isoformat()}"

    @property
    def explanation(self) -> str:
        return self.explanation_en if (get_language() or "nb").startswith("en") else self.explanation_nb

    @property
    def waiting_reason(self) -> str:
        return self.waiting_en if (get_language() or "nb").startswith("en") else self.waiting_nb

    @property
    def change_percent(self):
        from decimal import Decimal

        return None if self.factor is None else ((self.factor - 1) * 100).quantize(Decimal("0.01"))

    @property
    def revenue_effect(self):
        if self.old_amount is None or self.new_amount is None:
            return None
        return self.new_amount - self.old_amount


class PriceAdjustment(TenantOwned):
    """A contract's price from ``effective_from``: the plan's prices × each adjustment so far, each step
    rounded once as it was (``rounding``). Never edited: the history is the rows."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="price_adjustments")
    effective_from = models.DateField(_("from"))
    factor = models.DecimalField(max_digits=12, decimal_places=8)
    rounding = models.DecimalField(max_digits=3, decimal_places=2, default="0.01")
    proposal = models.OneToOneField(IndexationProposal, on_delete=models.PROTECT, related_name="adjustment")
    explanation_nb = models.TextField()
    explanation_en = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["contract", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "contract", "effective_from"], name="price_adjustment_unique_date"
            )
        ]


class IndexationEvent(TenantOwned):
    """What happened, for webhooks later: one row per proposal created, approved, noticed, applied, rejected."""

    kind = models.CharField(max_length=40)  # indexation.proposed / .approved / .notice_sent / .applied / .rejected
    proposal = models.ForeignKey(IndexationProposal, on_delete=models.CASCADE, related_name="events")
    payload = models.JSONField(default=dict)
    occurred_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "delivered_at"], name="indexation_event_undelivered")]
