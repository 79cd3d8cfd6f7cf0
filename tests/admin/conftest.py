"""Shipped definitions published, and open cases on a workflow version."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases.models import Case
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion

_references = itertools.count(1)


@pytest.fixture
def shipped(db: Session) -> None:
    definitions.sync_files(db=db)


@pytest.fixture
def standard(db: Session, shipped: None) -> DefinitionVersion:
    version = definitions.latest(db=db, kind="workflow", key="standard")
    assert version is not None
    return version


MakeCase = Callable[..., Case]


@pytest.fixture
def make_case(db: Session, org: Organisation, supervisor: User) -> MakeCase:
    def make(version: DefinitionVersion, state: str, *, closed: bool = False) -> Case:
        case = Case(
            reference=f"T-{next(_references):06d}",
            organisation_id=org.id,
            owner_id=supervisor.id,
            workflow_version_id=version.id,
            track=version.key,
            state=state,
        )
        if closed:
            from intake.db import utcnow

            case.closed_at = utcnow()
        db.add(case)
        db.commit()
        return case

    return make


def edit(text: str, old: str, new: str) -> str:
    """`text` with `old` replaced once; fails loudly if `old` is not there."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


NEW_STAGE = """  family_contact:
    label:
      en: Family contact
      lt: Ryšys su šeima
      ru: Связь с семьёй
      uk: Зв'язок із родиною
      pl: Kontakt z rodziną
      lv: Saziņa ar ģimeni
      ar: التواصل مع الأسرة
    sla_days: 14
    team: [social_worker]
"""
NEW_MOVES = """  - trigger: contact_family
    source: reintegration
    dest: family_contact
    label:
      en: Contact the family
      lt: Susisiekti su šeima
      ru: Связаться с семьёй
      uk: Зв'язатися з родиною
      pl: Skontaktuj się z rodziną
      lv: Sazināties ar ģimeni
      ar: التواصل مع الأسرة
    roles: [supervisor]
  - trigger: finish_family_contact
    source: family_contact
    dest: closed
    label:
      en: Family contact done
      lt: Ryšys su šeima baigtas
      ru: Связь с семьёй завершена
      uk: Зв'язок із родиною завершено
      pl: Kontakt z rodziną zakończony
      lv: Saziņa ar ģimeni pabeigta
      ar: اكتمل التواصل مع الأسرة
    roles: [supervisor]
"""


def with_family_contact(text: str) -> str:
    """The standard track with one more stage, reached from reintegration."""
    text = edit(text, "  closed:\n", NEW_STAGE + "  closed:\n")
    return edit(text, "\n  # Lost contact:", "\n" + NEW_MOVES + "\n  # Lost contact:")
