"""Contracts: a customer's agreement for one product, its terms as data, and everything that happens to it.

Time rules live in the pure :mod:`contracts.terms`, the lifecycle in :mod:`contracts.lifecycle`;
services (contracts/services.py) are the only writers.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from contracts import lifecycle, terms
from pricing.models import Plan, Quote
from tenants.models import Customer, TenantOwned

STATE_CHOICES = [(code, names[1]) for code, names in lifecycle.STATES.items()]


class StartRule(models.TextChoices):
    ON_RECEIPT = "on_receipt", _("On the date the signed contract is received")
    AFTER_SIGNING = "after_signing", _("A fixed time after signing")
    ON_DATE = "on_date", _("On an agreed date")


class Contract(TenantOwned):
    reference = models.CharField(_("reference"), max_length=30)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("customer")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="contracts")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="contracts")
    quote = models.ForeignKey(Quote, on_delete=models.SET_NULL, null=True, blank=True, related_name="contracts")
    interval = models.CharField(_("billing interval"), max_length=10, default="year")
    state = models.CharField(_("state"), max_length=20, choices=STATE_CHOICES, default=lifecycle.DRAFT)

    # Terms, as data (contracts.terms.Terms is built from these).
    initial_term_months = models.PositiveSmallIntegerField(_("initial term (months)"), default=12)
    renewal_term_months = models.PositiveSmallIntegerField(
        _("renewal term (months)"), null=True, blank=True, help_text=_("Empty: does not renew by itself.")
    )
    notice_months = models.PositiveSmallIntegerField(_("notice (months)"), default=0)
    notice_days = models.PositiveSmallIntegerField(_("notice (days)"), default=0)
    binding_months = models.PositiveSmallIntegerField(_("binding (months)"), null=True, blank=True)
    start_rule = models.CharField(_("start"), max_length=20, choices=StartRule.choices, default=StartRule.ON_RECEIPT)
    start_offset_days = models.PositiveSmallIntegerField(_("start after signing (days)"), default=0)
    acceptance_days = models.PositiveSmallIntegerField(_("acceptance period (days)"), null=True, blank=True)
    ordinary_on_business_day = models.BooleanField(_("ordinary operation from the first business day"), default=True)
    dpa_required = models.BooleanField(_("needs a data processing agreement"), default=False)
    indexation_policy = models.ForeignKey(
        "pricing.IndexationPolicy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
        verbose_name=_("price indexation"),
        help_text=_("Empty: the plan's policy for contracts, if it has one."),
    )
    collection_policy = models.ForeignKey(
        "receivables.CollectionPolicy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
        verbose_name=_("collection rules"),
        help_text=_("Empty: the plan's rules, else the tenant's."),
    )

    # Dates.
    agreed_start = models.DateField(_("agreed start"), null=True, blank=True)
    signed_on = models.DateField(_("signed"), null=True, blank=True)
    received_on = models.DateField(_("signed contract received"), null=True, blank=True)
    start_date = models.DateField(_("start"), null=True, blank=True)
    acceptance_ends_on = models.DateField(_("acceptance period ends"), null=True, blank=True)
    ordinary_from = models.DateField(_("ordinary operation from"), null=True, blank=True)
    term_index = models.PositiveSmallIntegerField(_("renewals so far"), default=0)
    term_end = models.DateField(_("current term ends (exclusive)"), null=True, blank=True)
    notice_deadline = models.DateField(_("last day for notice"), null=True, blank=True)
    ends_on = models.DateField(_("ends (exclusive)"), null=True, blank=True)
    ended_on = models.DateField(_("ended"), null=True, blank=True)

    # Trials and pauses (DigiReq).
    trial_started_on = models.DateField(_("trial started"), null=True, blank=True)
    trial_extensions = models.PositiveSmallIntegerField(_("trial extensions"), default=0)
    trial_ends_on = models.DateField(_("trial ends"), null=True, blank=True)
    paused_on = models.DateField(_("paused"), null=True, blank=True)
    pause_reason = models.CharField(
        _("why paused"),
        max_length=10,
        blank=True,
        choices=[("trial", _("Trial ended")), ("unpaid", _("Unpaid invoice"))],
    )
    deletion_due_on = models.DateField(_("data deleted on"), null=True, blank=True)
    deleted_on = models.DateField(_("deleted"), null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "reference"], name="contract_unique_reference")]
        indexes = [
            models.Index(fields=["tenant", "state"], name="contract_tenant_state"),
            models.Index(fields=["tenant", "term_end"], name="contract_tenant_term_end"),
            models.Index(fields=["tenant", "customer"], name="contract_tenant_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.customer}"

    @property
    def state_label(self) -> str:
        """The state in words, in the active language."""
        from django.utils.translation import get_language

        nb, en = lifecycle.STATES[self.state]
        return en if (get_language() or "nb").startswith("en") else nb

    @property
    def has_access(self) -> bool:
        return self.state in lifecycle.HAS_ACCESS

    def terms(self) -> terms.Terms:
        return terms.Terms(
            initial_term=terms.months(self.initial_term_months),
            renewal_term=terms.months(self.renewal_term_months) if self.renewal_term_months else None,
            notice=terms.Period(months=self.notice_months, days=self.notice_days),
            binding=terms.months(self.binding_months) if self.binding_months else None,
            start_rule=self.start_rule,
            start_offset=terms.days(self.start_offset_days),
            acceptance=terms.days(self.acceptance_days) if self.acceptance_days else None,
            ordinary_on_business_day=self.ordinary_on_business_day,
        )


class PricedOn(TenantOwned):
    """What the contract is priced on from ``effective_from`` (schools and pupils, active users, standards
    and concurrent users, add-ons), in the quote-request format. A new row per amendment: history kept."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="priced_on")
    effective_from = models.DateField(_("effective from"))
    request = models.JSONField()
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    price_effect = models.JSONField(default=dict, blank=True)  # the engine's result for the change, if any
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["contract", "-effective_from", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "contract", "effective_from"], name="priced_on_unique_date")
        ]


class SignatureMethod(models.TextChoices):
    PORTAL = "portal", _("Signed in the portal")
    PAPER = "paper", _("Signed paper copy, uploaded")


class Signature(TenantOwned):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="signatures")
    method = models.CharField(max_length=10, choices=SignatureMethod.choices)
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    signed_at = models.DateTimeField(_("signed at"))
    received_on = models.DateField(_("received"))
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    document_sha256 = models.CharField(max_length=64)
    paper_copy = models.FileField(upload_to="signed/%Y/", null=True, blank=True)
    recorded_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "contract"], name="signature_one_per_contract")]


class ContractDocument(TenantOwned):
    """A rendered document (the contract PDF), kept with its SHA-256."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, default="contract")
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class DataProcessingAgreement(TenantOwned):
    """A DPA signed by the controller (the school owner: kommune or fylkeskommune), once for all its schools."""

    controller = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="dpas")
    signed_on = models.DateField(_("signed"))
    signer_name = models.CharField(_("signed by"), max_length=200)
    signer_title = models.CharField(_("title"), max_length=200, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_on"]
        constraints = [models.UniqueConstraint(fields=["tenant", "controller"], name="dpa_one_per_controller")]


class OnboardingStep(TenantOwned):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="onboarding")
    code = models.CharField(max_length=30)  # contract_signed, dpa_signed, feide_activated
    done_on = models.DateField(null=True, blank=True)
    done_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["contract", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "contract", "code"], name="onboarding_unique_step")]


class TerminationNotice(TenantOwned):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="notices")
    given_by = models.CharField(max_length=10, choices=[("customer", _("Customer")), ("vendor", _("Vendor"))])
    received_on = models.DateField(_("received"))
    ends_on = models.DateField(_("ends (exclusive)"))
    deadline = models.DateField(_("last day for notice"))
    late = models.BooleanField(_("late"))
    recorded_by = models.CharField(max_length=200)
    withdrawn = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-id"]


class ContractEvent(TenantOwned):
    """Every lifecycle move, with its business date and actor."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=30)
    from_state = models.CharField(max_length=20)
    to_state = models.CharField(max_length=20)
    on = models.DateField()
    actor_label = models.CharField(max_length=200)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract", "on", "id"]


class Message(TenantOwned):
    """A notice sent to a customer (and staff): the history shown in the portal and back-office.

    ``key`` makes a job's message idempotent: the same contract, kind and key is sent once.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages")
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, null=True, blank=True, related_name="messages")
    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=40)
    language = models.CharField(max_length=5, default="nb")
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "contract", "kind", "key"], name="message_once_per_key")
        ]
