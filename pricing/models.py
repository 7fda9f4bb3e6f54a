"""Price plans as versioned data, and saved quotes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import Named, Product
from tenants.models import Customer, TenantOwned


class Plan(TenantOwned, Named):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="plans")
    code = models.SlugField(_("code"), max_length=60)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="plan_unique_code")]


class PlanVersion(TenantOwned):
    """The plan's prices from ``valid_from``: a JSON document parsed by ``pricing.engine.document``.

    A version in force is never edited: a change is a new version from a later date.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    valid_from = models.DateField(_("valid from"))
    document = models.JSONField(_("price document"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["plan", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "plan", "valid_from"], name="plan_version_unique_date")
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} from {self.valid_from.isoformat()}"


class QuoteStatus(models.TextChoices):
    SAVED = "saved", _("Saved")
    ACCEPTED = "accepted", _("Accepted (became a contract)")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Quote(TenantOwned):
    """A priced request kept for later (and to become a contract): input and result as they were."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="quotes")
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="quotes")
    quoted_on = models.DateField(_("quote date"))
    request = models.JSONField()
    result = models.JSONField()
    interval = models.CharField(max_length=10)
    currency = models.CharField(max_length=3, default="NOK")
    net = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    vat = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    total = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    on_request = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.SAVED)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-quoted_on", "-id"]
        indexes = [models.Index(fields=["tenant", "customer"], name="quote_tenant_customer")]

    def __str__(self) -> str:
        return f"Quote {self.pk} ({self.plan_version.plan.code})"
