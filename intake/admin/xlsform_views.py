"""Import an XLSForm from the definitions page: the YAML and its problems, then publish.

The workbook is translated by the form engine (intake.forms.xlsform); the
resulting YAML is shown in an editor with the import's warnings, refusals and
problems, and is published only through the usual checks (publish_upload).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from intake import web
from intake.accounts.models import User
from intake.admin import service
from intake.db import DbSession, ReadsOnly
from intake.definitions.service import PublishConflict, UnchangedDefinition
from intake.forms.xlsform import ImportResult, import_xlsform
from intake.forms.xlsform_workbook import MAX_FILE_BYTES
from intake.i18n import gettext as _
from intake.security.permissions import Permission, require
from intake.yaml_source import MAX_DEFINITION_BYTES, DefinitionProblems

router = APIRouter(prefix="/xlsform")
Editor = Annotated[User, Depends(require(Permission.DEFINITIONS_EDIT))]
TextField = Annotated[str, Form(max_length=MAX_DEFINITION_BYTES * 2)]


def _page(
    request: Request,
    *,
    text: str,
    result: ImportResult | None = None,
    errors: list[str] | None = None,
    problems: list[object] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "text": text,
        "result": result,
        "errors": errors or [],
        "problems": problems or [],
        "problem_limit": 200,
    }
    return web.render(request, "admin/xlsform.html", context, status_code=status_code)


@router.post("", dependencies=[ReadsOnly])
def import_workbook(
    request: Request, user: Editor, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    if file is None or not file.filename:
        return _page(request, text="", errors=[_("Choose an .xlsx file.")], status_code=422)
    data = file.file.read(MAX_FILE_BYTES + 1)
    result = import_xlsform(data, file=(file.filename or "form.xlsx")[-100:])
    return _page(request, text=result.yaml_text, result=result, status_code=200)


@router.post("/publish", dependencies=[ReadsOnly])
def publish(request: Request, db: DbSession, user: Editor, text: TextField = "") -> Response:
    try:
        version = service.publish_upload(
            db=db, kind="form", filename="xlsform.yaml", data=text.encode(), actor=user
        )
    except service.UploadRefused as exc:
        return _page(request, text=text, errors=[str(exc)], status_code=422)
    except DefinitionProblems as exc:
        return _page(
            request,
            text=text,
            errors=[_("Nothing was published: fix the problems below first.")],
            problems=list(exc.problems),
            status_code=422,
        )
    except UnchangedDefinition:
        return _page(
            request,
            text=text,
            errors=[_("The text is the same as the newest version. Nothing was published.")],
            status_code=422,
        )
    except PublishConflict:
        return _page(
            request,
            text=text,
            errors=[_("Someone else published a new version of this definition first.")],
            status_code=409,
        )
    return RedirectResponse(
        f"/admin/definitions/{version.kind}/{version.key}?published={version.number}",
        status_code=303,
    )
