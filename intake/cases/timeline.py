"""A case's timeline: history, submissions and notes, each with who and when.

A note's text appears only for a reader with need to know; anyone else sees
that a note was added, by whom and when.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import web
from intake.accounts.models import User
from intake.cases import notes as case_notes
from intake.cases import reasons, service, service_lists
from intake.cases.labels import state_label, track_title
from intake.cases.labels import workflow_of_version as workflow_of
from intake.cases.models import Case, CaseHistory
from intake.cases.rules import function_label, label_in, reader_language
from intake.config import Settings
from intake.definitions import service as definitions
from intake.filling.models import Submission
from intake.i18n import format_date
from intake.i18n import gettext as _
from intake.workflow.compiled import Workflow


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: dt.datetime
    who: str
    role: str
    text: str
    reason: str
    kind: str = ""
    note: str = ""


def _history_text(
    db: Session, row: CaseHistory, wf: Workflow | None, previous: Workflow | None, person: str
) -> str:
    to = state_label(wf, row.to_state)
    function = function_label(row.team_function)
    if row.kind == "created":
        return _("Case opened: %(track)s, %(stage)s", track=track_title(wf), stage=to)
    if row.kind == "transition":
        t = wf.route(state=row.from_state, trigger=row.trigger) if wf else None
        action = label_in(t.label, wf.languages) if t and wf else row.trigger
        before = state_label(wf, row.from_state)
        return _("%(action)s: %(before)s → %(after)s", action=action, before=before, after=to)
    if row.kind == "track_changed":
        return _(
            "Track changed from %(old)s to %(track)s, %(stage)s",
            old=track_title(previous),
            track=track_title(wf),
            stage=to,
        )
    if row.kind == "team_assigned":
        return _("%(person)s joined the team as %(function)s", person=person, function=function)
    if row.kind == "team_removed":
        return _("%(person)s left the team (%(function)s)", person=person, function=function)
    if row.kind == "transferred":
        # intake.referrals.transfers: the case came from another organisation.
        return _(
            "Case transferred to this organisation: %(stage)s",
            stage=state_label(wf, row.from_state or row.to_state),
        )
    return _("Moved to a new version of the track: %(stage)s", stage=to)


def _form_title(db: Session, version_id: str, cache: dict[str, str]) -> str:
    if version_id not in cache:
        version = definitions.get_version(db=db, version_id=version_id)
        form = definitions.compiled_form(version) if version else None
        cache[version_id] = form.text(form.title, reader_language(form.languages)) if form else ""
    return cache[version_id]


def timeline(*, db: Session, settings: Settings, case: Case, with_notes: bool) -> list[Entry]:
    """Everything that happened to the case, oldest first; note texts only `with_notes`."""
    rows = service.history(db=db, case=case)
    submissions = list(
        db.execute(
            select(Submission)
            .where(Submission.case_id == case.id)
            .order_by(Submission.submitted_at, Submission.id)
        ).scalars()
    )
    if with_notes:
        notes = [
            (n.at, n.author_id, n.author_role, n.text)
            for n in case_notes.notes_of(db=db, settings=settings, case=case)
        ]
    else:
        notes = [(at, who, role, "") for at, who, role in case_notes.note_stamps(db=db, case=case)]
    ids = {r.actor_id for r in rows} | {r.subject_user_id for r in rows}
    ids |= {s.submitted_by_id for s in submissions} | {who for _at, who, _r, _t in notes}
    people = db.execute(
        select(User.id, User.display_name, User.role).where(User.id.in_(ids - {None}))
    ).all()
    names = {uid: name for uid, name, _role in people}
    roles = {uid: role for uid, _name, role in people}
    entries: list[Entry] = []
    previous: Workflow | None = None
    for row in rows:
        wf = workflow_of(db, row.workflow_version_id)
        person = names.get(row.subject_user_id or "", "")
        text = _history_text(db, row, wf, previous, person)
        previous = wf or previous
        who = names.get(row.actor_id or "", "")
        # A reason is free text about the person: only with need to know, like a note.
        reason = reasons.open_reason(settings=settings, row=row) if with_notes else ""
        entries.append(Entry(row.at, who, web.role_label(row.actor_role), text, reason, row.kind))
    titles: dict[str, str] = {}
    for s in submissions:
        title = _form_title(db, s.form_version_id, titles)
        entries.append(
            Entry(
                s.submitted_at,
                names.get(s.submitted_by_id, ""),
                web.role_label(roles.get(s.submitted_by_id, "")),
                _("Form filled: %(form)s", form=title),
                "",
                "submission",
            )
        )
    for at, who, role, text in notes:
        entries.append(
            Entry(at, names.get(who, ""), web.role_label(role), _("Note added"), "", "note", text)
        )
    entries += _service_entries(db, settings, case, with_notes)
    # Stable: what happened in the same instant keeps the order it was listed in.
    return sorted(entries, key=lambda entry: entry.at)


def _service_entries(db: Session, settings: Settings, case: Case, with_notes: bool) -> list[Entry]:
    """Each service recorded, when it was recorded; its note only with need to know."""
    return [
        Entry(
            line.recorded_at,
            line.recorded_by,
            web.role_label(line.recorded_by_role),
            _(
                "Service given on %(date)s: %(service)s, %(quantity)s",
                date=format_date(line.delivered_on),
                service=line.service,
                quantity=line.quantity,
            ),
            "",
            "service",
            line.note,
        )
        for line in service_lists.service_lines(
            db=db, settings=settings, case=case, with_notes=with_notes
        )
    ]
