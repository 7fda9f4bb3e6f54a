"""Tenants (vendors), their staff, customers, contacts, portal users, API keys and audit log."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants import tenancy
from tenants.permissions import Role
from tenants.validation import (
    format_org_number,
    validate_bank_account,
    validate_org_number,
    validate_peppol_endpoint,
)


class Tenant(models.Model):
    """A vendor running its subscription business on Avtale. The root of tenancy: not itself RLS'd."""

    slug = models.SlugField(
        _("slug"),
        max_length=40,
        unique=True,
        # No underscores: the slug is a part of every API key (avt_<slug>_<prefix>_<secret>).
        validators=[RegexValidator(r"^[a-z0-9]+(-[a-z0-9]+)*$", _("Use lowercase letters, digits and hyphens."))],
    )
    name = models.CharField(_("name"), max_length=200)
    org_number = models.CharField(_("organisation number"), max_length=9, validators=[validate_org_number])
    mva_registered = models.BooleanField(_("registered for VAT (MVA)"), default=True)
    in_foretaksregisteret = models.BooleanField(_("registered in Foretaksregisteret"), default=True)
    address_line = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="NO")
    bank_account = models.CharField(_("bank account"), max_length=11, blank=True, validators=[validate_bank_account])
    peppol_id = models.CharField(
        _("Peppol participant id"), max_length=20, blank=True, validators=[validate_peppol_endpoint]
    )
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    currency = models.CharField(_("currency"), max_length=3, default="NOK")
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tenant")

    def __str__(self) -> str:
        return self.name

    @property
    def org_number_display(self) -> str:
        return format_org_number(self.org_number)

    @property
    def vat_number(self) -> str:
        return f"NO{self.org_number}MVA" if self.mva_registered else ""


class TenantManager(models.Manager):
    """Filters every query to the current tenant, and refuses to run without one (fail closed)."""

    def get_queryset(self):
        return super().get_queryset().filter(tenant_id=tenancy.require_tenant().pk)


class TenantOwned(models.Model):
    """Base for every tenant-owned table: ``tenant_id`` plus row-level security (see tenants.rls)."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, default=tenancy.current_tenant_id, editable=False, related_name="+"
    )

    objects = TenantManager()
    # Explicit and rare: still bounded by row-level security in PostgreSQL.
    unscoped = models.Manager()  # noqa: DJ012 (a manager, not a field)

    class Meta:
        abstract = True
        base_manager_name = "unscoped"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password) if password else user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: tenant staff (through memberships) or a customer's portal user.

    ``is_staff`` here means platform operator (Django admin), not tenant staff.
    """

    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=5, default="nb", choices=[("nb", "Norsk"), ("en", "English")])
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform operator"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")

    def __str__(self) -> str:
        return self.full_name or self.email


class Membership(TenantOwned):
    """A staff member of a tenant, with one role."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")]
        ordering = ["user__email"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class CustomerKind(models.TextChoices):
    KOMMUNE = "kommune", _("Municipality (kommune)")
    FYLKESKOMMUNE = "fylkeskommune", _("County (fylkeskommune)")
    SCHOOL = "school", _("School")
    COMPANY = "company", _("Company")
    OTHER = "other", _("Other")


OWNER_KINDS = (CustomerKind.KOMMUNE, CustomerKind.FYLKESKOMMUNE)
PUBLIC_SECTOR_KINDS = (CustomerKind.KOMMUNE, CustomerKind.FYLKESKOMMUNE, CustomerKind.SCHOOL)


class VatTreatment(models.TextChoices):
    NORWAY = "no_25", _("Norwegian VAT 25 %")
    REVERSE_CHARGE = "reverse_charge", _("Abroad: reverse charge, no Norwegian VAT")
    EXEMPT = "exempt", _("Exempt from VAT")


class Verification(models.TextChoices):
    VERIFIED = "verified", _("Verified in Brønnøysund")
    NOT_VERIFIED = "not_verified", _("Not verified (registry unavailable)")
    NOT_FOUND = "not_found", _("Not found in Brønnøysund")
    NOT_APPLICABLE = "not_applicable", _("No Norwegian organisation number")


class Customer(TenantOwned):
    """An organisation that buys from the tenant."""

    org_number = models.CharField(_("organisation number"), max_length=9, blank=True, validators=[validate_org_number])
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.COMPANY)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("owner (kommune / fylkeskommune)"),
    )
    address_line = models.CharField(_("invoice address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="NO")
    invoice_reference = models.CharField(_("invoice reference"), max_length=100, blank=True)
    invoice_email = models.EmailField(_("invoice e-mail"), blank=True)
    peppol_endpoint = models.CharField(
        _("Peppol endpoint (EHF)"), max_length=20, blank=True, validators=[validate_peppol_endpoint]
    )
    vat_treatment = models.CharField(
        _("VAT treatment"), max_length=20, choices=VatTreatment.choices, default=VatTreatment.NORWAY
    )
    verification = models.CharField(
        _("registry check"), max_length=20, choices=Verification.choices, default=Verification.NOT_VERIFIED
    )
    verified_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    registry = models.JSONField(_("registry data"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "org_number"], condition=~Q(org_number=""), name="customer_unique_org_number"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "name"], name="customer_tenant_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def org_number_display(self) -> str:
        return format_org_number(self.org_number)

    @property
    def is_public_sector(self) -> bool:
        return self.kind in PUBLIC_SECTOR_KINDS


class ContactRole(models.TextChoices):
    ORDERER = "orderer", _("Orderer")
    SCHOOL_CONTACT = "school_contact", _("School contact")
    INVOICE_CONTACT = "invoice_contact", _("Invoice contact")
    DPA_SIGNER = "dpa_signer", _("DPA signer")
    OTHER = "other", _("Other")


class Contact(TenantOwned):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=ContactRole.choices, default=ContactRole.OTHER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["tenant", "customer"], name="contact_tenant_customer")]

    def __str__(self) -> str:
        return self.name


class PortalUser(TenantOwned):
    """A customer's person with a login to the tenant's self-service portal."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_users")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="portal_accounts")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="portal_user_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.customer}"


class ApiKeyScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class ApiKey(TenantOwned):
    """An integrator's key. Only its SHA-256 is stored; the key itself is shown once."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(_("scope"), max_length=20, choices=ApiKeyScope.choices, default=ApiKeyScope.READ)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == ApiKeyScope.READ_WRITE


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    API_KEY = "api_key", _("API key")
    JOB = "job", _("Job")
    SYSTEM = "system", _("System")


class AuditEvent(TenantOwned):
    """Who changed what, when, from which value to which; written in the same transaction."""

    at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-at"], name="audit_tenant_at"),
            models.Index(fields=["tenant", "object_type", "object_id"], name="audit_tenant_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}#{self.object_id}"


IDEMPOTENCY_TTL_HOURS = 24


class IdempotencyRecordManager(TenantManager):
    def purge_expired(self, now=None) -> int:
        """Delete the current tenant's records older than 24 h (a record past that is ignored anyway)."""
        cutoff = (now or timezone.now()) - dt.timedelta(hours=IDEMPOTENCY_TTL_HOURS)
        return self.filter(created_at__lt=cutoff).delete()[0]


class IdempotencyRecord(TenantOwned):
    """A POST sent with an ``Idempotency-Key`` header (see tenants/idempotency.py): per tenant, API key and
    key, the request's fingerprint and, once done, the response to replay. Kept 24 hours."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # None while in progress
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = IdempotencyRecordManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "api_key", "key"], name="idempotency_key_once"),
        ]
        indexes = [models.Index(fields=["tenant", "api_key", "created_at"], name="idempotency_expiry")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
