import datetime as dt
from decimal import Decimal

from stdnum import luhn

from billing.document import DocumentLine, kid_mod10, kid_mod11, vat_breakdown

D = Decimal


def line(n, net, cat="S", rate="25"):
    return DocumentLine(n, "x", "", "", D(1), "EA", D(net), D(net), cat, D(rate), dt.date(2026, 1, 1), None)


def test_vat_is_per_rate_on_the_sum_of_nets_rounded_once():
    lines = [line(1, "2892.00"), line(2, "4875.00"), line(3, "18525.00")]
    (group,) = vat_breakdown(lines)
    assert (group.category, group.taxable, group.tax) == ("S", D("26292.00"), D("6573.00"))
    # The Standard Norge first year: 49 612.50 + 4 961.25 → VAT 13 643.44 (13 643.4375 rounded once)
    (group,) = vat_breakdown([line(1, "49612.50"), line(2, "4961.25")])
    assert group.tax == D("13643.44")


def test_kid_check_digits():
    assert kid_mod10("1234567") == "12345674"
    assert luhn.is_valid(kid_mod10("2026000001"))
    # MOD11 by hand: 7·2 + 6·3 + 5·4 + 4·5 + 3·6 + 2·7 + 1·2 = 106; 106 mod 11 = 7; 11 − 7 = 4
    assert kid_mod11("1234567") == "12345674"
    # 4·2 + 3·3 + 2·4 + 1·5 = 30; 30 mod 11 = 8; 11 − 8 = 3
    assert kid_mod11("1234") == "12343"
    # a remainder of 1 would need the digit 10: no valid KID from that base
    assert kid_mod11("0000006") is None  # 6·2 = 12; 12 mod 11 = 1


def test_amounts_not_subject_to_vat_are_category_o_with_its_reason_and_no_vat():
    # late-payment interest and a reminder fee (receivables.interest_billing): outside the scope of VAT
    (group,) = vat_breakdown([line(1, "154.11", "O", "0"), line(2, "35.00", "O", "0")])
    assert (group.category, group.taxable, group.tax) == ("O", D("189.11"), D("0.00"))
    assert group.exemption_code == "VATEX-EU-O"
    assert group.exemption_reason.startswith("Utenfor merverdiavgiftsområdet")
