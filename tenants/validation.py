"""Norwegian identifiers, validated with python-stdnum. Plain functions, used by models, forms and API."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.no import kontonr, mva, orgnr


def normalise_org_number(value: str) -> str:
    return orgnr.compact(value or "")


def validate_org_number(value: str) -> None:
    if not orgnr.is_valid(value or ""):
        raise ValidationError(
            _("%(value)s is not a valid organisation number: it must be 9 digits with a correct check digit."),
            code="invalid_org_number",
            params={"value": value},
        )


def validate_mva_number(value: str) -> None:
    if not mva.is_valid(value or ""):
        raise ValidationError(
            _("%(value)s is not a valid MVA number: write it as NO + organisation number + MVA."),
            code="invalid_mva_number",
            params={"value": value},
        )


def validate_bank_account(value: str) -> None:
    if not kontonr.is_valid(value or ""):
        raise ValidationError(
            _("%(value)s is not a valid Norwegian bank account number (11 digits with a check digit)."),
            code="invalid_bank_account",
            params={"value": value},
        )


def validate_peppol_endpoint(value: str) -> None:
    """A Norwegian Peppol participant id: scheme 0192 and a valid organisation number."""
    scheme, _sep, identifier = (value or "").partition(":")
    if scheme != "0192" or not orgnr.is_valid(identifier):
        raise ValidationError(
            _("%(value)s is not a Norwegian Peppol id: write 0192: followed by a valid organisation number."),
            code="invalid_peppol_id",
            params={"value": value},
        )


def format_org_number(value: str) -> str:
    return orgnr.format(value) if value and orgnr.is_valid(value) else (value or "")


def format_bank_account(value: str) -> str:
    return kontonr.format(value) if value and kontonr.is_valid(value) else (value or "")


ORG_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def org_number_from(first_eight: str) -> str | None:
    """Complete eight digits with the MOD11 check digit; None where no valid digit exists (remainder 1)."""
    total = sum(int(d) * w for d, w in zip(first_eight, ORG_WEIGHTS, strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else f"{first_eight}{check}"


def made_up_org_number(seed: int, first: str = "9") -> str:
    """A valid, deterministic, made-up organisation number (for demo data and tests)."""
    n = seed
    while True:
        candidate = org_number_from(f"{first}{n % 10_000_000:07d}")
        if candidate:
            return candidate
        n += 1
