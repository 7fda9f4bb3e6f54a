"""Norwegian identifiers: organisation number, MVA number, bank account, Peppol id. Pure: no database."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from stdnum.no import orgnr

from tenants.validation import (
    format_bank_account,
    format_org_number,
    made_up_org_number,
    normalise_org_number,
    org_number_from,
    validate_bank_account,
    validate_mva_number,
    validate_org_number,
    validate_peppol_endpoint,
)


def _code(validator, value) -> str | None:
    """The error code the validator raises for ``value``, or None when it is accepted."""
    try:
        validator(value)
    except ValidationError as exc:
        return exc.code
    return None


# ---------------------------------------------------------------- organisation number


def test_the_seed_org_number_is_valid():
    assert _code(validate_org_number, "937620187") is None


def test_one_digit_off_is_invalid():
    assert _code(validate_org_number, "937620188") == "invalid_org_number"


def test_the_message_names_the_number():
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            validate_org_number("937620188")
        assert "937620188 is not a valid organisation number" in caught.value.messages[0]
    with pytest.raises(ValidationError) as caught:  # Bokmål by default
        validate_org_number("937620188")
    assert "937620188 er ikke et gyldig organisasjonsnummer" in caught.value.messages[0]


@pytest.mark.parametrize("value", ["", "93762018", "9376201870", "93762018x", "937 620 188"])
def test_malformed_org_numbers_are_invalid(value):
    assert _code(validate_org_number, value) == "invalid_org_number"


def test_normalise_and_format():
    assert normalise_org_number("937 620 187") == "937620187"
    assert normalise_org_number(" 937620187 ") == "937620187"
    assert format_org_number("937620187") == "937 620 187"
    assert format_org_number("937620188") == "937620188"  # invalid numbers are shown as typed
    assert format_org_number("") == ""


def test_org_number_from_completes_the_check_digit():
    assert org_number_from("93762018") == "937620187"
    assert org_number_from("93770053") == "937700539"


def test_org_number_from_refuses_when_no_check_digit_exists():
    # 9 3 7 6 2 0 1 1 weighted by 3 2 7 6 5 4 3 2 → 133, remainder 1: the check digit would be 10
    assert org_number_from("93762011") is None


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(["8", "9"]))
def test_made_up_org_numbers_are_always_valid(seed, first):
    number = made_up_org_number(seed, first)
    assert len(number) == 9
    assert number.startswith(first)
    assert orgnr.is_valid(number)


@given(st.integers(min_value=0, max_value=10**9))
def test_made_up_org_numbers_are_deterministic(seed):
    assert made_up_org_number(seed) == made_up_org_number(seed)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_org_number_from_is_valid_or_none(first_eight):
    number = org_number_from(first_eight)
    if number is None:
        assert all(not orgnr.is_valid(first_eight + d) for d in "0123456789")
    else:
        assert number.startswith(first_eight)
        assert orgnr.is_valid(number)


# ---------------------------------------------------------------- MVA number


def test_mva_number_valid():
    assert _code(validate_mva_number, "NO937620187MVA") is None


@pytest.mark.parametrize("value", ["NO937620188MVA", "937620187", "NO937620187", "SE937620187MVA", ""])
def test_mva_number_invalid(value):
    assert _code(validate_mva_number, value) == "invalid_mva_number"


# ---------------------------------------------------------------- bank account


def test_bank_account_valid():
    assert _code(validate_bank_account, "86011117947") is None
    assert _code(validate_bank_account, "8601.11.17947") is None
    assert format_bank_account("86011117947") == "8601.11.17947"


@pytest.mark.parametrize("value", ["86011117948", "8601111794", "860111179470", "", "abcdefghijk"])
def test_bank_account_invalid(value):
    assert _code(validate_bank_account, value) == "invalid_bank_account"


# ---------------------------------------------------------------- Peppol participant id


def test_peppol_id_valid():
    assert _code(validate_peppol_endpoint, "0192:937620187") is None


@pytest.mark.parametrize(
    "value",
    [
        "9908:937620187",  # the old Norwegian scheme, no longer used
        "0088:937620187",  # GLN scheme
        "0192:937620188",  # bad check digit
        "0192:",
        "937620187",
        "0192937620187",
        "",
    ],
)
def test_peppol_id_invalid(value):
    assert _code(validate_peppol_endpoint, value) == "invalid_peppol_id"
