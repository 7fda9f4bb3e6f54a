"""A fake Peppol access point speaking the REST shape documented in ``billing/peppol.py``.

It checks what a real AP checks before taking a document (well-formed XML, a UBL Invoice or CreditNote
root matching the document type, the BIS Billing 3.0 CustomizationID and ProfileID, sender and receiver
matching the document's EndpointIDs, a registered receiver), answers with a message id, honours the
``Idempotency-Key`` header (the same key and document → the first message id, not sent again), and keeps
everything it received so tests and the demo can look. It can be told to fail for the next requests
(``fail``: ``"503"`` answers 503 without keeping the document; ``"accept_then_503"`` keeps it and answers
503, like a crash between the AP's receipt and our record; ``"timeout"`` keeps it and answers only after
``delay`` seconds).

Standard library only (plus python-stdnum for the organisation number check): no Django.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from stdnum.no import orgnr

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
NS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
DOCUMENT_TYPES = {
    root: f"urn:oasis:names:specification:ubl:schema:xsd:{root}-2::{root}##{CUSTOMIZATION_ID}::2.1" for root in NS
}

PARTICIPANTS = json.loads((Path(__file__).resolve().parent / "participants.json").read_text(encoding="utf-8"))
NOT_REGISTERED: dict[str, str] = PARTICIPANTS["not_registered"]


@dataclass
class Received:
    message_id: str
    idempotency_key: str
    sender: str
    receiver: str
    document_type: str
    process: str
    content: bytes
    sha256: str
    authorization: str

    def summary(self) -> dict:
        return {
            "messageId": self.message_id,
            "idempotencyKey": self.idempotency_key,
            "sender": self.sender,
            "receiver": self.receiver,
            "documentType": self.document_type,
            "sha256": self.sha256,
            "size": len(self.content),
        }


@dataclass
class FakeAccessPoint:
    received: list[Received] = field(default_factory=list)
    fail: list[str] = field(default_factory=list)  # one mode per coming request to /v1/documents
    delay: float = 2.0  # seconds, for the "timeout" mode
    token: str = ""  # when set, requests must carry "Authorization: Bearer <token>"
    requests: int = 0  # POSTs to /v1/documents, answered or not
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.fail.clear()
            self.requests = 0
            self.token = ""

    def by_key(self, key: str) -> Received | None:
        return next((r for r in self.received if key and r.idempotency_key == key), None)

    # -------------------------------------------------------------- routes

    def handle(self, method: str, parts: list[str], query: dict[str, str], headers, body: bytes) -> tuple[int, object]:
        """``parts``: the path after ``/peppol/api``, split on "/"."""
        if self.token and headers.get("Authorization", "") != f"Bearer {self.token}":
            return 401, {"errors": [{"code": "unauthorized", "message": "Missing or wrong API token."}]}
        if method == "POST" and parts == ["v1", "documents"]:
            return self._submit(query, headers, body)
        if method == "GET" and parts == ["v1", "documents"]:
            return 200, [r.summary() for r in self.received]
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "participants"]:
            return self._participant(parts[2])
        return 404, {"errors": [{"code": "not_found", "message": "No such route on the fake access point."}]}

    def _participant(self, participant: str) -> tuple[int, object]:
        if not self._registered(participant):
            return 404, {"errors": [{"code": "participant_not_found", "message": f"{participant} is not in Peppol."}]}
        return 200, {"participantId": participant, "documentTypes": sorted(DOCUMENT_TYPES.values())}

    @staticmethod
    def _registered(participant: str) -> bool:
        scheme, _sep, value = participant.partition(":")
        return scheme == "0192" and orgnr.is_valid(value) and participant not in NOT_REGISTERED

    def _submit(self, query: dict[str, str], headers, body: bytes) -> tuple[int, object]:
        with self.lock:
            self.requests += 1
            mode = self.fail.pop(0) if self.fail else ""
        if mode == "503":
            return 503, {"errors": [{"code": "unavailable", "message": "The access point is down for maintenance."}]}
        key = headers.get("Idempotency-Key", "")
        sha256 = hashlib.sha256(body).hexdigest()
        with self.lock:
            earlier = self.by_key(key)
        if earlier is not None:
            if earlier.sha256 != sha256:
                return 409, {
                    "errors": [
                        {
                            "code": "idempotency_conflict",
                            "message": "This Idempotency-Key was used for another document.",
                        }
                    ]
                }
            return 200, {"messageId": earlier.message_id, "status": "accepted", "duplicate": True}
        errors = self._validate(query, body)
        if errors:
            return 400, {"errors": [{"code": code, "message": message} for code, message in errors]}
        record = Received(
            message_id=f"fake-ap-{uuid.uuid4()}",
            idempotency_key=key,
            sender=query["sender"],
            receiver=query["receiver"],
            document_type=query["documentType"],
            process=query.get("process", ""),
            content=body,
            sha256=sha256,
            authorization=headers.get("Authorization", ""),
        )
        with self.lock:
            self.received.append(record)
        if mode == "accept_then_503":
            return 503, {"errors": [{"code": "unavailable", "message": "Internal error after receipt."}]}
        if mode == "timeout":
            time.sleep(self.delay)
        return 201, {"messageId": record.message_id, "status": "accepted"}

    def _validate(self, query: dict[str, str], body: bytes) -> list[tuple[str, str]]:
        missing = [name for name in ("sender", "receiver", "documentType") if not query.get(name)]
        if missing:
            return [("missing_parameter", f"Give the {name} parameter.") for name in missing]
        if b"<!DOCTYPE" in body[:2000].upper():
            return [("xml", "Document type declarations are not accepted.")]
        try:
            root = ET.fromstring(body)  # noqa: S314 - DTDs refused above (no entity expansion); a local fake
        except ET.ParseError as exc:
            return [("xml", f"The document is not well-formed XML: {exc}.")]
        root_name = next((name for name, ns in NS.items() if root.tag == f"{{{ns}}}{name}"), None)
        if root_name is None:
            return [("document", f"The root element {root.tag} is neither a UBL 2.1 Invoice nor a CreditNote.")]
        errors = []
        if query["documentType"] != DOCUMENT_TYPES[root_name]:
            errors.append(("document_type", f"The document type does not match the {root_name} root element."))
        if query.get("process", PROFILE_ID) != PROFILE_ID:
            errors.append(
                ("process", "The process is not BIS Billing 3.0 (urn:fdc:peppol.eu:2017:poacc:billing:01:1.0).")
            )
        if root.findtext(f"{{{CBC}}}CustomizationID") != CUSTOMIZATION_ID:
            errors.append(("customization_id", "CustomizationID is not Peppol BIS Billing 3.0."))
        if root.findtext(f"{{{CBC}}}ProfileID") != PROFILE_ID:
            errors.append(("profile_id", "ProfileID is not urn:fdc:peppol.eu:2017:poacc:billing:01:1.0."))
        for wrapper, param in (("AccountingSupplierParty", "sender"), ("AccountingCustomerParty", "receiver")):
            endpoint = root.find(f"{{{CAC}}}{wrapper}/{{{CAC}}}Party/{{{CBC}}}EndpointID")
            found = f"{endpoint.get('schemeID')}:{endpoint.text}" if endpoint is not None else ""
            if found != query[param]:
                errors.append(("endpoint", f"The {param} {query[param]} is not the document's {wrapper} ({found})."))
        receiver = query["receiver"]
        if not self._registered(receiver):
            reason = NOT_REGISTERED.get(receiver, "it is not a registered Peppol participant")
            errors.append(("receiver_not_found", f"The receiver {receiver} cannot receive this document: {reason}."))
        return errors
