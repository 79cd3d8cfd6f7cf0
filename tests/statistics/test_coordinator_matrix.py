"""A coordinator sees no case data on any route: every route of the inventory (never a
hand-kept list) is tried as a coordinator, aimed at a reporting organisation's case, user
and organisation. No 500, no case reference, name or note on any page, and every route
that needs a permission a coordinator lacks is refused."""

from __future__ import annotations

import itertools

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases import notes
from intake.db import new_id
from intake.security.permissions import ROLE_PERMISSIONS
from tests.cases.helpers import assign
from tests.conftest import login, make_user, page_token
from tests.security.test_admin_matrix import Endpoint, inventory

from .helpers import MARKER, agree, case_with, person

_names = itertools.count()


@pytest.fixture
def signed_in(
    app: FastAPI, db: Session, body: Organisation, coordinator: User, org: Organisation
) -> tuple[TestClient, str, dict[str, str], list[str]]:
    worker = make_user(db, org, "outreach_worker")
    supervisor = make_user(db, org, "supervisor")
    case = case_with(db, worker, person())
    assign(db, supervisor, case, worker, "social_worker")
    note = f"Note {MARKER} {new_id()}"
    notes.add_note(db=db, settings=app.state.settings, actor=supervisor, case=case, text=note)
    agree(db, body, org)
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    assert getattr(login(client, coordinator.username), "status_code", None) == 303
    values = {
        "case_id": case.id,
        "user_id": worker.id,
        "organisation_id": org.id,
        "intake_id": new_id(),
        "client_id": new_id(),
        "form_key": "first_contact",
        "kind": "form",
        "key": "first_contact",
        "number": "1",
    }
    return client, page_token(client, "/"), values, [case.reference, note, MARKER]


def _path(app: FastAPI, endpoint: Endpoint, values: dict[str, str]) -> str:
    return str(app.url_path_for(endpoint.name, **{p: values.get(p, "x") for p in endpoint.params}))


def test_every_route_as_a_coordinator(
    app: FastAPI, signed_in: tuple[TestClient, str, dict[str, str], list[str]]
) -> None:
    client, token, values, markers = signed_in
    granted = {str(p) for p in ROLE_PERMISSIONS["coordinator"]}
    endpoints = inventory(app)
    assert len(endpoints) >= 40
    refused = 0
    for endpoint in endpoints:
        if endpoint.path in ("/logout",):
            continue  # signing out is allowed, and would end the run
        path = _path(app, endpoint, values)
        if endpoint.method == "GET":
            response = client.get(path)
        else:
            response = client.post(
                path,
                data={"csrf_token": token, "name": f"x{next(_names)}", "text": "seen"},
            )
        where = f"{endpoint.method} {path}"
        assert response.status_code != 500, where
        for marker in markers:
            assert marker not in response.text, where
        if endpoint.access and "public" not in endpoint.access and not endpoint.access & granted:
            assert response.status_code in (401, 403, 404), where
            refused += 1
    assert refused >= 30
    # The coordinator's own page works and shows the reporting organisation's figures.
    page = client.get("/statistics")
    assert page.status_code == 200
    assert all(marker not in page.text for marker in markers)
