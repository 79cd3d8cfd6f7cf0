"""Need to know: the one place that decides which cases a user may see.

Every read of case data (a page, a list, a count, a search, a service acting on a
case) starts from `visible_cases`. A case outside it does not exist for that user:
another organisation's case and a made-up id give the same CaseNotFound, so a
404 never confirms that a case exists.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, exists, false, or_, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.models import Case, CaseTeamMember
from intake.cases.rules import refuse
from intake.security.permissions import Permission, has_permission

# Opaque ids are 32 hex characters; anything longer is refused before a query.
MAX_ID_LENGTH = 32


class CaseNotFound(LookupError):
    """No case with this id that this user may see (it may exist elsewhere: never say)."""


def visible_cases(*, user: User) -> Select[Case]:
    """The cases `user` may see, as a query to refine (filters, order, pagination)."""
    query = select(Case)
    if not user.active:
        return query.where(false())
    if has_permission(user, Permission.CASES_ORGANISATION):
        return query.where(Case.organisation_id == user.organisation_id)
    if has_permission(user, Permission.CASES_VIEW):
        on_team = exists().where(
            and_(
                CaseTeamMember.case_id == Case.id,
                CaseTeamMember.user_id == user.id,
                CaseTeamMember.removed_at.is_(None),
            )
        )
        # The organisation check stays even for team members: a team is always
        # of the case's organisation, and a bad row must not widen access.
        return query.where(
            Case.organisation_id == user.organisation_id,
            or_(Case.owner_id == user.id, on_team),
        )
    # Administrators run their organisation and see no case data; an unknown role sees nothing.
    return query.where(false())


def get_visible_case(*, db: Session, user: User, case_id: str, refresh: bool = False) -> Case:
    """The case if `user` may see it, else CaseNotFound; `refresh` re-reads a loaded row."""
    if not case_id or len(case_id) > MAX_ID_LENGTH or "\x00" in case_id:
        raise CaseNotFound
    query = visible_cases(user=user).where(Case.id == case_id)
    if refresh:
        query = query.execution_options(populate_existing=True)
    case = db.execute(query).scalar_one_or_none()
    if case is None:
        raise CaseNotFound
    return case


def record_unseen(*, db: Session, user: User, case_id: str, action: str) -> None:
    """Audit a request for a case `user` may not see (or that does not exist), and commit."""
    # Probing for cases leaves a trace.
    refuse(db=db, actor_id=user.id, case_id=case_id, action=action, code="not_found")
