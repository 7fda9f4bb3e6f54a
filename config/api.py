"""Shared API pieces: pagination, the one error format, and its place in the OpenAPI schema.

Every error is ``{"error": {"status": 400, "code": "invalid", "message": "...", "fields": {...}}}``;
``fields`` maps each bad field to its messages (``non_field_errors`` for the request as a whole)
and is ``{}`` when the error is not about input. Django ``ValidationError`` from services,
``Http404`` and protected deletes are translated here, so no endpoint answers 500 for bad input.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import InvalidPage
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NON_FIELD = "non_field_errors"


class Pagination(pagination.PageNumberPagination):
    """``?page=`` (from 1) and ``?page_size=`` (1–500). A bad value is a 400 on that parameter."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give page_size as a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings and not (raw.isdigit() and int(raw) >= 1):
            raise exceptions.ValidationError(
                {self.page_query_param: [_("Give the page as a whole number from 1 (or 'last').")]}
            )
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as exc:
            # DRF answers 404 for a page past the end; it is a bad parameter, not a missing object.
            last = self.django_paginator_class(queryset, self.get_page_size(request)).num_pages
            raise exceptions.ValidationError(
                {
                    self.page_query_param: [
                        _("Page %(page)s does not exist; the last page is %(last)s.")
                        % {
                            "page": raw,
                            "last": last,
                        }
                    ]
                }
            ) from exc


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _flatten(v)]
    if isinstance(detail, list):
        return [m for item in detail for m in _flatten(item)]
    return [str(detail)]


def _fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {(NON_FIELD if k == "__all__" else k): _flatten(v) for k, v in detail.items()}
    return {NON_FIELD: _flatten(detail)}


def django_validation_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {
                (NON_FIELD if k == "__all__" else k): [str(m) for e in v for m in e.messages]
                for k, v in exc.error_dict.items()
            }
        )
    return exceptions.ValidationError({NON_FIELD: [str(m) for m in exc.messages]})


def _protected_to_drf(exc: ProtectedError | RestrictedError) -> exceptions.ValidationError:
    used_by = sorted({obj._meta.verbose_name for obj in exc.protected_objects if hasattr(obj, "_meta")})
    return exceptions.ValidationError(
        {NON_FIELD: [_("This is still in use (%(what)s) and cannot be deleted.") % {"what": ", ".join(used_by)}]}
    )


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = django_validation_to_drf(exc)
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = _protected_to_drf(exc)
    elif isinstance(exc, Http404 | InvalidPage):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    error = {"status": response.status_code, "code": getattr(exc, "default_code", "error"), "message": "", "fields": {}}
    if isinstance(exc, exceptions.ValidationError):
        error["code"] = "invalid"
        error["fields"] = _fields(detail)
        error["message"] = _("The request has errors; see fields.") + " " + "; ".join(_flatten(detail))
    else:
        error["message"] = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        if isinstance(exc, exceptions.APIException):
            codes = exc.get_codes()
            error["code"] = codes if isinstance(codes, str) else error["code"]
        if isinstance(exc, exceptions.ParseError):
            error["fields"] = {NON_FIELD: [error["message"]]}
    response.data = {"error": error}
    return response


def error_body(message: str, code: str, http_status: int, fields: dict | None = None) -> dict:
    return {"error": {"status": http_status, "code": code, "message": message, "fields": fields or {}}}


def error_response(message: str, code: str = "invalid", http_status: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response(error_body(message, code, http_status), status=http_status)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any unknown path under the API: a 404 in the same format (not Django's HTML page)."""
    return JsonResponse(error_body(_("No such API endpoint."), "not_found", 404), status=404)


# ---------------------------------------------------------------- the error format in OpenAPI
# (the serializers and the AutoSchema that use these live in tenants/api.py; importing DRF's
# generic views here would be circular, as DRF imports this module from its settings)


ERROR_EXAMPLES = {
    400: error_body(
        "The request has errors; see fields. org_number: 937620188 is not a valid organisation number.",
        "invalid",
        400,
        {
            "org_number": [
                "937620188 is not a valid organisation number: it must be 9 digits with a correct check digit."
            ]
        },
    ),
    401: error_body("Unknown or revoked API key.", "authentication_failed", 401),
    403: error_body("This API key is read-only; create a read-write key to make changes.", "permission_denied", 403),
    404: error_body("Not found.", "not_found", 404),
    429: error_body("Request was throttled. Expected available in 12 seconds.", "throttled", 429),
}
ERROR_DESCRIPTIONS = {
    400: "Bad input: a message per field in `error.fields`. Nothing was saved.",
    401: "Missing, malformed, unknown or revoked API key (`WWW-Authenticate: Bearer`).",
    403: "The API key is read-only and the request would change something.",
    404: "No such object for this key's tenant (another tenant's object is 'not found' too).",
    429: "Too many requests for this key; retry after the `Retry-After` seconds.",
}
