"""Publish, read and compile definition versions.

A version is checked by the same loaders as the files (`intake forms check`,
`intake workflows check`) before it is stored, so nothing that fails a check
is ever published. Compiled definitions are cached by version id: a version
never changes, so its compiled form never goes stale.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.config import PROJECT_ROOT
from intake.definitions.models import DefinitionVersion
from intake.definitions.yaml_source import DefinitionProblems, Problem, load_yaml
from intake.expressions import ValueType
from intake.forms.definition import FormDefinition
from intake.forms.loader import load_form
from intake.workflow.compiled import Workflow
from intake.workflow.loader import check_track_set, load_workflow

Kind = Literal["form", "workflow"]
FORMS_DIR = PROJECT_ROOT / "forms"
WORKFLOWS_DIR = PROJECT_ROOT / "workflows"
_CACHE_SIZE = 256


class PublishConflict(Exception):
    """Another administrator published the same definition at the same moment."""


class UnchangedDefinition(Exception):
    """The text is the same as the newest version: nothing to publish."""


@dataclass(frozen=True)
class Checked:
    """A definition that passed every check, ready to publish."""

    kind: Kind
    key: str
    declared_version: int
    text: str
    parsed: Any


def digest(text: str) -> str:
    """The SHA-256 of a definition's text, as stored."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- reading -------------------------------------------------------------------


def latest(*, db: Session, kind: Kind, key: str) -> DefinitionVersion | None:
    """The newest version of one definition."""
    return db.execute(
        select(DefinitionVersion)
        .where(DefinitionVersion.kind == kind, DefinitionVersion.key == key)
        .order_by(DefinitionVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def latest_of_kind(*, db: Session, kind: Kind) -> list[DefinitionVersion]:
    """The newest version of every definition of a kind, by key."""
    newest = (
        select(DefinitionVersion.key, func.max(DefinitionVersion.number).label("number"))
        .where(DefinitionVersion.kind == kind)
        .group_by(DefinitionVersion.key)
        .subquery()
    )
    return list(
        db.execute(
            select(DefinitionVersion)
            .join(
                newest,
                (DefinitionVersion.key == newest.c.key)
                & (DefinitionVersion.number == newest.c.number),
            )
            .where(DefinitionVersion.kind == kind)
            .order_by(DefinitionVersion.key)
        ).scalars()
    )


def versions(*, db: Session, kind: Kind, key: str) -> list[DefinitionVersion]:
    """Every version of one definition, newest first."""
    return list(
        db.execute(
            select(DefinitionVersion)
            .where(DefinitionVersion.kind == kind, DefinitionVersion.key == key)
            .order_by(DefinitionVersion.number.desc())
        ).scalars()
    )


def get_version(*, db: Session, version_id: str) -> DefinitionVersion | None:
    """One version by id."""
    return db.get(DefinitionVersion, version_id)


# --- compiling (cached by text) -------------------------------------------------
# A compiled definition depends only on its text (and, for a workflow, on the
# forms it reads), so it is cached by digest: versions, re-syncs and checks of
# the same text share one compiled object.

_compiled: OrderedDict[tuple[str, ...], Any] = OrderedDict()
_compiled_lock = threading.Lock()


def _cached(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    with _compiled_lock:
        if key in _compiled:
            _compiled.move_to_end(key)
            return _compiled[key]
    built = build()
    with _compiled_lock:
        _compiled[key] = built
        while len(_compiled) > _CACHE_SIZE:
            _compiled.popitem(last=False)
    return built


def _file_name(version: DefinitionVersion) -> str:
    return f"{version.key}.yaml@{version.number}"


def _form_from_text(text: str, *, file: str) -> FormDefinition:
    return _cached(("form", digest(text)), lambda: load_form(text, file=file))


def compiled_form(version: DefinitionVersion) -> FormDefinition:
    """The form of a stored version, compiled once."""
    return _form_from_text(version.source_text, file=_file_name(version))


def form_fields(*, db: Session) -> dict[str, Mapping[str, ValueType]]:
    """What workflow expressions may read: every current form's fields and their types."""
    return {
        version.key: compiled_form(version).variable_types()
        for version in latest_of_kind(db=db, kind="form")
    }


def form_choices(*, db: Session) -> dict[str, frozenset[str]]:
    """The choice names of every current form's select fields, as 'form.field'."""
    return {
        f"{version.key}.{field}": names
        for version in latest_of_kind(db=db, kind="form")
        for field, names in compiled_form(version).choice_names().items()
    }


def _load_workflow(*, db: Session, text: str, file: str) -> Workflow:
    forms = latest_of_kind(db=db, kind="form")
    key = ("workflow", digest(text), *sorted(f"{v.key}:{v.digest}" for v in forms))
    return _cached(
        key,
        lambda: load_workflow(
            text, file=file, forms=form_fields(db=db), choices=form_choices(db=db)
        ),
    )


def compiled_workflow(*, db: Session, version: DefinitionVersion) -> Workflow:
    """The workflow of a stored version, compiled once (against the current forms)."""
    return _load_workflow(db=db, text=version.source_text, file=_file_name(version))


def current_workflows(*, db: Session) -> list[tuple[DefinitionVersion, Workflow]]:
    """The newest version of every track, compiled."""
    return [
        (version, compiled_workflow(db=db, version=version))
        for version in latest_of_kind(db=db, kind="workflow")
    ]


# --- checking and publishing -----------------------------------------------------


def check(*, db: Session, kind: Kind, text: str, file: str) -> Checked:
    """Run every check on a text; raise DefinitionProblems listing each problem."""
    source = load_yaml(text, file=file)
    if kind == "form":
        form = _form_from_text(text, file=file)
        return Checked(kind, form.id, form.version, text, source.data)
    workflow = _load_workflow(db=db, text=text, file=file)
    others = [wf for version, wf in current_workflows(db=db) if version.key != workflow.id]
    problems = check_track_set([*others, workflow])
    if problems:
        raise DefinitionProblems(problems)
    return Checked(kind, workflow.id, workflow.version, text, source.data)


def publish(
    *,
    db: Session,
    kind: Kind,
    text: str,
    file: str,
    actor: User | None,
    note: str = "",
    allow_unchanged: bool = False,
) -> DefinitionVersion:
    """Check `text` and store it as the next version of its definition (text kept as written)."""
    checked = check(db=db, kind=kind, text=text, file=file)
    newest = latest(db=db, kind=kind, key=checked.key)
    if newest is not None and newest.digest == digest(text) and not allow_unchanged:
        raise UnchangedDefinition
    version = DefinitionVersion(
        kind=kind,
        key=checked.key,
        number=(newest.number + 1) if newest else 1,
        declared_version=checked.declared_version,
        source_text=text,
        parsed=checked.parsed,
        digest=digest(text),
        source_name=Path(file).name[:200],
        published_by_id=actor.id if actor else None,
        note=note[:200],
    )
    try:
        with db.begin_nested():
            db.add(version)
            db.flush()
    except IntegrityError as exc:
        raise PublishConflict from exc
    audit.record(
        db=db,
        action=f"definition.published.{kind}",
        actor_id=actor.id if actor else None,
        object_type="definition_version",
        object_id=version.id,
    )
    return version


def sync_files(
    *, db: Session, forms_dir: Path = FORMS_DIR, workflows_dir: Path = WORKFLOWS_DIR
) -> list[DefinitionVersion]:
    """Publish every file in forms/ and workflows/ whose text changed; all or nothing."""
    published: list[DefinitionVersion] = []
    problems: list[Problem] = []
    for kind, folder in (("form", forms_dir), ("workflow", workflows_dir)):
        for path in sorted(folder.glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            try:
                published.append(
                    publish(
                        db=db,
                        kind=kind,  # type: ignore[arg-type]
                        text=text,
                        file=f"{folder.name}/{path.name}",
                        actor=None,
                        note="synced from file",
                    )
                )
            except UnchangedDefinition:
                continue
            except DefinitionProblems as exc:
                problems.extend(exc.problems)
        # Workflows are checked against the forms just published.
        db.flush()
    if problems:
        db.rollback()
        raise DefinitionProblems(problems)
    db.commit()
    return published
