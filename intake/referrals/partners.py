"""Partner team members: a named user of another organisation on a case's team, for one function.

A supervisor of the case's organisation invites the person (the consent must allow sharing
with that kind of organisation); a supervisor of the person's organisation approves or
declines. On approval the person also holds a row of the case's team (intake.cases.team),
so the stage's "needed here" and the workflow's team guards count them, and taking them
off the team there ends their access as well. `visible_membership` is asked at every read:
access runs only while the membership is approved, its team row is active, the case is open
and the person's latest consent still allows sharing with that kind of organisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit import service as audit
from intake.cases import consent
from intake.cases.access import get_visible_case
from intake.cases.models import Case, CaseTeamMember
from intake.cases.rules import NotPermitted, function_label
from intake.db import read_transaction, utcnow
from intake.i18n import gettext as _
from intake.referrals.common import (
    AlreadyAnswered,
    answered_once,
    insert_audited,
    refuse,
    refused,
    valid_id,
)
from intake.referrals.making import target_problem
from intake.referrals.models import PartnerMember
from intake.security.permissions import Permission, has_permission
from intake.workflow.schema import TEAM_FUNCTIONS

INVITED, APPROVED, DECLINED, REMOVED = "invited", "approved", "declined", "removed"
MAX_USERNAME = 150


class InvitationAnswered(AlreadyAnswered):
    """Someone else answered (or ended) the invitation first."""

    def __init__(self) -> None:
        super().__init__(_("This invitation was already answered. Reload to see the answer."))


class MemberNotFound(LookupError):
    """No partner membership with this id that this user may act on (never say which)."""


def status_label(status: str) -> str:
    """A membership's status in the reader's language."""
    labels = {
        INVITED: _("Waiting for approval"),
        APPROVED: _("On the team"),
        DECLINED: _("Declined"),
        REMOVED: _("Removed"),
    }
    return labels.get(status, status)


def _sharing_allowed(db: Session, case: Case, organisation: Organisation) -> bool:
    return bool(
        consent.may_share(
            db=db,
            case=case,
            purpose=consent.Purpose.SHARING,
            recipient_kind=consent.recipient_kind_of(organisation),
        )
    )


def _invitee(db: Session, organisation: Organisation, username: str) -> User | None:
    """The active user of `organisation` with this user name who works on cases, else None."""
    if not username or len(username) > MAX_USERNAME or "\x00" in username:
        return None
    found = db.execute(
        select(User).where(
            User.organisation_id == organisation.id,
            User.username == username,
            User.active.is_(True),
        )
    ).scalar_one_or_none()
    return found if found is not None and has_permission(found, Permission.CASES_VIEW) else None


def _invite_problem(
    db: Session,
    actor: User,
    case: Case,
    organisation: Organisation | None,
    organisation_id: str,
    function: str,
) -> tuple[str, str] | None:
    """Why no invitation can be made to this organisation at all (or None).

    Only what the inviter may know is checked here: never whether a user name exists."""
    problem = target_problem(
        case=case, actor=actor, target=organisation, target_id=organisation_id, verb="partner"
    )
    if problem is None and function not in TEAM_FUNCTIONS:
        problem = ("function", _("Choose the function the person will have on the team."))
    if (
        problem is None
        and organisation is not None
        and not _sharing_allowed(db, case, organisation)
    ):
        problem = ("consent", consent.missing_consent_reason(consent.Purpose.SHARING))
    return problem


def _new_member(actor: User, case: Case, invitee: User, function: str) -> PartnerMember:
    return PartnerMember(
        case_id=case.id,
        user_id=invitee.id,
        organisation_id=invitee.organisation_id,
        function=function,
        open_key=f"{case.id}:{invitee.id}",
        status=INVITED,
        invited_by_id=actor.id,
        invited_at=utcnow(),
    )


def invite(
    *,
    db: Session,
    actor: User,
    case_id: str,
    organisation_id: str,
    username: str,
    function: str,
) -> PartnerMember | None:
    """Invite a named user of another organisation onto the case's team for `function`.

    The answer never tells whether the user name exists there: an unknown, ineligible or
    already invited name stores nothing, is audited, and returns None like a success looks."""
    action = "partner.invited"
    if not has_permission(actor, Permission.PARTNERS_MANAGE):
        raise NotPermitted
    username = username.strip()
    with read_transaction(db):
        case = get_visible_case(db=db, user=actor, case_id=case_id)
        organisation = db.get(Organisation, organisation_id) if valid_id(organisation_id) else None
        problem = _invite_problem(db, actor, case, organisation, organisation_id, function)
        invitee = _invitee(db, organisation, username) if organisation and not problem else None
    if problem is not None or organisation is None:
        code, message = problem or ("organisation", "")
        raise refused(
            db,
            actor=actor,
            object_type="case",
            object_id=case_id,
            action=action,
            code=code,
            message=message,
        )
    if invitee is None:
        refuse(db, actor=actor, object_type="case", object_id=case_id, action=action, code="person")
        return None
    member = _new_member(actor, case, invitee, function)
    try:
        insert_audited(
            db,
            row=member,
            actor=actor,
            action=action,
            case_id=case.id,
            detail=lambda: f"member={member.id} user={invitee.id} function={function}",
        )
    except IntegrityError:
        refuse(
            db, actor=actor, object_type="case", object_id=case_id, action=action, code="duplicate"
        )
        return None
    return member


def _member(db: Session, member_id: str) -> PartnerMember:
    member = db.get(PartnerMember, member_id) if valid_id(member_id) else None
    if member is None:
        raise MemberNotFound
    return member


def _team_row(db: Session, member: PartnerMember, add: bool | None, now: dt.datetime) -> None:
    """Add (True) or end (False) the member's row of the case's team; None leaves it."""
    if add is True:
        db.add(
            CaseTeamMember(
                case_id=member.case_id,
                user_id=member.user_id,
                function=member.function,
                assigned_at=now,
                assigned_by_id=member.invited_by_id,
            )
        )
    elif add is False:
        db.execute(
            update(CaseTeamMember)
            .where(
                CaseTeamMember.case_id == member.case_id,
                CaseTeamMember.user_id == member.user_id,
                CaseTeamMember.removed_at.is_(None),
            )
            .values(removed_at=now)
        )


def _change(
    db: Session,
    actor: User,
    member: PartnerMember,
    action: str,
    before: tuple[str, ...],
    values: Mapping[str, object],
    team_row: bool | None,
    now: dt.datetime,
) -> PartnerMember:
    """One conditional status change from `before` (a loser of a race gets AlreadyAnswered,
    audited), with the team row added (True) or ended (False) in the same transaction."""
    with answered_once(
        db, actor=actor, object_type="case", object_id=member.case_id, action=action
    ):
        result = db.execute(
            update(PartnerMember)
            .where(PartnerMember.id == member.id, PartnerMember.status.in_(before))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise InvitationAnswered
        _team_row(db, member, team_row, now)
        audit.record(
            db=db,
            action=action,
            actor_id=actor.id,
            object_type="case",
            object_id=member.case_id,
            detail=f"member={member.id}",
        )
    db.refresh(member)
    return member


def answer(*, db: Session, actor: User, member_id: str, approve: bool) -> PartnerMember:
    """Approve or decline, for the invited person's organisation (its supervisors)."""
    if not has_permission(actor, Permission.PARTNERS_MANAGE):
        raise NotPermitted
    with read_transaction(db):
        member = _member(db, member_id)
        if member.organisation_id != actor.organisation_id:
            raise MemberNotFound
    now = utcnow()
    answered = {"answered_by_id": actor.id, "answered_at": now}
    if approve:
        values = {"status": APPROVED, **answered}
        return _change(db, actor, member, "partner.approved", (INVITED,), values, True, now)
    values = {"status": DECLINED, "open_key": None, "ended_at": now, **answered}
    return _change(db, actor, member, "partner.declined", (INVITED,), values, None, now)


def remove(*, db: Session, actor: User, member_id: str) -> PartnerMember:
    """End a partner's membership, for the case's organisation (its supervisors)."""
    if not has_permission(actor, Permission.PARTNERS_MANAGE):
        raise NotPermitted
    with read_transaction(db):
        member = _member(db, member_id)
        get_visible_case(db=db, user=actor, case_id=member.case_id)
    now = utcnow()
    values = {"status": REMOVED, "open_key": None, "ended_at": now}
    return _change(db, actor, member, "partner.removed", (INVITED, APPROVED), values, False, now)


def visible_membership(*, db: Session, user: User, case_id: str) -> tuple[PartnerMember, Case]:
    """The user's running partner membership of a case, and the case; else MemberNotFound.

    Asked at every read: approved, its team row active, the case open and still of another
    organisation, and the latest consent allowing sharing with the user's kind."""
    if not user.active or not valid_id(case_id) or not has_permission(user, Permission.CASES_VIEW):
        raise MemberNotFound
    member = db.execute(
        select(PartnerMember).where(
            PartnerMember.case_id == case_id,
            PartnerMember.user_id == user.id,
            PartnerMember.status == APPROVED,
            PartnerMember.organisation_id == user.organisation_id,
        )
    ).scalar_one_or_none()
    case = db.get(Case, case_id) if member is not None else None
    organisation = db.get(Organisation, user.organisation_id)
    on_team = db.execute(
        select(CaseTeamMember.id).where(
            CaseTeamMember.case_id == case_id,
            CaseTeamMember.user_id == user.id,
            CaseTeamMember.removed_at.is_(None),
        )
    ).first()
    if (
        member is None
        or case is None
        or organisation is None
        or on_team is None
        or case.closed_at is not None
        or case.organisation_id == user.organisation_id
        or not _sharing_allowed(db, case, organisation)
    ):
        raise MemberNotFound
    return member, case


def members_of(*, db: Session, case: Case) -> list[tuple[PartnerMember, str, str]]:
    """The case's approved (or approved, then removed) partners, newest first, with names.

    An invitation their organisation has not approved is not shown: it would tell the
    inviter that the user name exists there."""
    rows = db.execute(
        select(PartnerMember, User.display_name, Organisation.name)
        .join(User, User.id == PartnerMember.user_id)
        .join(Organisation, Organisation.id == PartnerMember.organisation_id)
        .where(
            PartnerMember.case_id == case.id,
            PartnerMember.status.in_((APPROVED, REMOVED)),
            PartnerMember.answered_at.is_not(None),
        )
        .order_by(PartnerMember.invited_at.desc(), PartnerMember.id)
    ).all()
    return [(m, name, org) for m, name, org in rows]


def invitations(*, db: Session, user: User) -> list[tuple[PartnerMember, str, str]]:
    """Invitations of the user's organisation's people (for its supervisors), waiting first."""
    if not has_permission(user, Permission.PARTNERS_MANAGE) or not user.active:
        return []
    rows = db.execute(
        select(PartnerMember, User.display_name, Organisation.name)
        .join(User, User.id == PartnerMember.user_id)
        .join(Organisation, Organisation.id == PartnerMember.organisation_id)
        .where(PartnerMember.organisation_id == user.organisation_id)
        .order_by((PartnerMember.status == INVITED).desc(), PartnerMember.invited_at.desc())
        .limit(500)
    ).all()
    return [(m, name, org) for m, name, org in rows]


def functions() -> list[tuple[str, str]]:
    """The team functions and their names, for the invitation form."""
    return sorted(((f, function_label(f)) for f in TEAM_FUNCTIONS), key=lambda pair: pair[1])
