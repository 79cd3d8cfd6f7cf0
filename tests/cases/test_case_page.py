"""The case page as a person sees it, and its actions posted as plain forms or by htmx."""

from __future__ import annotations

import datetime as dt

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases.models import Case
from intake.db import utcnow
from tests.conftest import login, make_user, page_token

from .helpers import GIRL_16, assign, audit_rows, history_of, open_case, reload, submit

HTMX = {"HX-Request": "true"}


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _texts(soup: BeautifulSoup, selector: str) -> list[str]:
    return [" ".join(node.get_text(" ").split()) for node in soup.select(selector)]


def test_a_supervisor_sees_stage_team_actions_and_timeline(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    submit(db, case, "consent", worker)
    assign(db, supervisor, case, worker, "health_specialist")
    login(client, supervisor.username)
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    soup = _soup(page.text)
    assert case.reference in soup.h1.get_text()
    assert _texts(soup, "#stage-heading") == ["Urgent assistance"]
    assert _texts(soup, ".track") == ["Standard assistance"]
    assert "0 days in this stage" in _texts(soup, ".days")[0]
    assert soup.select(".overdue") == []
    assert _texts(soup, ".stage-forms .missing") == ["not filled yet", "not filled yet"]
    assert _texts(soup, ".team li")[0].startswith("Outreach_Worker — Health specialist")

    forms = {f.select_one("[name=trigger]")["value"]: f for f in soup.select("form.action")}
    assert set(forms) == {"move_to_housing", "record_lost_contact", "close"}
    for form in forms.values():
        assert form.select_one("[name=csrf_token]")["value"]
        assert form.select_one("[name=row_version]")["value"] == str(reload(db, case).row_version)
    housing = forms["move_to_housing"]
    assert housing.button.has_attr("disabled")
    assert _texts(housing, ".blockers li") == [
        "Needs: First contact form Fill in the form",
        "Needs: Urgent assistance form Fill in the form",
        "Needs a social worker on the team Add to the team",
    ]
    # Each reason leads to where it is put right: the form's row, the team form.
    links = [a["href"] for a in housing.select(".blockers a")]
    assert links == ["#stage-form-first_contact", "#stage-form-urgent_needs", "#team-heading"]
    assert all(soup.select_one(href) is not None for href in links)
    assert forms["close"].select_one("textarea[name=reason][required]") is not None
    timeline = _texts(soup, ".timeline .what")
    assert timeline == [
        "Case opened: Standard assistance, Urgent assistance",
        "Form filled: Consent",
        "Outreach_Worker joined the team as Health specialist",
    ]
    assert audit_rows(db, case.id, "case.viewed")[-1].actor_id == supervisor.id


def test_a_worker_sees_only_what_a_worker_may_do(
    db: Session, client: TestClient, worker: User
) -> None:
    case = open_case(db, worker)
    login(client, worker.username)
    soup = _soup(client.get(f"/cases/{case.id}").text)
    triggers = [i["value"] for i in soup.select("form.action [name=trigger]")]
    assert triggers == ["record_lost_contact"]
    assert soup.select(f"form[action='/cases/{case.id}/team']") == []
    assert soup.select(f"form[action='/cases/{case.id}/track']") == []


def test_the_page_speaks_the_readers_language_and_marks_overdue(
    db: Session, client: TestClient, org: Organisation, worker: User
) -> None:
    reader = make_user(db, org, "supervisor", "lt-reader")
    reader.locale = "lt"
    case = open_case(db, worker, GIRL_16)
    case.state_entered_at = utcnow() - dt.timedelta(days=10)
    db.commit()
    login(client, reader.username)
    soup = _soup(client.get(f"/cases/{case.id}").text)
    assert _texts(soup, "#stage-heading") == ["Skubi pagalba"]
    assert _texts(soup, ".track") == ["Pagalba mergaitėms iki 18 metų"]
    assert soup.select_one(".overdue") is not None
    assert "10" in _texts(soup, ".days")[0]


def test_firing_from_the_page_moves_the_case_and_shows_it(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    done = client.post(
        f"/cases/{case.id}/transitions",
        data={
            "csrf_token": token,
            "trigger": "record_lost_contact",
            "reason": "phone switched off",
            "row_version": case.row_version,
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/cases/{case.id}"
    soup = _soup(client.get(done.headers["location"]).text)
    assert _texts(soup, "#stage-heading") == ["Contact lost: urgent assistance"]
    assert _texts(soup, ".timeline .what")[-1] == (
        "Record lost contact: Urgent assistance → Contact lost: urgent assistance"
    )
    assert _texts(soup, ".timeline .reason") == ["phone switched off"]


def _post_fire(client: TestClient, case: Case, token: str, **data: object):
    return client.post(
        f"/cases/{case.id}/transitions",
        data={"csrf_token": token, "row_version": case.row_version, **data},
    )


def test_a_refused_action_says_why_and_changes_nothing(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    before = len(history_of(db, case.id))
    refused = _post_fire(client, case, token, trigger="move_to_housing")
    assert refused.status_code == 422
    errors = _texts(_soup(refused.text), "#form-errors li")
    assert errors == [
        "Needs: Consent form",
        "Needs: First contact form",
        "Needs: Urgent assistance form",
        "Needs a social worker on the team",
    ]
    no_reason = _post_fire(client, case, token, trigger="close", reason=" ")
    assert no_reason.status_code == 422 and "A reason is required" in no_reason.text
    assert reload(db, case).state == "urgent_assistance"
    assert len(history_of(db, case.id)) == before
    assert [e.outcome for e in audit_rows(db, case.id, "case.transition")] == [
        "refused",
        "refused",
    ]


def test_a_stale_page_gets_409_and_changes_nothing(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    stale = case.row_version
    assign(db, supervisor, case, worker, "social_worker")  # someone else acts meanwhile
    current = reload(db, case)
    conflict = client.post(
        f"/cases/{case.id}/transitions",
        data={"csrf_token": token, "trigger": "close", "reason": "dup", "row_version": stale},
    )
    assert conflict.status_code == 409
    assert "This case was changed by someone else. Reload to see the change." in conflict.text
    after = reload(db, case)
    assert (after.state, after.row_version) == ("urgent_assistance", current.row_version)


def test_htmx_gets_the_case_block_with_the_outcome(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    refused = client.post(
        f"/cases/{case.id}/transitions",
        data={"csrf_token": token, "trigger": "close", "row_version": case.row_version},
        headers=HTMX,
    )
    # The real status: base.html's htmx-config swaps a 422 (and a 409) like a page.
    assert refused.status_code == 422
    assert "<html" not in refused.text and 'id="case"' in refused.text
    assert _texts(_soup(refused.text), "#form-errors li") == ["A reason is required"]
    done = client.post(
        f"/cases/{case.id}/transitions",
        data={
            "csrf_token": token,
            "trigger": "close",
            "reason": "moved abroad",
            "row_version": case.row_version,
        },
        headers=HTMX,
    )
    assert done.status_code == 200 and "<html" not in done.text
    assert _texts(_soup(done.text), "#stage-heading") == ["Closed"]


def test_team_and_track_forms_refuse_bad_input_with_a_reason(
    db: Session, client: TestClient, worker: User, supervisor: User, other_org: Organisation
) -> None:
    case = open_case(db, worker)
    stranger = make_user(db, other_org, "outreach_worker", "stranger")
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    foreign = client.post(
        f"/cases/{case.id}/team",
        data={"csrf_token": token, "user_id": stranger.id, "function": "psychologist"},
    )
    assert foreign.status_code == 422
    assert "Choose a colleague of your organisation from the list." in foreign.text
    assert stranger.display_name not in _texts(_soup(foreign.text), ".team li")
    unknown = client.post(
        f"/cases/{case.id}/team",
        data={"csrf_token": token, "user_id": worker.id, "function": "astrologer"},
    )
    assert unknown.status_code == 422 and "Choose a function from the list." in unknown.text
    no_reason = client.post(
        f"/cases/{case.id}/track",
        data={
            "csrf_token": token,
            "track": "young_girls:urgent_assistance",
            "reason": "",
            "row_version": case.row_version,
        },
    )
    assert no_reason.status_code == 422 and "A reason is required" in no_reason.text
    after = reload(db, case)
    assert (after.track, after.row_version) == ("standard", case.row_version)
    assert [e.outcome for e in audit_rows(db, case.id, "case.team_assigned")] == [
        "refused",
        "refused",
    ]


def test_team_assignment_from_the_page(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    added = client.post(
        f"/cases/{case.id}/team",
        data={"csrf_token": token, "user_id": worker.id, "function": "social_worker"},
    )
    assert added.status_code == 303
    soup = _soup(client.get(f"/cases/{case.id}").text)
    [remove] = soup.select(".team form")
    removed = client.post(remove["action"], data={"csrf_token": token})
    assert removed.status_code == 303
    kinds = [r.kind for r in history_of(db, case.id)]
    assert kinds == ["created", "team_assigned", "team_removed"]
    again = client.post(remove["action"], data={"csrf_token": token})
    assert again.status_code == 422


def test_htmx_note_swaps_only_the_notes_and_timeline(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    added = client.post(
        f"/cases/{case.id}/notes",
        data={"csrf_token": token, "text": "met at the shelter"},
        headers=HTMX,
    )
    assert added.status_code == 200
    block = _soup(added.text)
    assert block.find(id="case-record") is not None and block.find(id="case") is None
    assert "met at the shelter" in _texts(block, ".timeline .note")
    refused = client.post(
        f"/cases/{case.id}/notes", data={"csrf_token": token, "text": "  "}, headers=HTMX
    )
    # A refusal shows its reason at the top of the whole case, not inside the block.
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#case"
    assert _soup(refused.text).find(id="case") is not None
