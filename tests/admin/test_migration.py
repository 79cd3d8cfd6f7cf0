"""Moving open cases to another version: the dry run is what happens, all or nothing."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.admin import migration
from intake.admin import service as admin_service
from intake.audit.models import AuditEvent
from intake.cases.models import Case, CaseHistory
from intake.definitions.models import DefinitionVersion
from tests.admin.conftest import MakeCase, with_family_contact
from tests.conftest import login, page_token

MIGRATE = "/admin/definitions/workflow/standard/migrate"


def _without_safe_return(text: str) -> str:
    """The standard track without the safe-return stages, plus a family-contact stage."""
    items: list[list[str]] = []
    for line in text.splitlines(keepends=True):
        # A state, a transition, a comment or a top-level key starts a new item.
        if not line.startswith("   ") or not items:
            items.append([])
        items[-1].append(line)

    def dropped(item: list[str]) -> bool:
        head = item[0]
        if head.startswith(("  safe_return:", "  contact_lost_safe_return:")):
            return True
        return head.startswith("  - trigger:") and "safe_return" in "".join(item)

    return with_family_contact("".join("".join(item) for item in items if not dropped(item)))


@pytest.fixture
def versions(
    db: Session, standard: DefinitionVersion, admin: User
) -> tuple[DefinitionVersion, DefinitionVersion]:
    second = admin_service.publish_edit(
        db=db,
        kind="workflow",
        key="standard",
        text=_without_safe_return(standard.source_text),
        base_number=1,
        actor=admin,
    )
    return standard, second


@pytest.fixture
def cases(versions, make_case: MakeCase) -> list[Case]:
    old, _ = versions
    return [
        make_case(old, "urgent_assistance"),
        make_case(old, "safe_return"),
        make_case(old, "safe_return"),
        make_case(old, "contact_lost_safe_return"),
        make_case(old, "reintegration"),
        make_case(old, "safe_return", closed=True),  # closed cases are history: never moved
    ]


def _where(db: Session, cases: list[Case]) -> list[tuple[str, str, int]]:
    db.expire_all()
    return [
        (c.workflow_version_id, c.state, c.row_version)
        for c in (db.get_one(Case, c.id) for c in cases)
    ]


MAPPING = {"safe_return": "family_contact", "contact_lost_safe_return": "reintegration"}


def test_the_missing_states_are_listed_and_the_dry_run_matches_the_apply(
    db: Session, versions, cases: list[Case], admin: User
) -> None:
    old, new = versions
    plan = migration.plan_migration(db=db, source=old, target=new, mapping={})
    assert plan.missing == ("contact_lost_safe_return", "safe_return")
    assert len(plan.problems) == 2
    assert "safe_return" not in plan.target_states and "family_contact" in plan.target_states
    assert "closed" not in plan.target_states

    dry = migration.plan_migration(db=db, source=old, target=new, mapping=MAPPING)
    assert dry.problems == ()
    preview = {(m.from_state, m.to_state): m.count for m in dry.moves}
    assert preview == {
        ("contact_lost_safe_return", "reintegration"): 1,
        ("reintegration", "reintegration"): 1,
        ("safe_return", "family_contact"): 2,
        ("urgent_assistance", "urgent_assistance"): 1,
    }
    entered = {c.id: c.state_entered_at for c in cases}
    migration.apply_migration(
        db=db, source=old, target=new, mapping=MAPPING, expected=dry.fingerprint, actor=admin
    )

    db.expire_all()
    moved = {}
    for case in cases[:5]:
        case = db.get_one(Case, case.id)
        assert case.workflow_version_id == new.id
        history = (
            db.execute(select(CaseHistory).where(CaseHistory.case_id == case.id)).scalars().all()
        )
        assert [(h.kind, h.workflow_version_id, h.actor_id, h.actor_role) for h in history] == [
            ("migrated", new.id, admin.id, "admin")
        ]
        moved[(history[0].from_state, history[0].to_state)] = (
            moved.get((history[0].from_state, history[0].to_state), 0) + 1
        )
        assert case.state == history[0].to_state
        changed = history[0].from_state != history[0].to_state
        assert (case.state_entered_at != entered[case.id]) == changed
    assert moved == preview  # exactly what the dry run said, case for case
    closed = db.get_one(Case, cases[5].id)
    assert (closed.workflow_version_id, closed.state) == (old.id, "safe_return")
    audit = db.execute(select(AuditEvent).where(AuditEvent.action == "cases.migrated")).scalar_one()
    assert audit.object_id == new.id and audit.actor_id == admin.id
    assert "safe_return" not in audit.detail  # counts only, nothing about a person


def test_a_failure_halfway_leaves_every_case_where_it_was(
    db: Session, versions, cases: list[Case], admin: User, monkeypatch
) -> None:
    old, new = versions
    before = _where(db, cases)
    plan = migration.plan_migration(db=db, source=old, target=new, mapping=MAPPING)
    real_step = migration.move_case
    calls = []

    def failing_step(**kwargs):
        calls.append(kwargs["case"].id)
        if len(calls) == 2:
            raise RuntimeError("the connection dropped")
        real_step(**kwargs)

    monkeypatch.setattr(migration, "move_case", failing_step)
    with pytest.raises(migration.MigrationFailed):
        migration.apply_migration(
            db=db,
            source=old,
            target=new,
            mapping=MAPPING,
            expected=plan.fingerprint,
            actor=admin,
        )
    assert len(calls) == 2
    assert _where(db, cases) == before
    assert db.execute(select(CaseHistory)).scalars().all() == []
    assert (
        db.execute(select(AuditEvent).where(AuditEvent.action == "cases.migrated")).first() is None
    )


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"safe_return": "family_contact"}, "Choose a new state for the cases in"),
        ({**MAPPING, "safe_return": "safe_return"}, "has no state 'safe_return'"),
        ({**MAPPING, "safe_return": "closed"}, "cannot be moved into the final state"),
    ],
    ids=["unmapped", "state the target lacks", "final state"],
)
def test_a_mapping_that_would_strand_a_case_moves_nothing(
    client: TestClient,
    db: Session,
    versions,
    cases: list[Case],
    admin: User,
    mapping: dict[str, str],
    message: str,
) -> None:
    old, new = versions
    before = _where(db, cases)
    login(client, admin.username)
    token = page_token(client, f"{MIGRATE}?source=1&target=2")
    data = {
        "csrf_token": token,
        "source": "1",
        "target": "2",
        "from_state": list(mapping),
        "to_state": list(mapping.values()),
    }
    dry = client.post(f"{MIGRATE}/dry-run", data=data)
    assert dry.status_code == 200
    soup = BeautifulSoup(dry.text, "html.parser")
    assert message in soup.select_one("#plan-problems").get_text()
    assert soup.select_one("#apply-form") is None
    plan = migration.plan_migration(db=db, source=old, target=new, mapping=mapping)
    applied = client.post(f"{MIGRATE}/apply", data={**data, "expected": plan.fingerprint})
    assert applied.status_code == 409
    assert (
        message in BeautifulSoup(applied.text, "html.parser").select_one("#form-errors").get_text()
    )
    assert _where(db, cases) == before


def test_the_pages_walk_from_mapping_to_dry_run_to_apply(
    client: TestClient, db: Session, versions, cases: list[Case], admin: User
) -> None:
    old, new = versions
    login(client, admin.username)
    page = BeautifulSoup(client.get(f"{MIGRATE}?source=1").text, "html.parser")
    asked = [select_["data-from"] for select_ in page.select("#mapping-form select")]
    assert asked == ["contact_lost_safe_return", "safe_return"]
    options = [o["value"] for o in page.select("#map-safe_return option") if o["value"]]
    assert "family_contact" in options and "safe_return" not in options

    token = page_token(client, f"{MIGRATE}?source=1")
    dry = client.post(
        f"{MIGRATE}/dry-run",
        data={
            "csrf_token": token,
            "source": "1",
            "target": "2",
            "from_state": list(MAPPING),
            "to_state": list(MAPPING.values()),
        },
    )
    soup = BeautifulSoup(dry.text, "html.parser")
    rows = {
        (r["data-from"], r["data-to"]): int(r["data-count"]) for r in soup.select("#plan tbody tr")
    }
    assert rows[("safe_return", "family_contact")] == 2 and sum(rows.values()) == 5
    assert _where(db, cases)[1][0] == old.id  # a dry run moves nothing

    form = soup.select_one("#apply-form")
    fields: dict[str, list[str]] = {}
    for field in form.select("input"):
        fields.setdefault(field["name"], []).append(field["value"])
    done = client.post(f"{MIGRATE}/apply", data=fields)
    assert done.status_code == 200
    assert "5 open cases were moved to version 2" in done.text
    assert [w[0] for w in _where(db, cases[:5])] == [new.id] * 5


def test_apply_refuses_when_cases_changed_since_the_dry_run(
    client: TestClient,
    db: Session,
    versions,
    cases: list[Case],
    admin: User,
    make_case: MakeCase,
) -> None:
    old, _ = versions
    login(client, admin.username)
    token = page_token(client, f"{MIGRATE}?source=1")
    data = {
        "csrf_token": token,
        "source": "1",
        "target": "2",
        "from_state": list(MAPPING),
        "to_state": list(MAPPING.values()),
    }
    soup = BeautifulSoup(client.post(f"{MIGRATE}/dry-run", data=data).text, "html.parser")
    expected = soup.select_one("#apply-form input[name=expected]")["value"]
    newcomer = make_case(old, "safe_return")
    before = _where(db, [*cases, newcomer])
    response = client.post(f"{MIGRATE}/apply", data={**data, "expected": expected})
    assert response.status_code == 409
    assert "changed since the dry run" in response.text
    assert _where(db, [*cases, newcomer]) == before
