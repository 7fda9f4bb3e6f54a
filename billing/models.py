"""Invoices and credit notes, their lines, payments, number series and billing runs (issue 5, RULES §1, §10).

An issued invoice is never changed or deleted: besides the services, PostgreSQL refuses it (triggers in
``billing/migrations/0002_immutability.py``); only the columns in :data:`MUTABLE_AFTER_ISSUE` move on.
Numbers are given at issue (``billing.numbering``); a draft has none.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from catalog.models import HourlyService
from contracts.models import Contract
from tenants.models import Customer, TenantOwned


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    SENT = "sent", _("Sent")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    CREDITED = "credited", _("Credited")


# An issued invoice that can still be paid.
PAYABLE = (InvoiceStatus.ISSUED, InvoiceStatus.SENT, InvoiceStatus.PARTLY_PAID, InvoiceStatus.OVERDUE)


def past_due_q(on) -> Q:
    """Invoices past due on ``on``: marked overdue, or payable with something outstanding and a due date
    before ``on`` (due 2026-04-19 → past due from 2026-04-20). :meth:`Invoice.is_past_due` says the same."""
    return Q(status=InvoiceStatus.OVERDUE) | Q(
        kind=InvoiceKind.INVOICE,
        status__in=PAYABLE,
        due_date__lt=on,
        total__gt=F("paid_amount") + F("credited_amount"),
    )


# The only columns that may change once an invoice is issued (enforced by a PostgreSQL trigger).
MUTABLE_AFTER_ISSUE = ("status", "sent_at", "paid_amount", "credited_amount")


class KidMethod(models.TextChoices):
    MOD10 = "mod10", _("MOD10 (Luhn)")
    MOD11 = "mod11", _("MOD11")


class BillingSettings(TenantOwned):
    """A tenant's invoicing choices (one row per tenant; defaults apply when there is none)."""

    credit_notes_own_series = models.BooleanField(
        _("credit notes in their own number series"),
        default=False,
        help_text=_("Off: credit notes are numbered in the invoice series."),
    )
    kid_method = models.CharField(_("KID check digit"), max_length=5, choices=KidMethod.choices, default="mod10")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="billing_settings_one_per_tenant")]

    def __str__(self) -> str:
        return "Fakturainnstillinger"


class NumberSeries(TenantOwned):
    """A gap-free number series: ``next_number`` is taken under ``SELECT … FOR UPDATE`` at issue."""

    code = models.CharField(max_length=20)  # "invoice" or "credit_note"
    next_number = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="number_series_unique_code")]


class Invoice(TenantOwned):
    kind = models.CharField(_("kind"), max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    status = models.CharField(_("status"), max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="invoices", null=True, blank=True)
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to (inclusive)"), null=True, blank=True)
    series = models.CharField(max_length=20, blank=True)  # the number series it was numbered in
    number = models.PositiveBigIntegerField(_("number"), null=True, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    kid = models.CharField(_("KID"), max_length=25, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="NOK")
    net = models.DecimalField(_("net"), max_digits=14, decimal_places=2, default=0)
    vat = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=0)
    buyer_reference = models.CharField(_("buyer reference"), max_length=100, blank=True)
    credited_invoice = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    document = models.JSONField(_("document as issued"), default=dict, blank=True)
    paid_amount = models.DecimalField(_("paid"), max_digits=14, decimal_places=2, default=0)
    credited_amount = models.DecimalField(_("credited"), max_digits=14, decimal_places=2, default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    billing_run_date = models.DateField(null=True, blank=True)
    # A supplementary invoice carries only one-off charges (an amendment's charge, hours) outside the
    # contract's period invoices; it is not bound by the once-per-period constraint.
    supplementary = models.BooleanField(_("supplementary"), default=False)
    # "interest": late-payment interest and reminder fees (receivables.InterestCharge); such an invoice
    # bears no interest itself. "" for every other invoice.
    purpose = models.CharField(_("purpose"), max_length=12, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issue_date", "-number", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "period_start"],
                condition=Q(kind="invoice", supplementary=False),
                name="invoice_once_per_contract_period",
            ),
            models.UniqueConstraint(fields=["tenant", "series", "number"], name="invoice_unique_number"),
            models.CheckConstraint(
                condition=Q(status="draft", number__isnull=True) | (~Q(status="draft") & Q(number__isnull=False)),
                name="invoice_number_iff_issued",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status"], name="invoice_tenant_status"),
            models.Index(fields=["tenant", "customer"], name="invoice_tenant_customer"),
        ]

    def __str__(self) -> str:
        label = "Kreditnota" if self.kind == InvoiceKind.CREDIT_NOTE else "Faktura"
        return f"{label} {self.number if self.number is not None else '(utkast)'}"

    @property
    def is_issued(self) -> bool:
        return self.status != InvoiceStatus.DRAFT

    @property
    def outstanding(self):
        return self.total - self.credited_amount - self.paid_amount

    def is_past_due(self, on) -> bool:
        """As :func:`past_due_q`, for one invoice."""
        if self.status == InvoiceStatus.OVERDUE:
            return True
        return bool(
            self.kind == InvoiceKind.INVOICE
            and self.status in PAYABLE
            and self.due_date
            and self.due_date < on
            and self.outstanding > 0
        )


class InvoiceLine(TenantOwned):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=1)
    code = models.CharField(max_length=60, blank=True)
    description = models.CharField(_("description"), max_length=300)
    description_en = models.CharField(max_length=300, blank=True)
    explanation_nb = models.TextField(blank=True)
    explanation_en = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=1)
    unit_code = models.CharField(max_length=5, default="EA")
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    net = models.DecimalField(max_digits=14, decimal_places=2)
    vat_category = models.CharField(max_length=3, default="S")
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, default=25)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["invoice", "position", "id"]


class Payment(TenantOwned):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invoice", "paid_on", "id"]


class BillingRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class BillingRun(TenantOwned):
    """Progress of the billing run for one tenant and date; a run after a crash resumes after
    ``last_contract_id``. Concurrent runs take this row ``FOR UPDATE`` per chunk, so they take turns."""

    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=BillingRunStatus.choices, default=BillingRunStatus.RUNNING)
    last_contract_id = models.BigIntegerField(default=0)
    contracts_seen = models.PositiveIntegerField(default=0)
    invoices_issued = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-as_of"]
        constraints = [models.UniqueConstraint(fields=["tenant", "as_of"], name="billing_run_one_per_date")]


class FileFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    EHF = "ehf", "EHF (Peppol BIS Billing 3.0)"


class InvoiceFile(TenantOwned):
    """A rendered document of an issued invoice or credit note, stored once with its SHA-256.

    PostgreSQL refuses UPDATE and DELETE of these rows (``0003`` migration): what was sent stays what
    was sent. ``language`` is the PDF's language; an EHF has ``""``.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="files")
    format = models.CharField(_("format"), max_length=5, choices=FileFormat.choices)
    language = models.CharField(_("language"), max_length=5, blank=True)
    content = models.BinaryField()
    sha256 = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invoice", "format", "language"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "format", "language"], name="invoice_file_once"),
        ]


class DeliveryChannel(models.TextChoices):
    EHF = "ehf", _("EHF via Peppol")
    EMAIL = "email", _("PDF by e-mail")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (will be retried)")
    GAVE_UP = "gave_up", _("Failed (no more retries)")


class Delivery(TenantOwned):
    """The outbox: one row per attempt to get an issued invoice or credit note to the customer.

    A delivery is tried until sent or out of retries (``attempts``, ``next_attempt_at``); the last error
    is kept for staff to see. At most one open (pending or failed) delivery per invoice.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10, choices=DeliveryChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)  # Peppol id (0192:…) or e-mail address(es)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    external_id = models.CharField(_("message id"), max_length=200, blank=True)  # the access point's id
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status__in=["pending", "failed"]),
                name="delivery_one_open_per_invoice",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "next_attempt_at"], name="delivery_due")]


class TimeEntry(TenantOwned):
    """Billable time on a contract (RULES §4: hours at the service's rate, travel hours at its travel
    share, expenses at cost), billed on the contract's next invoice (``invoice`` set then, never again)."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="time_entries")
    service = models.ForeignKey(HourlyService, on_delete=models.PROTECT, related_name="time_entries")
    worked_on = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=8, decimal_places=2, default=0)
    travel_hours = models.DecimalField(_("travel hours"), max_digits=8, decimal_places=2, default=0)
    expenses = models.DecimalField(_("expenses"), max_digits=12, decimal_places=2, default=0)
    expenses_description = models.CharField(_("expenses, what"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=300)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="time_entries")
    recorded_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-worked_on", "-id"]
        verbose_name_plural = "time entries"
        indexes = [models.Index(fields=["tenant", "contract", "invoice"], name="time_entry_unbilled")]


class Charge(TenantOwned):
    """A one-off amount for a contract's next invoice: an amendment's supplementary charge (positive) or
    credit (negative) for the rest of a period, as the plan's proration says, or a manual charge.

    Billed once (``invoice`` set in the issuing transaction); a charge due when no period invoice is due
    goes on a supplementary invoice of its own.
    """

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="charges")
    source = models.CharField(max_length=20, default="amendment")  # amendment | manual
    priced_on = models.ForeignKey(
        "contracts.PricedOn", on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    due_on = models.DateField(_("to invoice on"))
    code = models.CharField(max_length=60, blank=True)
    description = models.CharField(_("description"), max_length=300)
    description_en = models.CharField(max_length=300, blank=True)
    explanation_nb = models.TextField(blank=True)
    explanation_en = models.TextField(blank=True)
    net = models.DecimalField(_("net"), max_digits=14, decimal_places=2)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="charges")
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["tenant", "contract", "invoice"], name="charge_unbilled")]
        constraints = [models.UniqueConstraint(fields=["priced_on"], name="charge_once_per_amendment")]


class BankImport(TenantOwned):
    """One bank file (camt.054 or Nets OCR giro) read into :class:`IncomingPayment` rows (issue 11, item 1).

    A file is imported once per tenant (its SHA-256); the counts are those of this import.
    """

    file_name = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=20)  # billing.bankfiles.FORMAT_*
    file_id = models.CharField(_("file id"), max_length=100, blank=True)  # camt MsgId / OCR forsendelse
    sha256 = models.CharField("SHA-256", max_length=64)
    imported_on = models.DateField(_("imported on"))
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    imported_by = models.CharField(_("by"), max_length=200, blank=True)
    payments = models.PositiveIntegerField(_("payments"), default=0)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    unmatched = models.PositiveIntegerField(_("unmatched"), default=0)
    already_known = models.PositiveIntegerField(_("already imported"), default=0)
    total_amount = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "sha256"], name="bank_import_file_once")]

    def __str__(self) -> str:
        return f"Bankfil {self.file_name}"


class IncomingPaymentStatus(models.TextChoices):
    MATCHED = "matched", _("Matched")
    UNMATCHED = "unmatched", _("Unmatched")
    RESOLVED_REFUND = "resolved_refund", _("Resolved: refunded")
    RESOLVED_CREDIT = "resolved_credit", _("Resolved: kept as credit")
    MATCHED_BY_STAFF = "matched_by_staff", _("Matched by staff")


class IncomingPayment(TenantOwned):
    """A payment from a bank file. Matched: booked as ``payment`` on ``invoice`` (an over-payment's surplus
    kept in ``unapplied`` for staff); unmatched: ``reason`` says why, for staff to match or resolve."""

    bank_import = models.ForeignKey(BankImport, on_delete=models.PROTECT, related_name="incoming_payments")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="NOK")
    kid = models.CharField(_("KID"), max_length=25, blank=True)
    kid_valid = models.BooleanField(_("KID check digit correct"), default=False)
    booked_on = models.DateField(_("booked on"))
    value_date = models.DateField(_("value date"), null=True, blank=True)
    reference = models.CharField(_("bank reference"), max_length=140)
    payer_name = models.CharField(_("payer"), max_length=200, blank=True)
    payer_account = models.CharField(_("payer's account"), max_length=50, blank=True)
    to_account = models.CharField(_("to account"), max_length=50, blank=True)
    message = models.TextField(_("message"), blank=True)
    source_line = models.PositiveIntegerField(_("line in the file"), default=0)
    status = models.CharField(_("status"), max_length=20, choices=IncomingPaymentStatus.choices)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="incoming_payments"
    )
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="incoming_payment"
    )
    unapplied = models.DecimalField(_("not applied"), max_digits=14, decimal_places=2, default=0)
    reason = models.CharField(_("why not matched"), max_length=300, blank=True)
    note = models.TextField(_("note"), blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-booked_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "reference"], name="incoming_payment_reference_once"),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="incoming_payment_status")]

    def __str__(self) -> str:
        return f"Innbetaling {self.amount} {self.currency} ({self.reference})"
