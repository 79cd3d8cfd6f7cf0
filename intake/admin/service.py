"""Definitions as administrators see them: the catalogue, a review of an edit, publishing.

Everything that stores a version goes through intake.definitions.service.publish,
so an edit, an upload and a rollback pass exactly the same checks.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.models import Case
from intake.db import read_transaction, write_transaction
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from intake.definitions.service import Kind, PublishConflict
from intake.filling.models import FormDraft
from intake.forms.definition import FormDefinition
from intake.forms.loader import load_form
from intake.i18n import gettext as _
from intake.security.permissions import Permission, has_permission
from intake.workflow import diagram
from intake.workflow.loader import parse_track
from intake.yaml_source import (
    MAX_DEFINITION_BYTES,
    DefinitionProblems,
    Problem,
    load_yaml,
)

KINDS: tuple[Kind, ...] = ("form", "workflow")
MAX_VERSION_NUMBER = 2_147_483_647  # the largest number the version column holds
UPLOAD_SUFFIXES = (".yaml", ".yml")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRefused(Exception):
    """An uploaded file is too large, not text, or not named as YAML; `str()` says which."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True)
class VersionRow:
    """One version in a listing, with how much live work still uses it."""

    version: DefinitionVersion
    publisher: str
    in_use: int | None  # None when the viewer may not see case data


@dataclass(frozen=True)
class DefinitionSummary:
    kind: Kind
    key: str
    title: str
    versions: list[VersionRow]

    @property
    def newest(self) -> VersionRow:
        return self.versions[0]


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "same" or "hunk"
    text: str
    old: int | None = None
    new: int | None = None


@dataclass(frozen=True)
class Review:
    """What the editor shows for a text: its problems, its diff and its preview."""

    text: str
    problems: list[Problem]
    diff: list[DiffLine]
    form: FormDefinition | None = None
    diagram: diagram.Diagram | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- reading -------------------------------------------------------------------


def title_of(version: DefinitionVersion, language: str) -> str:
    """A version's title in `language`, else its first language, else its key."""
    parsed = version.parsed if isinstance(version.parsed, Mapping) else {}
    title = parsed.get("title")
    if not isinstance(title, Mapping):
        return version.key
    languages = parsed.get("languages") or []
    first = languages[0] if languages else ""
    return str(title.get(language) or title.get(first) or version.key)


def state_labels(version: DefinitionVersion, language: str) -> dict[str, str]:
    """Each state of a workflow version with its label in `language` (else its first one)."""
    parsed = version.parsed if isinstance(version.parsed, Mapping) else {}
    languages = parsed.get("languages") or [""]
    labels = {}
    for name, state in (parsed.get("states") or {}).items():
        texts = state.get("label", {}) if isinstance(state, Mapping) else {}
        labels[str(name)] = str(texts.get(language) or texts.get(languages[0]) or name)
    return labels


def usage_counts(*, db: Session, kind: Kind, viewer: User) -> dict[str, int] | None:
    """The viewer's organisation's open cases per workflow version (or drafts per form version).

    None for a viewer who may not see case data (an administrator): even a count
    of another organisation's girls-under-18 cases says too much.
    """
    if not has_permission(viewer, Permission.CASES_VIEW):
        return None
    if kind == "workflow":
        query = (
            select(Case.workflow_version_id, func.count())
            .where(Case.closed_at.is_(None), Case.organisation_id == viewer.organisation_id)
            .group_by(Case.workflow_version_id)
        )
    else:
        query = (
            select(FormDraft.form_version_id, func.count())
            .where(FormDraft.organisation_id == viewer.organisation_id)
            .group_by(FormDraft.form_version_id)
        )
    return {version_id: count for version_id, count in db.execute(query).all()}


def _publishers(*, db: Session, versions: list[DefinitionVersion]) -> dict[str, str]:
    ids = {v.published_by_id for v in versions if v.published_by_id}
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.username).where(User.id.in_(ids))).all()
    return dict(rows)


def summarise(
    *, db: Session, kind: Kind, key: str, language: str, viewer: User
) -> DefinitionSummary | None:
    """One definition with every version, newest first; None if it was never published."""
    found = definitions.versions(db=db, kind=kind, key=key)
    if not found:
        return None
    counts = usage_counts(db=db, kind=kind, viewer=viewer)
    return _summary(db=db, kind=kind, found=found, counts=counts, language=language)


def catalogue(*, db: Session, language: str, viewer: User) -> list[DefinitionSummary]:
    """Every form and workflow with its versions and how much of the viewer's work uses each."""
    summaries = []
    for kind in KINDS:
        counts = usage_counts(db=db, kind=kind, viewer=viewer)
        rows = db.execute(
            select(DefinitionVersion)
            .where(DefinitionVersion.kind == kind)
            .order_by(DefinitionVersion.key, DefinitionVersion.number.desc())
        ).scalars()
        by_key: dict[str, list[DefinitionVersion]] = {}
        for version in rows:
            by_key.setdefault(version.key, []).append(version)
        summaries += [
            _summary(db=db, kind=kind, found=found, counts=counts, language=language)
            for found in by_key.values()
        ]
    return summaries


def _summary(
    *,
    db: Session,
    kind: Kind,
    found: list[DefinitionVersion],
    counts: dict[str, int] | None,
    language: str,
) -> DefinitionSummary:
    names = _publishers(db=db, versions=found)
    return DefinitionSummary(
        kind=kind,
        key=found[0].key,
        title=title_of(found[0], language),
        versions=[
            VersionRow(
                version=v,
                publisher=names.get(v.published_by_id or "", ""),
                in_use=None if counts is None else counts.get(v.id, 0),
            )
            for v in found
        ],
    )


def version_by_number(
    *, db: Session, kind: Kind, key: str, number: int
) -> DefinitionVersion | None:
    """One version of a definition by its number (None for a number no version can have)."""
    if not 1 <= number <= MAX_VERSION_NUMBER:
        return None  # a number beyond the column would overflow the query, not miss
    return db.execute(
        select(DefinitionVersion).where(
            DefinitionVersion.kind == kind,
            DefinitionVersion.key == key,
            DefinitionVersion.number == number,
        )
    ).scalar_one_or_none()


# --- reviewing an edit -----------------------------------------------------------


def normalise(text: str) -> str:
    """One line ending and no byte-order mark: browsers post textareas with CRLF."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """A unified diff of two texts, line by line, with line numbers on both sides."""
    lines: list[DiffLine] = []
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for group in matcher.get_grouped_opcodes(3):
        first, last = group[0], group[-1]
        lines.append(
            DiffLine(
                "hunk",
                f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@",
            )
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [
                    DiffLine("same", old_lines[i], i + 1, j1 + n + 1)
                    for n, i in enumerate(range(i1, i2))
                ]
                continue
            lines += [DiffLine("del", old_lines[i], old=i + 1) for i in range(i1, i2)]
            lines += [DiffLine("add", new_lines[j], new=j + 1) for j in range(j1, j2)]
    return lines


def review(*, db: Session, kind: Kind, key: str, text: str, language: str) -> Review:
    """Every problem of an edited text, its diff against the newest version, and a preview."""
    text = normalise(text)
    problems: list[Problem] = []
    try:
        _check_as(db=db, kind=kind, key=key, text=text)
    except DefinitionProblems as exc:
        problems = exc.problems
    newest = definitions.latest(db=db, kind=kind, key=key)
    changes = diff_lines(newest.source_text if newest else "", text)
    file = f"{key}.yaml"
    if kind == "form":
        try:
            form = load_form(text, file=file)
        except DefinitionProblems:
            form = None
        return Review(text, problems, changes, form=form)
    try:
        _, track = parse_track(text, file=file)
    except DefinitionProblems:
        return Review(text, problems, changes)
    return Review(text, problems, changes, diagram=diagram.draw(track, language=language))


def _check_as(*, db: Session, kind: Kind, key: str, text: str) -> definitions.Checked:
    """Check a text written for the definition `key`: an edit may not rename it."""
    file = f"{key}.yaml"
    checked = definitions.check(db=db, kind=kind, text=text, file=file)
    if checked.key != key:
        line, column = load_yaml(text, file=file).position(("id",))
        message = _(
            "The id must stay '%(key)s'. To add a new definition, upload it as a file.", key=key
        )
        raise DefinitionProblems([Problem(file, line, column, message)])
    return checked


# --- publishing ------------------------------------------------------------------


def publish_edit(
    *,
    db: Session,
    kind: Kind,
    key: str,
    text: str,
    base_number: int,
    actor: User,
    note: str = "",
) -> DefinitionVersion:
    """Publish an edit of the version numbered `base_number` as the next version."""
    text = normalise(text)
    return _publish(
        db=db,
        check=lambda: _check_as(db=db, kind=kind, key=key, text=text),
        actor=actor,
        note=note,
        base=(kind, key, base_number),
    )


def republish(*, db: Session, version: DefinitionVersion, actor: User) -> DefinitionVersion:
    """Publish an earlier version's text again as the newest (a rollback adds, never rewrites)."""
    kind, text = _kind(version.kind), version.source_text
    file = version.source_name or f"{version.key}.yaml"
    return _publish(
        db=db,
        check=lambda: definitions.check(db=db, kind=kind, text=text, file=file),
        actor=actor,
        note=f"republished version {version.number}",
    )


def _publish(
    *,
    db: Session,
    check: Callable[[], definitions.Checked],
    actor: User,
    note: str,
    base: tuple[Kind, str, int] | None = None,
) -> DefinitionVersion:
    """Check with no write lock held (parsing and checking against every published
    definition take long), then store in one short write transaction. The check runs
    again inside it only when something was published in between."""
    with read_transaction(db):
        seen = definitions.published_count(db=db)
        checked = check()
    with write_transaction(db):
        if definitions.published_count(db=db) != seen:
            checked = check()
        if base is not None:
            newest = definitions.latest(db=db, kind=base[0], key=base[1])
            if (newest.number if newest else 0) != base[2]:
                # Someone published after this edit began: publishing would drop their change.
                raise PublishConflict
        return definitions.store(db=db, checked=checked, actor=actor, note=note)


def read_upload(*, filename: str, data: bytes) -> str:
    """The text of an uploaded definition, or UploadRefused saying why it is not usable."""
    if len(data) > MAX_DEFINITION_BYTES:
        raise UploadRefused(
            _("The file is larger than %(size)s KB.", size=MAX_DEFINITION_BYTES // 1024),
            too_large=True,
        )
    if not filename.lower().endswith(UPLOAD_SUFFIXES):
        raise UploadRefused(_("Only YAML files (.yaml or .yml) can be uploaded."))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadRefused(_("The file is not UTF-8 text, so it cannot be YAML.")) from None
    if "\x00" in text:
        raise UploadRefused(_("The file is not UTF-8 text, so it cannot be YAML."))
    return normalise(text)


def publish_upload(
    *, db: Session, kind: Kind, filename: str, data: bytes, actor: User
) -> DefinitionVersion:
    """Check an uploaded file and publish it as the next version of the definition it names."""
    text = read_upload(filename=filename, data=data)
    name = _SAFE_NAME.sub("_", filename)[-100:] or "upload.yaml"
    return _publish(
        db=db,
        check=lambda: definitions.check(db=db, kind=kind, text=text, file=name),
        actor=actor,
        note="uploaded",
    )


def _kind(value: str) -> Kind:
    if value == "form":
        return "form"
    if value == "workflow":
        return "workflow"
    raise ValueError(value)


def parse_kind(value: str) -> Kind | None:
    """A kind named in a URL, or None for anything else."""
    return _kind(value) if value in KINDS else None


def preview_of(*, db: Session, version: DefinitionVersion, language: str) -> dict[str, Any]:
    """What a stored version previews as: its form, or its track's diagram."""
    if version.kind == "form":
        return {"form": definitions.compiled_form(version), "diagram": None}
    _, track = parse_track(version.source_text, file=f"{version.key}.yaml")
    return {"form": None, "diagram": diagram.draw(track, language=language)}
