"""Admin pages for definitions: catalogue, versions, download, editor, publish, upload.

Supervisors read (DEFINITIONS_VIEW); only administrators change anything
(DEFINITIONS_EDIT). Every refusal is a page in the reader's language with the
administrator's text kept, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from intake import i18n, web
from intake.accounts.models import User
from intake.admin import service
from intake.admin.migration_views import router as migration_router
from intake.admin.xlsform_views import router as xlsform_router
from intake.db import ReadsOnly
from intake.definitions.models import DefinitionVersion
from intake.definitions.service import Kind, PublishConflict, UnchangedDefinition
from intake.deps import DbSession, DefinitionsEditor, DefinitionsViewer
from intake.i18n import gettext as _
from intake.yaml_source import (
    MAX_DEFINITION_BYTES,
    MAX_SHOWN_PROBLEMS,
    DefinitionProblems,
)

router = APIRouter(prefix="/admin/definitions")
router.include_router(migration_router)
router.include_router(xlsform_router)

TextField = Annotated[str, Form(max_length=MAX_DEFINITION_BYTES * 2)]


def conflict_message() -> str:
    return _(
        "Someone else published a new version of this definition first. Nothing was "
        "published. Copy your text if you need it, then reload the page and make your "
        "change on the newest version."
    )


def unchanged_message() -> str:
    return _("The text is the same as the newest version. Nothing was published.")


def _kind_or_404(kind: str) -> Kind:
    found = service.parse_kind(kind)
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _summary_or_404(db: Session, kind: str, key: str, user: User) -> service.DefinitionSummary:
    summary = service.summarise(
        db=db, kind=_kind_or_404(kind), key=key, language=i18n.get_locale(), viewer=user
    )
    if summary is None:
        raise HTTPException(status_code=404)
    return summary


def _version_or_404(db: Session, kind: str, key: str, number: int) -> DefinitionVersion:
    version = service.version_by_number(db=db, kind=_kind_or_404(kind), key=key, number=number)
    if version is None:
        raise HTTPException(status_code=404)
    return version


@router.get("")
def catalogue(request: Request, db: DbSession, user: DefinitionsViewer) -> Response:
    return _catalogue_page(request, db, user)


def _catalogue_page(
    request: Request,
    db: Session,
    user: User,
    *,
    errors: list[str] | None = None,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "definitions": service.catalogue(db=db, language=i18n.get_locale(), viewer=user),
        "errors": errors or [],
        "problems": problems or [],
        "max_kb": MAX_DEFINITION_BYTES // 1024,
        "problem_limit": MAX_SHOWN_PROBLEMS,
    }
    return web.render(request, "admin/definitions.html", context, status_code=status_code)


@router.post("/upload", dependencies=[ReadsOnly])
def upload(
    request: Request,
    db: DbSession,
    user: DefinitionsEditor,
    kind: Annotated[str, Form(max_length=20)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    chosen = service.parse_kind(kind)
    if chosen is None or file is None or not file.filename:
        return _catalogue_page(
            request,
            db,
            user,
            errors=[_("Choose a kind and a YAML file to upload.")],
            status_code=422,
        )
    # One byte over the cap is enough to know the file is too large.
    data = file.file.read(MAX_DEFINITION_BYTES + 1)
    try:
        version = service.publish_upload(
            db=db, kind=chosen, filename=file.filename, data=data, actor=user
        )
    except service.UploadRefused as exc:
        return _catalogue_page(
            request, db, user, errors=[str(exc)], status_code=413 if exc.too_large else 422
        )
    except DefinitionProblems as exc:
        return _catalogue_page(
            request,
            db,
            user,
            errors=[_("The file was not published: fix the problems below and upload it again.")],
            problems=exc.problems,
            status_code=422,
        )
    except UnchangedDefinition:
        return _catalogue_page(request, db, user, errors=[unchanged_message()], status_code=422)
    except PublishConflict:
        return _catalogue_page(request, db, user, errors=[conflict_message()], status_code=409)
    return _published(version)


def _published(version: DefinitionVersion) -> Response:
    return RedirectResponse(
        f"/admin/definitions/{version.kind}/{version.key}?published={version.number}",
        status_code=303,
    )


@router.get("/{kind}/{key}")
def definition_page(
    request: Request,
    db: DbSession,
    user: DefinitionsViewer,
    kind: str,
    key: str,
    published: int = 0,
) -> Response:
    summary = _summary_or_404(db, kind, key, user)
    newest = summary.newest.version
    context = {
        "summary": summary,
        "published": published,
        **service.preview_of(db=db, version=newest, language=i18n.get_locale()),
    }
    return web.render(request, "admin/definition.html", context)


@router.get("/{kind}/{key}/versions/{number}")
def version_page(
    request: Request, db: DbSession, user: DefinitionsViewer, kind: str, key: str, number: int
) -> Response:
    summary = _summary_or_404(db, kind, key, user)
    version = _version_or_404(db, kind, key, number)
    context = {
        "summary": summary,
        "version": version,
        "lines": version.source_text.splitlines(),
        **service.preview_of(db=db, version=version, language=i18n.get_locale()),
    }
    return web.render(request, "admin/version.html", context)


@router.get("/{kind}/{key}/versions/{number}/download")
def download(db: DbSession, user: DefinitionsViewer, kind: str, key: str, number: int) -> Response:
    version = _version_or_404(db, kind, key, number)
    # Keys are plain names (lowercase, digits, _), so the file name needs no quoting.
    return Response(
        version.source_text.encode("utf-8"),
        media_type="text/yaml; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{version.key}-{version.number}.yaml"'
        },
    )


@router.post("/{kind}/{key}/versions/{number}/republish", dependencies=[ReadsOnly])
def republish(
    request: Request, db: DbSession, user: DefinitionsEditor, kind: str, key: str, number: int
) -> Response:
    version = _version_or_404(db, kind, key, number)
    try:
        published = service.republish(db=db, version=version, actor=user)
    except DefinitionProblems as exc:
        return _editor(
            request,
            db,
            user,
            kind,
            key,
            version.source_text,
            status_code=422,
            errors=[_("This version no longer passes the checks, so it was not published.")],
            checked=service.Review(version.source_text, exc.problems, []),
        )
    except UnchangedDefinition:
        return _editor(
            request,
            db,
            user,
            kind,
            key,
            version.source_text,
            status_code=422,
            errors=[unchanged_message()],
        )
    except PublishConflict:
        return _editor(
            request,
            db,
            user,
            kind,
            key,
            version.source_text,
            status_code=409,
            errors=[conflict_message()],
        )
    return _published(published)


@router.get("/{kind}/{key}/edit")
def editor(
    request: Request, db: DbSession, user: DefinitionsEditor, kind: str, key: str
) -> Response:
    summary = _summary_or_404(db, kind, key, user)
    return _editor(request, db, user, kind, key, summary.newest.version.source_text)


# Checking and drawing take long and change nothing: no write lock is held for them
# (publishing takes it only for its own short write transaction, in the service).
@router.post("/{kind}/{key}/check", dependencies=[ReadsOnly])
def check(
    request: Request,
    db: DbSession,
    user: DefinitionsEditor,
    kind: str,
    key: str,
    text: TextField = "",
    base: Annotated[int, Form()] = 0,
) -> Response:
    return _editor(request, db, user, kind, key, text, base=base, block="review")


@router.post("/{kind}/{key}/publish", dependencies=[ReadsOnly])
def publish(
    request: Request,
    db: DbSession,
    user: DefinitionsEditor,
    kind: str,
    key: str,
    text: TextField = "",
    base: Annotated[int, Form()] = 0,
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    chosen = _kind_or_404(kind)
    _summary_or_404(db, kind, key, user)
    try:
        version = service.publish_edit(
            db=db, kind=chosen, key=key, text=text, base_number=base, actor=user, note=note
        )
    except DefinitionProblems:
        return _editor(
            request,
            db,
            user,
            kind,
            key,
            text,
            base=base,
            status_code=422,
            errors=[_("Nothing was published: fix the problems below first.")],
        )
    except UnchangedDefinition:
        return _editor(
            request,
            db,
            user,
            kind,
            key,
            text,
            base=base,
            status_code=422,
            errors=[unchanged_message()],
        )
    except PublishConflict:
        return _editor(
            request,
            db,
            user,
            kind,
            key,
            text,
            base=base,
            status_code=409,
            errors=[conflict_message()],
        )
    return _published(version)


def _editor(
    request: Request,
    db: Session,
    user: User,
    kind: str,
    key: str,
    text: str,
    *,
    base: int | None = None,
    status_code: int = 200,
    errors: list[str] | None = None,
    checked: service.Review | None = None,
    block: str | None = None,
) -> Response:
    summary = _summary_or_404(db, kind, key, user)
    review = checked or service.review(
        db=db, kind=summary.kind, key=key, text=text, language=i18n.get_locale()
    )
    context = {
        "summary": summary,
        "review": review,
        "base": summary.newest.version.number if base is None else base,
        "errors": errors or [],
        "problem_limit": MAX_SHOWN_PROBLEMS,
    }
    return web.render(request, "admin/editor.html", context, status_code=status_code, block=block)
