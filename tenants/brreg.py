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
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

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
    is_sub_unit: bool = False
    parent_org_number: str = ""
    sector_code: str = ""
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
        if self.is_sub_unit and "skole" in self.name.lower():
            return "school"
        if self.organisation_form in {"AS", "ASA", "ENK", "ANS", "DA", "SA", "NUF"}:
            return "company"
        return "other"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["is_active"] = self.is_active
        data["suggested_kind"] = self.suggested_kind
        return data


def _address(raw: dict | None) -> tuple[str, str, str, str, str]:
    raw = raw or {}
    return (
        ", ".join(line for line in raw.get("adresse") or [] if line),
        raw.get("postnummer") or "",
        (raw.get("poststed") or "").title(),
        raw.get("landkode") or "NO",
        (raw.get("kommune") or "").title(),
    )


def parse_unit(data: dict, *, sub_unit: bool) -> OrgInfo:
    """Turn a registry JSON document into :class:`OrgInfo`."""
    form = data.get("organisasjonsform") or {}
    address = data.get("forretningsadresse") or data.get("beliggenhetsadresse") or data.get("postadresse")
    line, postal, city, country, municipality = _address(address)
    slettedato = data.get("slettedato") or ""
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
        bankrupt=bool(data.get("konkurs")),
        under_liquidation=bool(data.get("underAvvikling")),
        under_forced_liquidation=bool(data.get("underTvangsavviklingEllerTvangsopplosning")),
        deleted=bool(slettedato),
        deleted_on=slettedato,
        is_sub_unit=sub_unit,
        parent_org_number=data.get("overordnetEnhet") or "",
        sector_code=(data.get("institusjonellSektorkode") or {}).get("kode", ""),
    )


class BrregClient:
    def __init__(self, base_url: str | None = None, timeout: float | None = None, retries: int | None = None):
        self.base_url = (base_url or settings.BRREG_BASE_URL).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.OUTSIDE_SERVICE_TIMEOUT
        retries = settings.OUTSIDE_SERVICE_RETRIES if retries is None else retries
        self.session = requests.Session()
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status_forcelist=(502, 503, 504),
            backoff_factor=0.2,
            allowed_methods=("GET",),
            raise_on_status=False,
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.session.headers["Accept"] = "application/json"

    def _get(self, kind: str, org_number: str) -> dict | None:
        url = f"{self.base_url}/{kind}/{org_number}"
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RegistryUnavailable(f"Brønnøysund did not answer: {exc.__class__.__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code == 410:  # deleted unit: the registry answers Gone with the deletion date
            data = response.json() if response.content else {}
            data.setdefault("organisasjonsnummer", org_number)
            data.setdefault("slettedato", data.get("slettedato") or "unknown")
            return data
        if response.status_code != 200:
            raise RegistryUnavailable(f"Brønnøysund answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise RegistryUnavailable("Brønnøysund answered with something that is not JSON") from exc

    def get_unit(self, org_number: str) -> OrgInfo | None:
        data = self._get("enheter", org_number)
        return parse_unit(data, sub_unit=False) if data is not None else None

    def get_sub_unit(self, org_number: str) -> OrgInfo | None:
        data = self._get("underenheter", org_number)
        return parse_unit(data, sub_unit=True) if data is not None else None

    def lookup(self, org_number: str) -> OrgInfo:
        """The unit or sub-unit with this number; :class:`OrgNotFound` when it is neither."""
        org_number = normalise_org_number(org_number)
        info = self.get_unit(org_number) or self.get_sub_unit(org_number)
        if info is None:
            raise OrgNotFound(org_number)
        return info


def lookup(org_number: str) -> OrgInfo:
    return BrregClient().lookup(org_number)


def checked_at() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC)
