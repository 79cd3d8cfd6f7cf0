"""The case page leads: the track's next step is the one solid button, with its reasons
under it; lost contact, closing early and a track change are folded under "Other
actions", each asking for a reason that the server insists on."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from intake.accounts.models import User
from tests.conftest import login, page_token

from .helpers import assign, history_of, open_case, reload, submit


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _text(node: Tag | None) -> str:
    assert node is not None
    return " ".join(node.get_text(" ").split())


def test_a_blocked_next_step_is_the_solid_button_with_its_reasons_under_it(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    soup = _soup(client.get(f"/cases/{case.id}").text)
    actions = soup.select_one("section.case-actions")
    assert actions is not None
    # One solid button in the section, and it is the step forward, not "record lost contact".
    [solid] = actions.select("button.primary")
    assert _text(solid) == "Move to temporary housing"
    assert solid.has_attr("disabled")
    step = solid.find_parent("form")
    assert step is not None and "next-step" in step["class"]
    assert step.select_one("[name=trigger]")["value"] == "move_to_housing"
    # The reasons sit right under the button, and the button names them for a screen reader.
    reasons = solid.find_next_sibling("ul")
    assert reasons is not None and reasons["id"] == solid["aria-describedby"]
    assert _text(reasons).startswith("Needs: Consent form")
    # The exceptional actions are folded away, closed, after the next step.
    other = actions.select_one("details#other-actions")
    assert other is not None and not other.has_attr("open")
    assert _text(other.summary) == "Other actions"
    folded = {d["data-trigger"]: d for d in other.select("details.exceptional")}
    assert set(folded) == {"record_lost_contact", "close", "change-track"}
    for name, details in folded.items():
        assert not details.has_attr("open"), name
        assert details.select_one("textarea[name=reason][required]") is not None, name
        assert _text(details.select_one("button[type=submit]")).startswith("Confirm"), name
        assert details.select("button.primary") == [], name


def test_a_ready_next_step_is_enabled_and_moves_the_case(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    for form in ("consent", "first_contact", "urgent_needs"):
        submit(db, case, form, worker)
    assign(db, supervisor, case, worker, "social_worker")
    login(client, supervisor.username)
    soup = _soup(client.get(f"/cases/{case.id}").text)
    step = soup.select_one("form.next-step")
    assert step is not None
    button = step.select_one("button.primary")
    assert button is not None and not button.has_attr("disabled")
    assert step.select("ul.blockers") == []
    data = {i["name"]: i.get("value", "") for i in step.select("input")}
    moved = client.post(step["action"], data=data)
    assert moved.status_code == 303
    assert reload(db, case).state == "temporary_housing"


def test_after_lost_contact_the_next_step_is_to_resume(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    client.post(
        f"/cases/{case.id}/transitions",
        data={
            "csrf_token": token,
            "trigger": "record_lost_contact",
            "reason": "phone off",
            "row_version": case.row_version,
        },
    )
    soup = _soup(client.get(f"/cases/{case.id}").text)
    assert _text(soup.select_one("form.next-step button.primary")) == (
        "Contact restored: resume assistance"
    )


def test_a_worker_is_not_led_to_record_lost_contact(
    db: Session, client: TestClient, worker: User
) -> None:
    case = open_case(db, worker)
    login(client, worker.username)
    soup = _soup(client.get(f"/cases/{case.id}").text)
    actions = soup.select_one("section.case-actions")
    assert actions is not None
    assert actions.select("button.primary") == []
    assert "A supervisor moves the case to its next stage" in _text(actions)
    other = actions.select_one("details#other-actions")
    assert other is not None
    assert [d["data-trigger"] for d in other.select("details.exceptional")] == [
        "record_lost_contact"
    ]


def test_an_exceptional_action_without_a_reason_is_refused_and_changes_nothing(
    db: Session, client: TestClient, worker: User
) -> None:
    case = open_case(db, worker)
    login(client, worker.username)
    token = page_token(client, f"/cases/{case.id}")
    before = len(history_of(db, case.id))

    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(st.text(alphabet=" \t\r\n\u00a0\u2003", max_size=12))
    def refused(blank: str) -> None:
        answer = client.post(
            f"/cases/{case.id}/transitions",
            data={
                "csrf_token": token,
                "trigger": "record_lost_contact",
                "reason": blank,
                "row_version": case.row_version,
            },
        )
        assert answer.status_code == 422
        assert "A reason is required" in _text(_soup(answer.text).select_one("#form-errors"))

    refused()
    assert reload(db, case).state == "urgent_assistance"
    assert len(history_of(db, case.id)) == before
