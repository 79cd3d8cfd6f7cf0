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
from collections.abc import Callable, Mapping, Sequence
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
from intake.expressions import ValueType
from intake.forms.definition import FormDefinition
from intake.forms.loader import load_form
from intake.i18n import gettext as _
from intake.workflow.compiled import Workflow
from intake.workflow.loader import check_track_set, load_workflow
from intake.workflow.track_rules import age_set_problems
from intake.yaml_source import DefinitionProblems, Problem, load_yaml

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
    file: str = ""
    compiled: Any = None


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


def _newest_numbers(kind: Kind) -> Any:
    return (
        select(DefinitionVersion.key, func.max(DefinitionVersion.number).label("number"))
        .where(DefinitionVersion.kind == kind)
        .group_by(DefinitionVersion.key)
        .subquery()
    )


def latest_of_kind(*, db: Session, kind: Kind) -> list[DefinitionVersion]:
    """The newest version of every definition of a kind, by key."""
    newest = _newest_numbers(kind)
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


_building: dict[tuple[str, ...], threading.Lock] = {}


def _peek(key: tuple[str, ...]) -> Any:
    with _compiled_lock:
        if key in _compiled:
            _compiled.move_to_end(key)
            return _compiled[key]
    return None


def _cached(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    found = _peek(key)
    if found is not None:
        return found
    # One build per key: requests that miss together (fifty phones after a restart)
    # wait for the first one's build instead of each parsing the same YAML.
    with _compiled_lock:
        building = _building.setdefault(key, threading.Lock())
    with building:
        found = _peek(key)
        if found is not None:
            return found
        built = build()
        with _compiled_lock:
            _compiled[key] = built
            _building.pop(key, None)
            while len(_compiled) > _CACHE_SIZE:
                _compiled.popitem(last=False)
    return built


def _file_name(version: DefinitionVersion) -> str:
    return f"{version.key}.yaml@{version.number}"


def _form_from_text(text: str, *, file: str) -> FormDefinition:
    return _cached(("form", digest(text)), lambda: load_form(text, file=file))


def compiled_form(version: DefinitionVersion) -> FormDefinition:
    """The form of a stored version, compiled once (keyed by its stored digest, so a
    cached form costs no hashing of its text)."""
    text, file = version.source_text, _file_name(version)
    return _cached(("form", version.digest), lambda: load_form(text, file=file))


def _load_workflow(*, db: Session, text: str, file: str, forms: _FormSet | None = None) -> Workflow:
    forms = forms or _published_forms(db=db)
    key = ("workflow", digest(text), *sorted(f"{k}:{d}" for k, d in forms.digests.items()))
    return _cached(
        key,
        lambda: load_workflow(text, file=file, forms=forms.fields(), choices=forms.choices()),
    )


@dataclass
class _FormSet:
    """The forms a set of tracks is checked against, with the digest of each text."""

    compiled: dict[str, FormDefinition]
    digests: dict[str, str]

    def fields(self) -> dict[str, Mapping[str, ValueType]]:
        return {key: form.variable_types() for key, form in self.compiled.items()}

    def choices(self) -> dict[str, frozenset[str]]:
        return {
            f"{key}.{field}": names
            for key, form in self.compiled.items()
            for field, names in form.choice_names().items()
        }


def _published_forms(*, db: Session) -> _FormSet:
    # Only ids and digests are read; a form's text is fetched when it is not compiled yet.
    newest = _newest_numbers("form")
    rows = db.execute(
        select(DefinitionVersion.id, DefinitionVersion.key, DefinitionVersion.digest)
        .join(
            newest,
            (DefinitionVersion.key == newest.c.key) & (DefinitionVersion.number == newest.c.number),
        )
        .where(DefinitionVersion.kind == "form")
    ).all()
    compiled: dict[str, FormDefinition] = {}
    for version_id, key, text_digest in rows:
        found = _peek(("form", text_digest))
        if found is None:
            version = db.get(DefinitionVersion, version_id)
            assert version is not None  # just read
            found = compiled_form(version)
        compiled[key] = found
    return _FormSet(compiled=compiled, digests={key: d for _id, key, d in rows})


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
    """Run every check on a text, also against every other published definition."""
    return check_set(db=db, texts=[(kind, text, file)])[0]


def check_set(*, db: Session, texts: Sequence[tuple[Kind, str, str]]) -> list[Checked]:
    """Check (kind, text, file) triples as the next published set; raise DefinitionProblems.

    Every path that publishes (sync, editor, upload, rollback) comes here, so a
    form that would break a published track (a field its condition reads
    removed, say) is refused just as a broken track is.
    """
    problems: list[Problem] = []
    forms = _published_forms(db=db)
    checked: list[Checked] = []
    for kind, text, file in sorted(texts, key=lambda item: item[0] != "form"):
        try:
            source = load_yaml(text, file=file)
            compiled: FormDefinition | Workflow
            if kind == "form":
                compiled = _form_from_text(text, file=file)
                forms.compiled[compiled.id] = compiled
                forms.digests[compiled.id] = digest(text)
            else:
                compiled = _load_workflow(db=db, text=text, file=file, forms=forms)
        except DefinitionProblems as exc:
            problems += exc.problems
            continue
        checked.append(
            Checked(kind, compiled.id, compiled.version, text, source.data, file, compiled)
        )
    if not problems:
        problems += _published_track_problems(db=db, forms=forms, checked=checked)
    if problems:
        raise DefinitionProblems(problems)
    return checked


def _published_track_problems(
    *, db: Session, forms: _FormSet, checked: list[Checked]
) -> list[Problem]:
    """Each published track not being replaced, against the new forms; then the tracks as a set."""
    problems: list[Problem] = []
    tracks = {c.key: c.compiled for c in checked if c.kind == "workflow"}
    forms_changed = [c for c in checked if c.kind == "form"]
    for version in latest_of_kind(db=db, kind="workflow"):
        if version.key in tracks:
            continue
        try:
            tracks[version.key] = _load_workflow(
                db=db, text=version.source_text, file=_file_name(version), forms=forms
            )
        except DefinitionProblems as exc:
            problems += [_breaks(version, problem, forms_changed) for problem in exc.problems]
    if not problems:
        problems += check_track_set(list(tracks.values()))
        # A coming-of-age rule published now must lead to a track and stages that exist.
        published = [c.compiled for c in checked if c.kind == "workflow"]
        problems += age_set_problems(published, list(tracks.values()))
    return problems


def _breaks(version: DefinitionVersion, problem: Problem, forms: list[Checked]) -> Problem:
    """A published track's problem, placed at the form's id when one form is being changed."""
    message = _(
        "the published track '%(key)s' would break (%(file)s, line %(line)s): %(problem)s",
        key=version.key,
        file=_file_name(version),
        line=problem.line,
        problem=problem.message,
    )
    if len(forms) != 1:
        return Problem(problem.file, problem.line, problem.column, message)
    line, column = load_yaml(forms[0].text, file=forms[0].file).position(("id",))
    return Problem(forms[0].file, line, column, message)


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
    version = _store(db=db, checked=checked, actor=actor, note=note, force=allow_unchanged)
    if version is None:
        raise UnchangedDefinition
    return version


def store(*, db: Session, checked: Checked, actor: User | None, note: str) -> DefinitionVersion:
    """Store an already checked text as the next version (UnchangedDefinition if it is not)."""
    version = _store(db=db, checked=checked, actor=actor, note=note)
    if version is None:
        raise UnchangedDefinition
    return version


def published_count(*, db: Session) -> int:
    """How many versions are published; it changes whenever anything is published."""
    return int(db.execute(select(func.count()).select_from(DefinitionVersion)).scalar_one())


def _store(
    *, db: Session, checked: Checked, actor: User | None, note: str, force: bool = False
) -> DefinitionVersion | None:
    """Store a checked text as the next version; None when it equals the newest one."""
    newest = latest(db=db, kind=checked.kind, key=checked.key)
    if newest is not None and newest.digest == digest(checked.text) and not force:
        return None
    version = DefinitionVersion(
        kind=checked.kind,
        key=checked.key,
        number=(newest.number + 1) if newest else 1,
        declared_version=checked.declared_version,
        source_text=checked.text,
        parsed=checked.parsed,
        digest=digest(checked.text),
        source_name=Path(checked.file).name[:200],
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
        action=f"definition.published.{checked.kind}",
        actor_id=actor.id if actor else None,
        object_type="definition_version",
        object_id=version.id,
    )
    return version


def sync_files(
    *, db: Session, forms_dir: Path = FORMS_DIR, workflows_dir: Path = WORKFLOWS_DIR
) -> list[DefinitionVersion]:
    """Publish every file in forms/ and workflows/ whose text changed; all or nothing.

    The files are checked together, with whatever else is published, as the set
    they will form: a form and the track that reads it may change in one sync.
    """
    texts: list[tuple[Kind, str, str]] = []
    for kind, folder in (("form", forms_dir), ("workflow", workflows_dir)):
        for path in sorted(folder.glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            texts.append((kind, text, f"{folder.name}/{path.name}"))  # type: ignore[arg-type]
    try:
        checked = check_set(db=db, texts=texts)
    except DefinitionProblems:
        db.rollback()
        raise
    published = [
        version
        for item in checked
        if (version := _store(db=db, checked=item, actor=None, note="synced from file"))
    ]
    db.commit()
    return published
