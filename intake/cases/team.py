"""A case's team: who is on it, who may join it, assigning and removing people.

Every change reads the case again through intake.cases.access, leaves a history
row and an audit row; a refused change leaves an audit row and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.access import get_visible_case
from intake.cases.models import Case, CaseTeamMember
from intake.cases.rules import CaseError, NotPermitted, record_case_event, refuse
from intake.db import utcnow
from intake.i18n import gettext as _
from intake.security.permissions import Permission, has_permission, roles_with
from intake.workflow.compiled import Workflow
from intake.workflow.schema import TEAM_FUNCTIONS

# Who may be put on a team: the roles that work on cases.
TEAM_ROLES = roles_with(Permission.CASES_VIEW)


class TeamError(CaseError):
    """A team assignment or removal that cannot be made."""


@dataclass(frozen=True)
class TeamMember:
    """An active team assignment with the person's name, for pages."""

    id: str
    user_id: str
    display_name: str
    function: str


def is_on_team(*, db: Session, case: Case, user: User) -> bool:
    """Whether `user` holds any function on the case's team now."""
    found = db.execute(
        select(CaseTeamMember.id)
        .where(
            CaseTeamMember.case_id == case.id,
            CaseTeamMember.user_id == user.id,
            CaseTeamMember.removed_at.is_(None),
        )
        .limit(1)
    ).first()
    return found is not None


def active_team(*, db: Session, case: Case) -> list[TeamMember]:
    """Who is on the case's team now, by function then name."""
    rows = db.execute(
        select(CaseTeamMember, User.display_name)
        .join(User, User.id == CaseTeamMember.user_id)
        .where(CaseTeamMember.case_id == case.id, CaseTeamMember.removed_at.is_(None))
        .order_by(CaseTeamMember.function, User.display_name)
    ).all()
    return [
        TeamMember(id=m.id, user_id=m.user_id, display_name=name, function=m.function)
        for m, name in rows
    ]


def team_candidates(*, db: Session, case: Case) -> list[User]:
    """The active people of the case's organisation who may be put on its team."""
    return list(
        db.execute(
            select(User)
            .where(
                User.organisation_id == case.organisation_id,
                User.active.is_(True),
                User.role.in_(sorted(TEAM_ROLES)),
            )
            .order_by(User.display_name)
        ).scalars()
    )


def assign_team_member(
    *, db: Session, actor: User, case: Case, user_id: str, function: str
) -> CaseTeamMember:
    """Put a person of the case's organisation on its team in `function`, and commit."""
    found = assign_team_members(
        db=db, actor=actor, case=case, functions=[function], user_ids=[user_id]
    )
    return found[0]


def assign_team_members(
    *,
    db: Session,
    actor: User,
    case: Case,
    functions: Sequence[str],
    user_ids: Sequence[str],
) -> list[CaseTeamMember]:
    """Put people on the case's team, `user_ids[i]` in `functions[i]`: all of them or none.

    A function with no person chosen ("") is skipped; no person chosen at all, or a
    pick that cannot be made, is refused with a message and changes nothing (one
    audited refusal).
    """
    actor_id, case_id = actor.id, case.id
    if not has_permission(actor, Permission.TEAM_ASSIGN):
        raise NotPermitted
    case = get_visible_case(db=db, user=actor, case_id=case_id)
    chosen = [(f, u) for f, u in zip(functions, user_ids, strict=False) if u]
    if len(functions) != len(user_ids) or len(functions) > len(TEAM_FUNCTIONS):
        chosen = [("", "")]  # rows we did not make: refused as an unknown function
    problem = _picks_problem(db=db, case=case, picks=chosen)
    if problem is not None:
        code, message = problem
        refuse(db=db, actor_id=actor_id, case_id=case_id, action="case.team_assigned", code=code)
        raise TeamError(message)
    now = utcnow()
    members = []
    for function, user_id in chosen:
        member = CaseTeamMember(
            case_id=case_id,
            user_id=user_id,
            function=function,
            assigned_at=now,
            assigned_by_id=actor_id,
        )
        db.add(member)
        members.append(member)
        case.last_activity_at = now
        record_case_event(
            db=db,
            case=case,
            actor=actor,
            action="case.team_assigned",
            detail=f"function={function} member={member.id}",
            at=now,
            kind="team_assigned",
            history={"subject_user_id": user_id, "team_function": function},
            commit=False,
        )
    db.commit()
    return members


def _picks_problem(
    *, db: Session, case: Case, picks: Sequence[tuple[str, str]]
) -> tuple[str, str] | None:
    if not picks:
        return "nobody_chosen", _("Choose a person for at least one function.")
    if len(set(picks)) != len(picks):
        return "already_assigned", _("This person already has this function on the team.")
    for function, user_id in picks:
        problem = _assignment_problem(db=db, case=case, user_id=user_id, function=function)
        if problem is not None:
            return problem
    return None


def _assignment_problem(
    *, db: Session, case: Case, user_id: str, function: str
) -> tuple[str, str] | None:
    if case.closed_at is not None:
        return "closed", _("This case is closed.")
    if function not in TEAM_FUNCTIONS:
        return "unknown_function", _("Choose a function from the list.")
    person = db.get(User, user_id[:32]) if user_id else None
    if (
        person is None
        or person.organisation_id != case.organisation_id
        or not person.active
        or person.role not in TEAM_ROLES
    ):
        # The same words for an unknown id and for someone of another organisation.
        return "unknown_person", _("Choose a colleague of your organisation from the list.")
    already = db.execute(
        select(CaseTeamMember.id).where(
            CaseTeamMember.case_id == case.id,
            CaseTeamMember.user_id == user_id,
            CaseTeamMember.function == function,
            CaseTeamMember.removed_at.is_(None),
        )
    ).first()
    if already is not None:
        return "already_assigned", _("This person already has this function on the team.")
    return None


def missing_functions(*, workflow: Workflow, state: str, team: Sequence[TeamMember]) -> list[str]:
    """The team functions this stage still needs: its own team, then what its steps
    forward require, in the track's order, less the functions someone holds now."""
    held = {member.function for member in team}
    wanted = list(workflow.states[state].team)
    for transition in workflow.transitions:
        if state in transition.sources:
            wanted += [f for f in transition.requires_team if f not in wanted]
    return [f for f in wanted if f not in held and f in TEAM_FUNCTIONS]


def remove_team_member(*, db: Session, actor: User, case: Case, member_id: str) -> None:
    """Take an assignment off the case's team (the row is kept, marked removed), and commit."""
    actor_id, case_id = actor.id, case.id
    if not has_permission(actor, Permission.TEAM_ASSIGN):
        raise NotPermitted
    case = get_visible_case(db=db, user=actor, case_id=case_id)
    member = db.execute(
        select(CaseTeamMember).where(
            CaseTeamMember.id == member_id[:32],
            CaseTeamMember.case_id == case_id,
            CaseTeamMember.removed_at.is_(None),
        )
    ).scalar_one_or_none()
    if member is None:
        refuse(
            db=db, actor_id=actor_id, case_id=case_id, action="case.team_removed", code="unknown"
        )
        raise TeamError(_("This person is no longer on the team."))
    now = utcnow()
    member.removed_at = now
    case.last_activity_at = now
    record_case_event(
        db=db,
        case=case,
        actor=actor,
        action="case.team_removed",
        detail=f"function={member.function} member={member.id}",
        at=now,
        kind="team_removed",
        history={"subject_user_id": member.user_id, "team_function": member.function},
    )
