"""The official Peppol BIS Billing 3.0 rules and the OASIS UBL 2.1 schema, run on an EHF document.

The rules are third-party test data, not part of the project: they are read from
``../shared/standards/`` (the repository's parent directory; see its README.md) when it is there,
and every caller skips with a clear message when it is not.

- :func:`official_failures` runs the two compiled Schematrons (``CEN-EN16931-UBL.xslt``, then
  ``PEPPOL-EN16931-UBL.xslt``; XSLT 2.0, so Saxon-HE via ``saxonche`` — lxml cannot) and returns
  every ``svrl:failed-assert`` as ``(id, flag, location, text)``. A document is valid when none has
  flag ``fatal``.
- :func:`xsd_errors` validates against ``UBL-Invoice-2.1.xsd`` or ``UBL-CreditNote-2.1.xsd`` (by the
  root element) with lxml.

Both compile their stylesheets / schemas once per process (a module cache; each pytest-xdist worker
is its own process) and are safe to call from any test.

Opt-in: "every EHF the test suite produces". Run the suite with ``-p tests.billing.peppol_official``
(``bin/test -p tests.billing.peppol_official``). The plugin wraps ``billing.ehf.render_ehf`` before
any test module is imported, so every document any test renders through the product (directly, via
``billing.files``, the API, delivery …) is written, deduplicated by content, to a shared directory
(``AVTALE_EHF_COLLECT_DIR``, or a fresh temporary one). When the whole run is over — in the
controller process, after every xdist worker has finished — each document is run through both rule
sets and the XSD and the run fails on any fatal assert or schema error, naming the test that made
the document. Tests that deliberately render broken input to make a rule fire (``test_*_fire(s)*`` in
``test_ehf.py``, see ``EXPECTED_INVALID``) are not collected.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import NamedTuple

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STANDARDS = REPO_ROOT.parent / "shared" / "standards"
XSLT_DIR = STANDARDS / "peppol-bis-3" / "xslt"
EXAMPLES_DIR = STANDARDS / "peppol-bis-3" / "examples"
XSD_DIR = STANDARDS / "ubl-2.1" / "xsd" / "maindoc"
RULE_SETS = ("CEN-EN16931-UBL.xslt", "PEPPOL-EN16931-UBL.xslt")  # CEN first, as the validators run them
SCHEMAS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "UBL-Invoice-2.1.xsd",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "UBL-CreditNote-2.1.xsd",
}
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
MISSING = (
    f"the official Peppol BIS 3 rules are not here ({STANDARDS}): they are test data kept outside the "
    "repository in ../shared/standards/ (see its README.md); the official-rules tests are skipped"
)


class Failure(NamedTuple):
    id: str
    flag: str  # "fatal" or "warning"
    location: str
    text: str


def standards_available() -> bool:
    return all((XSLT_DIR / name).is_file() for name in RULE_SETS) and all(
        (XSD_DIR / name).is_file() for name in SCHEMAS.values()
    )


def require_standards() -> None:
    """Skip the calling test (or module, at import) when ../shared/standards is absent."""
    if not standards_available():
        pytest.skip(MISSING, allow_module_level=True)


_LOCK = threading.Lock()


@functools.cache
def _saxon():
    """(processor, [compiled rule sets]) — compiled once per process (about 0.6 s)."""
    require_standards()
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    xslt = processor.new_xslt30_processor()
    executables = []
    for name in RULE_SETS:
        executable = xslt.compile_stylesheet(stylesheet_file=str(XSLT_DIR / name))
        if executable is None:  # pragma: no cover - saxonche reports compile errors this way
            raise RuntimeError(f"{name}: {xslt.error_message}")
        executables.append((name, executable))
    return processor, executables


@functools.cache
def _schema(filename: str):
    require_standards()
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(XSD_DIR / filename)))


def _svrl_failures(svrl: str, rule_set: str) -> list[Failure]:
    from lxml import etree

    root = etree.fromstring(svrl.encode("utf-8"))
    if root.tag != f"{SVRL}schematron-output" or root.find(f"{SVRL}fired-rule") is None:
        # no rule fired at all: the document was not UBL or the harness is broken; never "valid"
        raise AssertionError(f"{rule_set}: no rule fired — not a Peppol BIS document, or the harness is broken")
    out = []
    for failed in root.iter(f"{SVRL}failed-assert"):
        message = failed.find(f"{SVRL}text")
        text = " ".join("".join(message.itertext()).split()) if message is not None else ""
        out.append(Failure(failed.get("id", ""), failed.get("flag", ""), failed.get("location", ""), text))
    return out


def official_failures(xml: bytes) -> list[Failure]:
    """Every failed assert of both official rule sets on ``xml``: [(id, flag, location, text)]."""
    processor, executables = _saxon()
    text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
    if text.startswith("<?xml"):
        text = text.split("?>", 1)[1].lstrip()  # a str has no encoding; Saxon would trip on the declaration
    out: list[Failure] = []
    with _LOCK:  # one Saxon processor per process; keep calls serial
        node = processor.parse_xml(xml_text=text)
        for name, executable in executables:
            out += _svrl_failures(executable.transform_to_string(xdm_node=node), name)
    return out


def fatal(failures: list[Failure]) -> list[Failure]:
    return [f for f in failures if f.flag == "fatal"]


def xsd_errors(xml: bytes) -> list[str]:
    """The UBL 2.1 schema errors (Invoice or CreditNote by the root element); [] when valid."""
    from lxml import etree

    root = etree.fromstring(xml)
    filename = SCHEMAS.get(root.tag)
    if filename is None:
        return [f"root element {root.tag} is neither a UBL 2.1 Invoice nor a CreditNote"]
    schema = _schema(filename)
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def problems(xml: bytes) -> list[str]:
    """Fatal asserts and schema errors as readable lines; [] when the document passes both."""
    out = [f"{f.id} ({f.flag}) at {f.location}: {f.text}" for f in fatal(official_failures(xml))]
    return out + [f"UBL-XSD {e}" for e in xsd_errors(xml)]


# ---------------------------------------------------------------- opt-in plugin: every EHF of the run

COLLECT_ENV = "AVTALE_EHF_COLLECT_DIR"
# Tests that render deliberately broken input so that a rule fires (test_ehf.py's naming convention:
# test_…_fires_…, test_…_fire), and this module's own broken documents.
EXPECTED_INVALID = re.compile(r"^tests/billing/test_ehf(_official)?\.py::test_\w*_(fires?|fails)(_\w*)?(\[.*\])?$")


def _expected_invalid(nodeid: str) -> bool:
    return bool(EXPECTED_INVALID.match(nodeid))


def _collecting(render):
    directory = Path(os.environ[COLLECT_ENV])

    @functools.wraps(render)
    def render_ehf(doc):
        xml = render(doc)
        nodeid = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        if not _expected_invalid(nodeid):
            digest = hashlib.sha256(xml).hexdigest()[:20]
            path = directory / f"{digest}.xml"
            if not path.exists():
                tmp = directory / f".{digest}.{os.getpid()}.tmp"
                tmp.write_bytes(xml)
                os.replace(tmp, path)  # atomic: two workers rendering the same document agree
            with open(directory / f"{digest}.tests", "a", encoding="utf-8") as made_by:
                made_by.write(nodeid + "\n")
        return xml

    render_ehf.__wrapped_for_collection__ = True
    return render_ehf


def pytest_configure(config):
    """Before collection: a shared directory (the controller makes it; workers inherit the env)."""
    if not os.environ.get(COLLECT_ENV):
        os.environ[COLLECT_ENV] = tempfile.mkdtemp(prefix="avtale-ehf-")
        config._avtale_ehf_tempdir = True  # made here: removed again when every document passes
    Path(os.environ[COLLECT_ENV]).mkdir(parents=True, exist_ok=True)
    import billing.ehf

    if not getattr(billing.ehf.render_ehf, "__wrapped_for_collection__", False):
        billing.ehf.render_ehf = _collecting(billing.ehf.render_ehf)


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller checks everything once all workers are done
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter else print
    directory = Path(os.environ[COLLECT_ENV])
    documents = sorted(directory.glob("*.xml"))
    if not standards_available():
        write(f"EHF official rules: {MISSING}")
        return
    bad = 0
    for path in documents:
        found = problems(path.read_bytes())
        if found:
            bad += 1
            tests = sorted(set((path.with_suffix(".tests")).read_text(encoding="utf-8").split()))
            write(f"EHF {path} (made by {', '.join(tests[:3])}{' …' if len(tests) > 3 else ''}):")
            for line in found:
                write(f"    {line}")
    write(f"EHF official rules: {len(documents)} distinct documents in {directory}, {bad} failing")
    if bad and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif not bad and getattr(session.config, "_avtale_ehf_tempdir", False):
        shutil.rmtree(directory, ignore_errors=True)
