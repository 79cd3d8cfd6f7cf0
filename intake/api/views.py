"""The JSON API's routes under /api/v1, its OpenAPI document and its docs page.

Each route parses, passes its token guard (scope + permission), calls one service
function and answers JSON. The OpenAPI document describes these routes only (the
rest of the application keeps OpenAPI off); the docs page is rendered on the server
from that document, so it needs no script and no asset from elsewhere (strict CSP).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from intake import web
from intake.accounts import tokens
from intake.api import errors, schemas, service
from intake.api.guard import token_guard
from intake.deps import DbSession, SettingsDep
from intake.i18n import gettext as _
from intake.security.permissions import Permission, Public

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": schemas.ErrorOut, "description": description}
    for status, description in (
        (401, "No token, or one that is unknown, revoked, expired or of a disabled user"),
        (403, "The token's scopes or its user's role do not allow this"),
        (413, "The body is over the size limit"),
        (429, "Too many requests from this token (or unknown tokens from this address)"),
    )
}

router = APIRouter(prefix=errors.PREFIX, responses=ERRORS)


def texts() -> dict[str, tuple[str, str]]:
    """Each operation's summary and description, by route name, in the reader's language."""
    return {
        "list_definitions": (
            _("Published forms and tracks"),
            _("Every published form and track with its newest version and every version kept."),
        ),
        "submit": (
            _("Submit a filling"),
            _(
                "Validated as the web form validates it; sensitive answers are stored "
                "encrypted. The same client_id with the same answers returns the stored "
                "submission (200); with other answers, 409. A case_id must be a case the "
                "token's user may see (else 404)."
            ),
        ),
        "read_statistics": (
            _("Statistics as the coordinator sees them"),
            _(
                "Anonymised figures of the organisations the token's user may see figures "
                "of, per year (year: optional); every count under the threshold, and every "
                "count that would give one away, is null."
            ),
        ),
        "read_case": (
            _("A case's stage, history and answers"),
            _(
                "Only a case the token's user may see; sensitive answers only for its team "
                "and the organisation's supervisors (else named in withheld). Any other id "
                "is a 404."
            ),
        ),
    }


# The OpenAPI document is written in English (its texts are read before any request).
_DOCUMENTED = texts()

AnyToken = Annotated[tokens.Caller, Depends(token_guard(None, Permission.OWN_ACCOUNT))]
Submitter = Annotated[
    tokens.Caller,
    Depends(token_guard("submissions:write", tokens.SCOPES["submissions:write"])),
]
StatisticsReader = Annotated[
    tokens.Caller,
    Depends(token_guard("statistics:read", tokens.SCOPES["statistics:read"])),
]
CaseReader = Annotated[
    tokens.Caller, Depends(token_guard("cases:read", tokens.SCOPES["cases:read"]))
]


@router.get(
    "/definitions",
    summary=_DOCUMENTED["list_definitions"][0],
    description=_DOCUMENTED["list_definitions"][1],
)
def list_definitions(db: DbSession, caller: AnyToken) -> schemas.Definitions:
    return service.published_definitions(db=db)


@router.post(
    "/submissions",
    status_code=201,
    summary=_DOCUMENTED["submit"][0],
    description=_DOCUMENTED["submit"][1],
    openapi_extra={"x-scope": "submissions:write"},
    responses={
        200: {"model": schemas.SubmissionOut, "description": "Already stored (a retry)"},
        400: {"model": schemas.ErrorOut, "description": "The body is not JSON"},
        404: {"model": schemas.ErrorOut, "description": "No such form, version or case"},
        409: {"model": schemas.ErrorOut, "description": "This client id has other answers"},
        422: {"model": schemas.ErrorOut, "description": "Answers refused, one message each"},
    },
)
def submit(
    payload: schemas.SubmissionIn, db: DbSession, settings: SettingsDep, caller: Submitter
) -> JSONResponse:
    out = service.submit_filling(db=db, settings=settings, user=caller.user, payload=payload)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if out.created else 200)


@router.get(
    "/cases/{case_id}",
    summary=_DOCUMENTED["read_case"][0],
    description=_DOCUMENTED["read_case"][1],
    openapi_extra={"x-scope": "cases:read"},
    responses={404: {"model": schemas.ErrorOut, "description": "No case you may see"}},
)
def read_case(
    case_id: str, db: DbSession, settings: SettingsDep, caller: CaseReader
) -> schemas.CaseOut:
    return service.read_case(db=db, settings=settings, user=caller.user, case_id=case_id)


@router.get(
    "/statistics",
    summary=_DOCUMENTED["read_statistics"][0],
    description=_DOCUMENTED["read_statistics"][1],
    openapi_extra={"x-scope": "statistics:read"},
    responses={422: {"model": schemas.ErrorOut, "description": "Not a year offered"}},
)
def read_statistics(
    db: DbSession,
    settings: SettingsDep,
    caller: StatisticsReader,
    year: Annotated[str, Query(max_length=10)] = "",
) -> schemas.StatisticsOut:
    return service.read_statistics(db=db, settings=settings, user=caller.user, year=year)


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The API's OpenAPI document (its routes only), made once per application."""
    cached: dict[str, Any] | None = getattr(app.state, "api_openapi", None)
    if cached is None:
        cached = get_openapi(
            title="intake API",
            version="1",
            summary="Forms, submissions and cases, for systems that work with an installation.",
            routes=[r for r in router.routes if getattr(r, "include_in_schema", False)],
        )
        app.state.api_openapi = cached
    return cached


@router.get("/openapi.json", include_in_schema=False, dependencies=[Public])
def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document(request.app))


@router.get("/docs", include_in_schema=False, dependencies=[Public])
def docs_page(request: Request) -> HTMLResponse:
    return web.render(request, "api/docs.html", {"operations": operations(request.app)})


def operations(app: FastAPI) -> list[dict[str, Any]]:
    """The documented operations, for the docs page, in the reader's language."""
    document, described = openapi_document(app), texts()
    found = []
    for route in router.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            op = document["paths"][route.path][method.lower()]
            summary, description = described.get(route.name, ("", ""))
            found.append(
                {
                    "method": method,
                    "path": route.path,
                    "summary": summary,
                    "description": description,
                    "scope": op.get("x-scope", ""),
                    "parameters": [p["name"] for p in op.get("parameters", [])],
                    "body": _schema_name(op.get("requestBody")),
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return found


def _schema_name(body: dict[str, Any] | None) -> str:
    if not body:
        return ""
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).rpartition("/")[2]


def install(app: FastAPI) -> None:
    """Answer the API's own refusals as JSON."""

    @app.exception_handler(errors.ApiError)
    async def api_error(request: Request, exc: errors.ApiError) -> Response:
        return errors.json_error(exc)
