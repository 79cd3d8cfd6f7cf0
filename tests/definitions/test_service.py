"""Definitions are stored as immutable numbered versions; nothing that fails a check is kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.definitions import service
from intake.definitions.models import DefinitionVersion
from intake.yaml_source import DefinitionProblems

ROOT = Path(__file__).resolve().parents[2]


def _count(db: Session) -> int:
    return int(db.execute(select(func.count()).select_from(DefinitionVersion)).scalar_one())


def test_sync_publishes_every_shipped_file_once(db: Session) -> None:
    published = service.sync_files(db=db)
    kinds = {(v.kind, v.key) for v in published}
    assert ("workflow", "young_girls") in kinds and ("form", "first_contact") in kinds
    assert all(v.number == 1 for v in published)
    assert service.sync_files(db=db) == []  # unchanged files publish nothing


def test_text_is_kept_exactly_as_written(db: Session) -> None:
    service.sync_files(db=db)
    text = (ROOT / "workflows" / "standard.yaml").read_text(encoding="utf-8")
    version = service.latest(db=db, kind="workflow", key="standard")
    assert version is not None and version.source_text == text
    assert "#" in version.source_text  # comments survive


def test_a_new_version_is_numbered_and_history_stays(db: Session, admin) -> None:
    service.sync_files(db=db)
    first = service.latest(db=db, kind="form", key="consent")
    assert first is not None
    edited = first.source_text + "\n# reviewed by the legal team\n"
    second = service.publish(db=db, kind="form", text=edited, file="consent.yaml", actor=admin)
    assert (second.number, second.published_by_id) == (2, admin.id)
    assert [v.number for v in service.versions(db=db, kind="form", key="consent")] == [2, 1]
    assert service.get_version(db=db, version_id=first.id).source_text == first.source_text
    with pytest.raises(service.UnchangedDefinition):
        service.publish(db=db, kind="form", text=edited, file="consent.yaml", actor=admin)
    again = service.publish(
        db=db, kind="form", text=first.source_text, file="consent.yaml", actor=admin
    )
    assert again.number == 3  # a rollback is a new version


def test_a_bad_definition_is_never_stored(db: Session, admin) -> None:
    service.sync_files(db=db)
    before = _count(db)
    broken = service.latest(db=db, kind="workflow", key="standard").source_text.replace(
        "dest: temporary_housing", "dest: nowhere", 1
    )
    with pytest.raises(DefinitionProblems) as refused:
        service.publish(db=db, kind="workflow", text=broken, file="standard.yaml", actor=admin)
    assert any("nowhere" in p.message for p in refused.value.problems)
    assert _count(db) == before


def test_sync_is_all_or_nothing(db: Session, tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    workflows = tmp_path / "workflows"
    shutil.copytree(ROOT / "forms", forms)
    shutil.copytree(ROOT / "workflows", workflows)
    (workflows / "young_girls.yaml").write_text(
        (workflows / "young_girls.yaml").read_text().replace("initial:", "initial_state:")
    )
    with pytest.raises(DefinitionProblems):
        service.sync_files(db=db, forms_dir=forms, workflows_dir=workflows)
    assert _count(db) == 0


def test_compiled_versions_are_cached_per_version(db: Session) -> None:
    service.sync_files(db=db)
    version = service.latest(db=db, kind="form", key="first_contact")
    assert service.compiled_form(version) is service.compiled_form(version)
    [(_, standard)] = [p for p in service.current_workflows(db=db) if p[0].key == "standard"]
    assert standard.initial == "urgent_assistance"
