"""Admin pages that move open cases of a track to another version: map, dry run, apply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from intake import i18n, web
from intake.accounts.models import User
from intake.admin import migration
from intake.admin import service as admin_service
from intake.definitions.models import DefinitionVersion
from intake.deps import DbSession, DefinitionsEditor
from intake.i18n import gettext as _

router = APIRouter(prefix="/workflow/{key}/migrate")

States = Annotated[list[str], Form()]


def _version(db: Session, key: str, number: int) -> DefinitionVersion | None:
    return admin_service.version_by_number(db=db, kind="workflow", key=key, number=number)


def _mapping(from_state: list[str], to_state: list[str]) -> dict[str, str]:
    if len(from_state) != len(to_state):
        raise HTTPException(status_code=400)
    return dict(zip(from_state, to_state, strict=True))


def _page(
    request: Request,
    db: Session,
    user: User,
    key: str,
    *,
    source: int = 0,
    target: int = 0,
    mapping: dict[str, str] | None = None,
    stage: str = "map",
    errors: list[str] | None = None,
    status_code: int = 200,
    done: migration.Plan | None = None,
) -> Response:
    """The one migration page: choose versions, map states, review the dry run, or the result."""
    summary = admin_service.summarise(
        db=db, kind="workflow", key=key, language=i18n.get_locale(), viewer=user
    )
    if summary is None:
        raise HTTPException(status_code=404)
    newest = summary.newest.version
    target_version = _version(db, key, target) if target else newest
    source_version = _version(db, key, source) if source else None
    if target_version is None or (source and source_version is None):
        raise HTTPException(status_code=404)
    plan = None
    if source_version is not None and done is None:
        plan = migration.plan_migration(
            db=db, source=source_version, target=target_version, mapping=mapping or {}
        )
    context = {
        "summary": summary,
        "source": source_version,
        "target": target_version,
        "plan": done or plan,
        "mapping": mapping or {},
        "stage": "done" if done else stage,
        "errors": errors or [],
        "labels": {
            **(
                admin_service.state_labels(source_version, i18n.get_locale())
                if source_version
                else {}
            ),
            **admin_service.state_labels(target_version, i18n.get_locale()),
        },
    }
    return web.render(request, "admin/migrate.html", context, status_code=status_code)


@router.get("")
def migrate_page(
    request: Request,
    db: DbSession,
    user: DefinitionsEditor,
    key: str,
    source: int = 0,
    target: int = 0,
) -> Response:
    return _page(request, db, user, key, source=source, target=target)


@router.post("/dry-run")
def dry_run(
    request: Request,
    db: DbSession,
    user: DefinitionsEditor,
    key: str,
    source: Annotated[int, Form()],
    target: Annotated[int, Form()],
    from_state: States = [],  # noqa: B006 - FastAPI copies defaults per request
    to_state: States = [],  # noqa: B006
) -> Response:
    return _page(
        request,
        db,
        user,
        key,
        source=source,
        target=target,
        mapping=_mapping(from_state, to_state),
        stage="dry-run",
    )


@router.post("/apply")
def apply(
    request: Request,
    db: DbSession,
    user: DefinitionsEditor,
    key: str,
    source: Annotated[int, Form()],
    target: Annotated[int, Form()],
    expected: Annotated[str, Form(max_length=64)] = "",
    from_state: States = [],  # noqa: B006
    to_state: States = [],  # noqa: B006
) -> Response:
    mapping = _mapping(from_state, to_state)
    source_version, target_version = _version(db, key, source), _version(db, key, target)
    if source_version is None or target_version is None:
        raise HTTPException(status_code=404)
    try:
        plan = migration.apply_migration(
            db=db,
            source=source_version,
            target=target_version,
            mapping=mapping,
            expected=expected,
            actor=user,
        )
    except migration.MigrationRefused as exc:
        return _page(
            request,
            db,
            user,
            key,
            source=source,
            target=target,
            mapping=mapping,
            stage="dry-run",
            errors=exc.messages,
            status_code=409,
        )
    except migration.MigrationFailed:
        return _page(
            request,
            db,
            user,
            key,
            source=source,
            target=target,
            mapping=mapping,
            stage="dry-run",
            errors=[_("Moving the cases failed, so no case was moved. Try the dry run again.")],
            status_code=409,
        )
    return _page(request, db, user, key, source=source, target=target, mapping=mapping, done=plan)
