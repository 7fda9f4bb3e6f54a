"""Client for a Peppol access point (AP): sending EHF documents and asking whether a participant can
receive them (an SMP lookup made by the AP).

The one way Avtale talks to the Peppol network. Which AP is used is configuration: ``PEPPOL_AP_ADAPTER``
names a class with the :class:`AccessPoint` interface (default :class:`RestAccessPoint`), and
``PEPPOL_AP_BASE_URL`` / ``PEPPOL_AP_TOKEN`` say where it is and how to authenticate. Tests and the demo
point the base URL at the fake in ``fakes/server.py``; a commercial AP (Storecove, ecosio, Pagero, a
phoss-ap of one's own, …) is plugged in by writing an adapter with the same two methods.

The REST shape of :class:`RestAccessPoint` (small and plain, after phoss-ap's "submit raw document +
metadata" and Storecove's discovery endpoint)::

    POST {base}/v1/documents?sender=0192:…&receiver=0192:…&documentType=…&process=…
        Authorization: Bearer {token}
        Idempotency-Key: {key}                 one key per delivery: a repeat is not sent twice
        Content-Type: application/xml
        body: the UBL 2.1 Invoice or CreditNote, byte for byte as stored

        201 {"messageId": "…", "status": "accepted"}          sent (queued for AS4 transmission)
        200 {"messageId": "…", "status": "accepted", "duplicate": true}
                                               the same key and document were received before
        4xx {"errors": [{"code": "…", "message": "…"}]}      refused for good (validation, unknown
                                               receiver, key reused for another document)
        5xx, timeout                           try again later

    GET {base}/v1/participants/{participant id}
        200 {"participantId": "0192:…", "documentTypes": ["urn:oasis:…::Invoice##…::2.1", …]}
        404                                    not registered in the Peppol network

Participant ids are ``scheme:value`` (ISO 6523 ICD; 0192 is Enhetsregisteret) in the Peppol
``iso6523-actorid-upis`` scheme; document types are Peppol ``busdox-docid-qns`` identifiers.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils.module_loading import import_string

from billing.ehf import CUSTOMIZATION_ID, PROFILE_ID
from config.http import retrying_session
from tenants.brreg import _is_timeout

INVOICE_DOCUMENT_TYPE = f"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##{CUSTOMIZATION_ID}::2.1"
CREDIT_NOTE_DOCUMENT_TYPE = (
    f"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote##{CUSTOMIZATION_ID}::2.1"
)
BILLING_PROCESS = PROFILE_ID  # urn:fdc:peppol.eu:2017:poacc:billing:01:1.0


def document_type_for(kind: str) -> str:
    """The Peppol document type of an invoice (``"invoice"``) or credit note (``"credit_note"``)."""
    return CREDIT_NOTE_DOCUMENT_TYPE if kind == "credit_note" else INVOICE_DOCUMENT_TYPE


class AccessPointError(Exception):
    """The access point did not take the document."""


class PermanentRejection(AccessPointError):
    """Refused for good: sending the same document again will not help (``errors``: the AP's messages)."""

    def __init__(self, message: str, errors: list[str] | None = None, status: int | None = None):
        super().__init__(message)
        self.errors = errors or []
        self.status = status


class TemporaryFailure(AccessPointError):
    """The access point was down, slow or broken; try again later."""


class AccessPoint(Protocol):
    """What Avtale needs from an access point."""

    def send(
        self, document_xml: bytes, *, sender_id: str, receiver_id: str, document_type: str, idempotency_key: str = ""
    ) -> str:
        """Hand over one UBL document; the AP's message id. Raises PermanentRejection or TemporaryFailure.

        A second call with the same ``idempotency_key`` must not send the document again: it answers
        the first call's message id."""
        ...

    def lookup(self, participant_id: str, document_type: str = INVOICE_DOCUMENT_TYPE) -> bool:
        """Whether the participant can receive this BIS Billing 3.0 document type over Peppol."""
        ...


def _errors(response: requests.Response) -> list[str]:
    try:
        data = response.json()
    except ValueError:
        return [response.text[:300]] if response.text else []
    items = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return [str(data)[:300]]
    return [str(item.get("message") or item) if isinstance(item, dict) else str(item) for item in items]


class RestAccessPoint:
    """:class:`AccessPoint` over the plain REST shape in this module's docstring."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
    ):
        self.base_url = (base_url if base_url is not None else settings.PEPPOL_AP_BASE_URL).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.OUTSIDE_SERVICE_TIMEOUT
        # POST is retried too: every send carries an idempotency key, so a retry cannot send twice.
        self.session = retrying_session(retries, methods=("GET", "POST"))
        token = token if token is not None else settings.PEPPOL_AP_TOKEN
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        if not self.base_url:
            raise TemporaryFailure("No Peppol access point is configured (set PEPPOL_AP_BASE_URL).")
        try:
            return self.session.request(method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            if _is_timeout(exc):
                raise TemporaryFailure(f"The access point did not answer within {self.timeout} s.") from exc
            raise TemporaryFailure(f"The access point could not be reached ({exc.__class__.__name__}).") from exc

    def send(
        self, document_xml: bytes, *, sender_id: str, receiver_id: str, document_type: str, idempotency_key: str = ""
    ) -> str:
        headers = {"Content-Type": "application/xml"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        params = {
            "sender": sender_id,
            "receiver": receiver_id,
            "documentType": document_type,
            "process": BILLING_PROCESS,
        }
        response = self._request("POST", "/v1/documents", params=params, data=document_xml, headers=headers)
        if response.status_code >= 500 or response.status_code == 429:
            raise TemporaryFailure(f"The access point answered HTTP {response.status_code}; it will be tried again.")
        if 400 <= response.status_code < 500:
            errors = _errors(response)
            raise PermanentRejection(
                f"The access point refused the document (HTTP {response.status_code}): " + "; ".join(errors),
                errors=errors,
                status=response.status_code,
            )
        try:
            message_id = response.json().get("messageId")
        except (ValueError, AttributeError):
            message_id = None
        if response.status_code not in (200, 201) or not message_id:
            raise TemporaryFailure(f"The access point answered HTTP {response.status_code} without a message id.")
        return str(message_id)

    def lookup(self, participant_id: str, document_type: str = INVOICE_DOCUMENT_TYPE) -> bool:
        response = self._request("GET", f"/v1/participants/{quote(participant_id, safe=':')}")
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise TemporaryFailure(f"The access point's participant lookup answered HTTP {response.status_code}.")
        try:
            types = response.json().get("documentTypes") or []
        except (ValueError, AttributeError) as exc:
            raise TemporaryFailure(
                "The access point's participant lookup answered something that is not JSON."
            ) from exc
        return document_type in types


def access_point() -> AccessPoint:
    """The configured access point (``PEPPOL_AP_ADAPTER``)."""
    return import_string(settings.PEPPOL_AP_ADAPTER)()
