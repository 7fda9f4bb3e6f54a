"""Incoming-payment files as Norwegian banks deliver them, read into plain records (issue 11, item 1).

Pure: bytes in, a ``BankFile`` of ``BankPayment`` records out — no Django, database, clock or I/O.

Two formats, told apart by their content (``detect_format``):

* ISO 20022 camt.054 (BankToCustomerDebitCreditNotification), any ``camt.054.001.NN`` namespace
  (written against .001.02 and .001.08). One payment per credited transaction detail (``TxDtls``), or per
  credited entry (``Ntry``) that has none. Debits, pending/information entries and reversals are skipped.
* Nets OCR giro (80-character "NY" records: forsendelse 00/10…00/89, oppdrag 09/20…09/88, beløpspost 1 and 2
  ``NY09tt30``/``NY09tt31`` and the optional free-text post ``NY09tt32``). Amounts are in øre; the counts and
  totals of the end records must agree with the transactions. Reversals (sign ``-``) are skipped but still
  count towards the end records' totals, whose amounts are unsigned as the amount fields are.

A file that breaks its format raises ``BankFileError`` naming the line (OCR) or the element path and line
(XML) and the reason; no records are returned for it: the whole file is rejected. A KID whose check digit
is wrong (neither MOD10 nor MOD11) is not an error: the payment carries ``kid_valid=False``.

The XML is read with the standard library's expat with any DTD refused, so no entity can be declared or
expanded (no "billion laughs", no external entities).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from xml.etree import ElementTree
from xml.parsers import expat

from stdnum import luhn

FORMAT_CAMT054 = "camt.054"
FORMAT_OCR_GIRO = "ocr-giro"

CAMT054_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.054\.001\.(\d{2})$")
OCR_RECORD_LENGTH = 80
OCR_ENCODING = "iso-8859-1"  # Nets delivers OCR files in ISO 8859-1
CENT = Decimal("0.01")
_AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")  # ISO 20022 ActiveOrHistoricCurrencyAndAmount, never negative
_KID = re.compile(r"^\d{1,24}[\d-]$")


class BankFileError(ValueError):
    """The file breaks its format; ``where`` is "line N" (OCR) or an element path and line (XML)."""

    def __init__(self, where: str, reason: str):
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class BankPayment:
    amount: Decimal  # always positive: only credits are payments
    currency: str
    kid: str | None  # the structured creditor reference as written; None where the payer gave none
    booked_on: dt.date
    value_date: dt.date | None
    reference: str  # the bank's reference, unique per payment: what a re-delivered file is deduplicated on
    payer_name: str
    payer_account: str
    to_account: str
    message: str  # unstructured remittance text / OCR free text
    source_line: int  # 1-based line of the TxDtls/Ntry element or the OCR beløpspost 1
    kid_valid: bool = False  # the KID has a correct MOD10 or MOD11 check digit


@dataclass(frozen=True)
class BankFile:
    format: str  # FORMAT_CAMT054 or FORMAT_OCR_GIRO
    sha256: str  # hex digest of the bytes as received
    file_id: str  # camt GrpHdr/MsgId; OCR forsendelsesnummer
    payments: tuple[BankPayment, ...]
    skipped: int = 0  # debits, reversals, pending entries: read, valid, and not payments
    version: str = ""  # "camt.054.001.08"; "" for OCR

    @property
    def total(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))


# --- KID -------------------------------------------------------------------------------------------------------


def _mod11_check(base: str) -> str:
    total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(base)))
    check = (11 - total % 11) % 11
    return "-" if check == 10 else str(check)


def kid_is_valid(kid: str) -> bool:
    """True for a KID (2–25 digits, MOD11's remainder 10 written '-') with a correct MOD10 or MOD11 check digit,
    the two methods Norwegian banks accept (billing.document.kid_mod10 / kid_mod11)."""
    if not _KID.match(kid):
        return False
    if kid[-1] != "-" and luhn.is_valid(kid):
        return True
    return _mod11_check(kid[:-1]) == kid[-1]


def _payment(**fields) -> BankPayment:
    kid = fields["kid"]
    return BankPayment(**fields, kid_valid=kid is not None and kid_is_valid(kid))


# --- format detection ------------------------------------------------------------------------------------------


def detect_format(data: bytes) -> str:
    """FORMAT_CAMT054 for XML, FORMAT_OCR_GIRO for "NY" records; BankFileError for anything else."""
    head = data.lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<"):
        return FORMAT_CAMT054
    if head.startswith(b"NY") and head[2:8].isdigit():
        return FORMAT_OCR_GIRO
    raise BankFileError("line 1", "neither a camt.054 XML file nor a Nets OCR giro file")


def parse_bank_file(data: bytes) -> BankFile:
    """The payments in a bank file of either format, detected from its content."""
    if detect_format(data) == FORMAT_CAMT054:
        return parse_camt054(data)
    return parse_ocr_giro(data)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- a minimal XML tree with line numbers ----------------------------------------------------------------------


class _El:
    __slots__ = ("tag", "ns", "attrs", "children", "parts", "line", "parent", "pos", "counts")

    def __init__(self, tag: str, ns: str, attrs: dict[str, str], line: int, parent: _El | None):
        self.tag, self.ns, self.attrs, self.line, self.parent = tag, ns, attrs, line, parent
        self.children: list[_El] = []
        self.parts: list[str] = []
        self.counts: dict[str, int] = {}  # children seen per tag (kept when a streamed child is let go)
        self.pos = 1  # among its parent's children with the same tag
        if parent is not None:
            self.pos = parent.counts[tag] = parent.counts.get(tag, 0) + 1

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    def all(self, tag: str) -> list[_El]:
        return [c for c in self.children if c.tag == tag and c.ns == self.ns]

    def one(self, path: str) -> _El | None:
        el: _El | None = self
        for tag in path.split("/"):
            found = el.all(tag) if el is not None else []
            if len(found) > 1:
                raise BankFileError(_where(found[1]), f"{tag} occurs more than once")
            el = found[0] if found else None
        return el

    def value(self, path: str) -> str:
        el = self.one(path)
        return el.text if el is not None else ""

    def path(self) -> str:
        steps = []
        el: _El | None = self
        while el is not None:
            step = el.tag
            if el.parent is not None and el.parent.counts.get(el.tag, 0) > 1:
                step += f"[{el.pos}]"
            steps.append(step)
            el = el.parent
        return "/" + "/".join(reversed(steps))


def _where(el: _El) -> str:
    return f"{el.path()} (line {el.line})"


def _parse_xml(data: bytes, stream: tuple[str, Callable[[_El], bool]] | None = None) -> _El:
    """The document as a tree of :class:`_El`. ``stream=(tag, handle)``: each element with that tag is given
    to ``handle`` once the next one with the same parent starts or the parent ends (so its position among
    its siblings, and whether it has any, is known); when ``handle`` returns True the element is let go, so a
    file of 100 000 entries is never held whole in memory."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_El] = []
    roots: list[_El] = []

    def refuse_dtd(*_args):
        raise BankFileError(f"line {parser.CurrentLineNumber}", "a DTD/entity declaration is not allowed")

    pending: list[_El] = []  # the streamed element waiting for its next sibling or its parent's end

    def flush() -> None:
        el = pending.pop()
        if stream[1](el):
            el.parent.children.remove(el)  # the last child: removal from the end is cheap

    names: dict[str, tuple[str, str, str]] = {}

    def start(name: str, attrs: dict[str, str]):
        split = names.get(name)
        if split is None:
            split = names[name] = name.rpartition(" ")
        ns, _, tag = split
        parent = stack[-1] if stack else None
        el = _El(tag, ns, attrs, parser.CurrentLineNumber, parent)  # counted among its siblings first
        if pending and tag == stream[0] and pending[0].parent is parent:
            flush()
        (parent.children if parent is not None else roots).append(el)
        stack.append(el)

    def end(_name: str):
        el = stack.pop()
        if pending and pending[0].parent is el:
            flush()
        if stream is not None and el.tag == stream[0] and el.parent is not None:
            pending.append(el)

    def chars(text: str):
        if stack:
            stack[-1].parts.append(text)

    parser.buffer_text = True  # one call per run of text, not per line
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise BankFileError(f"line {exc.lineno}", f"not well-formed XML: {expat.ErrorString(exc.code)}") from None
    return roots[0]


# --- camt.054 --------------------------------------------------------------------------------------------------


def _amount(el: _El | None, owner: _El) -> tuple[Decimal, str]:
    if el is None:
        raise BankFileError(_where(owner), "no amount")
    if not _AMOUNT.match(el.text):
        raise BankFileError(_where(el), f"amount {el.text!r} is not a number")
    currency = el.attrs.get("Ccy", "")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise BankFileError(_where(el), f"currency {currency!r} is not an ISO 4217 code")
    return Decimal(el.text), currency


def _date(el: _El | None, owner: _El, what: str, required: bool) -> dt.date | None:
    """A DateAndDateTime2Choice: <Dt>YYYY-MM-DD</Dt> or <DtTm>…</DtTm> (its date as written)."""
    if el is None or not el.children:
        if required:
            raise BankFileError(_where(owner), f"no {what}")
        return None
    choice = el.children[0]
    text = choice.text[:10] if choice.tag == "DtTm" else choice.text
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BankFileError(_where(choice), f"{what} {choice.text!r} is not a date") from None


def _account(el: _El | None) -> str:
    if el is None:
        return ""
    return el.value("Id/IBAN") or el.value("Id/Othr/Id")


def _party_name(el: _El | None) -> str:
    """v02: Dbtr/Nm; v08 and later: Dbtr/Pty/Nm (Party40Choice)."""
    if el is None:
        return ""
    return el.value("Nm") or el.value("Pty/Nm")


def _status(ntry: _El) -> str:
    sts = ntry.one("Sts")
    if sts is None:
        raise BankFileError(_where(ntry), "no Sts")
    return (sts.value("Cd") if sts.children else sts.text).upper()


def _credit_debit(el: _El, owner: _El) -> str:
    value = el.value("CdtDbtInd")
    if value not in ("CRDT", "DBIT"):
        raise BankFileError(_where(owner), f"CdtDbtInd {value!r} is neither CRDT nor DBIT")
    return value


def _reference(tx: _El | None, ntry: _El, index: int, count: int) -> str:
    refs = tx.one("Refs") if tx is not None else None
    if refs is not None and refs.value("AcctSvcrRef"):
        return refs.value("AcctSvcrRef")
    entry_ref = ntry.value("AcctSvcrRef") or ntry.value("NtryRef")
    if entry_ref:
        return entry_ref if count == 1 else f"{entry_ref}/{index}"
    if refs is not None:
        for tag in ("TxId", "EndToEndId"):
            value = refs.value(tag)
            if value and value != "NOTPROVIDED":
                return value
    raise BankFileError(_where(tx if tx is not None else ntry), "no bank reference (AcctSvcrRef, TxId, EndToEndId)")


def _remittance(rmt: _El | None) -> tuple[str | None, str]:
    if rmt is None:
        return None, ""
    message = " ".join(u.text for u in rmt.all("Ustrd") if u.text)
    refs = [s.value("CdtrRefInf/Ref") for s in rmt.all("Strd")]
    refs = [r for r in refs if r]
    return (refs[0] if refs else None), message


def _entry(ntry: _El, to_account: str) -> tuple[list[BankPayment], int]:
    """The credited payments of one camt.054 entry, and how many transactions it skips (debits, not booked,
    reversals)."""
    entry_amount, entry_currency = _amount(ntry.one("Amt"), ntry)
    direction = _credit_debit(ntry, ntry)
    status = _status(ntry)
    booked_on = _date(ntry.one("BookgDt"), ntry, "booking date", required=status == "BOOK")
    value_date = _date(ntry.one("ValDt"), ntry, "value date", required=False)
    details = [tx for d in ntry.all("NtryDtls") for tx in d.all("TxDtls")]
    if direction == "DBIT" or status != "BOOK" or ntry.value("RvslInd").lower() in ("true", "1"):
        return [], max(len(details), 1)
    assert booked_on is not None  # required above for a booked entry
    if not details:
        kid, message = None, ntry.value("AddtlNtryInf")
        payment = _payment(
            amount=entry_amount,
            currency=entry_currency,
            kid=kid,
            booked_on=booked_on,
            value_date=value_date,
            reference=_reference(None, ntry, 1, 1),
            payer_name="",
            payer_account="",
            to_account=to_account,
            message=message,
            source_line=ntry.line,
        )
        return [payment], 0
    credited: list[tuple[BankPayment, _El]] = []
    for index, tx in enumerate(details, start=1):
        amount_el = tx.one("Amt") or tx.one("AmtDtls/TxAmt/Amt")
        if amount_el is None and len(details) == 1:
            amount, currency = entry_amount, entry_currency
        else:
            amount, currency = _amount(amount_el, tx)
        if tx.one("CdtDbtInd") is not None and _credit_debit(tx, tx) == "DBIT":
            raise BankFileError(_where(tx), "a debited transaction in a credited entry")
        parties = tx.one("RltdPties")
        kid, message = _remittance(tx.one("RmtInf"))
        payment = _payment(
            amount=amount,
            currency=currency,
            kid=kid,
            booked_on=booked_on,
            value_date=value_date,
            reference=_reference(tx, ntry, index, len(details)),
            payer_name=_party_name(parties.one("Dbtr") if parties else None),
            payer_account=_account(parties.one("DbtrAcct") if parties else None),
            to_account=to_account,
            message=message,
            source_line=tx.line,
        )
        credited.append((payment, tx))
    if any(p.currency != entry_currency for p, _ in credited):
        raise BankFileError(_where(ntry), "the transactions' currency differs from the entry's")
    if sum(p.amount for p, _ in credited) != entry_amount:
        raise BankFileError(_where(ntry), f"the transactions do not add up to the entry amount {entry_amount}")
    return [p for p, _ in credited], 0


def _is_camt054_entry(ntry: _El) -> bool:
    ntfctn = ntry.parent
    body = ntfctn.parent if ntfctn is not None else None
    root = body.parent if body is not None else None
    return (
        ntfctn.tag == "Ntfctn"
        and body is not None
        and body.tag == "BkToCstmrDbtCdtNtfctn"
        and root is not None
        and root.parent is None
        and root.tag == "Document"
        and bool(CAMT054_NAMESPACE.match(root.ns))
    )


def _to_account(ntfctn: _El) -> str:
    acct = ntfctn.one("Acct")
    if acct is None or not _account(acct):
        raise BankFileError(_where(ntfctn), "no Acct/Id")
    return _account(acct)


def parse_camt054(data: bytes) -> BankFile:
    """The credited payments in an ISO 20022 camt.054 notification.

    A well-formed file is read by the fast reader (:func:`_camt054_fast`: the C parser, each entry read by
    the same rules as below and let go); anything it does not take as it is — a DTD, an error, a count that
    does not add up — is read again by the careful reader below, which names the element, its line and the
    reason, so a file is accepted or refused exactly as the careful reader would."""
    fast = _camt054_fast(data)
    return fast if fast is not None else _camt054_careful(data)


def _camt054_careful(data: bytes) -> BankFile:
    """The careful reader: every element with its line number. Entries are read as the file is parsed and
    then let go (a bank's file can hold 100 000 of them)."""
    payments: list[BankPayment] = []
    skipped = 0

    def entry(ntry: _El) -> bool:
        nonlocal skipped
        if not _is_camt054_entry(ntry):
            return False  # left in the tree: the checks below say what is wrong with the document
        got, skip = _entry(ntry, _to_account(ntry.parent))
        payments.extend(got)
        skipped += skip
        return True

    root = _parse_xml(data, stream=("Ntry", entry))
    match = CAMT054_NAMESPACE.match(root.ns)
    if root.tag != "Document" or not match:
        raise BankFileError(_where(root), f"not a camt.054 Document (namespace {root.ns!r})")
    body = root.one("BkToCstmrDbtCdtNtfctn")
    if body is None:
        raise BankFileError(_where(root), "no BkToCstmrDbtCdtNtfctn")
    msg_id = body.value("GrpHdr/MsgId")
    if not msg_id:
        raise BankFileError(_where(body), "no GrpHdr/MsgId")
    notifications = body.all("Ntfctn")
    if not notifications:
        raise BankFileError(_where(body), "no Ntfctn")
    for ntfctn in notifications:
        _to_account(ntfctn)
    _check_unique(payments)
    return BankFile(
        format=FORMAT_CAMT054,
        sha256=_sha256(data),
        file_id=msg_id,
        payments=tuple(payments),
        skipped=skipped,
        version=f"camt.054.001.{match.group(1)}",
    )


# --- the fast camt.054 reader -----------------------------------------------------------------------------------


class _NotFast(Exception):
    """The fast reader leaves this file to the careful one."""


_SPLIT: dict[str, tuple[str, str]] = {}


def _split(name: str) -> tuple[str, str]:
    """``{ns}Tag`` → (ns, Tag), cached (a file repeats a few dozen names)."""
    found = _SPLIT.get(name)
    if found is None:
        ns, _, tag = name[1:].partition("}") if name.startswith("{") else ("", "", name)
        found = _SPLIT[name] = (ns, tag)
    return found


class _Et:
    """An ElementTree element seen through :class:`_El`'s reading methods (``one``, ``all``, ``value``,
    ``text``, ``children``, ``attrs``, ``line``), wrapped only where the rules look."""

    __slots__ = ("et", "parent", "line", "lines")

    def __init__(self, et, parent: _Et | None, line: int, lines: dict[int, int]):
        self.et, self.parent, self.lines = et, parent, lines
        self.line = lines.get(id(et), line)

    def _wrap(self, et) -> _Et:
        return _Et(et, self, self.line, self.lines)

    @property
    def tag(self) -> str:
        return _split(self.et.tag)[1]

    @property
    def ns(self) -> str:
        return _split(self.et.tag)[0]

    @property
    def attrs(self):
        return self.et.attrib

    @property
    def text(self) -> str:
        return (self.et.text or "").strip()

    @property
    def children(self) -> list[_Et]:
        return [self._wrap(c) for c in self.et]

    def all(self, tag: str) -> list[_Et]:
        return [self._wrap(c) for c in self.et.findall(f"{{{self.ns}}}{tag}")]

    def one(self, path: str) -> _Et | None:
        el: _Et | None = self
        for tag in path.split("/"):
            found = el.all(tag) if el is not None else []
            if len(found) > 1:
                raise _NotFast
            el = found[0] if found else None
        return el

    def value(self, path: str) -> str:
        el = self.one(path)
        return el.text if el is not None else ""

    def path(self) -> str:  # only for an error: the careful reader words it
        raise _NotFast


def _start_lines(data: bytes, tag: bytes) -> list[int]:
    """The line of each start tag ``tag`` (any prefix), in document order."""
    newlines = [m.start() for m in re.finditer(rb"\n", data)]
    return [bisect.bisect(newlines, m.start()) + 1 for m in re.finditer(rb"<(?:[\w.-]+:)?" + tag + rb"[\s/>]", data)]


def _camt054_fast(data: bytes) -> BankFile | None:
    if b"<!" in data:  # a DTD, entity, comment or CDATA: the careful reader's business
        return None
    try:
        return _camt054_fast_read(data)
    except (_NotFast, BankFileError, ElementTree.ParseError):
        return None


def _camt054_fast_read(data: bytes) -> BankFile:
    entry_lines, tx_lines = _start_lines(data, b"Ntry"), _start_lines(data, b"TxDtls")
    events = ElementTree.iterparse(io.BytesIO(data), events=("start", "end"))  # noqa: S314 - no "<!" (checked)
    _event, root = next(events)
    ns, tag = _split(root.tag)
    match = CAMT054_NAMESPACE.match(ns)
    if tag != "Document" or not match:
        raise _NotFast
    q = {name: f"{{{ns}}}{name}" for name in ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "Ntry", "TxDtls", "Acct")}
    stack = [root]
    payments: list[BankPayment] = []
    skipped = entries = transactions = 0
    to_account = ""
    for event, el in events:
        if event == "start":
            if el.tag == q["Ntfctn"]:
                to_account = ""
            stack.append(el)
            continue
        stack.pop()
        if len(stack) != 3 or stack[1].tag != q["BkToCstmrDbtCdtNtfctn"] or stack[2].tag != q["Ntfctn"]:
            continue
        if el.tag == q["Acct"]:
            to_account = _account(_Et(el, None, 0, {}))
        elif el.tag == q["Ntry"]:
            if not to_account:
                raise _NotFast
            lines = {}
            for tx in el.iter(q["TxDtls"]):
                lines[id(tx)] = tx_lines[transactions]
                transactions += 1
            got, skip = _entry(_Et(el, None, entry_lines[entries], lines), to_account)
            entries += 1
            payments.extend(got)
            skipped += skip
            stack[2].remove(el)  # read: let it go
    if entries != len(entry_lines) or transactions != len(tx_lines):
        raise _NotFast
    body = root.find(q["BkToCstmrDbtCdtNtfctn"])
    if body is None or len(body.findall(q["Ntfctn"])) == 0:
        raise _NotFast
    msg_id = _Et(body, None, 0, {}).value("GrpHdr/MsgId")
    if not msg_id:
        raise _NotFast
    for ntfctn in body.findall(q["Ntfctn"]):
        if not _account(_Et(ntfctn, None, 0, {}).one("Acct")):
            raise _NotFast
    _check_unique(payments)
    return BankFile(
        format=FORMAT_CAMT054,
        sha256=_sha256(data),
        file_id=msg_id,
        payments=tuple(payments),
        skipped=skipped,
        version=f"camt.054.001.{match.group(1)}",
    )


def _check_unique(payments: list[BankPayment]) -> None:
    seen: dict[str, BankPayment] = {}
    for p in payments:
        if p.reference in seen:
            raise BankFileError(
                f"line {p.source_line}", f"reference {p.reference!r} repeats line {seen[p.reference].source_line}"
            )
        seen[p.reference] = p


# --- Nets OCR giro ---------------------------------------------------------------------------------------------


def _digits(line: str, start: int, end: int, lineno: int, what: str) -> int:
    text = line[start:end]
    if not text.isdigit() or not text.isascii():
        raise BankFileError(f"line {lineno}", f"{what} {text!r} (positions {start + 1}-{end}) is not a number")
    return int(text)


def _ocr_date(line: str, start: int, lineno: int, what: str, required: bool = True) -> dt.date | None:
    text = line[start : start + 6]
    if text == "000000" and not required:
        return None
    try:
        return dt.date(2000 + int(text[4:6]), int(text[2:4]), int(text[0:2])) if text.isdigit() else None
    except ValueError:
        pass
    raise BankFileError(f"line {lineno}", f"{what} {text!r} (positions {start + 1}-{start + 6}) is not a DDMMYY date")


def _account_number(text: str) -> str:
    return "" if text.strip("0 ") == "" else text


def _ocr_lines(data: bytes) -> list[str]:
    text = data.decode(OCR_ENCODING)
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    for lineno, line in enumerate(lines, start=1):
        if len(line) != OCR_RECORD_LENGTH:
            raise BankFileError(f"line {lineno}", f"a record is {OCR_RECORD_LENGTH} characters, not {len(line)}")
        if not line.startswith("NY"):
            raise BankFileError(f"line {lineno}", f"format code {line[:2]!r} is not 'NY'")
    return lines


@dataclass
class _Assignment:
    number: str
    account: str
    start_line: int
    transactions: int = 0
    total_ore: int = 0


def parse_ocr_giro(data: bytes) -> BankFile:
    """The payments in a Nets OCR giro file (one forsendelse of one or more oppdrag)."""
    lines = _ocr_lines(data)
    if not lines or lines[0][:8] != "NY000010":
        raise BankFileError("line 1", "the file does not start with a forsendelse start record (NY000010)")
    transmission = lines[0][16:23]
    _digits(lines[0], 16, 23, 1, "forsendelsesnummer")
    payments: list[BankPayment] = []
    skipped = 0
    assignment: _Assignment | None = None
    all_transactions = all_ore = 0
    ended = False
    pending: dict | None = None  # beløpspost 1 (and 2) of the transaction being read

    def finish_transaction() -> None:
        nonlocal pending, skipped
        if pending is None:
            return
        del pending["_number"], pending["_type"]
        if "payer_account" not in pending:
            raise BankFileError(f"line {pending['source_line']}", "beløpspost 1 without its beløpspost 2")
        if pending.pop("reversal"):
            skipped += 1
        else:
            payments.append(_payment(**pending))
        pending = None

    lineno = 1
    for lineno, line in enumerate(lines[1:], start=2):
        service, kind, record = line[2:4], line[4:6], line[6:8]
        if ended:
            raise BankFileError(f"line {lineno}", "a record after the forsendelse end record")
        if record in ("31", "32") and service == "09":
            number = line[8:15]
            if pending is None or pending["_number"] != number or pending["_type"] != kind:
                raise BankFileError(f"line {lineno}", f"beløpspost {int(record) - 29} without its beløpspost 1")
            if record == "31":
                _digits(line, 25, 34, lineno, "arkivreferanse")
                pending["reference"] = f"{pending['reference']}-{line[25:34]}"
                pending["payer_account"] = _account_number(line[47:58])
            else:
                pending["message"] = line[15:55].strip()
            continue
        finish_transaction()
        if service == "09" and record == "30":
            if assignment is None:
                raise BankFileError(f"line {lineno}", "a transaction outside an oppdrag")
            _digits(line, 4, 6, lineno, "transaksjonstype")
            number = line[8:15]
            _digits(line, 8, 15, lineno, "transaksjonsnummer")
            settled = _ocr_date(line, 15, lineno, "oppgjørsdato")
            sign = line[31]
            if sign not in "0-":
                raise BankFileError(f"line {lineno}", f"fortegn {sign!r} (position 32) is neither '0' nor '-'")
            ore = _digits(line, 32, 49, lineno, "beløp")
            kid = line[49:74].strip() or None
            if kid is not None and not _KID.match(kid):
                raise BankFileError(f"line {lineno}", f"KID {kid!r} (positions 50-74) is not digits")
            assignment.transactions += 1
            assignment.total_ore += ore
            pending = {
                "_number": number,
                "_type": kind,
                "reversal": sign == "-",
                "amount": (Decimal(ore) / 100).quantize(CENT),
                "currency": "NOK",
                "kid": kid,
                "booked_on": settled,
                "value_date": None,
                "reference": f"{assignment.number}-{number}",  # + the arkivreferanse from beløpspost 2
                "payer_name": "",
                "to_account": assignment.account,
                "message": "",
                "source_line": lineno,
            }
        elif service == "09" and kind == "00" and record == "20":
            if assignment is not None:
                raise BankFileError(f"line {lineno}", "an oppdrag starts before the previous one ended")
            _digits(line, 17, 24, lineno, "oppdragsnummer")
            _digits(line, 24, 35, lineno, "oppdragskonto")
            assignment = _Assignment(line[17:24], line[24:35], lineno)
        elif service == "09" and kind == "00" and record == "88":
            if assignment is None:
                raise BankFileError(f"line {lineno}", "an oppdrag end without its start")
            count = _digits(line, 8, 16, lineno, "antall transaksjoner")
            records = _digits(line, 16, 24, lineno, "antall poster")
            total = _digits(line, 24, 41, lineno, "sum beløp")
            _ocr_date(line, 41, lineno, "oppgjørsdato")
            if count != assignment.transactions:
                raise BankFileError(
                    f"line {lineno}",
                    f"the oppdrag end counts {count} transactions, the oppdrag has {assignment.transactions}",
                )
            if records != lineno - assignment.start_line + 1:
                raise BankFileError(
                    f"line {lineno}",
                    f"the oppdrag end counts {records} records, the oppdrag has {lineno - assignment.start_line + 1}",
                )
            if total != assignment.total_ore:
                raise BankFileError(
                    f"line {lineno}",
                    f"the oppdrag end's sum {total} øre is not the transactions' {assignment.total_ore}",
                )
            all_transactions += count
            all_ore += total
            assignment = None
        elif service == "00" and kind == "00" and record == "89":
            if assignment is not None:
                raise BankFileError(f"line {lineno}", "the forsendelse ends inside an oppdrag")
            count = _digits(line, 8, 16, lineno, "antall transaksjoner")
            records = _digits(line, 16, 24, lineno, "antall poster")
            total = _digits(line, 24, 41, lineno, "sum beløp")
            _ocr_date(line, 41, lineno, "oppgjørsdato")
            if count != all_transactions:
                raise BankFileError(
                    f"line {lineno}",
                    f"the forsendelse end counts {count} transactions, the file has {all_transactions}",
                )
            if records != lineno:
                raise BankFileError(
                    f"line {lineno}", f"the forsendelse end counts {records} records, the file has {lineno}"
                )
            if total != all_ore:
                raise BankFileError(
                    f"line {lineno}", f"the forsendelse end's sum {total} øre is not the transactions' {all_ore}"
                )
            ended = True
        else:
            raise BankFileError(f"line {lineno}", f"unknown record type {line[:8]!r}")
    if not ended:
        raise BankFileError(f"line {lineno}", "the file ends without a forsendelse end record (NY000089)")
    _check_unique(payments)
    return BankFile(
        format=FORMAT_OCR_GIRO,
        sha256=_sha256(data),
        file_id=transmission,
        payments=tuple(payments),
        skipped=skipped,
    )
