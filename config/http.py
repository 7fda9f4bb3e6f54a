"""One way to build the HTTP session of an outside-service client (Brønnøysund, SSB, the Peppol access
point): ``requests`` with retries on connection errors and the given statuses, JSON accepted."""

from __future__ import annotations

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def retrying_session(
    retries: int | None, *, methods: tuple[str, ...], statuses: tuple[int, ...] = (502, 503, 504)
) -> requests.Session:
    """A session that retries ``methods`` up to ``retries`` times (default: OUTSIDE_SERVICE_RETRIES) on
    connection errors, read errors and ``statuses``, backing off 0.2 s, 0.4 s, … The answer of the last
    try is returned as it is (the client turns it into words)."""
    retries = settings.OUTSIDE_SERVICE_RETRIES if retries is None else retries
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status_forcelist=statuses,
        backoff_factor=0.2,
        allowed_methods=methods,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.headers["Accept"] = "application/json"
    return session
