"""Local fakes of the outside services, serving recorded responses. No test or demo reaches the internet.

Run ``python -m fakes.server --port 8765``; point ``BRREG_BASE_URL`` at
``http://127.0.0.1:8765/brreg/enhetsregisteret/api``. Routes:

* ``/brreg/enhetsregisteret/api/enheter/<orgnr>`` and ``/underenheter/<orgnr>``: the recorded
  documents in ``fakes/brreg/units.json``; unknown → 404 like the registry, a deleted unit → 410
  with its deletion date.
* ``/peppol/api/…``: a Peppol access point (``fakes/peppol/access_point.py``; the REST shape is in
  ``billing/peppol.py``). Point ``PEPPOL_AP_BASE_URL`` at ``http://127.0.0.1:8765/peppol/api``.
  ``GET /peppol/api/v1/documents`` lists what it received.
* ``/ssb/api/v0/no/table/<table>/`` (POST a PxWebApi v0 query): SSB's statistics API answering
  JSON-stat2 from the recorded figures in ``fakes/ssb/`` (tables 03013, 14709, 11117; the ``Tid``
  selection ``item`` or ``top`` N is honoured); an unknown table → 404, a bad query → 400. Point
  ``SSB_BASE_URL`` at ``http://127.0.0.1:8765/ssb/api/v0``.
* ``/_control/down`` (POST ``{"service": "brreg", "down": true}``): make a service answer 503, to
  test what happens when it is down (``"peppol"`` and ``"ssb"`` too).
* ``/_control/peppol`` (POST ``{"fail": ["503", "accept_then_503", "timeout"], "delay": 2, "reset": true}``):
  make the access point fail the next sends, or forget what it received.
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from fakes import ssb
from fakes.peppol.access_point import FakeAccessPoint

DATA = Path(__file__).resolve().parent


def load_brreg() -> dict[str, dict[str, dict]]:
    """{"enheter": {orgnr: document}, "underenheter": {...}} from the recorded file."""
    raw = json.loads((DATA / "brreg" / "units.json").read_text(encoding="utf-8"))
    return {
        kind: {doc["organisasjonsnummer"]: doc for doc in raw.get(kind, [])} for kind in ("enheter", "underenheter")
    }


class FakeState:
    def __init__(self):
        self.brreg = load_brreg()
        self.down: set[str] = set()
        self.requests: list[str] = []
        self.peppol = FakeAccessPoint()


class Handler(BaseHTTPRequestHandler):
    server_version = "AvtaleFakes/1.0"
    state: FakeState

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    def _send(self, status: int, body: dict | list | None) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):  # noqa: N802
        self.state.requests.append(self.path)
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if parts[:3] == ["brreg", "enhetsregisteret", "api"] and len(parts) == 5:
            return self._brreg(parts[3], parts[4])
        if parts[:2] == ["peppol", "api"]:
            return self._peppol("GET", b"")
        return self._send(404, {"error": "no such fake route", "path": self.path})

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))

    def do_POST(self):  # noqa: N802
        if self.path == "/_control/down":
            body = json.loads(self._body() or b"{}")
            (self.state.down.add if body.get("down") else self.state.down.discard)(body["service"])
            return self._send(200, {"down": sorted(self.state.down)})
        if self.path == "/_control/peppol":
            body = json.loads(self._body() or b"{}")
            if body.get("reset"):
                self.state.peppol.reset()
            self.state.peppol.fail.extend(body.get("fail") or [])
            if "delay" in body:
                self.state.peppol.delay = float(body["delay"])
            return self._send(200, {"fail": self.state.peppol.fail, "received": len(self.state.peppol.received)})
        if self.path.startswith("/peppol/api/"):
            return self._peppol("POST", self._body())
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if parts[:5] == ["ssb", "api", "v0", "no", "table"] and len(parts) == 6:
            return self._ssb(parts[5], self._body())
        return self._send(404, {"error": "no such fake route"})

    def _ssb(self, table: str, body: bytes):
        self.state.requests.append(self.path)
        if "ssb" in self.state.down:
            return self._send(503, {"error": "Service Unavailable"})
        try:
            query = json.loads(body or b"{}")
        except ValueError:
            return self._send(400, {"error": "The query is not JSON"})
        try:
            return self._send(200, ssb.answer(table, query))
        except ssb.QueryError as error:
            return self._send(error.status, {"error": str(error)})

    def _peppol(self, method: str, body: bytes):
        self.state.requests.append(self.path)
        if "peppol" in self.state.down:
            return self._send(503, {"errors": [{"code": "unavailable", "message": "Service Unavailable"}]})
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p][2:]
        status, answer = self.state.peppol.handle(method, parts, dict(parse_qsl(url.query)), self.headers, body)
        try:
            return self._send(status, answer)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (the "timeout" mode)
            return None

    def _brreg(self, kind: str, org_number: str):
        if "brreg" in self.state.down:
            return self._send(503, {"status": 503, "error": "Service Unavailable"})
        if kind not in ("enheter", "underenheter"):
            return self._send(404, {"error": "Not Found"})
        if not (org_number.isdigit() and len(org_number) == 9):
            return self._send(
                400,
                {
                    "status": 400,
                    "error": "Bad Request",
                    "valideringsfeil": [
                        {"feilmelding": "Ugyldig organisasjonsnummer", "parametere": ["organisasjonsnummer"]}
                    ],
                },
            )
        doc = self.state.brreg[kind].get(org_number)
        if doc is None:
            return self._send(404, {"status": 404, "error": "Not Found", "path": self.path})
        if doc.get("slettedato"):
            return self._send(410, {"organisasjonsnummer": org_number, "slettedato": doc["slettedato"]})
        return self._send(200, doc)


class FakeServer:
    """The fakes in a background thread (tests) or in the foreground (demo)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.state = FakeState()
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def brreg_url(self) -> str:
        return f"{self.base_url}/brreg/enhetsregisteret/api"

    @property
    def ssb_url(self) -> str:
        return f"{self.base_url}/ssb/api/v0"

    @property
    def peppol_url(self) -> str:
        return f"{self.base_url}/peppol/api"

    @property
    def peppol(self) -> FakeAccessPoint:
        return self.state.peppol

    def set_down(self, service: str, down: bool = True) -> None:
        (self.state.down.add if down else self.state.down.discard)(service)

    def start(self) -> FakeServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = FakeServer(args.host, args.port)
    print(f"Fake outside services on {server.base_url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
