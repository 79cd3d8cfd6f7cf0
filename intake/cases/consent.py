"""The one place that decides: "may this case be shared with X for purpose P?"

Every path that lets something leave a case's organisation (an overlap notice, a
referral, a transfer, a partner's view, a safe-return summary) asks `may_share`.
None reads consent answers itself. The answer comes from the case's LATEST
consent filling: filling the consent form again updates or withdraws consent,
and the next question asked gets the new answer, so withdrawal stops sharing at
once.

Deny by default: only a recorded, readable "yes" opens the way. A missing
consent, a missing answer, a sealed value or an unknown kind of recipient is a
refusal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation
from intake.cases.models import Case
from intake.filling.models import Submission
from intake.i18n import gettext as _

CONSENT_FORM = "consent"


class Purpose(StrEnum):
    """What the person may agree to, statement by statement (forms/consent.yaml)."""

    SERVICES = "services"  # this organisation records and assists
    SHARING = "sharing"  # information shared with the kinds of recipient chosen
    REFERRAL = "referral"  # referred to another organisation for a service
    RETURN = "return"  # helped to return to the home country


PURPOSES = frozenset(p.value for p in Purpose)

# The kinds of recipient the consent form lets the person choose (`sharing_with`).
RECIPIENT_KINDS = ("ngos", "health", "shelters", "legal", "social_services", "police")

# Which kind of recipient an organisation on the installation is, by its kind.
# An organisation whose kind maps to nothing ("other") is never a permitted recipient.
_RECIPIENT_OF_ORGANISATION = {
    "ngo": "ngos",
    "municipality": "social_services",
    "shelter": "shelters",
    "health": "health",
    "legal": "legal",
    "police": "police",
}


def recipient_kind_of(organisation: Organisation) -> str | None:
    """The consent form's kind of recipient this organisation is, or None."""
    return _RECIPIENT_OF_ORGANISATION.get(organisation.kind)


@dataclass(frozen=True)
class Decision:
    """The answer, and a sentence for the person when it is no. Truthy when allowed."""

    allowed: bool
    purpose: str
    reason: str = ""
    consent_id: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


def consent_fillings(*, db: Session, case: Case) -> list[Submission]:
    """The case's consent fillings, oldest first (each later one replaces the one before)."""
    return list(
        db.execute(
            select(Submission)
            .where(Submission.case_id == case.id, Submission.form_key == CONSENT_FORM)
            .order_by(Submission.submitted_at, Submission.id)
        ).scalars()
    )


def latest_consent(*, db: Session, case: Case) -> Submission | None:
    """The consent that speaks for the person now."""
    return db.execute(
        select(Submission)
        .where(Submission.case_id == case.id, Submission.form_key == CONSENT_FORM)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _answers(submission: Submission | None) -> Mapping[str, Any]:
    if submission is None or not isinstance(submission.answers, dict):
        return {}
    return submission.answers


def _kinds(answers: Mapping[str, Any]) -> frozenset[str]:
    chosen = answers.get("sharing_with")
    if answers.get("consent_sharing") is not True or not isinstance(chosen, list):
        return frozenset()
    return frozenset(k for k in chosen if isinstance(k, str) and k in RECIPIENT_KINDS)


def allows(answers: Mapping[str, Any], purpose: str, recipient_kind: str | None) -> bool:
    """Whether these consent answers allow `purpose` (for `recipient_kind` where it matters).

    Pure, so the rule is one expression per purpose; a person who refused
    services has withdrawn everything.
    """
    if answers.get("consent_services") is not True:
        return False
    if purpose == Purpose.SERVICES:
        return True
    if purpose == Purpose.SHARING:
        return recipient_kind is not None and recipient_kind in _kinds(answers)
    if purpose == Purpose.REFERRAL:
        return answers.get("consent_referral") is True
    if purpose == Purpose.RETURN:
        return answers.get("consent_return") == "yes"
    return False


def missing_consent_reason(purpose: str) -> str:
    """What a refusal says: which consent is missing."""
    reasons: dict[str, str] = {
        Purpose.SERVICES: _("Needs the person's consent to assistance"),
        Purpose.SHARING: _("Needs the person's consent to share with this kind of organisation"),
        Purpose.REFERRAL: _("Needs the person's consent to referral"),
        Purpose.RETURN: _("Needs the person's consent to return"),
    }
    return reasons.get(purpose, _("Needs the person's consent"))


def may_share(
    *, db: Session, case: Case, purpose: str, recipient_kind: str | None = None
) -> Decision:
    """May this case be shared for `purpose` with a recipient of `recipient_kind`?"""
    latest = latest_consent(db=db, case=case)
    allowed = allows(_answers(latest), purpose, recipient_kind)
    return Decision(
        allowed=allowed,
        purpose=purpose,
        reason="" if allowed else missing_consent_reason(purpose),
        consent_id=latest.id if latest else None,
    )


def may_share_with(
    *, db: Session, case: Case, purpose: str, organisation: Organisation
) -> Decision:
    """may_share for a recipient organisation of this installation (its own is always allowed)."""
    if organisation.id == case.organisation_id:
        return Decision(allowed=True, purpose=purpose)
    return may_share(
        db=db, case=case, purpose=purpose, recipient_kind=recipient_kind_of(organisation)
    )


def consented_purposes(*, db: Session, case: Case) -> frozenset[str]:
    """The purposes (beyond sharing's kinds) the latest consent allows, for workflow guards."""
    answers = _answers(latest_consent(db=db, case=case))
    found = {p.value for p in Purpose if p != Purpose.SHARING and allows(answers, p, None)}
    if _kinds(answers) and allows(answers, Purpose.SERVICES, None):
        found.add(Purpose.SHARING.value)
    return frozenset(found)


# --- what the case page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class ConsentSummary:
    """The person's consent as the case page shows it."""

    recorded_on: dt.date | None
    purposes: frozenset[str]
    recipient_kinds: frozenset[str]
    # The date of the filling that took back something an earlier one allowed.
    withdrawn_on: dt.date | None
    withdrawn: frozenset[str]

    def allowed_labels(self) -> list[str]:
        """What the person agreed to, in the reader's language."""
        order = [p.value for p in Purpose]
        return [purpose_label(p) for p in sorted(self.purposes, key=order.index)]

    def recipient_labels(self) -> list[str]:
        """The kinds of organisation information may be shared with."""
        return [recipient_label(k) for k in RECIPIENT_KINDS if k in self.recipient_kinds]

    def withdrawn_labels(self) -> list[str]:
        """What a later consent took back."""
        labels = []
        for key in sorted(self.withdrawn):
            purpose, _sep, kind = key.partition(":")
            label = purpose_label(purpose)
            labels.append(f"{label} ({recipient_label(kind)})" if kind else label)
        return labels


def _given_on(submission: Submission) -> dt.date:
    stated = _answers(submission).get("consent_date")
    if isinstance(stated, str):
        try:
            return dt.date.fromisoformat(stated)
        except ValueError:
            pass
    return submission.submitted_at.date()


def _granted(answers: Mapping[str, Any]) -> set[str]:
    granted = {p.value for p in Purpose if p != Purpose.SHARING and allows(answers, p, None)}
    granted |= {f"sharing:{kind}" for kind in RECIPIENT_KINDS if allows(answers, "sharing", kind)}
    return granted


def summary(*, db: Session, case: Case) -> ConsentSummary | None:
    """The latest consent, and what it withdrew compared with the ones before; None if none."""
    fillings = consent_fillings(db=db, case=case)
    if not fillings:
        return None
    latest = fillings[-1]
    answers = _answers(latest)
    earlier: set[str] = set()
    for filling in fillings[:-1]:
        earlier |= _granted(_answers(filling))
    withdrawn = frozenset(earlier - _granted(answers))
    return ConsentSummary(
        recorded_on=_given_on(latest),
        purposes=consented_purposes(db=db, case=case),
        recipient_kinds=_kinds(answers) if allows(answers, Purpose.SERVICES, None) else frozenset(),
        withdrawn_on=_given_on(latest) if withdrawn else None,
        withdrawn=withdrawn,
    )


def purpose_label(purpose: str) -> str:
    """A purpose's name in the reader's language."""
    labels: dict[str, str] = {
        Purpose.SERVICES: _("assistance by this organisation"),
        Purpose.SHARING: _("sharing with other organisations"),
        Purpose.REFERRAL: _("referral to another organisation"),
        Purpose.RETURN: _("help to return home"),
    }
    return labels.get(purpose, purpose)


def recipient_label(kind: str) -> str:
    """A kind of recipient's name in the reader's language."""
    labels = {
        "ngos": _("organisations assisting victims of trafficking"),
        "health": _("health services"),
        "shelters": _("shelters and housing services"),
        "legal": _("lawyers and legal aid"),
        "social_services": _("municipal social services"),
        "police": _("police and prosecutors"),
    }
    return labels.get(kind, kind)
