"""Collections (issue 11): what happens after an invoice falls due and is not paid.

- :class:`CollectionPolicy` — a tenant's (or a plan's, or one contract's) choices as data: late-payment
  interest and how it is invoiced, the reminder steps with their fees, and what payment default leads to
  (Piscator's notice and suspension, DigiReq's pause at 45 days).
- :class:`Reminder` — one reminder sent for one invoice (a PDF, e-mailed), with the fee it carried.
- :class:`InvoiceHold` — an invoice staff put on hold (disputed): no reminder, fee, interest invoice,
  suspension or pause for it while the hold lasts.
- :class:`InterestCharge` — late-payment interest on one late invoice, invoiced on an interest invoice.
- :class:`DefaultCase` — one contract's payment default: notice, suspension or pause, material breach,
  closed when the arrears are paid.

The rules are pure (:mod:`billing.interest`, :mod:`receivables.rules`); services here are the only writers.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice
from contracts.models import Contract, Message
from pricing.models import Plan
from tenants.models import Customer, TenantOwned


class InterestConvention(models.TextChoices):
    NONE = "none", _("No late-payment interest")
    SIMPLE = "simple", _("Forsinkelsesrenteloven: simple interest")
    SSAL = "ssal", _("SSA-L: interest accrued by 31 December added to the principal")


class InterestInvoicing(models.TextChoices):
    ON_PAYMENT = "on_payment", _("When the late invoice is paid")
    MONTHLY = "monthly", _("Monthly, for interest accrued so far")
    NEVER = "never", _("Never (calculated and shown, not invoiced)")


class DefaultAction(models.TextChoices):
    NONE = "none", _("Reminders only")
    SUSPEND = "suspend", _("Notice, then suspension of service (SSA-L)")
    PAUSE = "pause", _("Pause the account after the set number of days")


class SuspendConfirm(models.TextChoices):
    AUTOMATIC = "automatic", _("Automatically on the date in the notice")
    STAFF = "staff", _("When staff confirm, on or after the date in the notice")


class CollectionPolicy(TenantOwned):
    """A tenant's collection rules. The one with no plan is the tenant's default; one with a plan applies to
    that plan's contracts; a contract may name its own (``Contract.collection_policy``).

    ``dunning_steps`` is a list of steps, validated by :func:`receivables.rules.parse_steps`::

        [{"kind": "reminder", "after_days": 14, "days_to_pay": 14, "fee": "reminder"},
         {"kind": "warning", "after_days": 0, "days_to_pay": 14, "fee": "none"},
         {"kind": "final", "after_days": 0, "days_to_pay": 14, "fee": "none"}]

    ``after_days`` counts from the due date for the first step and from the previous step's pay-by date for
    the next ones.
    """

    name = models.CharField(_("name"), max_length=120)
    plan = models.ForeignKey(
        Plan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="collection_policies",
        verbose_name=_("plan"),
    )
    interest = models.CharField(
        _("late-payment interest"),
        max_length=10,
        choices=InterestConvention.choices,
        default=InterestConvention.SIMPLE,
    )
    interest_invoicing = models.CharField(
        _("interest invoiced"),
        max_length=12,
        choices=InterestInvoicing.choices,
        default=InterestInvoicing.ON_PAYMENT,
    )
    interest_minimum = models.DecimalField(
        _("smallest interest invoiced"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("Interest below this amount is not invoiced (it is kept until it reaches it)."),
    )
    dunning_steps = models.JSONField(_("reminder steps"), default=list, blank=True)
    default_action = models.CharField(
        _("on payment default"), max_length=10, choices=DefaultAction.choices, default=DefaultAction.NONE
    )
    default_after_days = models.PositiveSmallIntegerField(
        _("default action after (days past due)"),
        default=45,
        help_text=_(
            "Pause: the account is paused when an invoice is this many days past due. "
            "Suspend: the notice is sent when an invoice is this many days past due."
        ),
    )
    suspend_notice_business_days = models.PositiveSmallIntegerField(
        _("notice before suspension (business days)"), default=14
    )
    suspend_confirm = models.CharField(
        _("suspension"), max_length=10, choices=SuspendConfirm.choices, default=SuspendConfirm.STAFF
    )
    material_breach_days = models.PositiveSmallIntegerField(
        _("material breach after (days past due)"),
        null=True,
        blank=True,
        help_text=_("Empty: not flagged."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan_id", "name", "id"]
        verbose_name_plural = "collection policies"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(plan__isnull=True), name="collection_policy_one_default"
            ),
            models.UniqueConstraint(fields=["tenant", "plan"], name="collection_policy_one_per_plan"),
        ]

    def __str__(self) -> str:
        return self.name


class ReminderKind(models.TextChoices):
    REMINDER = "reminder", _("Payment reminder")  # betalingspåminnelse / purring
    WARNING = "warning", _("Written reminder with 14 days to pay")  # inkassovarsel (inkassoloven § 9)
    FINAL = "final", _("Final notice")  # betalingsoppfordring / siste varsel


class Reminder(TenantOwned):
    """One reminder for one invoice: the step of the policy it was, when it was sent, what it asked for."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="reminders")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="reminders")
    step = models.PositiveSmallIntegerField(_("step"))
    kind = models.CharField(_("kind"), max_length=10, choices=ReminderKind.choices)
    sent_on = models.DateField(_("sent"))
    pay_by = models.DateField(_("pay by"))
    outstanding = models.DecimalField(_("outstanding"), max_digits=14, decimal_places=2)
    interest = models.DecimalField(_("interest so far"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    fee = models.DecimalField(_("reminder fee"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    fee_explanation_nb = models.TextField(blank=True)
    fee_explanation_en = models.TextField(blank=True)
    fee_invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reminder_fees",
        verbose_name=_("fee invoiced on"),
    )
    pdf = models.BinaryField(null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["invoice", "step"], name="reminder_once_per_step")]
        indexes = [models.Index(fields=["tenant", "customer"], name="reminder_tenant_customer")]


class InvoiceHold(TenantOwned):
    """An invoice on hold (disputed by the customer, or held by staff): no reminders, fees, interest invoices,
    suspension or pause for it until released. At most one active hold per invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="holds")
    reason = models.TextField(_("reason"))
    held_on = models.DateField(_("on hold from"))
    held_by = models.CharField(max_length=200)
    released_on = models.DateField(_("released"), null=True, blank=True)
    released_by = models.CharField(max_length=200, blank=True)
    release_note = models.TextField(_("note on release"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(released_on__isnull=True), name="invoice_hold_one_active"
            )
        ]


class InterestCharge(TenantOwned):
    """Late-payment interest on ``late_invoice`` up to and including ``through``, invoiced on
    ``interest_invoice``. ``total_to_date`` is all interest accrued on the late invoice to ``through``;
    ``amount`` is what this charge adds (the total less earlier charges), so nothing is charged twice."""

    late_invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="interest_charges")
    interest_invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="charged_interest")
    through = models.DateField(_("interest to and including"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    total_to_date = models.DecimalField(_("interest so far"), max_digits=14, decimal_places=2)
    explanation_nb = models.TextField(blank=True)
    explanation_en = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["late_invoice", "through", "id"]
        constraints = [
            models.UniqueConstraint(fields=["late_invoice", "through"], name="interest_charge_once_per_date")
        ]


class DefaultStatus(models.TextChoices):
    NOTICE = "notice", _("Notice sent, service stops on the date in it")
    AWAITING_CONFIRMATION = "awaiting", _("Notice period over, waiting for staff to suspend")
    SUSPENDED = "suspended", _("Suspended")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", _("Closed")


class DefaultCase(TenantOwned):
    """One contract's payment default, from the notice or pause to the payment that ends it."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="default_cases")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="default_cases")
    action = models.CharField(_("action"), max_length=10, choices=DefaultAction.choices)
    status = models.CharField(_("status"), max_length=10, choices=DefaultStatus.choices)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="default_cases", verbose_name=_("oldest unpaid invoice")
    )
    past_due_since = models.DateField(_("past due since"))
    opened_on = models.DateField(_("opened"))
    notice_sent_on = models.DateField(_("notice sent"), null=True, blank=True)
    stop_on = models.DateField(_("service stops on"), null=True, blank=True)
    suspended_on = models.DateField(_("suspended"), null=True, blank=True)
    paused_on = models.DateField(_("paused"), null=True, blank=True)
    material_breach_on = models.DateField(_("material breach from"), null=True, blank=True)
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    closed_reason = models.CharField(_("why closed"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"], condition=~Q(status="closed"), name="default_case_one_open_per_contract"
            )
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="default_case_tenant_status")]
