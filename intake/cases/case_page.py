"""The case page's view models: one typed section per part of the page (cases/_*.html).

Each section is built on its own from the case and the reader, so a page, or one
section of it, is the sum of the sections it shows; the templates read the
sections' fields by name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import answers, rules, service, stages, team
from intake.cases import notes as case_notes
from intake.cases import overlaps as overlap
from intake.cases.consent import ConsentSummary
from intake.cases.consent import summary as consent_summary
from intake.cases.models import Case
from intake.cases.rules import function_label, label_in
from intake.cases.timeline import Entry, timeline
from intake.config import Settings
from intake.definitions import service as definitions
from intake.filling.drafts import new_client_id
from intake.filling.models import Submission
from intake.i18n import gettext as _
from intake.security.permissions import Permission, has_permission
from intake.workflow.compiled import Workflow
from intake.workflow.schema import TEAM_FUNCTIONS


@dataclass(frozen=True)
class StageSection:
    """Where the case is (cases/_stage.html), with the open cases that may be this person."""

    track_title: str
    stage_label: str
    days_in_stage: int
    sla_days: int | None
    overdue: bool
    overlaps: list[overlap.Overlap]


@dataclass(frozen=True)
class StageForm:
    """A form of the case's stage; its client id is made with the page (one filling per tap)."""

    key: str
    title: str
    submitted: Submission | None
    client_id: str


@dataclass(frozen=True)
class FormsSection:
    """The forms of this stage (cases/_stage_forms.html)."""

    stage_forms: list[StageForm]
    can_fill: bool


@dataclass(frozen=True)
class Reason:
    """Why an action cannot be taken yet, and where on the page to put it right ('' if nowhere)."""

    text: str
    href: str = ""
    link_text: str = ""


@dataclass(frozen=True)
class Action:
    """A transition the reader's role may fire, ready or with what blocks it."""

    trigger: str
    label: str
    requires_reason: bool
    ready: bool
    reasons: Sequence[Reason]


@dataclass(frozen=True)
class TrackOption:
    """Another track a case may move to, with its stages as (name, label)."""

    id: str
    title: str
    stages: list[tuple[str, str]]


@dataclass(frozen=True)
class ActionsSection:
    """What the reader can do now (cases/_actions.html) and the tracks (cases/_track.html).

    `next_step` is the track's way forward, the page's one solid button: the first
    step that is ready, else the first one with its reasons. `other_steps` are the
    other ways forward; `exceptional` are the actions that ask for a reason (lost
    contact, closing early), kept folded away with the track change.
    """

    next_step: Action | None
    other_steps: list[Action]
    exceptional: list[Action]
    tracks: list[TrackOption]


@dataclass(frozen=True)
class TeamSection:
    """The team and who may be added to it (cases/_team.html)."""

    team: list[team.TeamMember]
    can_assign: bool
    candidates: list[User]
    functions: list[str]
    missing_functions: list[str]


@dataclass(frozen=True)
class ConsentSection:
    """The latest consent (cases/_consent.html)."""

    consent: ConsentSummary | None
    consent_client_id: str


@dataclass(frozen=True)
class RecordSection:
    """Answers, notes and the timeline (cases/_answers, _notes, _timeline), need to know."""

    need_to_know: bool
    can_note: bool
    filled: list[answers.FilledForm]
    timeline: list[Entry]


def stage_section(
    *, db: Session, case: Case, user: User, workflow: Workflow, now: dt.datetime
) -> StageSection:
    """Where the case is and for how long, in the reader's language."""
    state = workflow.states[case.state]
    return StageSection(
        track_title=label_in(workflow.title, workflow.languages),
        stage_label=label_in(state.label, workflow.languages),
        days_in_stage=rules.days_in_stage(entered_at=case.state_entered_at, now=now),
        sla_days=state.sla_days,
        overdue=rules.is_overdue(
            entered_at=case.state_entered_at,
            sla_days=state.sla_days,
            closed=case.closed_at is not None,
            now=now,
        ),
        overlaps=overlap.overlaps_of(db=db, case=case, asker=user),
    )


def forms_section(*, db: Session, case: Case, user: User, workflow: Workflow) -> FormsSection:
    """The forms of the case's stage, with the newest submission of each."""
    submitted = service.latest_submissions(db=db, case=case)
    forms = []
    for key in workflow.states[case.state].forms:
        version = definitions.latest(db=db, kind="form", key=key)
        form = definitions.compiled_form(version) if version else None
        title = label_in(form.title, form.languages) if form else key
        forms.append(StageForm(key, title, submitted.get(key), new_client_id()))
    can_fill = has_permission(user, Permission.CASES_CREATE) and case.closed_at is None
    return FormsSection(stage_forms=forms, can_fill=can_fill)


def actions_section(
    *, db: Session, case: Case, user: User, workflow: Workflow, today: dt.date
) -> ActionsSection:
    """The next step of the track first, the exceptional actions apart, and the tracks."""
    form_keys = set(workflow.states[case.state].forms)
    actions = [
        Action(
            trigger=a.action.trigger,
            label=label_in(a.action.label, workflow.languages),
            requires_reason=a.action.requires_reason,
            ready=a.action.ready,
            reasons=_reasons(a, form_keys),
        )
        for a in stages.actions_for(db=db, case=case, user=user, today=today)
    ]
    forward = [a for a in actions if not a.requires_reason]
    next_step = next((a for a in forward if a.ready), forward[0] if forward else None)
    return ActionsSection(
        next_step=next_step,
        other_steps=[a for a in forward if a is not next_step],
        exceptional=[a for a in actions if a.requires_reason],
        tracks=_tracks(db=db, case=case, user=user),
    )


def _reasons(found: stages.ActionView, form_keys: set[str]) -> list[Reason]:
    """Each blocker's sentence, with a link to the form to fill or the team to complete."""
    blockers = [b for b in found.action.blockers if b.code != "reason_required"]
    reasons = []
    for index, text in enumerate(found.reasons):
        blocker = blockers[index] if index < len(blockers) else None
        subject = getattr(blocker, "subject", None) or ""
        own_href = getattr(text, "href", None)  # a blocked reason that knows its form
        if own_href:
            link = getattr(text, "link_text", "") or _("Fill in the form")
            reasons.append(Reason(str(text), own_href, link))
        elif blocker is not None and subject in form_keys:
            reasons.append(Reason(str(text), f"#stage-form-{subject}", _("Fill in the form")))
        elif blocker is not None and blocker.code == "missing_team":
            reasons.append(Reason(str(text), "#team-heading", _("Add to the team")))
        else:
            reasons.append(Reason(str(text)))
    return reasons


def _tracks(*, db: Session, case: Case, user: User) -> list[TrackOption]:
    if not has_permission(user, Permission.CASES_ADVANCE) or case.closed_at is not None:
        return []
    return [
        TrackOption(
            id=wf.id,
            title=label_in(wf.title, wf.languages),
            stages=[
                (name, label_in(s.label, wf.languages))
                for name, s in wf.states.items()
                if not s.final
            ],
        )
        for _version, wf in definitions.current_workflows(db=db)
        if wf.id != case.track
    ]


def team_section(*, db: Session, case: Case, user: User, workflow: Workflow) -> TeamSection:
    """The team, and for a supervisor of an open case the people who may join it, with
    the functions this stage still needs first."""
    members = team.active_team(db=db, case=case)
    missing = team.missing_functions(workflow=workflow, state=case.state, team=members)
    return TeamSection(
        team=members,
        can_assign=has_permission(user, Permission.TEAM_ASSIGN) and case.closed_at is None,
        candidates=team.team_candidates(db=db, case=case),
        functions=missing + sorted(TEAM_FUNCTIONS - set(missing)),
        missing_functions=missing,
    )


def consent_section(*, db: Session, case: Case) -> ConsentSection:
    """The case's latest consent and a client id for filling a new one."""
    return ConsentSection(
        consent=consent_summary(db=db, case=case), consent_client_id=new_client_id()
    )


def record_section(*, db: Session, settings: Settings, case: Case, user: User) -> RecordSection:
    """The answers and the timeline, sensitive parts and notes only with need to know."""
    need_to_know = case_notes.may_read_sensitive(db=db, user=user, case=case)
    return RecordSection(
        need_to_know=need_to_know,
        can_note=need_to_know and case.closed_at is None,
        filled=answers.filled_forms(db=db, settings=settings, case=case, sensitive=need_to_know),
        timeline=timeline(db=db, settings=settings, case=case, with_notes=need_to_know),
    )


def page_context(
    *, db: Session, settings: Settings, case: Case, user: User, now: dt.datetime
) -> dict[str, Any]:
    """The whole page: every section's fields by name, for cases/case.html."""
    workflow = service.workflow_of(db=db, case=case)
    sections: list[Any] = [
        stage_section(db=db, case=case, user=user, workflow=workflow, now=now),
        forms_section(db=db, case=case, user=user, workflow=workflow),
        actions_section(db=db, case=case, user=user, workflow=workflow, today=now.date()),
        team_section(db=db, case=case, user=user, workflow=workflow),
        consent_section(db=db, case=case),
        record_section(db=db, settings=settings, case=case, user=user),
    ]
    context: dict[str, Any] = {"case": case, "function_label": function_label}
    for section in sections:
        # Shallow, field by field: the rows in a section stay the session's rows.
        context.update({f.name: getattr(section, f.name) for f in dataclasses.fields(section)})
    return context
