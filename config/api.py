"""Shared API pieces: pagination and the one error format.

Every error is ``{"error": {"status": 400, "code": "invalid", "message": "...", "fields": {...}}}``;
``fields`` maps each bad field to its messages. Django ``ValidationError`` from services and
``Http404`` are translated here, so no endpoint answers 500 for bad input.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _flatten(v)]
    if isinstance(detail, list):
        return [m for item in detail for m in _flatten(item)]
    return [str(detail)]


def _fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            ("non_field_errors" if k == "__all__" else k): _flatten(v) if not isinstance(v, dict) else _flatten(v)
            for k, v in detail.items()
        }
    return {"non_field_errors": _flatten(detail)}


def django_validation_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        )
    return exceptions.ValidationError({"non_field_errors": [str(m) for m in exc.messages]})


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = django_validation_to_drf(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    error = {"status": response.status_code, "code": getattr(exc, "default_code", "error")}
    if isinstance(exc, exceptions.ValidationError):
        error["code"] = "invalid"
        error["fields"] = _fields(detail)
        error["message"] = _("The request has errors; see fields.") + " " + "; ".join(_flatten(detail))
    else:
        error["message"] = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        if isinstance(exc, exceptions.APIException) and hasattr(exc, "get_codes"):
            codes = exc.get_codes()
            error["code"] = codes if isinstance(codes, str) else error["code"]
    response.data = {"error": error}
    return response


def error_response(message: str, code: str = "invalid", http_status: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"error": {"status": http_status, "code": code, "message": message}}, status=http_status)
