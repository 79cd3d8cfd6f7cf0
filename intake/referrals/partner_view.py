"""What a partner team member sees of a case, and the notes addressed to the whole team.

Only the case reference, the stage, the forms the workflow lists for the stages the
partner's function is needed in (the stage's `team:`), and the team notes; never the
case's own notes, other forms, the person's other answers or other cases. Every view is
audited. Access is asked of intake.referrals.partners.visible_membership each time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit import service as audit
from intake.cases import service as cases
from intake.cases.access import CaseNotFound, get_visible_case
from intake.cases.answers import Answer
from intake.cases.labels import state_label
from intake.cases.labels import workflow_of_version as workflow_of
from intake.cases.models import Case
from intake.cases.notes import may_read_sensitive
from intake.cases.rules import NotPermitted, function_label, reader_language
from intake.config import Settings
from intake.db import new_id, read_transaction, utcnow, write_transaction
from intake.forms.storage import keyring_for, unseal
from intake.i18n import gettext as _
from intake.referrals.common import ReferralError, form_of, refuse
from intake.referrals.models import PartnerMember, TeamNote
from intake.referrals.partners import APPROVED, MemberNotFound, visible_membership
from intake.referrals.sharing import readable_answers
from intake.security.field_crypto import FieldCryptoError, decrypt_value, encrypt_value

MAX_TEAM_NOTE = 5000


@dataclass(frozen=True)
class SeenForm:
    title: str
    submitted_at: dt.datetime
    answers: list[Answer]


@dataclass(frozen=True)
class TeamNoteView:
    at: dt.datetime
    author: str
    organisation: str
    text: str


@dataclass(frozen=True)
class PartnerPage:
    case_id: str
    reference: str
    stage: str
    function: str
    forms: list[SeenForm]
    notes: list[TeamNoteView]


def forms_for_function(*, db: Session, case: Case, function: str) -> list[str]:
    """The forms the case's workflow lists for the stages `function` is needed in."""
    workflow = workflow_of(db, case.workflow_version_id)
    if workflow is None:
        return []
    keys: list[str] = []
    for state in workflow.states.values():
        if function in state.team:
            keys += [k for k in state.forms if k not in keys]
    return keys


def _seen_forms(db: Session, settings: Settings, case: Case, function: str) -> list[SeenForm]:
    wanted = forms_for_function(db=db, case=case, function=function)
    latest = cases.latest_submissions(db=db, case=case)
    seen = []
    for key in wanted:
        submission = latest.get(key)
        form = form_of(db, submission.form_version_id) if submission else None
        if submission is None or form is None:
            continue
        stored = submission.answers if isinstance(submission.answers, dict) else {}
        plain = unseal(
            settings=settings, form=form, stored=stored, row=f"submission:{submission.id}"
        )
        answers, _withheld = readable_answers(form, plain, frozenset())
        seen.append(
            SeenForm(
                form.text(form.title, reader_language(form.languages)),
                submission.submitted_at,
                answers,
            )
        )
    return seen


def team_notes(*, db: Session, settings: Settings, case_id: str) -> list[TeamNoteView]:
    """The notes addressed to the case's team, oldest first, in the clear."""
    rows = db.execute(
        select(TeamNote, User.display_name, Organisation.name)
        .join(User, User.id == TeamNote.author_id)
        .join(Organisation, Organisation.id == TeamNote.organisation_id)
        .where(TeamNote.case_id == case_id)
        .order_by(TeamNote.created_at, TeamNote.id)
    ).all()
    keyring = keyring_for(settings)
    found = []
    for note, author, organisation in rows:
        try:
            text = decrypt_value(
                keyring=keyring, token=note.sealed_text, context=f"team_note:{note.id}"
            )
        except FieldCryptoError:
            continue
        found.append(TeamNoteView(note.created_at, author, organisation, text))
    return found


def partner_page(*, db: Session, settings: Settings, user: User, case_id: str) -> PartnerPage:
    """The partner's view of a case (MemberNotFound when their access does not run); audited."""
    with read_transaction(db):
        member, case = visible_membership(db=db, user=user, case_id=case_id)
        page = PartnerPage(
            case_id=case.id,
            reference=case.reference,
            stage=state_label(workflow_of(db, case.workflow_version_id), case.state),
            function=function_label(member.function),
            forms=_seen_forms(db, settings, case, member.function),
            notes=team_notes(db=db, settings=settings, case_id=case.id),
        )
    with write_transaction(db):
        audit.record(
            db=db,
            action="partner.case_viewed",
            actor_id=user.id,
            object_type="case",
            object_id=case.id,
            detail=f"member={member.id} forms={len(page.forms)}",
        )
    return page


def partner_cases(*, db: Session, user: User) -> list[tuple[str, str, str]]:
    """(case id, reference, function label) of the cases the user is a running partner on."""
    ids = db.execute(
        select(PartnerMember.case_id).where(
            PartnerMember.user_id == user.id, PartnerMember.status == APPROVED
        )
    ).scalars()
    found = []
    for case_id in ids:
        try:
            member, case = visible_membership(db=db, user=user, case_id=case_id)
        except MemberNotFound:
            continue
        found.append((case.id, case.reference, function_label(member.function)))
    return found


class TeamNoteRefused(ReferralError):
    """A team note that cannot be added (nothing stored); `as_partner` says which page to
    show again: the partner's view or the case page."""

    def __init__(self, message: str, *, as_partner: bool) -> None:
        super().__init__(message)
        self.as_partner = as_partner


def _writer(db: Session, actor: User, case_id: str) -> str | None:
    """ "own" (the case's team or supervisors), "partner" (a running membership) or None."""
    try:
        case = get_visible_case(db=db, user=actor, case_id=case_id)
    except CaseNotFound:
        try:
            visible_membership(db=db, user=actor, case_id=case_id)
        except MemberNotFound:
            return None
        return "partner"
    if may_read_sensitive(db=db, user=actor, case=case) and case.closed_at is None:
        return "own"
    return None


def add_team_note(*, db: Session, settings: Settings, actor: User, case_id: str, text: str) -> str:
    """Seal and add a note for the whole team (its own people and its partners); the page
    to go back to."""
    action = "partner.team_note_added"
    text = text.strip()
    with read_transaction(db):
        writer = _writer(db, actor, case_id)
    if writer is None:
        raise NotPermitted
    if not text or len(text) > MAX_TEAM_NOTE:
        refuse(db, actor=actor, object_type="case", object_id=case_id, action=action, code="length")
        raise TeamNoteRefused(
            _("Write the note first (at most 5,000 characters)."), as_partner=writer == "partner"
        )
    note_id = new_id()
    note = TeamNote(
        id=note_id,
        case_id=case_id,
        author_id=actor.id,
        organisation_id=actor.organisation_id,
        created_at=utcnow(),
        sealed_text=encrypt_value(
            keyring=keyring_for(settings), value=text, context=f"team_note:{note_id}"
        ),
    )
    with write_transaction(db):
        db.add(note)
        audit.record(
            db=db,
            action=action,
            actor_id=actor.id,
            object_type="case",
            object_id=case_id,
            detail=f"note={note_id}",
        )
    if writer == "partner":
        return f"/partner/cases/{case_id}#team-notes"
    return f"/cases/{case_id}#team-notes"
