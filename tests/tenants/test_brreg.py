"""The Brønnøysund client against the local fake (fakes/server.py) and its recordings (fakes/brreg/units.json)."""

import json
import socket
import threading
import time
from pathlib import Path

import pytest
from stdnum.no import orgnr

from tenants import brreg

ROOT = Path(__file__).resolve().parents[2]

# Recorded in fakes/brreg/units.json (made-up numbers, except Påvakt AS and Digireq from seed 003)
PAVAKT = "937620187"
DIGIREQ = "937700539"
STAVANGER_KOMMUNE = "944387234"
ROGALAND_FYLKESKOMMUNE = "912260674"
HUNDVAG_SKOLE = "924195932"
DRAMMEN_EIENDOM_KF = "939062122"
NYHAVN_ACTIVE = "902503390"
FJELLBYGG_BANKRUPT = "949762726"
SOLKROK_LIQUIDATION = "971176393"
BLALYS_FORCED = "920334318"
GAMLEBYEN_DELETED = "918251081"
NOT_REGISTERED = "937620195"  # a valid number that the registry does not know


def _recordings() -> dict[str, dict]:
    raw = json.loads((ROOT / "fakes" / "brreg" / "units.json").read_text(encoding="utf-8"))
    return {doc["organisasjonsnummer"]: doc for kind in ("enheter", "underenheter") for doc in raw[kind]}


# ---------------------------------------------------------------- parsing (no network)


def test_parse_a_kommune_unit():
    # given the recorded document of Stavanger kommune
    doc = _recordings()[STAVANGER_KOMMUNE]
    # when it is parsed as a main unit
    info = brreg.parse_unit(doc, sub_unit=False)
    # then the business address, postal address, form and flags are read
    assert info.org_number == STAVANGER_KOMMUNE
    assert info.name == "STAVANGER KOMMUNE"
    assert info.display_name == "Stavanger kommune"
    assert (info.organisation_form, info.organisation_form_text) == ("KOMM", "Kommune")
    assert (info.address_line, info.postal_code, info.city) == ("Olav Kyrres gate 19", "4005", "Stavanger")
    assert (info.post_address_line, info.post_postal_code, info.post_city) == ("Postboks 8001", "4068", "Stavanger")
    assert info.invoice_address() == ("Postboks 8001", "4068", "Stavanger")
    assert info.country == "NO"
    assert info.municipality == "Stavanger"
    assert info.sector_code == "6500"
    assert info.registered_in_mva is True
    assert info.registered_in_foretaksregisteret is False
    assert info.is_sub_unit is False
    assert info.is_active is True
    assert info.warnings == []
    assert info.suggested_kind == "kommune"


def test_parse_a_school_sub_unit():
    doc = _recordings()[HUNDVAG_SKOLE]
    info = brreg.parse_unit(doc, sub_unit=True)
    assert info.display_name == "Hundvåg skole"
    assert info.organisation_form == "BEDR"
    assert info.is_sub_unit is True
    assert info.parent_org_number == STAVANGER_KOMMUNE
    # a sub-unit has a beliggenhetsadresse, no forretningsadresse
    assert (info.address_line, info.postal_code, info.city) == ("Hundvågveien 40", "4085", "Hundvåg")
    assert info.invoice_address() == ("Hundvågveien 40", "4085", "Hundvåg")
    assert info.suggested_kind == "school"
    assert info.is_active is True


@pytest.mark.parametrize(
    ("org_number", "sub_unit", "kind"),
    [
        (STAVANGER_KOMMUNE, False, "kommune"),
        (ROGALAND_FYLKESKOMMUNE, False, "fylkeskommune"),
        (HUNDVAG_SKOLE, True, "school"),
        ("953342286", True, "school"),  # St. Olav videregående skole (Rogaland fylkeskommune)
        ("963497024", True, "school"),  # Bryne vidaregåande skule (nynorsk)
        (PAVAKT, False, "company"),
        (DIGIREQ, True, "other"),  # a company's sub-unit is not a school
        (DRAMMEN_EIENDOM_KF, False, "other"),
    ],
)
def test_suggested_kind(org_number, sub_unit, kind):
    assert brreg.parse_unit(_recordings()[org_number], sub_unit=sub_unit).suggested_kind == kind


@pytest.mark.parametrize(
    ("registry_name", "expected"),
    [
        ("ST. OLAV VIDEREGÅENDE SKOLE", "St. Olav videregående skole"),
        ("NORDLYS VANN OG MILJØ AS", "Nordlys Vann og Miljø AS"),
        ("DRAMMEN EIENDOM KF", "Drammen Eiendom KF"),
        ("UNIVERSITETET I STAVANGER", "Universitetet i Stavanger"),
        ("TRØNDELAG FYLKESKOMMUNE", "Trøndelag fylkeskommune"),
        ("Already Mixed AS", "Already Mixed AS"),
        ("", ""),
    ],
)
def test_pretty_name(registry_name, expected):
    assert brreg.pretty_name(registry_name) == expected


def test_every_demo_customer_and_vendor_number_is_recorded():
    # given the demo's customers and the registry-only cases
    demo = json.loads((ROOT / "demo" / "customers.json").read_text(encoding="utf-8"))
    numbers = {row["org_number"] for rows in demo["tenants"].values() for row in rows if row["org_number"]}
    numbers |= {row["org_number"] for row in demo["registry_only"]}
    recordings = _recordings()
    # then each is a valid number with a recording, and schools are sub-units of their owner's number
    assert sorted(n for n in numbers if not orgnr.is_valid(n)) == []
    assert sorted(numbers - recordings.keys()) == []
    for rows in demo["tenants"].values():
        by_key = {row["key"]: row for row in rows}
        for row in rows:
            if row["kind"] == "school":
                doc = recordings[row["org_number"]]
                assert doc["organisasjonsform"]["kode"] == "BEDR", row["key"]
                assert doc["overordnetEnhet"] == by_key[row["parent"]]["org_number"], row["key"]
                assert row["pupils"] > 0, row["key"]


# ---------------------------------------------------------------- lookups through the fake


def test_lookup_a_unit_through_the_fake(brreg_fake):
    info = brreg.lookup("937 620 187")
    assert info.name == "PÅVAKT AS"
    assert info.display_name == "Påvakt AS"
    assert info.organisation_form == "AS"
    assert info.registered_in_foretaksregisteret is True
    assert info.is_sub_unit is False
    assert info.is_active is True
    assert brreg_fake.state.requests[-1] == f"/brreg/enhetsregisteret/api/enheter/{PAVAKT}"


def test_lookup_falls_back_to_sub_units(brreg_fake):
    # given a number that is a sub-unit (Digireq, under Påvakt AS)
    start = len(brreg_fake.state.requests)
    # when it is looked up
    info = brreg.lookup(DIGIREQ)
    # then /enheter answered 404 and /underenheter had it
    assert brreg_fake.state.requests[start:] == [
        f"/brreg/enhetsregisteret/api/enheter/{DIGIREQ}",
        f"/brreg/enhetsregisteret/api/underenheter/{DIGIREQ}",
    ]
    assert info.is_sub_unit is True
    assert info.parent_org_number == PAVAKT
    assert info.name == "DIGIREQ"


def test_bankrupt_company(brreg_fake):
    info = brreg.lookup(FJELLBYGG_BANKRUPT)
    assert info.bankrupt is True
    assert info.bankrupt_on == "2026-10-02"
    assert (info.under_liquidation, info.under_forced_liquidation, info.deleted) == (False, False, False)
    assert info.is_active is False
    assert info.warnings == ["bankrupt"]


def test_company_under_liquidation(brreg_fake):
    info = brreg.lookup(SOLKROK_LIQUIDATION)
    assert info.under_liquidation is True
    assert info.liquidation_on == "2026-09-15"
    assert info.bankrupt is False
    assert info.is_active is False
    assert info.warnings == ["under_liquidation"]


def test_company_under_forced_dissolution(brreg_fake):
    info = brreg.lookup(BLALYS_FORCED)
    assert info.under_forced_liquidation is True
    assert info.is_active is False
    assert info.warnings == ["under_forced_liquidation"]


def test_deleted_unit_answers_410_and_is_not_active(brreg_fake):
    info = brreg.lookup(GAMLEBYEN_DELETED)
    assert info.org_number == GAMLEBYEN_DELETED
    assert info.deleted is True
    assert info.deleted_on == "2025-06-30"
    assert info.is_active is False
    assert info.warnings == ["deleted"]


def test_active_company_that_is_no_customer(brreg_fake):
    info = brreg.lookup(NYHAVN_ACTIVE)
    assert info.display_name == "Nyhavn Digital AS"
    assert info.is_active is True


def test_unknown_number_is_not_found(brreg_fake):
    start = len(brreg_fake.state.requests)
    with pytest.raises(brreg.OrgNotFound):
        brreg.lookup(NOT_REGISTERED)
    # both registers were asked
    assert len(brreg_fake.state.requests) - start == 2


@pytest.mark.parametrize("bad", ["937620188", "12345", "abcdefghi", ""])
def test_an_invalid_number_is_not_found_without_asking(brreg_fake, bad):
    start = len(brreg_fake.state.requests)
    with pytest.raises(brreg.OrgNotFound):
        brreg.lookup(bad)
    assert brreg_fake.state.requests[start:] == []


def test_registry_down_is_unavailable(brreg_fake):
    brreg_fake.set_down("brreg")
    with pytest.raises(brreg.RegistryUnavailable, match="HTTP 503"):
        brreg.lookup(PAVAKT)


def test_retries_on_503_then_gives_up(brreg_fake):
    # given the registry answers 503 and a client allowed two retries
    brreg_fake.set_down("brreg")
    client = brreg.BrregClient(base_url=brreg_fake.brreg_url, timeout=2, retries=2)
    start = len(brreg_fake.state.requests)
    # when a number is looked up
    with pytest.raises(brreg.RegistryUnavailable):
        client.lookup(PAVAKT)
    # then the first request and two retries reached the registry, and no sub-unit lookup followed
    assert brreg_fake.state.requests[start:] == [f"/brreg/enhetsregisteret/api/enheter/{PAVAKT}"] * 3


def test_without_retries_one_request(brreg_fake):
    brreg_fake.set_down("brreg")
    client = brreg.BrregClient(base_url=brreg_fake.brreg_url, timeout=2, retries=0)
    start = len(brreg_fake.state.requests)
    with pytest.raises(brreg.RegistryUnavailable):
        client.lookup(PAVAKT)
    assert len(brreg_fake.state.requests) - start == 1


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers (a hung registry)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/enhetsregisteret/api", accepted
    stop.set()
    thread.join(timeout=2)
    for conn in accepted:
        conn.close()
    listener.close()


def test_timeout_is_honoured(silent_server, settings):
    # given a registry that accepts the connection and never answers, and a 0.3 s timeout
    url, accepted = silent_server
    settings.BRREG_BASE_URL = url
    settings.OUTSIDE_SERVICE_TIMEOUT = 0.3
    settings.OUTSIDE_SERVICE_RETRIES = 0
    # when a number is looked up
    started = time.monotonic()
    with pytest.raises(brreg.RegistryUnavailable, match="Timeout"):
        brreg.lookup(PAVAKT)
    elapsed = time.monotonic() - started
    # then it gives up after about the timeout, not the default of several seconds
    assert 0.25 <= elapsed < 2.0
    assert len(accepted) == 1


def test_connection_refused_is_unavailable(settings):
    # the autouse fixture points the registry at a closed port
    with pytest.raises(brreg.RegistryUnavailable, match="ConnectionError"):
        brreg.BrregClient(retries=0).lookup(PAVAKT)


def test_as_dict_is_json_ready(brreg_fake):
    data = brreg.lookup(HUNDVAG_SKOLE).as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["is_active"] is True
    assert data["suggested_kind"] == "school"
    assert data["display_name"] == "Hundvåg skole"
    assert data["parent_org_number"] == STAVANGER_KOMMUNE
