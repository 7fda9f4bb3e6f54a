"""Staff roles and the one table that says which role may do what."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    FINANCE = "finance", _("Finance")
    SALES = "sales", _("Sales")
    SUPPORT = "support", _("Support")
    VIEWER = "viewer", _("Viewer")


ALL = frozenset(Role.values)
OWNER, ADMIN, FINANCE, SALES, SUPPORT, VIEWER = (
    Role.OWNER,
    Role.ADMIN,
    Role.FINANCE,
    Role.SALES,
    Role.SUPPORT,
    Role.VIEWER,
)

# permission -> (description, roles that hold it)
PERMISSIONS: dict[str, tuple[str, frozenset[str]]] = {
    "dashboard.view": (_("See the dashboard"), ALL),
    "customer.view": (_("See customers and contacts"), ALL),
    "customer.edit": (_("Create and edit customers and contacts"), frozenset({OWNER, ADMIN, SALES, SUPPORT})),
    "portal_user.manage": (_("Give customers portal logins"), frozenset({OWNER, ADMIN, SALES, SUPPORT})),
    "tenant.edit": (_("Edit the vendor's profile"), frozenset({OWNER, ADMIN})),
    "staff.view": (_("See staff and roles"), frozenset({OWNER, ADMIN})),
    "staff.manage": (_("Invite staff and change roles"), frozenset({OWNER, ADMIN})),
    "owner.grant": (_("Make someone owner, or remove an owner"), frozenset({OWNER})),
    "apikey.manage": (_("Create and revoke API keys"), frozenset({OWNER, ADMIN})),
    "audit.view": (_("Read the audit log"), frozenset({OWNER, ADMIN, FINANCE})),
    "catalog.view": (_("See products, plans, the standards catalogue and quotes"), ALL),
    "catalog.edit": (_("Edit products, hourly services and the standards catalogue"), frozenset({OWNER, ADMIN})),
    "plan.edit": (_("Create plans and price versions"), frozenset({OWNER, ADMIN, FINANCE})),
    "quote.create": (_("Price and save quotes"), frozenset({OWNER, ADMIN, FINANCE, SALES, SUPPORT})),
    "contract.view": (_("See contracts, notices and messages"), ALL),
    "contract.edit": (
        _("Create, send and record signatures and DPAs; amend contracts"),
        frozenset({OWNER, ADMIN, SALES}),
    ),
    "contract.notice": (_("Give or record notice on a contract"), frozenset({OWNER, ADMIN, SALES})),
    "trial.manage": (_("Extend, convert and reactivate trials"), frozenset({OWNER, ADMIN, SALES, SUPPORT})),
    "onboarding.tick": (_("Tick onboarding steps (activated in Feide)"), frozenset({OWNER, ADMIN, SALES, SUPPORT})),
    "invoice.view": (_("See invoices, credit notes, payments and deliveries"), ALL),
    "invoice.edit": (
        _("Create and issue invoices, credit them, and start the billing run"),
        frozenset({OWNER, ADMIN, FINANCE}),
    ),
    "payment.register": (_("Register payments"), frozenset({OWNER, ADMIN, FINANCE})),
    "delivery.manage": (_("Send and resend invoices (EHF, e-mail)"), frozenset({OWNER, ADMIN, FINANCE})),
    "time.record": (_("Record billable hours and expenses"), frozenset({OWNER, ADMIN, FINANCE, SUPPORT})),
    "indexation.view": (_("See index figures, indexation policies, price changes and price histories"), ALL),
    "indexation.approve": (
        _("Approve or reject price changes by the index, and propose increases above it"),
        frozenset({OWNER, ADMIN, FINANCE}),
    ),
    "index_value.enter": (
        _("Enter or remove an index value by hand while SSB cannot be reached"),
        frozenset({OWNER, ADMIN, FINANCE}),
    ),
    "collections.view": (
        _("See what is owed and overdue, reminders, interest, bank imports and payment defaults"),
        ALL,
    ),
    "collections.manage": (
        _("Import bank files, match payments, put invoices on hold, and suspend or reopen for non-payment"),
        frozenset({OWNER, ADMIN, FINANCE}),
    ),
    "collections.policy": (_("Set the reminder, interest and default rules"), frozenset({OWNER, ADMIN, FINANCE})),
}


def has_permission(role: str | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"Unknown permission {permission!r}")
    return role in PERMISSIONS[permission][1]


def permission_table() -> list[tuple[str, str, list[bool]]]:
    """Rows for the roles page: (code, description, [held by each role in Role order])."""
    return [
        (code, str(description), [role in roles for role in Role.values])
        for code, (description, roles) in PERMISSIONS.items()
    ]
