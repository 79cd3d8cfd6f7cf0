"""Who administers whom: an organisation's administrator its own users, the installation
administrator organisations and their administrators; no administrator ever learns a
password that opens case data, and every change is shown to the organisation's supervisors."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts import service
from intake.accounts.models import Organisation, User
from tests.conftest import PASSWORD, login, make_user, page_token

SECRET_RE = re.compile(r"[a-z2-9]{5}(?:-[a-z2-9]{5}){3}")


def browser(app: FastAPI, user: User | None = None) -> TestClient:
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    if user is not None:
        assert getattr(login(client, user.username), "status_code", None) == 303
    return client


def signs_in(app: FastAPI, username: str, password: str) -> bool:
    return getattr(login(browser(app), username, password), "status_code", None) == 303


def post(client: TestClient, path: str, **data: str) -> object:
    return client.post(path, data={"csrf_token": page_token(client, "/"), **data})


def shown_secret(html: str) -> str | None:
    code = BeautifulSoup(html, "html.parser").select_one(".secret code")
    return code.get_text() if code is not None else None


def hand_over(app: FastAPI, supervisor: User, username: str) -> str:
    """The supervisor makes the one-time password of a waiting colleague on their page."""
    desk = browser(app, supervisor)
    page = BeautifulSoup(desk.get("/organisation/accounts").text, "html.parser")
    row = next(tr for tr in page.select("tr") if username in tr.get_text())
    form = row.select_one("form")
    assert form is not None
    made = desk.post(str(form["action"]), data={"csrf_token": page_token(desk, "/")})
    assert made.status_code == 200
    secret = shown_secret(made.text)
    assert secret is not None
    return secret


@pytest.fixture
def other_admin(db: Session, other_org: Organisation) -> User:
    return make_user(db, other_org, "admin", "admin-b")


@pytest.fixture
def other_worker(db: Session, other_org: Organisation) -> User:
    return make_user(db, other_org, "outreach_worker", "worker-b")


@pytest.fixture
def installation_admin(db: Session, org: Organisation) -> User:
    return make_user(db, org, "installation_admin", "installer")


def test_an_organisation_admin_lists_only_their_own_organisation(
    app: FastAPI, admin: User, worker: User, other_worker: User, installation_admin: User
) -> None:
    page = browser(app, admin).get("/admin/users").text
    assert worker.username in page
    assert other_worker.username not in page and "Org B" not in page
    assert installation_admin.username not in page


@pytest.mark.parametrize("action", ["disable", "enable", "reset-password", "revoke-sessions"])
def test_another_organisations_user_is_a_404_and_untouched(
    app: FastAPI, db: Session, other_admin: User, worker: User, supervisor: User, action: str
) -> None:
    intruder = browser(app, other_admin)
    phone = browser(app, worker)
    response = post(intruder, f"/admin/users/{worker.id}/{action}")
    made_up = post(intruder, f"/admin/users/{'0' * 32}/{action}")
    assert response.status_code == made_up.status_code == 404  # type: ignore[attr-defined]
    assert phone.get("/").status_code == 200  # still signed in
    assert signs_in(app, worker.username, PASSWORD)
    # The attempt is shown to the supervisors of the organisation it was aimed at.
    changes = browser(app, supervisor).get("/organisation/accounts").text
    assert "administration attempted (refused)" in changes
    assert "outside your organisation" in changes


def test_an_organisation_admin_cannot_add_to_another_organisation_or_make_an_installer(
    app: FastAPI, db: Session, admin: User, other_org: Organisation
) -> None:
    desk = browser(app, admin)
    sneaky = post(
        desk,
        "/admin/users",
        username="sneaky",
        role="supervisor",
        organisation_id=other_org.id,
        organisation="Org B",
    )
    assert sneaky.status_code == 200  # type: ignore[attr-defined]
    created = service.find_user_by_name(db=db, username="sneaky")
    assert created is not None and created.organisation_id == admin.organisation_id
    for role in ("installation_admin", "root", ""):
        refused = post(desk, "/admin/users", username=f"x{role}", role=role)
        assert refused.status_code == 422, role  # type: ignore[attr-defined]
        assert service.find_user_by_name(db=db, username=f"x{role}") is None
    assert desk.get("/admin/organisations").status_code == 403
    assert post(desk, "/admin/organisations", name="Mine now").status_code == 403  # type: ignore[attr-defined]


def _every_secret_shape(htmls: list[str]) -> set[str]:
    return {found for html in htmls for found in SECRET_RE.findall(html)}


def test_an_admin_never_sees_a_password_that_opens_case_data(
    app: FastAPI, db: Session, admin: User, supervisor: User, worker: User, org: Organisation
) -> None:
    boss = make_user(db, org, "supervisor", "boss")
    desk = browser(app, admin)
    seen = [
        post(desk, "/admin/users", username="new.worker", role="outreach_worker").text,  # type: ignore[attr-defined]
        post(desk, "/admin/users", username="new.super", role="supervisor").text,  # type: ignore[attr-defined]
        post(desk, f"/admin/users/{worker.id}/reset-password").text,  # type: ignore[attr-defined]
        post(desk, f"/admin/users/{supervisor.id}/reset-password").text,  # type: ignore[attr-defined]
    ]
    assert all("hands it over in person" in html for html in seen)
    assert all(shown_secret(html) is None for html in seen)
    secrets = {
        name: hand_over(app, boss, name)
        for name in ("new.worker", "new.super", worker.username, supervisor.username)
    }
    seen.append(desk.get("/admin/users").text)
    seen.append(desk.get("/").text)
    shapes = _every_secret_shape(seen)
    assert shapes.isdisjoint(secrets.values())
    for name in ("new.worker", "new.super", worker.username, supervisor.username):
        assert not any(signs_in(app, name, shape) for shape in shapes), name
    # ...while what the supervisor handed over does sign them in.
    for name, secret in secrets.items():
        assert signs_in(app, name, secret), name


def test_an_admins_one_time_password_is_shown_to_who_made_it(
    app: FastAPI, db: Session, admin: User
) -> None:
    made = post(browser(app, admin), "/admin/users", username="second.admin", role="admin")
    secret = shown_secret(made.text)  # type: ignore[attr-defined]
    assert secret is not None
    second = browser(app)
    assert login(second, "second.admin", secret).status_code == 303  # type: ignore[attr-defined]
    assert second.get("/").headers["location"] == "/account/password"


def test_a_pending_hand_over_is_only_for_a_supervisor_of_that_organisation(
    app: FastAPI, db: Session, admin: User, supervisor: User, worker: User, other_org: Organisation
) -> None:
    other_supervisor = make_user(db, other_org, "supervisor", "supervisor-b")
    post(browser(app, admin), "/admin/users", username="pending.one", role="outreach_worker")
    waiting = service.find_user_by_name(db=db, username="pending.one")
    assert waiting is not None
    stranger = browser(app, other_supervisor)
    assert "pending.one" not in stranger.get("/organisation/accounts").text
    assert post(stranger, f"/organisation/accounts/{waiting.id}/hand-over").status_code == 404  # type: ignore[attr-defined]
    # A colleague who waits for nothing cannot be given a password by a supervisor.
    own = browser(app, supervisor)
    assert post(own, f"/organisation/accounts/{worker.id}/hand-over").status_code == 404  # type: ignore[attr-defined]
    assert signs_in(app, worker.username, PASSWORD)
    # Workers and admins have no such page.
    assert browser(app, worker).get("/organisation/accounts").status_code == 403
    assert browser(app, admin).get("/organisation/accounts").status_code == 403


def test_supervisors_see_account_changes_newest_first(
    app: FastAPI, db: Session, admin: User, supervisor: User, worker: User, other_org: Organisation
) -> None:
    desk = browser(app, admin)
    post(desk, "/admin/users", username="novice17", role="outreach_worker")
    post(desk, f"/admin/users/{worker.id}/disable")
    post(desk, f"/admin/users/{worker.id}/enable")
    hand_over(app, supervisor, "novice17")
    page = BeautifulSoup(browser(app, supervisor).get("/organisation/accounts").text, "html.parser")
    rows = [
        [cell.get_text(" ", strip=True) for cell in tr.select("td")]
        for tr in page.select("#account-changes tbody tr")
    ]
    assert [row[1:3] for row in rows[:4]] == [
        ["one-time password handed over", "novice17"],
        ["account enabled", worker.username],
        ["account disabled", worker.username],
        ["account created", "novice17"],
    ]
    assert rows[1][3].startswith(admin.username)
    other_supervisor = make_user(db, other_org, "supervisor", "supervisor-b")
    elsewhere = browser(app, other_supervisor).get("/organisation/accounts").text
    assert "novice17" not in elsewhere and worker.username not in elsewhere


def test_without_a_supervisor_the_operator_hands_over(
    app: FastAPI, db: Session, other_admin: User
) -> None:
    made = post(browser(app, other_admin), "/admin/users", username="lonely", role="supervisor")
    assert "intake users reset lonely" in made.text  # type: ignore[attr-defined]
    assert shown_secret(made.text) is None  # type: ignore[attr-defined]
    lonely = service.find_user_by_name(db=db, username="lonely")
    assert lonely is not None
    # What `intake users reset` does on the server.
    secret = service.reset_password(db=db, actor=None, user=lonely)
    assert secret is not None and signs_in(app, "lonely", secret)


def test_the_hand_over_ends_the_wait_and_the_secret_works_once(
    app: FastAPI, db: Session, admin: User, supervisor: User
) -> None:
    desk = browser(app, admin)
    post(desk, "/admin/users", username="newbie", role="outreach_worker")
    assert "Waiting for a supervisor" in desk.get("/admin/users").text
    assert not signs_in(app, "newbie", PASSWORD)
    secret = hand_over(app, supervisor, "newbie")
    assert "Waiting for a supervisor" not in desk.get("/admin/users").text
    phone = browser(app)
    login(phone, "newbie", secret)
    changed = phone.post(
        "/account/password",
        data={
            "csrf_token": page_token(phone, "/account/password"),
            "current": secret,
            "new": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert changed.status_code == 200
    assert "Nobody is waiting" in browser(app, supervisor).get("/organisation/accounts").text
    assert not signs_in(app, "newbie", secret) and signs_in(app, "newbie", PASSWORD)


# --- the installation administrator ------------------------------------------------


def test_the_installation_admin_manages_organisations_and_their_admins_only(
    app: FastAPI,
    db: Session,
    installation_admin: User,
    admin: User,
    worker: User,
    supervisor: User,
) -> None:
    desk = browser(app, installation_admin)
    created = post(desk, "/admin/organisations", name="Shelter North", kind="shelter")
    assert created.status_code == 200 and "Shelter North" in created.text  # type: ignore[attr-defined]
    assert post(desk, "/admin/organisations", name="Shelter North").status_code == 422  # type: ignore[attr-defined]
    north = db.execute(
        select(Organisation).where(Organisation.name == "Shelter North")
    ).scalar_one()
    made = post(
        desk, "/admin/users", username="north.admin", role="admin", organisation_id=north.id
    )
    secret = shown_secret(made.text)  # type: ignore[attr-defined]
    assert secret is not None and signs_in(app, "north.admin", secret)
    # Only administrators are listed and reachable; nobody else's account.
    users = desk.get("/admin/users").text
    assert admin.username in users and "north.admin" in users
    assert worker.username not in users and supervisor.username not in users
    for action in ("disable", "reset-password", "revoke-sessions"):
        assert post(desk, f"/admin/users/{worker.id}/{action}").status_code == 404  # type: ignore[attr-defined]
    assert signs_in(app, worker.username, PASSWORD)
    refused = post(
        desk, "/admin/users", username="north.worker", role="supervisor", organisation_id=north.id
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]
    reset = post(desk, f"/admin/users/{admin.id}/reset-password")
    admin_secret = shown_secret(reset.text)  # type: ignore[attr-defined]
    assert admin_secret is not None and signs_in(app, admin.username, admin_secret)
    # No case data at all.
    for path in ("/cases", "/dashboard", "/intake/new", "/drafts", "/organisation/accounts"):
        assert desk.get(path).status_code == 403, path


def test_deactivating_an_organisation_signs_everyone_out_for_good(
    app: FastAPI,
    db: Session,
    installation_admin: User,
    other_admin: User,
    other_worker: User,
    other_org: Organisation,
) -> None:
    phone = browser(app, other_worker)
    desk = browser(app, installation_admin)
    assert post(desk, f"/admin/organisations/{other_org.id}/deactivate").status_code == 200  # type: ignore[attr-defined]
    assert phone.get("/").status_code == 303
    assert not signs_in(app, other_worker.username, PASSWORD)
    assert not signs_in(app, other_admin.username, PASSWORD)
    refused = post(desk, f"/admin/users/{other_admin.id}/enable")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert post(desk, f"/admin/organisations/{other_org.id}/activate").status_code == 200  # type: ignore[attr-defined]
    assert post(desk, f"/admin/users/{other_admin.id}/enable").status_code == 200  # type: ignore[attr-defined]
    assert signs_in(app, other_admin.username, PASSWORD)
    assert not signs_in(app, other_worker.username, PASSWORD)
    own = post(desk, f"/admin/organisations/{installation_admin.organisation_id}/deactivate")
    assert own.status_code == 422  # type: ignore[attr-defined]


def test_only_the_installation_admin_manages_organisations(
    app: FastAPI, admin: User, supervisor: User, worker: User, other_org: Organisation
) -> None:
    for person in (admin, supervisor, worker):
        client = browser(app, person)
        assert client.get("/admin/organisations").status_code == 403
        assert post(client, f"/admin/organisations/{other_org.id}/deactivate").status_code == 403  # type: ignore[attr-defined]
