"""billing.bankfiles: camt.054 and Nets OCR giro files read into payments (issue 11, item 1). Pure: no database."""

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from billing.bankfiles import (
    FORMAT_CAMT054,
    FORMAT_OCR_GIRO,
    BankFileError,
    BankPayment,
    detect_format,
    kid_is_valid,
    parse_bank_file,
    parse_camt054,
    parse_ocr_giro,
)
from billing.document import kid_mod10, kid_mod11

DATA = Path(__file__).parent / "data"
MARCH_3 = dt.date(2025, 3, 3)


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def rejected(name: str) -> BankFileError:
    with pytest.raises(BankFileError) as info:
        parse_bank_file(read(name))
    return info.value


# --- KID ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["00010023", "00010031", "1", "123456789012345678901234"])
def test_kids_the_project_issues_are_valid(base):
    assert kid_is_valid(kid_mod10(base))
    mod11 = kid_mod11(base)
    assert kid_is_valid(mod11 if mod11 is not None else base + "-")


@pytest.mark.parametrize("kid", ["000100649", "000100231", "1", "", "12a4", "0001002-3", "1" * 26])
def test_wrong_check_digits_and_non_kids_are_not_valid(kid):
    assert not kid_is_valid(kid)


# --- format detection --------------------------------------------------------------------------------------------


def test_the_format_is_detected_from_the_content():
    assert detect_format(read("camt054_v08.xml")) == FORMAT_CAMT054
    assert detect_format(b"\xef\xbb\xbf  \n<?xml version='1.0'?><Document/>") == FORMAT_CAMT054
    assert detect_format(read("ocr_giro.txt")) == FORMAT_OCR_GIRO
    with pytest.raises(BankFileError, match="line 1: neither a camt.054 XML file nor a Nets OCR giro file"):
        detect_format(b"Dato;Beskrivelse;Belop\n")
    with pytest.raises(BankFileError):
        detect_format(b"")


# --- camt.054 ----------------------------------------------------------------------------------------------------


def test_camt054_v08_credits_become_payments_and_the_debit_and_pending_entries_are_skipped():
    data = read("camt054_v08.xml")
    result = parse_bank_file(data)
    assert result.format == FORMAT_CAMT054
    assert result.version == "camt.054.001.08"
    assert result.file_id == "DNB20250304-0000417"
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.skipped == 2  # the bank's fee (DBIT) and a pending credit (PDNG)
    assert result.total == Decimal("17865.50")
    to = "NO9386011117947"
    assert result.payments == (
        BankPayment(
            amount=Decimal("12500.00"),
            currency="NOK",
            kid="000100230",
            booked_on=MARCH_3,
            value_date=MARCH_3,
            reference="70230412877001",
            payer_name="Fjordkraft Regnskap AS",
            payer_account="30001234567",
            to_account=to,
            message="",
            source_line=57,
            kid_valid=True,
        ),
        BankPayment(
            amount=Decimal("3750.50"),
            currency="NOK",
            kid="000100315",  # MOD11
            booked_on=MARCH_3,
            value_date=MARCH_3,
            reference="70230412877002",
            payer_name="Havbris Kommune",
            payer_account="NO5015032080119",
            to_account=to,
            message="",
            source_line=94,
            kid_valid=True,
        ),
        BankPayment(
            # no KID, no transaction amount (the entry's), no transaction reference (the entry's)
            amount=Decimal("990.00"),
            currency="NOK",
            kid=None,
            booked_on=MARCH_3,
            value_date=dt.date(2025, 3, 4),
            reference="2025030300413001",
            payer_name="Nordlys Tannklinikk",
            payer_account="NO3760110512344",
            to_account=to,
            message="Faktura 10040 og 10057 mars",
            source_line=152,
            kid_valid=False,
        ),
        BankPayment(
            # a wrong check digit is kept and flagged, not rejected; BookgDt given as DtTm
            amount=Decimal("625.00"),
            currency="NOK",
            kid="000100649",
            booked_on=MARCH_3,
            value_date=MARCH_3,
            reference="70230413560001",
            payer_name="Ola Nordmann",
            payer_account="24801234565",
            to_account=to,
            message="",
            source_line=190,
            kid_valid=False,
        ),
    )


def test_camt054_v02_shapes_are_read():
    """.001.02: Sts as text, Dbtr/Nm without Pty, the amount in AmtDtls/TxAmt, a BBAN account, an escaped name."""
    result = parse_camt054(read("camt054_v02.xml"))
    assert result.version == "camt.054.001.02"
    assert result.file_id == "SPV-CAMT054-20240115-01"
    assert result.skipped == 0
    assert result.payments == (
        BankPayment(
            amount=Decimal("4875.00"),
            currency="NOK",
            kid="000100578",
            booked_on=dt.date(2024, 1, 12),
            value_date=dt.date(2024, 1, 12),
            reference="SPV240112000981-1",
            payer_name="Bølgen & Co AS",
            payer_account="NO1597100612341",
            to_account="86011117947",
            message="",
            source_line=34,
            kid_valid=True,
        ),
    )


def test_the_same_bytes_give_the_same_sha256_and_other_bytes_another():
    data = read("camt054_v08.xml")
    first, again = parse_bank_file(data), parse_bank_file(bytes(data))
    assert first.sha256 == again.sha256 == "3cc0730c72a8c9026293371d44ef07da3006fdd73ed35511ffee2827b2c62eb1"
    assert first == again
    assert parse_bank_file(data.replace(b"  ", b" ")).sha256 != first.sha256


def test_truncated_xml_is_rejected_naming_the_line():
    assert str(rejected("camt054_truncated.xml")) == "line 91: not well-formed XML: no element found"


def test_an_amount_that_is_not_a_number_is_rejected_naming_the_element():
    error = rejected("camt054_amount_not_number.xml")
    assert error.where == "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[1]/NtryDtls/TxDtls[2]/Amt (line 99)"
    assert error.reason == "amount '3 750,50' is not a number"


def _edited(old: bytes, new: bytes) -> bytes:
    data = read("camt054_v08.xml")
    assert data.count(old) == 1
    return data.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            b'<Amt Ccy="NOK">3750.50</Amt>',
            b'<Amt Ccy="NOK">3750.00</Amt>',
            "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[1] (line 28): "
            "the transactions do not add up to the entry amount 16250.50",
        ),
        (
            b"<Cd>PDNG</Cd>",
            b"<Cd>BOOK</Cd>",  # a booked entry needs a booking date
            "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[5] (line 245): no booking date",
        ),
        (
            b"<DtTm>2025-03-03T14:02:11+01:00</DtTm>",
            b"<DtTm>03.03.2025 14:02</DtTm>",
            "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[3]/BookgDt/DtTm (line 183): "
            "booking date '03.03.2025 14:02' is not a date",
        ),
        (
            b"<CdtDbtInd>DBIT</CdtDbtInd>",
            b"<CdtDbtInd>D</CdtDbtInd>",
            "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[4] (line 220): CdtDbtInd 'D' is neither CRDT nor DBIT",
        ),
        (
            b"<AcctSvcrRef>70230412877002</AcctSvcrRef>",
            b"<AcctSvcrRef>70230412877001</AcctSvcrRef>",
            "line 94: reference '70230412877001' repeats line 57",
        ),
        (
            b'<Amt Ccy="NOK">625.00</Amt>\n            <CdtDbtInd>CRDT</CdtDbtInd>',
            b'<Amt Ccy="nok">625.00</Amt>\n            <CdtDbtInd>CRDT</CdtDbtInd>',
            "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[3]/NtryDtls/TxDtls/Amt (line 194): "
            "currency 'nok' is not an ISO 4217 code",
        ),
        (
            b"camt.054.001.08",
            b"camt.053.001.08",
            "/Document (line 2): not a camt.054 Document (namespace 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08')",
        ),
    ],
    ids=["sum", "booked-without-date", "bad-date", "bad-indicator", "duplicate-reference", "currency", "camt053"],
)
def test_camt054_breaking_its_format_is_rejected_whole(old, new, message):
    with pytest.raises(BankFileError) as info:
        parse_bank_file(_edited(old, new))
    assert str(info.value) == message


def test_a_dtd_is_refused_so_no_entity_is_ever_expanded():
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">&b;</Document>'
    )
    with pytest.raises(BankFileError, match="^line 2: a DTD/entity declaration is not allowed$"):
        parse_bank_file(bomb)


# --- Nets OCR giro -----------------------------------------------------------------------------------------------


def test_ocr_giro_transactions_become_payments():
    data = read("ocr_giro.txt")
    result = parse_bank_file(data)
    assert result.format == FORMAT_OCR_GIRO
    assert result.version == ""
    assert result.file_id == "0170604"
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.sha256 == "e3fa98c93b3ad37490fb9f06324e45a800c50306d4f9df19e3c4640308516e96"
    assert result.skipped == 0
    assert result.total == Decimal("17865.50")

    def ocr(amount, kid, line, reference, payer_account, message="", kid_valid=True):
        return BankPayment(
            amount=Decimal(amount),
            currency="NOK",
            kid=kid,
            booked_on=MARCH_3,
            value_date=None,
            reference=reference,
            payer_name="",
            payer_account=payer_account,
            to_account="86011117947",
            message=message,
            source_line=line,
            kid_valid=kid_valid,
        )

    assert result.payments == (
        ocr("12500.00", "000100230", 3, "4000086-0000001-099038562", "30001234567"),
        ocr("3750.50", "000100315", 5, "4000086-0000002-099038563", "15032080119"),
        ocr("990.00", None, 7, "4000086-0000003-099038564", "60110512344", "Faktura 10040 og 10057", kid_valid=False),
        ocr("625.00", "000100649", 10, "4000086-0000004-099038565", "24801234565", kid_valid=False),
    )


def test_ocr_line_endings_do_not_change_the_payments_but_do_change_the_sha256():
    crlf = read("ocr_giro.txt")
    lf = crlf.replace(b"\r\n", b"\n")
    assert parse_ocr_giro(lf).payments == parse_ocr_giro(crlf).payments
    assert parse_ocr_giro(lf).sha256 != parse_ocr_giro(crlf).sha256


def test_ocr_wrong_totals_are_rejected():
    error = rejected("ocr_giro_wrong_totals.txt")
    assert str(error) == "line 12: the oppdrag end's sum 1786551 øre is not the transactions' 1786550"


def test_ocr_bad_record_type_is_rejected():
    assert str(rejected("ocr_giro_bad_record_type.txt")) == "line 5: unknown record type 'NY091535'"


def test_ocr_amount_that_is_not_a_number_is_rejected():
    error = rejected("ocr_giro_amount_not_number.txt")
    assert str(error) == "line 3: beløp '000000000012500,0' (positions 33-49) is not a number"


def _ocr_lines() -> list[str]:
    return read("ocr_giro.txt").decode("iso-8859-1").splitlines()


def _ocr(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("iso-8859-1")


def _replace(line: str, start: int, text: str) -> str:
    return line[:start] + text + line[start + len(text) :]


def test_ocr_reversal_is_skipped_but_counted_in_the_totals():
    lines = _ocr_lines()
    lines[2] = _replace(lines[2], 4, "18")  # "Nettgiro - reversering m KID", sign '-'
    lines[2] = _replace(lines[2], 31, "-")
    lines[3] = _replace(lines[3], 4, "18")
    result = parse_ocr_giro(_ocr(lines))
    assert result.skipped == 1
    assert [p.source_line for p in result.payments] == [5, 7, 10]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda ls: ls.pop(), "line 12: the file ends without a forsendelse end record (NY000089)"),
        (lambda ls: ls.pop(0), "line 1: the file does not start with a forsendelse start record (NY000010)"),
        (lambda ls: ls.__setitem__(4, ls[4][:79]), "line 5: a record is 80 characters, not 79"),
        (lambda ls: ls.pop(3), "line 3: beløpspost 1 without its beløpspost 2"),
        (
            lambda ls: ls.__setitem__(10, _replace(ls[10], 8, "0000009")),
            "line 11: beløpspost 2 without its beløpspost 1",
        ),
        (
            lambda ls: ls.__setitem__(11, _replace(ls[11], 8, "00000005")),
            "line 12: the oppdrag end counts 5 transactions, the oppdrag has 4",
        ),
        (
            lambda ls: ls.__setitem__(11, _replace(ls[11], 16, "00000012")),
            "line 12: the oppdrag end counts 12 records, the oppdrag has 11",
        ),
        (
            lambda ls: ls.__setitem__(12, _replace(ls[12], 24, "00000000001786549")),
            "line 13: the forsendelse end's sum 1786549 øre is not the transactions' 1786550",
        ),
        (
            lambda ls: ls.__setitem__(12, _replace(ls[12], 16, "00000014")),
            "line 13: the forsendelse end counts 14 records, the file has 13",
        ),
        (
            lambda ls: ls.__setitem__(2, _replace(ls[2], 15, "310225")),
            "line 3: oppgjørsdato '310225' (positions 16-21) is not a DDMMYY date",
        ),
        (
            lambda ls: ls.__setitem__(2, _replace(ls[2], 31, "+")),
            "line 3: fortegn '+' (position 32) is neither '0' nor '-'",
        ),
        (
            lambda ls: ls.__setitem__(2, _replace(ls[2], 49, "             ABC000100230")),
            "line 3: KID 'ABC000100230' (positions 50-74) is not digits",
        ),
        (lambda ls: ls.append(ls[-1]), "line 14: a record after the forsendelse end record"),
        (lambda ls: ls.pop(1), "line 2: a transaction outside an oppdrag"),
        (
            lambda ls: ls.__setitem__(3, _replace(ls[3], 25, "09903856A")),
            "line 4: arkivreferanse '09903856A' (positions 26-34) is not a number",
        ),
    ],
    ids=[
        "no-end",
        "no-start",
        "short-record",
        "no-item-2",
        "item-2-of-another",
        "count",
        "records",
        "file-sum",
        "file-records",
        "date",
        "sign",
        "kid",
        "after-end",
        "no-oppdrag",
        "arkivreferanse",
    ],
)
def test_ocr_breaking_its_format_is_rejected_whole(edit, message):
    lines = _ocr_lines()
    edit(lines)
    with pytest.raises(BankFileError) as info:
        parse_bank_file(_ocr(lines))
    assert str(info.value) == message


def test_ocr_avtalegiro_agreement_files_are_not_payment_files():
    lines = [
        "NY000010" + "00008080" + "0170605" + "00010200" + "0" * 49,
        "NY212420" + "0" * 9 + "4000087" + "86011117947" + "0" * 45,
    ]
    with pytest.raises(BankFileError, match="^line 2: unknown record type 'NY212420'$"):
        parse_ocr_giro(_ocr(lines))


def test_the_fast_reader_reads_what_the_careful_one_reads():
    """Every sample camt.054 file the careful reader accepts, the fast one reads to the same payments and
    lines; a file it does not take as it is goes to the careful reader (same result or same refusal)."""
    from billing import bankfiles

    for path in sorted(DATA.glob("camt054*.xml")):
        data = path.read_bytes()
        try:
            careful = bankfiles._camt054_careful(data)
        except bankfiles.BankFileError:
            assert bankfiles._camt054_fast(data) is None, path.name
            continue
        fast = bankfiles._camt054_fast(data)
        assert fast is None or fast == careful, path.name
    assert bankfiles._camt054_fast((DATA / "camt054_v08.xml").read_bytes()) is not None  # the usual case is fast
