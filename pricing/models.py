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


# ---------------------------------------------------------------- CPI: index series, values, policies


class IndexSeries(models.Model):
    """One index series as SSB publishes it (one table, one base). Shared by every tenant: public figures.

    ``index_code`` names the index (``kpi``, ``kpi-services-wages``); the same index on another base is
    another series of the same code (SSB's 2015 = 100 table 03013 and 2025 = 100 table 14700 ff.).
    A ratio takes both months from one series that has both; the newer base is tried first.
    """

    code = models.SlugField(_("code"), max_length=60, unique=True)
    index_code = models.SlugField(_("index"), max_length=60)
    name_nb = models.CharField(_("name (Bokmål)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    short_nb = models.CharField(_("short name (Bokmål)"), max_length=60)
    short_en = models.CharField(_("short name (English)"), max_length=60)
    table = models.CharField(_("SSB table"), max_length=10)
    base = models.CharField(_("base"), max_length=20)  # "2015=100"
    base_year = models.PositiveSmallIntegerField(_("base year"))
    query = models.JSONField(_("SSB query"), default=dict)  # {dimension: [value]} selecting the one series
    closed_after = models.CharField(_("closed after"), max_length=7, blank=True)  # "2025M12": no later months
    # The day SSB first published this series (the 2025 = 100 tables: February 2026). A computation on an
    # earlier day does not use it, so a replayed or recomputed past indexation reads what existed then.
    published_from = models.DateField(_("first published"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)
    fetch_error = models.TextField(_("last fetch error"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index_code", "-base_year"]
        verbose_name = _("index series")
        verbose_name_plural = _("index series")

    def __str__(self) -> str:
        return f"{self.name_en} ({self.base}, table {self.table})"


class IndexValue(models.Model):
    """One month's published value of a series, as published (never rebased), with where it came from."""

    series = models.ForeignKey(IndexSeries, on_delete=models.CASCADE, related_name="values")
    month = models.DateField(_("month"))  # the first of the month
    value = models.DecimalField(_("index"), max_digits=10, decimal_places=3)
    source = models.CharField(_("source"), max_length=300)
    fetched_at = models.DateTimeField(_("fetched"))

    class Meta:
        ordering = ["series", "month"]
        constraints = [
            models.UniqueConstraint(fields=["series", "month"], name="index_value_unique_month"),
            models.CheckConstraint(condition=models.Q(value__gt=0), name="index_value_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.series_id} {self.month:%Y-%m} {self.value}"


class IndexValueOverride(TenantOwned):
    """A month's value entered by a tenant's staff while SSB is unreachable; used only where SSB's own
    value for that month is not stored. Visible to that tenant alone."""

    series = models.ForeignKey(IndexSeries, on_delete=models.PROTECT, related_name="overrides")
    month = models.DateField(_("month"))
    value = models.DecimalField(_("index"), max_digits=10, decimal_places=3)
    note = models.CharField(_("where the value comes from"), max_length=300)
    entered_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["series", "month"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "series", "month"], name="index_override_unique_month"),
            models.CheckConstraint(condition=models.Q(value__gt=0), name="index_override_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.series.short_en} {self.month:%Y-%m}: {self.value} (entered by hand)"


class PolicyScope(models.TextChoices):
    CONTRACT = "contract", _("Each contract's price")
    LIST = "list", _("The price list (new contracts and renewals)")
    CATALOGUE = "catalogue", _("The standards catalogue's prices")


class PolicyApproval(models.TextChoices):
    AUTO = "auto", _("Applied automatically")
    STAFF = "staff", _("Staff preview and approve")


class IndexationPolicy(TenantOwned, Named):
    """How a price list's or a contract's prices follow an index (RULES §7), as data.

    On a plan it applies to the plan's list (``scope=list``), or to each contract on the plan
    (``scope=contract``); ``scope=catalogue`` indexes the standards catalogue. A contract may name its
    own policy (``Contract.indexation_policy``), which then replaces the plan's.
    """

    code = models.SlugField(_("code"), max_length=60)
    scope = models.CharField(_("what is indexed"), max_length=12, choices=PolicyScope.choices)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="indexation_policies")
    index_code = models.SlugField(_("index"), max_length=60)
    timing = models.CharField(_("when"), max_length=12, choices=[("january", _("Every 1 January")),
                              ("anniversary", _("Every contract anniversary"))])  # fmt: skip
    reference = models.CharField(
        _("reference"),
        max_length=16,
        choices=[
            ("twelve_months", _("The latest month published by the measure date, against 12 months before")),
            ("since_signing", _("The signing month first, then the last month used")),
        ],
    )
    measure_month = models.PositiveSmallIntegerField(_("measured on (month)"), null=True, blank=True)
    measure_day = models.PositiveSmallIntegerField(_("measured on (day)"), null=True, blank=True)
    cap = models.CharField(_("cap"), max_length=8, choices=[("none", _("None")), ("index", _("Up to the index"))])
    notice_months = models.PositiveSmallIntegerField(_("notice (months)"), default=0)
    notice_days = models.PositiveSmallIntegerField(_("notice (days)"), default=0)
    above_cap_notice_months = models.PositiveSmallIntegerField(
        _("notice above the cap (months)"), null=True, blank=True
    )
    above_cap_may_terminate = models.BooleanField(_("customer may terminate after an above-cap notice"), default=False)
    minimum_notice_days = models.PositiveSmallIntegerField(_("the contract's minimum notice (days)"), default=0)
    minimum_notice_months = models.PositiveSmallIntegerField(_("the contract's minimum notice (months)"), default=0)
    whole_kroner = models.BooleanField(_("round to whole kroner"), default=False)
    falling = models.CharField(
        _("falling index"), max_length=6, choices=[("lower", _("Lower the price")), ("keep", _("Keep the price"))]
    )
    approval = models.CharField(_("approval"), max_length=6, choices=PolicyApproval.choices)
    first_effective_on = models.DateField(
        _("first indexation on or after"), null=True, blank=True, help_text=_("E.g. the day the policy was adopted.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("indexation policy")
        verbose_name_plural = _("indexation policies")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="indexation_policy_unique_code"),
        ]

    def rules(self):
        """The pure :class:`pricing.indexation.Policy` (raises IndexationError when it cannot be used)."""
        from pricing import indexation as ix
        from pricing.engine.money import KRONE, ORE

        measure = (self.measure_month, self.measure_day) if self.measure_month and self.measure_day else None
        return ix.Policy(
            timing=self.timing,
            reference=self.reference,
            measure=measure,
            cap=self.cap,
            notice=ix.Notice(self.notice_months, self.notice_days),
            above_cap_notice=ix.Notice(self.above_cap_notice_months, 0) if self.above_cap_notice_months else None,
            above_cap_may_terminate=self.above_cap_may_terminate,
            rounding=KRONE if self.whole_kroner else ORE,
            falling=self.falling,
            minimum_notice=ix.Notice(self.minimum_notice_months, self.minimum_notice_days),
        )
