"""Client for Brønnøysundregistrene's Enhetsregisteret (``/enheter`` and ``/underenheter``).

The one way Avtale talks to the registry: ``requests`` with a timeout, retries on connection
errors and 5xx, and a configurable base URL (``BRREG_BASE_URL``; tests and the demo point it at
``fakes/``). A main unit (enhet) is tried first, then a sub-unit (underenhet: e.g. a school).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import requests
from django.conf import settings
from stdnum.no import orgnr
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from config.http import retrying_session
from tenants.validation import normalise_org_number


class BrregError(Exception):
    """Base for registry problems."""


class OrgNotFound(BrregError):
    """The organisation number is not in the registry."""


class RegistryUnavailable(BrregError):
    """The registry did not answer usefully (down, timeout, unexpected reply)."""


@dataclass(frozen=True)
class OrgInfo:
    org_number: str
    name: str
    organisation_form: str = ""
    organisation_form_text: str = ""
    address_line: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "NO"
    municipality: str = ""
    registered_in_mva: bool = False
    registered_in_foretaksregisteret: bool = False
    bankrupt: bool = False
    under_liquidation: bool = False
    under_forced_liquidation: bool = False
    deleted: bool = False
    deleted_on: str = ""
    bankrupt_on: str = ""
    liquidation_on: str = ""
    is_sub_unit: bool = False
    parent_org_number: str = ""
    sector_code: str = ""
    # The registry's postal address (e.g. "Postboks 8001"), where invoices usually go; empty if none.
    post_address_line: str = ""
    post_postal_code: str = ""
    post_city: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        return not (self.bankrupt or self.under_liquidation or self.under_forced_liquidation or self.deleted)

    @property
    def suggested_kind(self) -> str:
        """Customer kind from organisation form and sector (KOMM = kommune, FYLK = fylkeskommune)."""
        if self.organisation_form == "KOMM":
            return "kommune"
        if self.organisation_form == "FYLK":
            return "fylkeskommune"
        if self.is_sub_unit and any(word in self.name.lower() for word in ("skole", "skule")):
            return "school"
        if self.organisation_form in {"AS", "ASA", "ENK", "ANS", "DA", "SA", "NUF"}:
            return "company"
        return "other"

    @property
    def display_name(self) -> str:
        """The registry's UPPERCASE name as people write it: "Hundvåg skole", "Fjordbygg Rådgivning AS"."""
        return pretty_name(self.name)

    def invoice_address(self) -> tuple[str, str, str]:
        """(address line, postal code, city) to prefill an invoice address: the postal address if any."""
        if self.post_address_line or self.post_postal_code:
            return self.post_address_line, self.post_postal_code, self.post_city
        return self.address_line, self.postal_code, self.city

    def as_dict(self) -> dict:
        data = asdict(self)
        data["is_active"] = self.is_active
        data["suggested_kind"] = self.suggested_kind
        data["display_name"] = self.display_name
        return data


# Legal forms and abbreviations stay uppercase; common nouns and small words are lowercase after the first word.
_UPPER_WORDS = {"AS", "ASA", "ANS", "DA", "SA", "KF", "IKS", "NUF", "BA", "ENK", "AB", "IKT", "HMS", "NAV"}
_LOWER_WORDS = {
    "og",
    "i",
    "på",
    "av",
    "for",
    "til",
    "med",
    "kommune",
    "fylkeskommune",
    "skole",
    "skule",
    "barneskole",
    "ungdomsskole",
    "videregående",
    "vidaregåande",
}


def pretty_name(name: str) -> str:
    """Registry names are UPPERCASE; turn one into the usual Norwegian spelling (names already mixed stay)."""
    if not name or name != name.upper():
        return name
    words = []
    for index, word in enumerate(name.split()):
        if word in _UPPER_WORDS:
            words.append(word)
        elif index > 0 and word.lower() in _LOWER_WORDS:
            words.append(word.lower())
        else:
            words.append(word.title())
    return " ".join(words)


def _place(value: str) -> str:
    """A place name from the registry ("MO I RANA") as written ("Mo i Rana")."""
    words = (value or "").split()
    return " ".join(w.lower() if i and w.lower() in {"i", "på"} else w.title() for i, w in enumerate(words))


WARNING_CODES = ("bankrupt", "under_liquidation", "under_forced_liquidation", "deleted")


def _warnings(flags: dict[str, bool]) -> list[str]:
    """Codes of what makes a unit unfit to trade with, in a fixed order (the UI translates them)."""
    return [code for code in WARNING_CODES if flags[code]]


def _address(raw: dict | None) -> tuple[str, str, str, str, str]:
    raw = raw or {}
    return (
        ", ".join(line for line in raw.get("adresse") or [] if line),
        raw.get("postnummer") or "",
        _place(raw.get("poststed") or ""),
        raw.get("landkode") or "NO",
        _place(raw.get("kommune") or ""),
    )


def parse_unit(data: dict, *, sub_unit: bool) -> OrgInfo:
    """Turn a registry JSON document into :class:`OrgInfo`."""
    form = data.get("organisasjonsform") or {}
    address = data.get("forretningsadresse") or data.get("beliggenhetsadresse") or data.get("postadresse")
    line, postal, city, country, municipality = _address(address)
    post_line, post_postal, post_city, _country, _municipality = _address(data.get("postadresse"))
    slettedato = data.get("slettedato") or ""
    flags = {
        "bankrupt": bool(data.get("konkurs")),
        "under_liquidation": bool(data.get("underAvvikling")),
        "under_forced_liquidation": bool(data.get("underTvangsavviklingEllerTvangsopplosning")),
        "deleted": bool(slettedato),
    }
    return OrgInfo(
        org_number=data["organisasjonsnummer"],
        name=data.get("navn", ""),
        organisation_form=form.get("kode", ""),
        organisation_form_text=form.get("beskrivelse", ""),
        address_line=line,
        postal_code=postal,
        city=city,
        country=country,
        municipality=municipality,
        registered_in_mva=bool(data.get("registrertIMvaregisteret")),
        registered_in_foretaksregisteret=bool(data.get("registrertIForetaksregisteret")),
        **flags,
        deleted_on=slettedato,
        bankrupt_on=data.get("konkursdato") or "",
        liquidation_on=data.get("underAvviklingDato") or "",
        is_sub_unit=sub_unit,
        parent_org_number=data.get("overordnetEnhet") or "",
        sector_code=(data.get("institusjonellSektorkode") or {}).get("kode", ""),
        post_address_line=post_line,
        post_postal_code=post_postal,
        post_city=post_city,
        warnings=_warnings(flags),
    )


def _is_timeout(exc: requests.RequestException) -> bool:
    """A timeout, also when urllib3's retries wrapped it (requests then raises a plain ConnectionError)."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    # urllib3's NewConnectionError (e.g. connection refused) subclasses its timeout error: not a timeout.
    return isinstance(reason, Urllib3Timeout) and not isinstance(reason, NewConnectionError)


class BrregClient:
    def __init__(self, base_url: str | None = None, timeout: float | None = None, retries: int | None = None):
        self.base_url = (base_url or settings.BRREG_BASE_URL).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.OUTSIDE_SERVICE_TIMEOUT
        self.session = retrying_session(retries, methods=("GET",))

    def _get(self, kind: str, org_number: str) -> dict | None:
        url = f"{self.base_url}/{kind}/{org_number}"
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            if _is_timeout(exc):
                raise RegistryUnavailable(f"Brønnøysund did not answer within {self.timeout} s (Timeout)") from exc
            raise RegistryUnavailable(f"Brønnøysund did not answer: {exc.__class__.__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code == 410:  # deleted unit: the registry answers Gone with the deletion date
            try:
                data = response.json() if response.content else {}
            except ValueError:
                data = {}
            data = data if isinstance(data, dict) else {}
            data["organisasjonsnummer"] = org_number
            data["slettedato"] = data.get("slettedato") or "unknown"
            return data
        if response.status_code != 200:
            raise RegistryUnavailable(f"Brønnøysund answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise RegistryUnavailable("Brønnøysund answered with something that is not JSON") from exc
        if not isinstance(data, dict) or not data.get("organisasjonsnummer"):
            raise RegistryUnavailable("Brønnøysund answered with a document without an organisation number")
        return data

    def get_unit(self, org_number: str) -> OrgInfo | None:
        data = self._get("enheter", org_number)
        return parse_unit(data, sub_unit=False) if data is not None else None

    def get_sub_unit(self, org_number: str) -> OrgInfo | None:
        data = self._get("underenheter", org_number)
        return parse_unit(data, sub_unit=True) if data is not None else None

    def lookup(self, org_number: str) -> OrgInfo:
        """The unit or sub-unit with this number; :class:`OrgNotFound` when it is neither.

        A number that is not a valid organisation number cannot be registered: it is not found,
        without asking the registry (which would answer 400).
        """
        org_number = normalise_org_number(org_number)
        if not orgnr.is_valid(org_number):
            raise OrgNotFound(org_number)
        info = self.get_unit(org_number) or self.get_sub_unit(org_number)
        if info is None:
            raise OrgNotFound(org_number)
        return info


def lookup(org_number: str) -> OrgInfo:
    return BrregClient().lookup(org_number)


def checked_at() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC)
