"""What a tenant sells: products, add-ons, hourly services and (Standard Norge) the standards catalogue."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantOwned


class Named(models.Model):
    name_nb = models.CharField(_("name (Norwegian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "nb").startswith("en") else self.name_nb


class Product(TenantOwned, Named):
    code = models.SlugField(_("code"), max_length=60)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="product_unique_code")]


class AddOn(TenantOwned, Named):
    """An optional extra of a product; ``code`` is the add-on component's code in the product's plans."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="addons")
    code = models.SlugField(_("code"), max_length=60)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "product", "code"], name="addon_unique_code")]


class HourlyService(TenantOwned, Named):
    """Billable time: consulting, support. Travel time is billed at ``travel_share`` of the rate."""

    code = models.SlugField(_("code"), max_length=60)
    hourly_rate = models.DecimalField(
        _("hourly rate"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    travel_share = models.DecimalField(
        _("travel time share"), max_digits=4, decimal_places=3, default="0.5", validators=[MinValueValidator(0)]
    )
    increment_minutes = models.PositiveSmallIntegerField(
        _("billed per started"), default=1, help_text=_("Minutes; 30 = per started half hour.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="hourly_service_unique_code")]


class StandardCategory(TenantOwned, Named):
    """A goods category (varekategori) of the standards catalogue, with its special rules (RULES §3)."""

    code = models.CharField(_("code"), max_length=20)
    users_one_level_higher = models.BooleanField(_("concurrent users one level higher"), default=False)
    building_blocks = models.BooleanField(_("bought in blocks of 25"), default=False)
    yearly_prices_fetched = models.BooleanField(_("catalogue prices fetched each year"), default=False)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="standard_category_unique_code")]


class Standard(TenantOwned):
    code = models.CharField(_("document"), max_length=100)
    title = models.CharField(_("title"), max_length=300)
    category = models.ForeignKey(StandardCategory, on_delete=models.PROTECT, related_name="standards")
    withdrawn_on = models.DateField(_("withdrawn"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="standard_unique_code")]
        indexes = [models.Index(fields=["tenant", "category"], name="standard_tenant_category")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class StandardPrice(TenantOwned):
    """The catalogue price of a standard as of 1 January of ``year``."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="prices")
    year = models.PositiveSmallIntegerField(_("year"))
    price = models.DecimalField(
        _("catalogue price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["standard", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "standard", "year"], name="standard_price_unique_year")
        ]
