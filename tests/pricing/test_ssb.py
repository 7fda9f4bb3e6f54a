"""The SSB client (pricing/ssb.py): JSON-stat2 parsing, and queries against the local fake (fakes/server.py)
serving the recorded figures in fakes/ssb/."""

from __future__ import annotations

import csv
import json
import socket
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from fakes import ssb as recorded
from pricing import ssb

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
D = Decimal

KPI_2015 = ("03013", {"Konsumgrp": ["TOTAL"], "ContentsCode": ["KpiIndMnd"]})
KPI_2025 = ("14709", {"ContentsCode": ["KpiIndMnd"]})
WAGES_2015 = ("11117", {"Leveringssektor": ["B221"], "ContentsCode": ["LevIndMnd"]})


def recorded_csv(table: str) -> dict[tuple[int, int], Decimal]:
    with (ROOT / "fakes" / "ssb" / f"{table}.csv").open(encoding="utf-8") as handle:
        return {(int(r["month"][:4]), int(r["month"][5:])): D(r["value"]) for r in csv.DictReader(handle)}


# ---------------------------------------------------------------- parsing (no network)

# Shaped like SSB's answer for 03013 (two contents, the time dimension last), cut to four months.
DOC_03013 = {
    "version": "2.0",
    "class": "dataset",
    "label": "03013: Konsumprisindeks, etter konsumgruppe, statistikkvariabel og måned",
    "source": "Statistisk sentralbyrå",
    "updated": "2026-01-09T07:00:00Z",
    "role": {"time": ["Tid"], "metric": ["ContentsCode"]},
    "id": ["Konsumgrp", "ContentsCode", "Tid"],
    "size": [1, 2, 4],
    "dimension": {
        "Konsumgrp": {"label": "konsumgruppe", "category": {"index": {"TOTAL": 0}, "label": {"TOTAL": "Totalindeks"}}},
        "ContentsCode": {
            "label": "statistikkvariabel",
            "category": {
                "index": {"KpiIndMnd": 0, "Tolvmanedersendring": 1},
                "label": {"KpiIndMnd": "Konsumprisindeks (2015=100)", "Tolvmanedersendring": "12-måneders endring"},
            },
        },
        "Tid": {
            "label": "måned",
            "category": {
                "index": {"2025M09": 0, "2025M10": 1, "2025M11": 2, "2025M12": 3},
                "label": {"2025M09": "2025M09", "2025M10": "2025M10", "2025M11": "2025M11", "2025M12": "2025M12"},
            },
        },
    },
    "value": [138.0, 138.7, None, 139.1, 3.6, 3.1, 3.0, 3.2],
    "status": {"2": ".."},
}

# Shaped like SSB's answer for 11117: the time dimension in the middle, several sectors and contents.
DOC_11117 = {
    "version": "2.0",
    "class": "dataset",
    "id": ["Leveringssektor", "Tid", "ContentsCode"],
    "size": [2, 3, 2],
    "dimension": {
        "Leveringssektor": {"category": {"index": {"B1": 0, "B221": 1}}},
        "Tid": {"category": {"index": ["2024M08", "2024M09", "2024M10"]}},  # JSON-stat2 also allows a list
        "ContentsCode": {"category": {"index": {"LevIndMnd": 0, "Manedsendring": 1}}},
    },
    # B1: (08: 125.0, 0.1) (09: 125.5, 0.4) (10: 126.0, 0.4); B221: (08: 127.6, 0.3) (09: 128.1, 0.4) (10: null, null)
    "value": [125.0, 0.1, 125.5, 0.4, 126.0, 0.4, 127.6, 0.3, 128.1, 0.4, None, None],
}


def test_parse_a_real_shaped_03013_answer():
    # given SSB's answer with two contents and a month without a figure
    values = ssb.parse_jsonstat(DOC_03013, selection=KPI_2015[1])
    # then the index's months are read, the null month is left out, the 12-month change is not mixed in
    assert values == {(2025, 9): D("138.0"), (2025, 10): D("138.7"), (2025, 12): D("139.1")}


def test_parse_picks_the_selected_category_wherever_the_time_dimension_is():
    values = ssb.parse_jsonstat(DOC_11117, selection=WAGES_2015[1])
    assert values == {(2024, 8): D("127.6"), (2024, 9): D("128.1")}
    other = ssb.parse_jsonstat(DOC_11117, selection={"Leveringssektor": ["B1"], "ContentsCode": ["Manedsendring"]})
    assert other == {(2024, 8): D("0.1"), (2024, 9): D("0.4"), (2024, 10): D("0.4")}


def test_parse_keeps_decimals_exact_from_decimal_json():
    doc = json.loads(json.dumps(DOC_03013), parse_float=Decimal)
    values = ssb.parse_jsonstat(doc, selection=KPI_2015[1])
    assert values[(2025, 10)] == D("138.7") and str(values[(2025, 10)]) == "138.7"


def test_parse_sparse_values_and_json_stat_1():
    sparse = {**DOC_03013, "value": {"0": 138.0, "1": 138.7}}
    assert ssb.parse_jsonstat(sparse, selection=KPI_2015[1]) == {(2025, 9): D("138.0"), (2025, 10): D("138.7")}
    # SSB's older "json-stat" format: one "dataset", with id and size inside "dimension"
    inner = {k: v for k, v in DOC_03013.items() if k not in ("id", "size", "class", "version")}
    v1 = {
        "dataset": {**inner, "dimension": {**DOC_03013["dimension"], "id": DOC_03013["id"], "size": DOC_03013["size"]}}
    }
    assert ssb.parse_jsonstat(v1, selection=KPI_2015[1])[(2025, 12)] == D("139.1")


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ([], "not a JSON object"),
        ({"class": "collection"}, "not 'dataset'"),
        ({**DOC_03013, "id": ["Konsumgrp", "ContentsCode"]}, "do not match"),
        ({**DOC_03013, "size": [1, 2, 5]}, "size says 5"),
        ({**DOC_03013, "value": [1.0, 2.0]}, "2 values for 8 cells"),
        ({**DOC_03013, "value": ["138,7"] * 8}, "not a number"),
        ({**DOC_03013, "value": None}, "value is missing"),
        (
            {**DOC_03013, "dimension": {**DOC_03013["dimension"], "Tid": {"category": {"index": {"2025": 0}}}}},
            "size says 4",
        ),
    ],
)
def test_garbled_documents_are_unavailable_in_words(doc, words):
    with pytest.raises(ssb.SsbUnavailable, match=words):
        ssb.parse_jsonstat(doc, selection=KPI_2015[1])


def test_a_year_is_not_a_month():
    doc = {**DOC_03013, "size": [1, 2, 1], "value": [1.0, 2.0]}
    doc["dimension"] = {**DOC_03013["dimension"], "Tid": {"category": {"index": {"2025": 0}}}}
    with pytest.raises(ssb.SsbUnavailable, match="'2025' is not a month"):
        ssb.parse_jsonstat(doc, selection=KPI_2015[1])


def test_several_categories_need_a_selection():
    with pytest.raises(ssb.SsbUnavailable, match="ContentsCode has 2 categories; say which one"):
        ssb.parse_jsonstat(DOC_03013)
    with pytest.raises(ssb.SsbUnavailable, match="no category KpiIndMnd"):
        ssb.parse_jsonstat(DOC_11117, selection={"Leveringssektor": ["B221"], "ContentsCode": ["KpiIndMnd"]})


def test_build_query_is_pxwebapi_v0():
    assert ssb.build_query(KPI_2015[1], last=3) == {
        "query": [
            {"code": "Konsumgrp", "selection": {"filter": "item", "values": ["TOTAL"]}},
            {"code": "ContentsCode", "selection": {"filter": "item", "values": ["KpiIndMnd"]}},
            {"code": "Tid", "selection": {"filter": "top", "values": ["3"]}},
        ],
        "response": {"format": "json-stat2"},
    }
    months = ssb.build_query(KPI_2025[1], months=["2025M10"])["query"][-1]
    assert months == {"code": "Tid", "selection": {"filter": "item", "values": ["2025M10"]}}
    assert [q["code"] for q in ssb.build_query(KPI_2025[1])["query"]] == ["ContentsCode"]  # all months


# ---------------------------------------------------------------- the recordings


def test_recordings_are_the_shared_figures():
    if not SHARED.exists():
        pytest.skip("../shared is not here (CI): the recordings are checked where it is")
    with (SHARED / "kpi_total_2015.csv").open(encoding="utf-8") as handle:
        total = {r["month"]: D(r["index"]) for r in csv.DictReader(handle)}
    with (SHARED / "kpi_2025base_14709.csv").open(encoding="utf-8") as handle:
        new_base = {r["month"]: D(r["index_2025_100"]) for r in csv.DictReader(handle) if r["month"] >= "2015M01"}
    with (SHARED / "kpi_services_wages.csv").open(encoding="utf-8") as handle:
        wages = {r["month"]: D(r["index"]) for r in csv.DictReader(handle) if r["index"].strip()}
    assert recorded.TABLES["03013"].values() == total
    assert recorded.TABLES["14709"].values() == new_base
    assert recorded.TABLES["11117"].values() == wages


def test_recorded_series_for_the_demo():
    series = {s.table: s for s in recorded.recorded_series()}
    assert sorted(series) == ["03013", "11117", "14709"]
    assert series["03013"].selection == KPI_2015[1] and series["03013"].base == "2015=100"
    assert (min(series["03013"].values), max(series["03013"].values)) == ((2015, 1), (2025, 12))
    assert (min(series["14709"].values), max(series["14709"].values)) == ((2015, 1), (2026, 4))
    assert (min(series["11117"].values), max(series["11117"].values)) == ((2015, 1), (2025, 7))
    assert series["11117"].values[(2024, 9)] == D("128.1")


# ---------------------------------------------------------------- through the fake


def test_every_month_of_03013_equals_the_recorded_figures(ssb_fake):
    answer = ssb.fetch_series(*KPI_2015)
    assert answer.values == recorded_csv("03013")
    assert answer.values[(2025, 10)] == D("138.7")
    assert answer.source == "Statistisk sentralbyrå"
    assert answer.updated == "2026-01-09T07:00:00Z"
    assert answer.label.startswith("03013: Konsumprisindeks")
    assert ssb_fake.state.requests[-1] == "/ssb/api/v0/no/table/03013/"


def test_14709_and_11117_through_the_fake(ssb_fake):
    new_base = ssb.fetch_series(*KPI_2025)
    assert new_base.values == recorded_csv("14709")
    assert new_base.values[(2025, 10)] == D("100.7")
    assert max(new_base.values) == (2026, 4)
    wages = ssb.fetch_series(*WAGES_2015)
    assert wages.values == recorded_csv("11117")
    assert wages.values[(2024, 9)] == D("128.1")
    assert max(wages.values) == (2025, 7)  # the months SSB's recording lacks are not there, nor guessed


def test_the_fake_answers_json_stat2(ssb_fake):
    body = ssb.build_query(WAGES_2015[1], last=2)
    doc = requests.post(f"{ssb_fake.ssb_url}/no/table/11117/", json=body, timeout=5).json()
    assert (doc["version"], doc["class"], doc["source"]) == ("2.0", "dataset", "Statistisk sentralbyrå")
    assert doc["id"] == ["Leveringssektor", "Tid", "ContentsCode"] and doc["size"] == [1, 2, 1]
    assert doc["dimension"]["Tid"]["category"]["index"] == {"2025M06": 0, "2025M07": 1}
    assert doc["dimension"]["Leveringssektor"]["category"]["label"] == {"B221": "Tjenester hvor arbeidskraft dominerer"}
    assert doc["value"] == [132.4, 132.7]
    assert doc["updated"] and doc["extension"]["px"]["tableid"] == "11117"


def test_top_and_item_selections(ssb_fake):
    assert ssb.fetch_series(*KPI_2015, last=3).values == {
        (2025, 10): D("138.7"),
        (2025, 11): D("138.9"),
        (2025, 12): D("139.1"),
    }
    assert ssb.fetch_series(*KPI_2025, months=["2015M01", "2025M10"]).values == {
        (2015, 1): D("71.6"),
        (2025, 10): D("100.7"),
    }


def test_an_unknown_table_is_not_found(ssb_fake):
    # the services sub-index on 2025 = 100 (14702) is not recorded
    with pytest.raises(ssb.SsbTableNotFound, match="no table 14702 .*HTTP 404"):
        ssb.fetch_series("14702", {"Leveringssektor": ["B221"], "ContentsCode": ["LevIndMnd"]})


def test_a_query_ssb_refuses(ssb_fake):
    with pytest.raises(ssb.SsbQueryRefused, match="HTTP 400: ContentsCode: no such value Tolvmanedersendring"):
        ssb.fetch_series("03013", {"Konsumgrp": ["TOTAL"], "ContentsCode": ["Tolvmanedersendring"]})
    with pytest.raises(ssb.SsbQueryRefused, match="no variable Region"):
        ssb.fetch_series("14709", {"Region": ["0"], "ContentsCode": ["KpiIndMnd"]})


def test_ssb_down_is_unavailable(ssb_fake):
    ssb_fake.set_down("ssb")
    with pytest.raises(ssb.SsbUnavailable, match="HTTP 503"):
        ssb.fetch_series(*KPI_2015)


def test_retries_on_503_then_gives_up(ssb_fake):
    ssb_fake.set_down("ssb")
    client = ssb.SsbClient(base_url=ssb_fake.ssb_url, timeout=2, retries=2)
    start = len(ssb_fake.state.requests)
    with pytest.raises(ssb.SsbUnavailable):
        client.series(*KPI_2015)
    # the first request and two retries (the POST is a read, safe to repeat)
    assert ssb_fake.state.requests[start:] == ["/ssb/api/v0/no/table/03013/"] * 3


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers (a hung SSB)."""
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
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v0", accepted
    stop.set()
    thread.join(timeout=2)
    for conn in accepted:
        conn.close()
    listener.close()


def test_timeout_is_honoured(silent_server, settings):
    url, accepted = silent_server
    settings.SSB_BASE_URL = url
    settings.OUTSIDE_SERVICE_TIMEOUT = 0.3
    settings.OUTSIDE_SERVICE_RETRIES = 0
    started = time.monotonic()
    with pytest.raises(ssb.SsbUnavailable, match=r"did not answer within 0.3 s \(Timeout\)"):
        ssb.fetch_series(*KPI_2015)
    assert 0.25 <= time.monotonic() - started < 2.0
    assert len(accepted) == 1


def test_connection_refused_is_unavailable():
    # the autouse fixture points SSB at a closed port
    with pytest.raises(ssb.SsbUnavailable, match="did not answer: ConnectionError"):
        ssb.SsbClient(retries=0).series(*KPI_2015)


@pytest.fixture
def maintenance_page():
    """A server answering every POST 200 with an HTML page (a proxy's maintenance page)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            pass

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            payload = b"<html><body>Vedlikehold</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v0"
    server.shutdown()
    server.server_close()


def test_an_answer_that_is_not_json_is_unavailable(maintenance_page):
    with pytest.raises(ssb.SsbUnavailable, match="not JSON"):
        ssb.SsbClient(base_url=maintenance_page, retries=0).series(*KPI_2015)
