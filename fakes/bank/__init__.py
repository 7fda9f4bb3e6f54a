"""A fake bank: the ISO 20022 camt.054 (BankToCustomerDebitCreditNotification, .001.08) credit notification
a Norwegian bank sends a vendor for the KID payments booked to its account, written from the published
format. The demo books its customers' payments by importing these files, as production imports the
bank's (billing/bank.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"


@dataclass(frozen=True)
class Credit:
    """One payment into the account: its amount, KID (None: the payer wrote a message instead), booking
    date, the payer and the bank's own reference for it."""

    amount: Decimal
    kid: str | None
    booked_on: dt.date
    payer_name: str
    reference: str
    message: str = ""


def _entry(n: int, credit: Credit) -> str:
    remittance = (
        "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
        f"<Ref>{escape(credit.kid)}</Ref></CdtrRefInf></Strd></RmtInf>"
        if credit.kid
        else f"<RmtInf><Ustrd>{escape(credit.message or 'Betaling')}</Ustrd></RmtInf>"
    )
    day = credit.booked_on.isoformat()
    return (
        f'<Ntry><NtryRef>{n}</NtryRef><Amt Ccy="NOK">{credit.amount:.2f}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
        f"<AcctSvcrRef>{escape(credit.reference)}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        "<NtryDtls><TxDtls>"
        f"<Refs><AcctSvcrRef>{escape(credit.reference)}</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
        f'<Amt Ccy="NOK">{credit.amount:.2f}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        f"<RltdPties><Dbtr><Pty><Nm>{escape(credit.payer_name)}</Nm></Pty></Dbtr></RltdPties>"
        f"{remittance}</TxDtls></NtryDtls></Ntry>"
    )


def camt054(*, account: str, owner: str, day: dt.date, credits: list[Credit]) -> bytes:
    """The notification for ``credits`` booked to ``account`` (11-digit Norwegian account), sent on ``day``."""
    body = "".join(_entry(n, c) for n, c in enumerate(credits, start=1))
    message_id = "DEMO" + hashlib.sha256(f"{account}{day}{body}".encode()).hexdigest()[:16].upper()
    created = f"{day.isoformat()}T06:00:00+01:00"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Document xmlns="{NS}"><BkToCstmrDbtCdtNtfctn>'
        f"<GrpHdr><MsgId>{message_id}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>"
        f"<Ntfctn><Id>{message_id}-1</Id><CreDtTm>{created}</CreDtTm>"
        f"<Acct><Id><Othr><Id>{account}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id><Ccy>NOK</Ccy>"
        f"<Ownr><Nm>{escape(owner)}</Nm></Ownr></Acct>"
        f"{body}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()
