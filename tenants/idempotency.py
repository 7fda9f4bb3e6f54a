"""``Idempotency-Key`` on every POST of the API (one place: :meth:`tenants.api.TenantAPIView.dispatch`).

A POST that sends ``Idempotency-Key: <1–255 characters>`` is recorded per (tenant, API key, key) with
the SHA-256 of its method, path (with the query) and body:

* the first request inserts the record (committed at once, so a concurrent repeat sees it), then runs
  the view **in one transaction together with storing its response**, holding the record's row lock
  (``SELECT … FOR UPDATE NOWAIT``). Either the work and the stored response commit together, or
  neither does: a crash or a 5xx leaves the record without a response, and the next try does the work;
* a repeat with the same key and the same request gets the first response (status and body) again,
  with ``Idempotent-Replayed: true``, and nothing is done again;
* the same key with a different request is a 422 (``idempotency_key_reused``);
* a repeat while the first is still running (its row lock is held) is a 409 (``idempotency_in_progress``);
* 5xx responses are not stored (the transaction is rolled back, so nothing of it stays either);
* records expire after 24 hours: an older record is ignored and replaced, and each new record deletes
  the same API key's expired ones (one indexed DELETE), so the table holds at most a day per key.
  ``IdempotencyRecord.objects.purge_expired()`` does the same for a whole tenant (for a job).

Side effects outside the database (an e-mail or EHF sent by ``invoices/{id}/send``, a task queued on
a broker) are not rolled back by a 5xx; they happen at most once per successful response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status

from tenants.models import IDEMPOTENCY_TTL_HOURS, ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
TTL = dt.timedelta(hours=IDEMPOTENCY_TTL_HOURS)

HEADER_DESCRIPTION = (
    "Optional, on every POST: a key you choose (1–255 characters, e.g. a UUID) that makes a retry safe. "
    "A repeat with the same key and the same request (method, path and body) gets the first response again, "
    "with `Idempotent-Replayed: true`, and does nothing again; the same key with another request is a 422; "
    "a repeat while the first is still running is a 409. Keys are kept per API key for 24 hours; "
    "5xx responses are not kept."
)


class IdempotencyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_in_progress"
    default_detail = gettext_lazy(
        "A request with this Idempotency-Key is still in progress; wait for it and retry to get its response."
    )


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = gettext_lazy(
        "This Idempotency-Key was used for a different request (method, path or body) in the last 24 hours; "
        "use a new key for a new request."
    )


class _NotStored(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """Leaves the transaction (rolling it back) with a response that must not be kept (5xx)."""

    def __init__(self, response):
        self.response = response


def requested_key(request) -> str | None:
    """The POST's Idempotency-Key, or None; a 400 on the header when it is empty or too long."""
    if request.method != "POST" or HEADER not in request.headers:
        return None
    key = request.headers[HEADER].strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise exceptions.ValidationError(
            {HEADER: [_("Give the Idempotency-Key as 1 to %(max)s characters, e.g. a UUID.") % {"max": MAX_KEY_LENGTH}]}
        )
    return key


def raw_body(request) -> bytes:
    """The request body as sent (read before the parsers consume it)."""
    try:
        return request._request.body
    except RawPostDataException:  # already parsed as a stream: hash what was parsed instead
        return repr(sorted(request.data.items()) if hasattr(request.data, "items") else request.data).encode()


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\n", path.encode(), b"\n", body):
        digest.update(part)
    return digest.hexdigest()


def _record(*, api_key: ApiKey, key: str, print_: str, method: str, path: str, now: dt.datetime) -> IdempotencyRecord:
    """The record for this key: created (and committed) now, or the one already there (not expired)."""
    with transaction.atomic():
        IdempotencyRecord.objects.filter(api_key=api_key, created_at__lt=now - TTL).delete()
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    api_key=api_key, key=key, fingerprint=print_, method=method, path=path[:500], created_at=now
                )
        except IntegrityError:
            return IdempotencyRecord.objects.get(api_key=api_key, key=key)


def replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type or None)
    response[REPLAYED_HEADER] = "true"
    return response


def run(*, request, api_key: ApiKey, key: str, body: bytes, produce: Callable[[], HttpResponse]) -> HttpResponse:
    """Run ``produce`` (the view: it returns a finalized, rendered response) at most once for this key."""
    path = request.get_full_path()
    print_ = fingerprint(request.method, path, body)
    record = _record(api_key=api_key, key=key, print_=print_, method=request.method, path=path, now=timezone.now())
    if record.fingerprint != print_:
        raise IdempotencyKeyReused()
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    locked = IdempotencyRecord.objects.select_for_update(nowait=True).get(pk=record.pk)
            except (OperationalError, IdempotencyRecord.DoesNotExist) as exc:
                raise IdempotencyInProgress() from exc
            if locked.status_code is not None:
                return replay(locked)
            response = produce()
            if response.status_code >= 500:
                raise _NotStored(response)
            locked.status_code = response.status_code
            locked.content_type = response.get("Content-Type", "")[:100]
            locked.body = bytes(response.content)
            locked.completed_at = timezone.now()
            locked.save(update_fields=["status_code", "content_type", "body", "completed_at"])
            return response
    except _NotStored as not_stored:
        return not_stored.response
