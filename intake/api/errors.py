"""JSON error bodies for the API: `{"error": {"code": ..., "message": ..., "fields": ...}}`.

The application's handlers (intake.app) answer a page for every other path; for a
path under /api/v1 they answer through `json_error` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

from intake.i18n import gettext as _

PREFIX = "/api/v1"


def is_api_path(path: str) -> bool:
    """Whether `path` is the API's (exactly /api/v1 and what is below it)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


class ApiError(Exception):
    """A refusal the API answers as JSON with this status and code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message or status_message(status)
        self.fields = fields
        self.headers = headers


def status_message(status: int) -> str:
    """What a status means for the caller, in the reader's language."""
    messages = {
        400: _("The request could not be understood. Nothing was changed."),
        401: _("A valid API token is needed (Authorization: Bearer ...)."),
        403: _("This token may not do this. Nothing was changed."),
        404: _("This does not exist, or you do not have access to it."),
        405: _("This method is not available here."),
        409: _("This conflicts with what is stored. Nothing was changed."),
        413: _("The data sent is too large. Nothing was saved."),
        415: _("Send JSON (Content-Type: application/json)."),
        422: _("Some of the data sent was not valid. Nothing was changed."),
        429: _("Too many requests. Wait a moment, then try again."),
    }
    return messages.get(status, _("Something went wrong on our side. Nothing was changed."))


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    503: "busy",
}


def code_for(status: int) -> str:
    """The machine-readable code of a status (for errors that carry no code of their own)."""
    return _CODES.get(status, "server_error")


def json_error(error: ApiError) -> JSONResponse:
    """The response for an API refusal."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    return JSONResponse({"error": body}, status_code=error.status, headers=error.headers)


def for_status(status: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The response for a refusal known only by its status (no route, wrong method, ...)."""
    return json_error(ApiError(status, code_for(status), headers=dict(headers or {})))


def validation_error(errors: list[Any]) -> JSONResponse:
    """A request that does not match the documented shape: malformed JSON is a 400, the
    rest a 422 naming each wrong place (never echoing the value sent)."""
    if any(e.get("type") == "json_invalid" for e in errors if isinstance(e, dict)):
        return json_error(ApiError(400, "malformed_json", _("The body is not valid JSON.")))
    fields: dict[str, str] = {}
    for found in errors[:50]:
        if not isinstance(found, dict):
            continue
        where = ".".join(str(part) for part in found.get("loc", ()) if part != "body")
        fields[where[:200] or "body"] = _("This value is missing or not valid here.")
    return json_error(ApiError(422, "invalid", fields=fields))
